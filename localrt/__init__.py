"""The local runtime: embedded moto, template-driven provisioning, the event source mapping
emulator, the user simulator, and the demo, replay and benchmark commands built on them."""
