"""TEST: testing."""
