"""PERF: performance and async."""
