"""The findings model: what every rule produces and every reporter reads."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field, replace
from typing import Any

from bastion.redact import mask_secret, redact, redact_text

__all__ = [
    "Area",
    "Finding",
    "FixSafety",
    "Severity",
    "assign_fingerprints",
    "fingerprint",
    "fingerprint_text",
    "mask_secret",
    "redact_text",
]


class Severity(enum.IntEnum):
    """Ordered so that `severity >= fail_on` decides the exit code."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return {"info": cls.INFO, "warning": cls.WARNING, "error": cls.ERROR}[text.lower()]
        except KeyError:
            raise ValueError(
                f"unknown severity {text!r} (expected error, warning or info)"
            ) from None


class Area(str, enum.Enum):
    """The areas of the best-practices guide; the id prefix of a rule names its area."""

    ERRORS = "errors"
    SECURITY = "security"
    API = "api"
    LOGGING = "logging"
    PERFORMANCE = "performance"
    ORGANISATION = "organisation"
    PRODUCTION = "production"
    DEPENDENCIES = "dependencies"
    TESTING = "testing"
    WORKFLOW = "workflow"
    META = "meta"
    PLUGIN = "plugin"  # rules from plugins: their own prefix, no guide area


class FixSafety(str, enum.Enum):
    NONE = "none"
    SAFE = "safe"
    UNSAFE = "unsafe"


@dataclass(frozen=True)
class Finding:
    """One violation at one place.

    Positions are 1-based lines and 1-based columns (the JSON contract); `end_*` is exclusive of
    nothing: it is the position just after the flagged text, as `ast` reports it (+1 for columns).
    """

    rule: str
    name: str
    severity: Severity
    category: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fix_hint: str
    fixable: bool = False
    # Not part of the JSON contract: texts that must never be shown (secrets), the first line of
    # the enclosing statement (for suppressions on multi-line statements), the source line the
    # fingerprint is built from, and the fingerprint itself once assigned.
    redact: tuple[str, ...] = ()
    statement_line: int | None = None
    source_line: str = ""
    fingerprint: str = ""
    suppressed_by: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        # Every text of a finding is masked once, here, whoever built it (a rule, the cache, a
        # shard): the secrets its rule asked to hide, then any other secret-looking value, so
        # that no report, cache entry, shard or fingerprint depends on which rules ran.
        for name in ("message", "fix_hint", "source_line", "suppressed_by"):
            text = getattr(self, name)
            if text:
                masked = redact(redact_text(text, self.redact) if self.redact else text)
                if masked != text:
                    object.__setattr__(self, name, masked)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.path, self.line, self.column, self.rule, self.message)

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "severity": self.severity.label,
            "category": self.category,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "fix_hint": self.fix_hint,
            "fixable": self.fixable,
            "fingerprint": self.fingerprint,
        }


def _normalise(line: str) -> str:
    return " ".join(line.split())


def fingerprint_text(finding: Finding) -> str:
    """The text a fingerprint hashes: the flagged line, secrets masked (`Finding` masks its
    line: the secrets its rule named and any other secret-looking value), whitespace
    normalised. A line without a secret hashes as it always did."""
    return _normalise(finding.source_line)


def fingerprint(rule: str, path: str, text: str, index: int) -> str:
    digest = hashlib.sha256(f"{rule}\0{path}\0{text}\0{index}".encode())
    return digest.hexdigest()[:20]


def assign_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Fingerprint = hash(rule, path, normalised flagged line, occurrence index).

    The line *number* is left out so that adding unrelated lines above does not change it; the
    occurrence index keeps two identical lines in one file apart. Secrets are masked before
    hashing so the fingerprint cannot be used to confirm a guessed secret.
    """
    seen: dict[tuple[str, str, str], int] = {}
    out: list[Finding] = []
    for finding in sorted(findings, key=Finding.sort_key):
        text = fingerprint_text(finding)
        key = (finding.rule, finding.path, text)
        index = seen.get(key, 0)
        seen[key] = index + 1
        out.append(
            replace(finding, fingerprint=fingerprint(finding.rule, finding.path, text, index))
        )
    return out
