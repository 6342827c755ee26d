"""`--format text`: `path:line:col ID message`, a short code frame and the hint (rich on a
terminal; plain lines, no colour and no frames, when piped or with `--no-color`)."""

from __future__ import annotations

from typing import Any, TextIO

from bastion.config import Config
from bastion.findings import Severity
from bastion.redact import visible
from bastion.reporters.fixable import fixable_counts
from bastion.reporters.frames import FrameSource
from bastion.results import RunResult, count_by_severity

_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _counts_text(counts: dict[str, int]) -> str:
    """`1 error, 2 warnings, 3 info`."""
    return ", ".join(
        f"{n} {label}{'s' if n != 1 and label != 'info' else ''}"
        for label, n in counts.items()
        if n
    )


def _fix_text(result: RunResult) -> str:
    safe, unsafe = fixable_counts(result)
    if safe and unsafe:
        return (
            f" {safe} fixable with `bastion fix` ({unsafe} more with `bastion fix --unsafe-fixes`)."
        )
    if safe:
        return f" {safe} fixable with `bastion fix`."
    if unsafe:
        return f" {unsafe} fixable with `bastion fix --unsafe-fixes`."
    return ""


def summary_line(result: RunResult) -> str:
    counts = count_by_severity(result.findings)
    total = len(result.findings)
    files = f"{len(result.files)} file{'s' if len(result.files) != 1 else ''}"
    if not total:
        return f"No findings in {files}."
    parts = _counts_text(counts)
    plural = "s" if total != 1 else ""
    text = f"Found {total} finding{plural} ({parts}) in {files}." + _fix_text(result)
    if result.suppressed:
        text += f" {len(result.suppressed)} suppressed in source."
    # parse errors and files skipped over a budget: a gate must not pass on unread code
    unread = {f.path for f in result.findings if f.rule in NOT_ANALYSED}
    if unread:
        text += f" {len(unread)} file{'s' if len(unread) != 1 else ''} not analysed."
    return text


NOT_ANALYSED = frozenset({"BAS001", "BAS003"})


def area_counts(result: RunResult) -> list[tuple[str, dict[str, int]]]:
    """Per area of the guide (in the guide's order), counts per severity; areas with findings."""
    from bastion.findings import Area

    rows = []
    for area in Area:
        counts = count_by_severity(f for f in result.findings if f.category == area.value)
        if sum(counts.values()):
            rows.append((area.value, counts))
    return rows


def statistics(result: RunResult) -> list[tuple[int, str, str, bool]]:
    """(count, rule id, name, fixable) per rule, most frequent first (like `ruff --statistics`)."""
    counts: dict[str, tuple[int, str, bool]] = {}
    for f in result.findings:
        n, _, fixable = counts.get(f.rule, (0, f.name, False))
        counts[f.rule] = (n + 1, f.name, fixable or f.fixable)
    return sorted(
        ((n, rule, name, fixable) for rule, (n, name, fixable) in counts.items()),
        key=lambda row: (-row[0], row[1]),
    )


def _plain_summary(result: RunResult, out: TextIO) -> None:
    for area, counts in area_counts(result):
        out.write(f"  {area}: {_counts_text(counts)}\n")
    out.write(summary_line(result) + "\n")


def report_statistics(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    for count, rule, name, fixable in statistics(result):
        out.write(f"{count:>6}  {rule:<8} {'[*]' if fixable else '   '} {name}\n")


def report_text(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    # Paths, messages and code come from the scanned tree: secrets are masked (`Finding` masks
    # its texts, frames their lines) and control characters shown, never sent to the terminal.
    if not color:
        for f in result.findings:
            out.write(f"{shown_path(f.path)}:{f.line}:{f.column} {f.rule} {visible(f.message)}\n")
            out.write(f"  hint: {visible(f.fix_hint)}\n")
        _plain_summary(result, out)
        return

    from rich.console import Console

    # no emoji codes either: `:bomb:` in a file name stays text
    console = Console(file=out, force_terminal=True, highlight=False, soft_wrap=True, emoji=False)
    frames = FrameSource(config.root, result)
    for f in result.findings:
        style = _STYLE[f.severity]
        console.print(
            f"[bold]{_markup(shown_path(f.path))}:{f.line}:{f.column}[/bold] "
            f"[{style}]{f.rule}[/{style}] "
            f"{_markup(f.message)} [dim]({f.name})[/dim]"
        )
        for number, text in frames.frame(f, 1)[:3]:
            marker = ">" if number == f.line else " "
            console.print(f"  [dim]{marker}{number:>5} |[/dim] {_markup(text)}")
        if f.path in result.hidden_frames:
            console.print("  [dim](code not shown: a shard redacted a secret in this file)[/dim]")
        console.print(f"  [green]hint:[/green] {_markup(f.fix_hint)}\n")
    _rich_summary(result, console)


def shown_path(path: str) -> str:
    """A path that starts a line: controls spelled out, and never `::` first - a CI log (GitHub
    Actions) runs a line that starts with `::` as a workflow command (`::error::`,
    `::stop-commands::`), so `::x.py` is shown as `./::x.py`."""
    text = visible(path)
    return f"./{text}" if text.startswith(":") else text


def _markup(text: str) -> str:
    """Text from the scanned tree inside rich markup: controls visible, `[tags]` inert."""
    from rich.markup import escape

    return escape(visible(text))


def _rich_summary(result: RunResult, console: Any) -> None:
    from rich.table import Table

    rows = area_counts(result)
    if rows:
        table = Table(title="Findings by area", title_justify="left", box=None, padding=(0, 2))
        table.add_column("area")
        for label, style in (("error", "bold red"), ("warning", "yellow"), ("info", "cyan")):
            table.add_column(label, justify="right", style=style)
        for area, counts in rows:
            table.add_row(area, *(str(counts[k] or "") for k in ("error", "warning", "info")))
        console.print(table)
    console.print(summary_line(result))
    safe, unsafe = fixable_counts(result)
    if safe:
        console.print(f"[green]Run `bastion fix` to fix {safe} of them automatically.[/green]")
    if unsafe:
        console.print(
            f"[yellow]{unsafe} more have fixes that can change behaviour: review "
            "`bastion fix --unsafe-fixes --diff`.[/yellow]"
        )
