"""Where code hosts expect paths to start: the repository root.

Findings carry paths relative to the project root (the folder of the pyproject.toml that holds
`[tool.bastion]`). In a monorepo that is a subfolder, while GitHub code scanning and workflow
annotations read paths relative to the repository root. These helpers re-anchor a finding's
path on the enclosing git work tree (found by looking for `.git`, no subprocess), and leave it
alone outside one.
"""

from __future__ import annotations

import functools
from pathlib import Path, PurePosixPath


@functools.cache
def source_root(root: Path) -> Path:
    """The git work tree that contains `root`, else `root` itself."""
    resolved = root.resolve()
    for directory in (resolved, *resolved.parents):
        if (directory / ".git").exists():
            return directory
    return resolved


def repo_path(root: Path, path: str) -> str | None:
    """`path` (relative to the project root) relative to the source root, posix; None when
    `path` is absolute (a file outside the project)."""
    if PurePosixPath(path).is_absolute():
        return None
    base = source_root(root)
    project = root.resolve()
    if project == base:
        return path
    prefix = project.relative_to(base).as_posix()
    return f"{prefix}/{path}"
