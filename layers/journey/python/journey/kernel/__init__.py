"""The kernel: ids and time, used by every context."""
