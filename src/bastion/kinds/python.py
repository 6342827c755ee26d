"""Python modules: the engine parses them itself (`ast`, one parse and one walk per file) and
rules read `ctx.tree`; no document."""

from __future__ import annotations

PARSER = None  # the engine parses Python itself (`ast`)
DOCUMENT = None
