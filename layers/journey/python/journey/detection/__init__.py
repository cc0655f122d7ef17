"""Detection: one pure rule per struggle behaviour, and the signals they raise."""
