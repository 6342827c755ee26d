"""`--format text`: `path:line:col ID message`, a short code frame and the hint (rich on a
terminal; plain lines, no colour and no frames, when piped or with `--no-color`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from bastion.config import Config
from bastion.engine import RunResult, count_by_severity
from bastion.findings import Finding, Severity, redact_text

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _frame_lines(
    finding: Finding, root: Path, cache: dict[str, list[str]], redact: Iterable[str] = ()
) -> list[str]:
    lines = cache.get(finding.path)
    if lines is None:
        try:
            data = (root / finding.path).read_bytes()
            lines = data.decode("utf-8", "replace").splitlines()
        except OSError:
            lines = []
        cache[finding.path] = lines
    start = max(1, finding.line - 1)
    end = min(len(lines), finding.line + 1)
    secrets = (*finding.redact, *redact)
    return [redact_text(lines[n - 1], secrets) for n in range(start, end + 1)]


def _redactions_by_path(result: RunResult) -> dict[str, set[str]]:
    """A frame shows the lines around its finding, which may hold another finding's secret:
    every frame of a file masks every secret found in that file."""
    by_path: dict[str, set[str]] = {}
    for f in (*result.findings, *result.suppressed):
        if f.redact:
            by_path.setdefault(f.path, set()).update(f.redact)
    return by_path


def summary_line(result: RunResult) -> str:
    counts = count_by_severity(result.findings)
    total = len(result.findings)
    if not total:
        return f"No findings in {len(result.files)} files."
    parts = ", ".join(f"{n} {label}" for label, n in counts.items() if n)
    fixable = sum(1 for f in result.findings if f.fixable)
    plural = "s" if total != 1 else ""
    text = f"Found {total} finding{plural} ({parts}) in {len(result.files)} files."
    if fixable:
        text += f" {fixable} fixable with `bastion fix`."
    if result.suppressed:
        text += f" {len(result.suppressed)} suppressed in source."
    return text


def report_text(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    if not color:
        for f in result.findings:
            message = redact_text(f.message, f.redact)
            out.write(f"{f.path}:{f.line}:{f.column} {f.rule} {message}\n")
            out.write(f"  hint: {redact_text(f.fix_hint, f.redact)}\n")
        out.write(summary_line(result) + "\n")
        return

    from rich.console import Console
    from rich.markup import escape

    console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=True)
    cache: dict[str, list[str]] = {}
    redactions = _redactions_by_path(result)
    for f in result.findings:
        message = escape(redact_text(f.message, f.redact))
        style = _STYLE[f.severity]
        console.print(
            f"[bold]{escape(f.path)}:{f.line}:{f.column}[/bold] [{style}]{f.rule}[/{style}] "
            f"{message} [dim]({f.name})[/dim]"
        )
        first = max(1, f.line - 1)
        for offset, text in enumerate(
            _frame_lines(f, config.root, cache, redactions.get(f.path, ()))
        ):
            number = first + offset
            marker = ">" if number == f.line else " "
            console.print(f"  [dim]{marker}{number:>5} |[/dim] {escape(text)}")
        console.print(f"  [green]hint:[/green] {escape(redact_text(f.fix_hint, f.redact))}\n")
    console.print(summary_line(result))
