"""Cheap questions about a file's posix path (`FileContext.path`), asked once per file.

`PurePosixPath(path).parts` builds a path object and parses it again; rules that only want the
parts of an already normal path pay more for that than for the rest of their per-file work.
"""

from __future__ import annotations

from pathlib import PurePosixPath


def path_parts(path: str) -> tuple[str, ...]:
    """`PurePosixPath(path).parts`, by a split when the path is already normal (no empty or
    `.` part: what discovery produces), by `PurePosixPath` otherwise."""
    rooted = path.startswith("/")
    parts = (path[1:] if rooted else path).split("/")
    if "" in parts or "." in parts:  # `//`, `a//b`, `./a`, a trailing `/`, the root alone
        return PurePosixPath(path).parts
    return ("/", *parts) if rooted else tuple(parts)
