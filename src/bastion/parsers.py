"""Real parsers for the non-Python file kinds, one per kind, imported only when needed.

Each parser takes the decoded text and returns the document rules read from
`ctx.document`; a parser raises `DocumentError` (with a 1-based line when known) for a file it
cannot read, which the engine turns into a `parse-error` finding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# The parsers and documents live in `bastion.kinds` (one module per file kind); re-exported.
from bastion.kinds.common import DocumentError as DocumentError
from bastion.kinds.common import SettingsDocument as SettingsDocument
from bastion.kinds.common import SettingValue as SettingValue
from bastion.kinds.dotenv import EnvEntry as EnvEntry
from bastion.kinds.dotenv import parse_dotenv as parse_dotenv
from bastion.kinds.ini import parse_ini_settings
from bastion.kinds.toml import parse_toml as parse_toml
from bastion.kinds.yaml import parse_yaml as parse_yaml

# the settings parser of INI files, by its old name (the INI kind's document adds the sections)
parse_ini = parse_ini_settings


def _dockerfile(text: str) -> Any:
    from bastion.kinds.dockerfile import parse_dockerfile

    return parse_dockerfile(text)


def _compose(text: str) -> Any:
    from bastion.kinds.compose import parse_compose

    return parse_compose(text)


def _procfile(text: str) -> Any:
    from bastion.kinds.procfile import parse_procfile

    return parse_procfile(text)


def _requirements(text: str) -> Any:
    from bastion.kinds.requirements import parse_requirements

    return parse_requirements(text)


def _pyproject(text: str) -> Any:
    from bastion.kinds.pyproject import parse_pyproject

    return parse_pyproject(text)


def _lockfile(text: str) -> Any:
    from bastion.kinds.lockfile import parse_lockfile

    return parse_lockfile(text)


def _precommit(text: str) -> Any:
    from bastion.kinds.precommit import parse_precommit

    return parse_precommit(text)


def _ini(text: str) -> Any:
    from bastion.kinds.ini import parse_ini

    return parse_ini(text)


def _gitignore(text: str) -> Any:
    from bastion.kinds.gitignore import parse_gitignore

    return parse_gitignore(text)


# The parsers of the deployment, dependency and tooling kinds live next to the documents they
# build (`bastion.kinds.<kind>`) and are imported on first use. An INI
# file is one document for every rule: its settings with lines (SEC001) and its sections
# (tooling facts).
PARSERS: dict[str, Callable[[str], Any]] = {
    "dotenv": parse_dotenv,
    "toml": parse_toml,
    "yaml": parse_yaml,
    "ini": _ini,
    "dockerfile": _dockerfile,
    "compose": _compose,
    "procfile": _procfile,
    "requirements": _requirements,
    "pyproject": _pyproject,
    "lockfile": _lockfile,
    "precommit": _precommit,
    "gitignore": _gitignore,
}


def parse_document(kind: str, text: str) -> Any:
    """The parsed document, or the text itself for kinds without a parser (yet)."""
    parser = PARSERS.get(kind)
    return parser(text) if parser else text
