"""`bastion audit-deps`: collect the pinned dependencies, audit them, and shape the result like
a `check` run so that every reporter can print it."""

from __future__ import annotations

from pathlib import Path

from bastion.analysis.audit import audit_offline, audit_online, collect_pins, describe
from bastion.config import Config
from bastion.context import FileContext
from bastion.discovery import discover
from bastion.findings import Finding, assign_fingerprints
from bastion.registry import load_registry
from bastion.results import RunResult
from bastion.safe_fs import read_tree_text
from bastion.source import SourceText

_KINDS = ("requirements", "pyproject", "lockfile")


def run_audit(
    paths: list[Path],
    config: Config,
    vuln_db: Path | None,
    service: str,
    timeout: int,
) -> tuple[RunResult, list[str]]:
    """The run result (DEP001 findings, notices) and the errors that make the audit
    incomplete."""
    rule = load_registry().by_id("DEP001")
    assert rule is not None
    discovery = discover(paths, config)
    files = [f for f in discovery.files if f.kind in _KINDS]
    pins, notes = collect_pins(((f.kind, f.path, f.abspath) for f in files), config.root)
    notices = [*discovery.notices, *notes]
    errors: list[str] = []
    if not files:
        notices.append("no requirements file, pyproject.toml or lock file found")
    elif not pins:
        notices.append("no exactly pinned dependency to audit (pin with == or use a lock file)")
    if pins:
        if vuln_db is not None:
            audit = audit_offline(pins, vuln_db)
        else:
            audit = audit_online(pins, service, timeout)
        errors.extend(audit.errors)
        notices.extend(audit.skipped)
        hits = audit.hits
    else:
        hits = []
    findings: list[Finding] = []
    texts: dict[str, SourceText] = {}
    for pin, advisory in hits:
        if pin.path not in texts:
            try:
                text = read_tree_text(config.root / pin.path, config.root, encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError):
                text = ""
            texts[pin.path] = SourceText(text)
        ctx = FileContext(path=pin.path, kind="requirements", source=texts[pin.path], config=config)
        message, hint = describe(pin, advisory)
        end = len(ctx.source.line(pin.line)) + 1
        ctx._add(rule, pin.line, 1, pin.line, end, message, hint, (), pin.line, False)
        findings.extend(ctx.findings)
    result = RunResult(
        findings=assign_fingerprints(findings),
        suppressed=[],
        files=files,
        notices=notices,
        internal_errors=[],
        rules=[rule],
    )
    return result, errors
