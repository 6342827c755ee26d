"""A content-hash cache of per-file results, so that a second run over an unchanged tree does
almost nothing.

Key: the file's bytes, its path and kind, and a *salt* that changes with bastion's code, the
enabled rules and the effective configuration. Value: the file's findings, facts and notices as
JSON - never pickle: the cache lives inside the scanned repository, which is untrusted, so an
entry is data that is validated on load, and a corrupted or forged entry is ignored and rewritten.

Never cached: results that carry a secret (a finding with redactions: the cache must not store
the secret) or an internal error (it should be seen again).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bastion import __version__
from bastion.config import Config
from bastion.context import FileFacts
from bastion.findings import Finding, Severity

FORMAT = 1
_FINDING_FIELDS = {
    "rule",
    "name",
    "severity",
    "category",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "fix_hint",
    "fixable",
    "statement_line",
    "source_line",
    "suppressed_by",
}


def _code_stamp() -> str:
    """Changes whenever bastion's or the rules' code changes (sizes and mtimes of the sources),
    so an edited rule never serves stale results."""
    import importlib

    digest = hashlib.sha256(__version__.encode())
    for package in ("bastion", "bastion.rules"):
        module = importlib.import_module(package)
        for folder in getattr(module, "__path__", []):
            for path in sorted(Path(folder).rglob("*.py")):
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def config_salt(config: Config, rule_ids: list[str]) -> str:
    described = repr(
        (
            sorted(rule_ids),
            sorted((k, v.label) for k, v in config.severity.items()),
            sorted((k, sorted(v.items())) for k, v in config.rule_options.items()),
            sorted(config.per_file_ignores.items()),
            config.test_paths,
            config.script_paths,
            config.max_file_bytes,
            str(config.root),
            _project_inputs(config.root),
        )
    )
    return hashlib.sha256(f"{FORMAT}:{_code_stamp()}:{described}".encode()).hexdigest()[:24]


def _project_inputs(root: Path) -> str:
    """Files outside a module that some rules read for it (the declared Pydantic version):
    when they change, every cached result may change."""
    from bastion.analysis.pydantic import dependency_files

    digest = hashlib.sha256()
    for path in dependency_files(root):
        try:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            continue
    return digest.hexdigest()


class Cache:
    def __init__(self, directory: Path, salt: str) -> None:
        self.base = directory
        self.directory = directory / f"v{FORMAT}" / salt
        self.usable = True
        self.notice: str | None = None

    def prepare(self) -> None:
        """Create the folder (with its own .gitignore) and prune entries of other salts."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            ignore = self.base / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by bastion\n*\n", encoding="utf-8")
            for stale in self.directory.parent.iterdir():
                if stale != self.directory and stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)
        except OSError as exc:
            self.usable = False
            self.notice = f"cache disabled: cannot use {self.base}: {exc.strerror or exc}"

    @staticmethod
    def key(path: str, kind: str, data: bytes) -> str:
        digest = hashlib.sha256(data)
        digest.update(f"\0{path}\0{kind}".encode())
        return digest.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def load(
        self, key: str
    ) -> tuple[list[Finding], list[Finding], FileFacts | None, list[str]] | None:
        if not self.usable:
            return None
        try:
            raw = json.loads(self._entry(key).read_text(encoding="utf-8"))
            findings = [_finding(f) for f in raw["findings"]]
            suppressed = [_finding(f) for f in raw["suppressed"]]
            facts = raw["facts"]
            file_facts = (
                FileFacts(str(facts["path"]), str(facts["kind"]), dict(facts["facts"]))
                if facts is not None
                else None
            )
            notices = [str(n) for n in raw["notices"]]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # missing, corrupted or forged: recompute (and overwrite)
        return findings, suppressed, file_facts, notices

    def store(
        self,
        key: str,
        findings: list[Finding],
        suppressed: list[Finding],
        facts: FileFacts | None,
        notices: list[str],
    ) -> None:
        if not self.usable or any(f.redact for f in (*findings, *suppressed)):
            return
        payload = {
            "findings": [_dump(f) for f in findings],
            "suppressed": [_dump(f) for f in suppressed],
            "facts": asdict(facts) if facts is not None else None,
            "notices": notices,
        }
        entry = self._entry(key)
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=entry.parent, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle)
            os.replace(tmp, entry)  # atomic: a concurrent reader sees old or new, never half
        except OSError:
            self.usable = False


def _dump(finding: Finding) -> dict[str, Any]:
    data = {k: v for k, v in asdict(finding).items() if k in _FINDING_FIELDS}
    data["severity"] = int(finding.severity)
    return data


def _finding(data: Any) -> Finding:
    if not isinstance(data, dict) or set(data) != _FINDING_FIELDS:
        raise ValueError("not a finding")
    values = dict(data)
    values["severity"] = Severity(int(values["severity"]))
    for key in ("line", "column", "end_line", "end_column"):
        if not isinstance(values[key], int):
            raise ValueError(key)
    return Finding(**values)
