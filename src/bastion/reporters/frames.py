"""Code frames: the source lines shown around a finding, with every secret masked.

A frame shows its neighbours too, which may hold a secret that no enabled rule reported (a
`.env` line next to a SEC016 finding, with SEC001 switched off). So a frame masks, on every
line it shows: the secrets any finding of that file asked to redact, every secret-looking value
(`bastion.redact.redact`, over the whole file so that every line of a PEM key is masked), and -
in `.env` files, which exist to hold secrets - every value. Reporters make control characters
visible when they print the lines.

A run merged from shards (`bastion merge`) no longer knows the secrets the shards redacted: the
files where a shard redacted one are in `RunResult.hidden_frames`, and no code of them is shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bastion.discovery import file_kind
from bastion.findings import Finding
from bastion.redact import mask_secret, redact, redact_text
from bastion.results import RunResult
from bastion.safe_fs import read_tree_file


def _mask_lines(lines: list[str], known: Iterable[str]) -> list[str]:
    """The file's lines with the findings' secrets, then every secret-looking value, masked."""
    text = "\n".join(redact_text(line, known) for line in lines)
    return redact(text).split("\n")


def _mask_dotenv(line: str, dotenv: bool) -> str:
    if dotenv and "=" in line and not line.lstrip().startswith("#"):
        key, _, value = line.partition("=")
        if value.strip():
            line = f"{key}={mask_secret(value.strip())}"
    return line


@dataclass
class FrameSource:
    root: Path
    result: RunResult
    _lines: dict[str, list[str]] = field(default_factory=dict)
    _masked: dict[str, list[str]] = field(default_factory=dict)
    _secrets: dict[str, set[str]] | None = None

    def secrets_of(self, path: str) -> set[str]:
        if self._secrets is None:
            self._secrets = {}
            for f in (*self.result.findings, *self.result.suppressed):
                if f.redact:
                    self._secrets.setdefault(f.path, set()).update(f.redact)
        return self._secrets.get(path, set())

    def lines_of(self, path: str) -> list[str]:
        lines = self._lines.get(path)
        if lines is None:
            try:
                data = read_tree_file(self.root / path, self.root)  # never a path out of it
                lines = data.decode("utf-8", "replace").splitlines()
            except OSError:
                lines = []
            self._lines[path] = lines
        return lines

    def frame(self, finding: Finding, context: int) -> list[tuple[int, str]]:
        """[(line number, masked text)] from `context` lines above to `context` below; nothing
        for a file whose code must not be shown."""
        if finding.path in self.result.hidden_frames:
            return []
        lines = self._masked.get(finding.path)
        if lines is None:
            lines = _mask_lines(self.lines_of(finding.path), self.secrets_of(finding.path))
            self._masked[finding.path] = lines
        first = max(1, finding.line - context)
        last = min(len(lines), max(finding.end_line, finding.line) + context)
        dotenv = file_kind(finding.path) == "dotenv"
        return [
            (n, _mask_dotenv(redact_text(lines[n - 1], finding.redact), dotenv))
            for n in range(first, last + 1)
        ]
