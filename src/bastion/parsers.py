"""Real parsers for the non-Python file kinds, one per kind (`bastion.kinds`), each importing
its library only when first called.

Each parser takes the decoded text and returns the document rules read from
`ctx.document`; a parser raises `DocumentError` (with a 1-based line when known) for a file it
cannot read, which the engine turns into a `parse-error` finding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bastion.kinds import KINDS

# The parsers and documents live in `bastion.kinds` (one module per file kind); re-exported.
from bastion.kinds.common import DocumentError as DocumentError
from bastion.kinds.common import SettingsDocument as SettingsDocument
from bastion.kinds.common import SettingValue as SettingValue
from bastion.kinds.dotenv import EnvEntry as EnvEntry
from bastion.kinds.dotenv import parse_dotenv as parse_dotenv
from bastion.kinds.ini import parse_ini_settings
from bastion.kinds.toml import check_toml_keys as check_toml_keys
from bastion.kinds.toml import load_toml as load_toml
from bastion.kinds.toml import parse_toml as parse_toml
from bastion.kinds.yaml import parse_yaml as parse_yaml

# the settings parser of INI files, by its old name (the INI kind's document adds the sections)
parse_ini = parse_ini_settings


# Every kind's parser, from the table of the kinds (`bastion.kinds`): each kind's module, and
# the library it parses with, are imported on first use. An INI file is one document for every
# rule: its settings with lines (SEC001) and its sections (tooling facts).
PARSERS: dict[str, Callable[[str], Any]] = {kind.name: kind.parse for kind in KINDS if kind.parses}


def parse_document(kind: str, text: str) -> Any:
    """The parsed document, or the text itself for kinds without a parser (yet)."""
    parser = PARSERS.get(kind)
    return parser(text) if parser else text
