"""Reporters turn a finished run into text. They read the findings; they never re-derive them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol, TextIO

from bastion.config import Config
from bastion.results import RunResult

if TYPE_CHECKING:
    from bastion.fixer import FindingEdit


class Reporter(Protocol):
    def __call__(self, result: RunResult, config: Config, out: TextIO, *, color: bool) -> None: ...


def get_reporter(
    name: str,
    *,
    sarif_category: str | None = None,
    sarif_fixes: Mapping[str, FindingEdit] | None = None,
) -> Reporter:
    # imported lazily: a json run never pays for rich's import
    if name == "sarif":
        from functools import partial

        from bastion.reporters.sarif import report_sarif

        return partial(report_sarif, category=sarif_category, fixes=sarif_fixes)
    if name == "github":
        from bastion.reporters.github import report_github

        return report_github
    if name == "json":
        from bastion.reporters.json import report_json

        return report_json
    if name == "html":
        from bastion.reporters.html import report_html

        return report_html
    if name in ("gitlab", "junit"):
        from importlib import import_module

        module = import_module(f"bastion.reporters.{name}")
        reporter: Reporter = getattr(module, f"report_{name}")
        return reporter
    if name == "statistics":
        from bastion.reporters.text import report_statistics

        return report_statistics
    if name == "text":
        from bastion.reporters.text import report_text

        return report_text
    raise ValueError(f"unknown format {name!r}")


FORMATS = ("text", "json", "sarif", "github", "html", "gitlab", "junit")
