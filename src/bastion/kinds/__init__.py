"""The file kinds: `KINDS`, the one table that discovery, the parsers, the diagnostics rules and
the pre-commit hooks' `files:` pattern (kept in step by tests/unit/test_kinds.py) all read, and
one module per kind, `bastion.kinds.<name>`, with its parser (`PARSER`) and the type of the
document rules read from `ctx.document` (`DOCUMENT`).

A new kind is a new module here and a line in `KINDS`. Order matters: the first kind with a
pattern that matches a file name wins (`pyproject.toml` before `*.toml`). The table is plain
data: a kind's module is imported when a file of that kind is first parsed, never by discovery
(so a replayed run imports none of them).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any


@dataclass(frozen=True)
class Kind:
    """A file kind. `patterns`: lower-cased file names with fnmatch wildcards. `folder` and
    `folder_suffixes`: any file with one of the suffixes directly in a folder of that name is
    of this kind too. `parses`: its module has a parser (Python is parsed by the engine; the
    rules of a kind without a parser read the text)."""

    name: str
    patterns: tuple[str, ...]
    parses: bool = True
    folder: str = ""
    folder_suffixes: tuple[str, ...] = ()

    def module(self) -> ModuleType:
        return importlib.import_module(f"bastion.kinds.{self.name}")

    def parse(self, text: str) -> Any:
        """The document of a file of this kind (`DocumentError` when it cannot be read)."""
        return self.module().PARSER(text)

    def document_type(self) -> type | None:
        document: type | None = self.module().DOCUMENT
        return document


KINDS: tuple[Kind, ...] = (
    Kind("precommit", (".pre-commit-config.yaml", ".pre-commit-config.yml")),
    Kind("pyproject", ("pyproject.toml",)),
    Kind("procfile", ("procfile",)),
    Kind("gitignore", (".gitignore",)),
    Kind("dockerfile", ("dockerfile", "containerfile", "dockerfile.*", "*.dockerfile")),
    Kind(
        "compose",
        (
            "docker-compose*.yml",
            "docker-compose*.yaml",
            "compose.yml",
            "compose.yaml",
            "compose.*.yml",
            "compose.*.yaml",
        ),
    ),
    Kind(
        "requirements",
        ("requirements*.txt", "requirements*.in", "constraints*.txt"),
        folder="requirements",  # requirements/base.txt, requirements/dev.in
        folder_suffixes=(".txt", ".in"),
    ),
    Kind("dotenv", (".env", ".env.*", "*.env")),
    # alembic.ini, pytest.ini, settings.ini: INI settings too (SEC001 reads them)
    Kind("ini", ("setup.cfg", "tox.ini", "mypy.ini", ".coveragerc", "*.ini")),
    Kind("json", ("pyrightconfig.json",), parses=False),
    Kind("lockfile", ("uv.lock", "poetry.lock", "pdm.lock", "pipfile.lock")),
    Kind("python", ("*.py",), parses=False),
    Kind("toml", ("*.toml",)),
    Kind("yaml", ("*.yml", "*.yaml")),
)

KIND_NAMES: frozenset[str] = frozenset(kind.name for kind in KINDS)
