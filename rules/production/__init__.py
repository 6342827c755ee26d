"""production rules."""
