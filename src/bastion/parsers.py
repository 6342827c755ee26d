"""Real parsers for the non-Python file kinds, one per kind, imported only when needed.

Each parser takes the decoded text and returns the document rules read from
`ctx.document`; a parser raises `DocumentError` (with a 1-based line when known) for a file it
cannot read, which the engine turns into a `parse-error` finding.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class DocumentError(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str | None
    line: int  # 1-based line of the `KEY=value` binding


def parse_dotenv(text: str) -> list[EnvEntry]:
    # python-dotenv's own parser: the same quoting, `export`, comments and multi-line values
    # that applications loading the file will see.
    from dotenv.parser import parse_stream

    return [
        EnvEntry(binding.key, binding.value, binding.original.line)
        for binding in parse_stream(io.StringIO(text))
        if binding.key is not None and not binding.error
    ]


def _dockerfile(text: str) -> Any:
    from bastion.analysis.deploy import parse_dockerfile

    return parse_dockerfile(text)


def _compose(text: str) -> Any:
    from bastion.analysis.deploy import parse_compose

    return parse_compose(text)


def _procfile(text: str) -> Any:
    from bastion.analysis.deploy import parse_procfile

    return parse_procfile(text)


def _requirements(text: str) -> Any:
    from bastion.analysis.deps import parse_requirements

    return parse_requirements(text)


def _pyproject(text: str) -> Any:
    from bastion.analysis.deps import parse_pyproject

    return parse_pyproject(text)


def _lockfile(text: str) -> Any:
    from bastion.analysis.deps import parse_lockfile

    return parse_lockfile(text)


def _precommit(text: str) -> Any:
    from bastion.analysis.tooling import parse_precommit

    return parse_precommit(text)


def _ini(text: str) -> Any:
    from bastion.analysis.tooling import parse_ini

    return parse_ini(text)


def _gitignore(text: str) -> Any:
    from bastion.analysis.tooling import parse_gitignore

    return parse_gitignore(text)


# The parsers of the deployment, dependency and tooling kinds live next to the documents they
# build (`bastion.analysis.deploy`, `.deps`, `.tooling`) and are imported on first use.
PARSERS: dict[str, Callable[[str], Any]] = {
    "dotenv": parse_dotenv,
    "dockerfile": _dockerfile,
    "compose": _compose,
    "procfile": _procfile,
    "requirements": _requirements,
    "pyproject": _pyproject,
    "lockfile": _lockfile,
    "precommit": _precommit,
    "ini": _ini,
    "gitignore": _gitignore,
}


def parse_document(kind: str, text: str) -> Any:
    """The parsed document, or the text itself for kinds without a parser (yet)."""
    parser = PARSERS.get(kind)
    return parser(text) if parser else text
