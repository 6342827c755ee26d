"""`--format json`: the public contract of DESIGN.md, secrets redacted.

Findings mask their own texts (`Finding`); notices and errors (which may quote a file) are
masked here. Paths and messages keep their exact characters - JSON escapes the C0 controls,
`json_text` the C1 controls and bidi characters that `ensure_ascii=False` would leave raw."""

from __future__ import annotations

import json
from typing import Any, TextIO

from bastion import __version__
from bastion.config import Config
from bastion.findings import Finding
from bastion.redact import json_text, redact
from bastion.reporters.fixable import fixable_counts
from bastion.results import RunResult, count_by_severity


def redacted(finding: Finding) -> Finding:
    """The finding as reporters show it. `Finding` masks its texts when it is built (the
    secrets its rule named and every secret-looking value), so this is the finding itself."""
    return finding


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
        "notices": [redact(n) for n in result.notices],
        "errors": [redact(e) for e in result.internal_errors],
    }


def report_json(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    out.write(json_text(json.dumps(build_document(result, config), indent=2, ensure_ascii=False)))
    out.write("\n")
