"""api rules."""
