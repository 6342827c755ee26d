"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning (and any other SARIF consumer).

What code scanning reads is filled from the rules' own metadata: every rule that ran is in
`tool.driver.rules` (descriptions, generated help, tags, precision, security-severity), every
finding is a result pointing at a path relative to `%SRCROOT%` with a fingerprint that does not
move when unrelated lines are added above it. Findings silenced in source are kept as results
with an `inSource` suppression (code scanning shows them as dismissed, with the reason).

One run per file. GitHub accepts at most 25,000 results per run: beyond that the most severe
are kept and a warning says how many were left out. Secrets are redacted as everywhere else:
findings mask their texts (message, hint, suppression justification), notices are masked here,
and a fix whose inserted text would carry a secret-looking value is left out (a masked fix
would corrupt the file it is applied to).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote

from bastion import __version__
from bastion.config import Config
from bastion.docs import render_markdown
from bastion.findings import Area, Finding, Severity
from bastion.redact import json_text, redact, visible
from bastion.reporters.fixable import fixable_counts
from bastion.reporters.json import redacted
from bastion.reporters.paths import repo_path, source_root
from bastion.results import RunResult
from bastion.rule import RuleMeta

if TYPE_CHECKING:
    from bastion.fixer import FindingEdit

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
# The project's home and the base of each rule's page (docs/rules/<ID>.md): one place to change.
INFORMATION_URI = "https://pypi.org/project/bastion-lint/"
HELP_URI_BASE = "https://github.com/bastion-lint/bastion/blob/main/docs/rules/"

MAX_RESULTS = 25_000  # GitHub code scanning's limit per run
MAX_DESCRIPTION = 1_024  # GitHub's limit for shortDescription / fullDescription text
FINGERPRINT_KEY = "bastionFingerprint/v1"

_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
# CVSS-like scores read by GitHub (>= 9 critical, >= 7 high, >= 4 medium, else low).
_SECURITY_SEVERITY = {Severity.ERROR: 7.5, Severity.WARNING: 5.0, Severity.INFO: 2.0}


def truncate(text: str, limit: int = MAX_DESCRIPTION) -> str:
    """Cut `text` at a word boundary so that it fits in `limit` characters (with an ellipsis)."""
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "\u2026"


def reflow(text: str) -> str:
    """Docstrings are wrapped at 100 columns; code scanning shows plain paragraphs."""
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n")]
    return "\n\n".join(p for p in paragraphs if p)


def is_security_rule(rule: type[RuleMeta]) -> bool:
    return rule.area() is Area.SECURITY or bool(rule.cwe)


def security_severity(rule: type[RuleMeta], severity: Severity) -> str:
    score = rule.security_severity
    if score is None:
        score = _SECURITY_SEVERITY[severity]
    return f"{score:.1f}"


def rule_tags(rule: type[RuleMeta]) -> list[str]:
    tags = [rule.area().value]
    if is_security_rule(rule) and "security" not in tags:
        tags.append("security")
    tags += [f"external/cwe/cwe-{cwe:03d}" for cwe in rule.cwe]
    return tags


def help_text(rule: type[RuleMeta]) -> str:
    parts = [f"{rule.id} {rule.name}: {rule.summary}", reflow(rule.description()), rule.why]
    parts.append(f"Use instead: {rule.hint}")
    return "\n\n".join(p.strip() for p in parts if p.strip())


def rule_descriptor(rule: type[RuleMeta], config: Config) -> dict[str, Any]:
    severity = config.severity_for(rule)
    properties: dict[str, Any] = {
        "tags": rule_tags(rule),
        "precision": rule.precision,
        "problem.severity": {
            Severity.ERROR: "error",
            Severity.WARNING: "warning",
            Severity.INFO: "recommendation",
        }[severity],
    }
    if is_security_rule(rule):
        properties["security-severity"] = security_severity(rule, severity)
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": truncate(reflow(rule.summary))},
        "fullDescription": {"text": truncate(reflow(rule.description()))},
        "help": {"text": help_text(rule), "markdown": render_markdown(rule)},
        "helpUri": rule.help_uri or f"{HELP_URI_BASE}{rule.id}.md",
        "defaultConfiguration": {"level": _LEVEL[severity]},
        "properties": properties,
    }


def _sentence(text: str) -> str:
    text = text.strip()
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?":
        text += "."
    return text


def alert_text(finding: Finding) -> str:
    """The message code scanning shows: its first sentence (the alert title) says what is wrong
    here, the next one what to write instead. Secrets are already redacted."""
    shown = redacted(finding)
    text = _sentence(shown.message)
    if shown.fix_hint:
        text += " " + _sentence(shown.fix_hint)
    return visible(text)  # code scanning shows it to people: no bidi or control characters


def _uri(path: str) -> str:
    return quote(path, safe="/")


def _region(finding: Finding) -> dict[str, int]:
    start_line = max(1, finding.line)
    start_column = max(1, finding.column)
    end_line = max(start_line, finding.end_line)
    end_column = max(1, finding.end_column)
    if end_line == start_line:
        end_column = max(start_column, end_column)
    return {
        "startLine": start_line,
        "startColumn": start_column,
        "endLine": end_line,
        "endColumn": end_column,
    }


def _artifact(finding: Finding, root: Path) -> dict[str, str]:
    path = repo_path(root, finding.path)
    if path is None:  # a file outside the project: absolute
        return {"uri": Path(finding.path).as_uri()}
    return {"uri": _uri(path), "uriBaseId": "%SRCROOT%"}


def fix_object(edit: FindingEdit, finding: Finding, root: Path) -> dict[str, Any]:
    """SARIF `fix`: the replacements the fixer computed for this finding (safe fixes only)."""
    return {
        "description": {"text": redacted(finding).fix_hint or edit.description},
        "artifactChanges": [
            {
                "artifactLocation": _artifact(finding, root),
                "replacements": [
                    {
                        "deletedRegion": {
                            "startLine": r.start_line,
                            "startColumn": r.start_column,
                            "endLine": r.end_line,
                            "endColumn": r.end_column,
                        },
                        "insertedContent": {"text": r.inserted},
                    }
                    for r in edit.replacements
                ],
            }
        ],
    }


def result_object(
    finding: Finding,
    rule_index: int,
    root: Path,
    fixes: Mapping[str, FindingEdit] | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": alert_text(finding)},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding, root),
                    "region": _region(finding),
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
    }
    if finding.suppressed_by is not None:
        justification = visible(finding.suppressed_by)  # masked by `Finding`, shown to people
        result["suppressions"] = [{"kind": "inSource", "justification": justification}]
    edit = fixes.get(finding.fingerprint) if fixes and finding.fingerprint else None
    if edit is not None and edit.replacements and not finding.redact and _no_secret(edit):
        result["fixes"] = [fix_object(edit, finding, root)]
    return result


def _no_secret(edit: FindingEdit) -> bool:
    """Whether no text this fix inserts looks like a secret (then the fix is left out)."""
    return all(redact(r.inserted) == r.inserted for r in edit.replacements)


def _root_uri(root: Path) -> str:
    uri = root.resolve().as_uri()
    return uri if uri.endswith("/") else uri + "/"


def automation_id(category: str) -> str:
    """GitHub reads the category as everything up to the last `/`: keep the whole name."""
    return category if category.endswith("/") else category + "/"


def build_sarif(
    result: RunResult,
    config: Config,
    *,
    category: str | None = None,
    max_results: int = MAX_RESULTS,
    fixes: Mapping[str, FindingEdit] | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The SARIF log and the warnings to show the user (results left out). `fixes`: the edits
    the fixer computed for safe-fixable findings, by fingerprint (the reporter derives none)."""
    rules = list(result.rules)
    index = {rule.id: i for i, rule in enumerate(rules)}
    findings = [*result.findings, *result.suppressed]
    for finding in findings:  # a finding from a rule not in the enabled list (should not happen)
        if finding.rule not in index:
            from bastion.registry import load_registry

            extra = load_registry().by_id(finding.rule)
            if extra is not None:
                index[finding.rule] = len(rules)
                rules.append(extra)
    findings = [f for f in findings if f.rule in index]
    # Unsuppressed before suppressed, most severe first, so a cut keeps what matters.
    findings.sort(key=lambda f: (f.suppressed_by is not None, -f.severity, *f.sort_key()))
    warnings: list[str] = []
    if len(findings) > max_results:
        left_out = len(findings) - max_results
        warnings.append(
            f"SARIF: {len(findings)} results is over the limit of {max_results} per run; "
            f"the {left_out} least severe were left out"
        )
        findings = findings[:max_results]
    notifications = [
        {"level": "warning", "message": {"text": redact(text)}}
        for text in (*result.notices, *warnings)
    ] + [{"level": "error", "message": {"text": redact(text)}} for text in result.internal_errors]
    invocation: dict[str, Any] = {"executionSuccessful": not result.internal_errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "bastion",
                "semanticVersion": __version__,
                "version": __version__,
                "informationUri": INFORMATION_URI,
                "rules": [rule_descriptor(rule, config) for rule in rules],
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {"%SRCROOT%": {"uri": _root_uri(source_root(config.root))}},
        "columnKind": "unicodeCodePoints",
        "results": [result_object(f, index[f.rule], config.root, fixes) for f in findings],
    }
    if category:
        run["automationDetails"] = {"id": automation_id(category)}
    safe, unsafe = fixable_counts(result)
    # the same two numbers as every other format (results carry `fixes` for the safe ones)
    run["properties"] = {"fixableSafe": safe, "fixableUnsafe": unsafe}
    log = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return log, warnings


def report_sarif(
    result: RunResult,
    config: Config,
    out: TextIO,
    *,
    color: bool,
    category: str | None = None,
    max_results: int = MAX_RESULTS,
    fixes: Mapping[str, FindingEdit] | None = None,
) -> None:
    log, warnings = build_sarif(
        result, config, category=category, max_results=max_results, fixes=fixes
    )
    out.write(json_text(json.dumps(log, indent=2, ensure_ascii=False)))
    out.write("\n")
    for warning in warnings:
        sys.stderr.write(f"bastion: warning: {visible(warning)}\n")
