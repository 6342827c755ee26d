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
    # the qualified name of the document type its parser returns (the module's `DOCUMENT`,
    # kept in step by tests/unit/test_kinds.py): what `kinds_taking` reads without importing
    document: str = ""

    def module(self) -> ModuleType:
        return importlib.import_module(f"bastion.kinds.{self.name}")

    def parse(self, text: str) -> Any:
        """The document of a file of this kind (`DocumentError` when it cannot be read)."""
        return self.module().PARSER(text)

    def document_type(self) -> type | None:
        document: type | None = self.module().DOCUMENT
        return document


_K = "bastion.kinds"

KINDS: tuple[Kind, ...] = (
    Kind(
        "precommit",
        (".pre-commit-config.yaml", ".pre-commit-config.yml"),
        document=f"{_K}.precommit.PrecommitDocument",
    ),
    Kind("pyproject", ("pyproject.toml",), document=f"{_K}.pyproject.PyprojectDocument"),
    Kind("procfile", ("procfile",), document=f"{_K}.procfile.ProcfileDocument"),
    Kind("gitignore", (".gitignore",), document=f"{_K}.gitignore.GitignoreDocument"),
    Kind(
        "dockerfile",
        ("dockerfile", "containerfile", "dockerfile.*", "*.dockerfile"),
        document=f"{_K}.dockerfile.DockerfileDocument",
    ),
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
        document=f"{_K}.compose.ComposeDocument",
    ),
    Kind(
        "requirements",
        ("requirements*.txt", "requirements*.in", "constraints*.txt"),
        folder="requirements",  # requirements/base.txt, requirements/dev.in
        folder_suffixes=(".txt", ".in"),
        document=f"{_K}.requirements.RequirementsDocument",
    ),
    Kind("dotenv", (".env", ".env.*", "*.env"), document=f"{_K}.dotenv.DotenvDocument"),
    # alembic.ini, pytest.ini, settings.ini: INI settings too (SEC001 reads them)
    Kind(
        "ini",
        ("setup.cfg", "tox.ini", "mypy.ini", ".coveragerc", "*.ini"),
        document=f"{_K}.ini.IniDocument",
    ),
    Kind("json", ("pyrightconfig.json",), parses=False),
    Kind(
        "lockfile",
        ("uv.lock", "poetry.lock", "pdm.lock", "pipfile.lock"),
        document=f"{_K}.lockfile.LockDocument",
    ),
    Kind("python", ("*.py",), parses=False),
    Kind("toml", ("*.toml",), document=f"{_K}.common.SettingsDocument"),
    Kind("yaml", ("*.yml", "*.yaml"), document=f"{_K}.common.SettingsDocument"),
)

KIND_NAMES: frozenset[str] = frozenset(kind.name for kind in KINDS)


class WrongDocument(TypeError):
    """A rule was handed a document of a type it does not take (a bastion bug: the rule's
    `kinds` and `takes` disagree with the table)."""


def _qualname(document_type: type) -> str:
    return f"{document_type.__module__}.{document_type.__qualname__}"


def kinds_taking(*document_types: type) -> frozenset[str]:
    """The names of the kinds whose parser returns one of `document_types` (read from the
    table, no kind module imported): what a rule that declares `takes` sets as its `kinds`."""
    names = {_qualname(t) for t in document_types}
    found = frozenset(kind.name for kind in KINDS if kind.document in names)
    missing = names - {kind.document for kind in KINDS}
    if missing:
        raise WrongDocument(f"no file kind has a document of type {', '.join(sorted(missing))}")
    return found


def check_takes(owner: str, kinds: frozenset[str], takes: tuple[type, ...]) -> None:
    """A rule's declared document types (`takes`) against the kinds it runs on: every kind
    with a document must produce one of them, and each of them must be some kind's document.
    Raises `WrongDocument` naming the rule."""
    by_name = {kind.name: kind for kind in KINDS}
    names = {_qualname(t) for t in takes}
    for name in sorted(kinds):
        kind = by_name.get(name)
        if kind is None:
            raise WrongDocument(f"{owner}: no file kind named {name!r}")
        if kind.document and kind.document not in names:
            raise WrongDocument(
                f"{owner}: runs on {name} files, whose document is {kind.document}, "
                f"but takes only {', '.join(sorted(names))}"
            )
    produced = {by_name[n].document for n in kinds if n in by_name}
    unused = names - produced
    if unused:
        raise WrongDocument(
            f"{owner}: takes {', '.join(sorted(unused))} but runs on no kind that has one"
        )
