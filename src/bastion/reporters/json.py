"""`--format json`: the public contract of DESIGN.md, secrets redacted."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, TextIO

from bastion import __version__
from bastion.config import Config
from bastion.engine import RunResult, count_by_severity
from bastion.findings import Finding, redact_text
from bastion.reporters.fixable import fixable_counts


def redacted(finding: Finding) -> Finding:
    if not finding.redact:
        return finding
    return replace(
        finding,
        message=redact_text(finding.message, finding.redact),
        fix_hint=redact_text(finding.fix_hint, finding.redact),
    )


def build_document(result: RunResult, config: Config) -> dict[str, Any]:
    findings = [redacted(f).to_json() for f in result.findings]
    by_rule: dict[str, int] = {}
    for f in result.findings:
        by_rule[f.rule] = by_rule.get(f.rule, 0) + 1
    safe, unsafe = fixable_counts(result)
    return {
        "version": __version__,
        "findings": findings,
        "summary": {
            "files": len(result.files),
            "findings": len(findings),
            "by_severity": count_by_severity(result.findings),
            "by_rule": dict(sorted(by_rule.items())),
            # fixable = fixable_safe (`bastion fix`) + fixable_unsafe (`--unsafe-fixes`)
            "fixable": safe + unsafe,
            "fixable_safe": safe,
            "fixable_unsafe": unsafe,
            "suppressed": len(result.suppressed),
            "exit_code": result.exit_code(config),
        },
        "notices": list(result.notices),
        "errors": list(result.internal_errors),
    }


def report_json(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    json.dump(build_document(result, config), out, indent=2, ensure_ascii=False)
    out.write("\n")
