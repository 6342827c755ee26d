"""`--format github`: GitHub Actions workflow commands, one annotation per finding.

    ::error file=app/api.py,line=12,endLine=12,col=5,endColumn=11,title=ERR001 bare-except::msg

Values are escaped as the Actions runner expects: in the message `%`, CR and LF; in properties
also `:` and `,`. Before that, every control character that comes from the scanned tree (a
file name, a message quoting code) is spelled out (`visible`; newlines in a message only go
through the runner's %0A): a newline in a file name cannot start a forged `::error` line, an
ESC cannot recolour the log. Paths are relative to the
repository root (the git work tree around the project), as the checkout has them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from bastion.config import Config
from bastion.findings import Finding, Severity
from bastion.redact import visible
from bastion.reporters.json import redacted
from bastion.reporters.paths import repo_path
from bastion.reporters.text import summary_line
from bastion.results import RunResult

_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding, root: Path | None = None) -> str:
    shown = redacted(finding)
    path = repo_path(root, shown.path) if root is not None else None
    props = {
        "file": visible(path or shown.path),
        "line": str(shown.line),
        "endLine": str(max(shown.line, shown.end_line)),
        "col": str(shown.column),
        "endColumn": str(shown.end_column),
        "title": f"{shown.rule} {shown.name}",
    }
    if shown.end_line != shown.line:
        del props["endColumn"]  # GitHub reads columns only for single-line annotations
    properties = ",".join(f"{key}={escape_property(value)}" for key, value in props.items())
    # a newline in a message is escaped as the runner expects (%0A), not spelled out
    message = visible(shown.message, keep_newlines=True)
    if shown.fix_hint:
        message += f"\nhint: {visible(shown.fix_hint, keep_newlines=True)}"
    return f"::{_COMMAND[shown.severity]} {properties}::{escape_data(message)}"


def report_github(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    for finding in result.findings:
        out.write(annotation(finding, config.root) + "\n")
    out.write(summary_line(result) + "\n")
