"""`--format gitlab`: a GitLab Code Quality report (`artifacts: reports: codequality:`).

GitLab reads a JSON array of issues, the subset of the Code Climate issue spec its merge request
widget and pipeline tab show:

    [{"description": "...", "check_name": "ERR001", "fingerprint": "...",
      "severity": "critical", "location": {"path": "app/api.py", "lines": {"begin": 12}}}]

`fingerprint` is the finding's own (stable across unrelated edits, as baselines use it), so
GitLab tells new findings from old ones between the source and the target branch. Paths are
relative to the repository root, as GitLab links them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, TextIO

from bastion.config import Config
from bastion.engine import RunResult
from bastion.findings import Finding, Severity
from bastion.reporters.json import redacted
from bastion.reporters.paths import repo_path

# GitLab's scale: info, minor, major, critical, blocker. bastion's errors are the findings that
# fail the gate by default (critical); blocker is left for nothing bastion reports.
SEVERITY = {Severity.ERROR: "critical", Severity.WARNING: "major", Severity.INFO: "info"}


def issue(finding: Finding, config: Config) -> dict[str, Any]:
    shown = redacted(finding)
    description = f"{shown.rule} {shown.name}: {shown.message}"
    fingerprint = (
        shown.fingerprint
        or hashlib.sha256(
            f"{shown.rule}\0{shown.path}\0{shown.line}\0{shown.column}".encode()
        ).hexdigest()[:20]
    )
    return {
        "type": "issue",
        "description": description,
        "check_name": shown.rule,
        "fingerprint": fingerprint,
        "severity": SEVERITY[shown.severity],
        "categories": [_category(shown)],
        "location": {
            "path": repo_path(config.root, shown.path) or shown.path,
            "lines": {"begin": shown.line, "end": max(shown.line, shown.end_line)},
        },
    }


def _category(finding: Finding) -> str:
    """Code Climate's category names (GitLab shows them as given)."""
    return "Security" if finding.category == "security" else "Bug Risk"


def report_gitlab(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    issues = [issue(f, config) for f in result.findings]
    json.dump(issues, out, indent=2, ensure_ascii=False)
    out.write("\n")
