"""Document pieces that several file kinds share: the parse error every parser raises, the
settings document of TOML/YAML/INI files, an environment entry of a Dockerfile or compose file,
and shell-word splitting for the commands those files hold."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any


class DocumentError(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class SettingValue:
    """One scalar leaf of a settings file, with where it is written.

    `path` holds the keys from the root (`("tool", "poetry", "name")`; list items add their
    index as a string; INI files give `(section, option)`); `value` is the scalar as the
    file's own loader builds it (str, int, float, bool, None, dates...)."""

    path: tuple[str, ...]
    value: Any
    line: int  # 1-based

    @property
    def key(self) -> str:
        """The nearest non-index key: `("servers", "0", "password")` -> `password`,
        `("tokens", "1")` -> `tokens`."""
        for part in reversed(self.path):
            if not part.isdigit():
                return part
        return ""


@dataclass
class SettingsDocument:
    """A parsed TOML/YAML/INI file: the data as its loader builds it (for YAML, `documents`
    holds each `---` document and `data` the first one; for INI, `{section: {option: value}}`)
    and every scalar leaf with its line (`values`)."""

    data: Any
    values: list[SettingValue]
    documents: list[Any]


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str
    line: int
    instruction: str  # ENV, ARG (Dockerfile) or "environment" (compose)


def split_shell(command: str) -> list[str]:
    """Words of a shell command line (`shlex`, with `&&`, `;`, `|` as their own words). A line
    shlex cannot split (an unbalanced quote) falls back to whitespace words."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:
        return command.split()


def safe_reason(exc: BaseException) -> str:
    """The loader's own words, unless they quote the file's text (which may be a secret)."""
    reason = str(exc).split("\n")[0]
    if "'" in reason or '"' in reason or len(reason) > 160:
        return type(exc).__name__
    return reason
