"""`--format html`: one self-contained audit report (inline CSS and JS, no network).

Built with Jinja2 with autoescaping on: every project-derived string (paths, messages, code
lines) is escaped by the template engine, never concatenated into markup. Rule docs are the same
Markdown as `bastion rule ID`, rendered with raw HTML disabled. Secrets are redacted before
anything reaches the template, and control and bidi characters from the tree are spelled out
(`visible`): a right-to-left override in a file name cannot reorder what the reader sees.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TextIO

from bastion import __version__
from bastion.config import Config
from bastion.findings import Area, Finding, Severity
from bastion.redact import redact, visible
from bastion.reporters.fixable import fixable_counts, unsafe_rule_ids
from bastion.reporters.frames import FrameSource
from bastion.results import RunResult

AREA_TITLES = {
    Area.SECURITY: "Security",
    Area.API: "API design",
    Area.ERRORS: "Error handling",
    Area.LOGGING: "Logging & monitoring",
    Area.PERFORMANCE: "Performance",
    Area.ORGANISATION: "Code organisation",
    Area.PRODUCTION: "Production readiness",
    Area.DEPENDENCIES: "Dependencies",
    Area.TESTING: "Testing",
    Area.PLUGIN: "Team and plugin rules",
    Area.WORKFLOW: "Workflow",
    Area.META: "bastion diagnostics",
}
_FRAME = 2  # lines of context either side of a finding


def _frame(finding: Finding, frames: FrameSource) -> list[dict[str, Any]]:
    return [
        {"number": n, "text": visible(text), "flagged": finding.line <= n <= finding.end_line}
        for n, text in frames.frame(finding, _FRAME)
    ]


def _markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    # "js-default": CommonMark with raw HTML disabled, so rule docs cannot inject markup
    return str(MarkdownIt("js-default").render(text))


def build_context(result: RunResult, config: Config) -> dict[str, Any]:
    from bastion.docs import render_markdown

    frames = FrameSource(config.root, result)
    unsafe_ids = unsafe_rule_ids()
    safe, unsafe = fixable_counts(result)
    rows = []
    for index, f in enumerate(result.findings):
        rows.append(
            {
                "index": index,
                "rule": f.rule,
                "name": f.name,
                "severity": f.severity.label,
                "area": f.category,
                "path": visible(f.path),
                "line": f.line,
                "column": f.column,
                "message": visible(f.message),
                "hint": visible(f.fix_hint),
                "fixable": f.fixable,
                "unsafe": f.rule in unsafe_ids,
                "frame": _frame(f, frames),
            }
        )
    areas: list[dict[str, Any]] = []
    for area, title in AREA_TITLES.items():
        counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
        for f in result.findings:
            if f.category == area.value:
                counts[f.severity.label] += 1
        rules_in_area = [r for r in result.rules if r.area() is area]
        if not rules_in_area and not sum(counts.values()):
            continue
        areas.append(
            {
                "key": area.value,
                "title": title,
                "counts": counts,
                "total": sum(counts.values()),
                "rules": len(rules_in_area),
            }
        )
    biggest = max((int(a["total"]) for a in areas), default=0) or 1
    fired = sorted({f.rule for f in result.findings})
    by_id = {r.id: r for r in result.rules}
    docs = [
        {"id": rule_id, "html": _markdown(render_markdown(by_id[rule_id]))}
        for rule_id in fired
        if rule_id in by_id
    ]
    totals = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for f in result.findings:
        totals[f.severity.label] += 1
    return {
        "project": visible(config.root.name or str(config.root)),
        "generated": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
        "files": len(result.files),
        "totals": totals,
        "total": len(result.findings),
        "fixable": safe,
        "fixable_unsafe": unsafe,
        "suppressed": len(result.suppressed),
        "areas": areas,
        "biggest": biggest,
        "rows": rows,
        "rules": fired,
        "paths": sorted({visible(f.path) for f in result.findings}),
        "docs": docs,
        "notices": [visible(redact(n)) for n in result.notices],
    }


def render_html(result: RunResult, config: Config) -> str:
    from jinja2 import Environment, PackageLoader, select_autoescape

    env = Environment(
        loader=PackageLoader("bastion.reporters", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(**build_context(result, config))


def report_html(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    out.write(render_html(result, config))
