"""Dependency declarations: requirements files, pyproject.toml (PEP 621, PEP 735, Poetry, PDM,
uv) and lock files, parsed into `Dependency` records with the 1-based line they are declared on.

Requirement strings are parsed with `packaging.requirements` (PEP 508), the same grammar pip
uses; requirements-file syntax (options, `-r`/`-c` includes, `--hash`, `-e`, bare URLs, line
continuations, comments) is handled line by line here, following pip's documented format.
"""

from __future__ import annotations

import sys
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

# The documents and parsers of these kinds live in `bastion.kinds`; re-exported for the rules.
from bastion.kinds.lockfile import LockDocument as LockDocument
from bastion.kinds.lockfile import parse_lockfile as parse_lockfile
from bastion.kinds.pyproject import PyprojectDocument as PyprojectDocument
from bastion.kinds.pyproject import parse_pyproject as parse_pyproject
from bastion.kinds.requirements import Dependency as Dependency
from bastion.kinds.requirements import Include as Include
from bastion.kinds.requirements import RequirementsDocument as RequirementsDocument
from bastion.kinds.requirements import canonicalize_name as canonicalize_name
from bastion.kinds.requirements import parse_requirements as parse_requirements

if sys.version_info >= (3, 11):
    pass
else:  # pragma: no cover
    pass  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    pass


# -- which requirements are for production ---------------------------------------------------------

_PRODUCTION_WORDS = frozenset(
    {"", "prod", "production", "base", "common", "main", "deploy", "runtime", "app", "core"}
)


_NON_PRODUCTION_FOLDERS = frozenset(
    {
        "docs",
        "doc",
        "test",
        "tests",
        "ci",
        ".github",
        ".gitlab",
        "dev",
        "tools",
        "scripts",
        "examples",
        "example",
        "benchmarks",
        "bench",
    }
)


def requirements_role(path: str) -> str:
    """ "main" for a production requirements file (`requirements.txt`,
    `requirements/prod.txt`, `requirements-base.txt`), else the word that names its role
    (`dev`, `test`, `docs`...). Input files of pip-compile (`*.in`) keep the role of their name."""
    posix = PurePosixPath(path.lower())
    stem = posix.stem
    for folder in posix.parent.parts:
        if folder in _NON_PRODUCTION_FOLDERS:
            return folder  # docs/requirements.txt, tests/requirements.txt, .github/...
    word = stem
    for prefix in ("requirements", "requirement", "reqs"):
        if word.startswith(prefix):
            word = word[len(prefix) :]
            break
    word = word.strip("-_.")
    if posix.parent.name == "requirements" and stem not in {"requirements"}:
        word = stem
    if stem.startswith("constraints"):
        return "constraints"
    if stem.endswith(("-requirements", "_requirements")):
        word = stem.rsplit("requirements", 1)[0].strip("-_")
    return "main" if word in _PRODUCTION_WORDS else word
