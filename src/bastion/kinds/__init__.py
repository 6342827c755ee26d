"""The file kinds: one module per kind (its name, file name patterns, parser and document type,
as `KIND`), and `KINDS`, the one table that discovery, the parsers, the diagnostics rules and
the pre-commit hooks' `files:` pattern (kept in step by tests/unit/test_kinds.py) all read.

A new kind is a new module here and a line in `KINDS`. Order matters: the first kind with a
pattern that matches a file name wins (`pyproject.toml` before `*.toml`). Parsers import their
libraries when first called, so importing the table costs no library import.
"""

from __future__ import annotations

from bastion.kinds import (
    compose,
    dockerfile,
    dotenv,
    gitignore,
    ini,
    json,
    lockfile,
    precommit,
    procfile,
    pyproject,
    python,
    requirements,
    toml,
    yaml,
)
from bastion.kinds.common import Kind

KINDS: tuple[Kind, ...] = (
    precommit.KIND,
    pyproject.KIND,
    procfile.KIND,
    gitignore.KIND,
    dockerfile.KIND,
    compose.KIND,
    requirements.KIND,
    dotenv.KIND,
    ini.KIND,
    json.KIND,
    lockfile.KIND,
    python.KIND,
    toml.KIND,
    yaml.KIND,
)

KIND_NAMES: frozenset[str] = frozenset(kind.name for kind in KINDS)
