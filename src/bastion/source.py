"""Reading files: bytes once, decoded per PEP 263 for Python, UTF-8 (with BOM) for the rest."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass, field
from pathlib import Path


class DecodeError(Exception):
    """The file's bytes cannot be turned into text; the message says why, in user terms."""


def decode_python(data: bytes) -> str:
    """Decode Python source as the interpreter would: BOM, then the coding cookie, else UTF-8."""
    if b"\0" in data:  # checked first: Pythons differ on which check fails first
        raise DecodeError("source code cannot contain null bytes")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except (SyntaxError, UnicodeError, LookupError) as exc:  # unknown/odd/conflicting cookie
        raise DecodeError(str(exc)) from None
    try:
        text = data.decode(encoding)
    except (UnicodeError, LookupError) as exc:  # `# coding: undefined` raises UnicodeError
        raise DecodeError(f"cannot decode as {encoding}: {exc}") from None
    return text.removeprefix("\ufeff")


def decode_text(data: bytes) -> str:
    """Config files: UTF-8 (a BOM is dropped); anything else is reported, not guessed."""
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DecodeError(f"cannot decode as UTF-16: {exc}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"not valid UTF-8: {exc}") from None


@dataclass
class SourceText:
    """Decoded text with cheap line access (1-based)."""

    text: str
    _lines: list[str] | None = field(default=None, repr=False)

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = self.text.splitlines()
        return self._lines

    def line(self, lineno: int) -> str:
        lines = self.lines
        return lines[lineno - 1] if 1 <= lineno <= len(lines) else ""


@dataclass(frozen=True, order=True)
class SourceFile:
    path: str  # relative to the root, posix: what users see
    abspath: Path = field(compare=False)
    kind: str = field(compare=False)
