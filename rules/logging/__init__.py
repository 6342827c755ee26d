"""LOG: logging and monitoring."""
