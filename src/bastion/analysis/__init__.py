"""Shared analysis helpers for rules: scope-aware walks, call recognition, string building.

Rules import from here instead of re-deriving the same facts; each helper is pure and cheap.
"""
