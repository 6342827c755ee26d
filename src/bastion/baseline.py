"""Baseline files: adopt the gate on a legacy codebase and fail only on new findings.

A baseline lists the fingerprints of known findings (hash of rule, path and the normalised
flagged line: see `findings.assign_fingerprints`), with the rule id and path beside each for
review. No line numbers and no timestamps, entries sorted: regenerating it on unchanged code
gives the same bytes, and two branches that fix different findings merge without conflict.

    {
      "bastion-baseline": 1,
      "findings": [
        {"rule": "ERR001", "path": "app/jobs.py", "fingerprint": "3f1c..."},
        ...
      ]
    }
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bastion.findings import Finding
from bastion.results import RunResult
from bastion.safe_fs import load_json, read_tree_file, write_output

SCHEMA_KEY = "bastion-baseline"
SCHEMA_VERSION = 1
BASELINE_LIMIT = 256 * 1024 * 1024


class BaselineError(Exception):
    """A baseline that cannot be used; the message says what to do (exit 2)."""


@dataclass(frozen=True)
class Entry:
    rule: str
    path: str
    fingerprint: str

    def to_json(self) -> dict[str, str]:
        return {"rule": self.rule, "path": self.path, "fingerprint": self.fingerprint}


@dataclass(frozen=True)
class Baseline:
    entries: tuple[Entry, ...]

    @classmethod
    def from_findings(cls, findings: Iterable[Finding]) -> Baseline:
        entries = {Entry(f.rule, f.path, f.fingerprint) for f in findings}
        return cls(tuple(sorted(entries, key=lambda e: (e.path, e.rule, e.fingerprint))))

    @property
    def fingerprints(self) -> set[str]:
        return {e.fingerprint for e in self.entries}

    def to_text(self) -> str:
        document = {
            SCHEMA_KEY: SCHEMA_VERSION,
            "findings": [e.to_json() for e in self.entries],
        }
        return json.dumps(document, indent=2, sort_keys=True) + "\n"

    def write(self, path: Path) -> None:
        try:
            # atomically, and never through a link (a committed baseline -> ~/.bashrc)
            write_output(path, self.to_text())
        except OSError as exc:
            raise BaselineError(f"cannot write baseline {path}: {exc.strerror or exc}") from None


def load_baseline(path: Path) -> Baseline:
    """Read and validate a baseline; any problem is a `BaselineError` naming the file."""
    regenerate = f"regenerate it with `bastion baseline create {path}`"
    try:
        # regular files only, capped: a committed link to /dev/zero or a FIFO is refused
        text = read_tree_file(path, None, BASELINE_LIMIT).decode("utf-8")
    except FileNotFoundError:
        raise BaselineError(
            f"baseline {path} does not exist: create it with `bastion baseline create {path}`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise BaselineError(f"cannot read baseline {path}: {reason}") from None
    try:
        document: Any = load_json(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(
            f"baseline {path} is corrupted (invalid JSON at line {exc.lineno}, column "
            f"{exc.colno}: {exc.msg}); fix the merge or {regenerate}"
        ) from None
    except ValueError as exc:  # nested too deeply, NaN or Infinity
        raise BaselineError(f"baseline {path} is corrupted ({exc}); {regenerate}") from None
    if not isinstance(document, dict) or SCHEMA_KEY not in document:
        raise BaselineError(f"{path} is not a bastion baseline (no {SCHEMA_KEY!r} key)")
    version = document[SCHEMA_KEY]
    if not isinstance(version, int) or isinstance(version, bool):
        raise BaselineError(f"baseline {path}: {SCHEMA_KEY!r} must be an integer version")
    if version < SCHEMA_VERSION:
        raise BaselineError(
            f"baseline {path} was written by an older bastion (format {version}, this bastion "
            f"reads format {SCHEMA_VERSION}): {regenerate}"
        )
    if version > SCHEMA_VERSION:
        raise BaselineError(
            f"baseline {path} was written by a newer bastion (format {version}, this bastion "
            f"reads format {SCHEMA_VERSION}): upgrade bastion"
        )
    raw = document.get("findings")
    if not isinstance(raw, list):
        raise BaselineError(
            f"baseline {path} is corrupted: 'findings' must be a list; {regenerate}"
        )
    entries: list[Entry] = []
    for number, item in enumerate(raw, 1):
        if not (
            isinstance(item, dict)
            and all(isinstance(item.get(key), str) for key in ("rule", "path", "fingerprint"))
        ):
            raise BaselineError(
                f"baseline {path} is corrupted: entry {number} needs string 'rule', 'path' and "
                f"'fingerprint'; {regenerate}"
            )
        entries.append(Entry(item["rule"], item["path"], item["fingerprint"]))
    return Baseline(tuple(entries))


@dataclass(frozen=True)
class BaselineOutcome:
    result: RunResult  # the run with baselined findings removed
    baselined: int  # findings hidden because the baseline lists them
    stale: int  # baseline entries that no longer match a finding


def apply_baseline(
    result: RunResult,
    baseline: Baseline,
    *,
    all_findings: Iterable[Finding] | None = None,
) -> BaselineOutcome:
    """Drop the findings the baseline lists; count the entries that are stale.

    An entry counts as stale only when its file was checked and its rule ran (checking a few
    files, or a few rules, does not make the rest of the baseline look stale). `all_findings`
    are the findings before any other filter (changed-lines mode), for the stale count.
    """
    known = baseline.fingerprints
    kept = [f for f in result.findings if f.fingerprint not in known]
    baselined = len(result.findings) - len(kept)
    everything = list(all_findings) if all_findings is not None else result.findings
    present = {f.fingerprint for f in everything}
    checked = {f.path for f in result.files} | {f.path for f in everything}
    ran = {r.id for r in result.rules}
    stale = sum(
        1
        for e in baseline.entries
        if e.fingerprint not in present and e.path in checked and e.rule in ran
    )
    return BaselineOutcome(replace(result, findings=kept), baselined, stale)
