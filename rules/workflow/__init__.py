"""workflow rules."""
