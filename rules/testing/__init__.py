"""testing rules."""
