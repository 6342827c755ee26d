"""dependencies rules."""
