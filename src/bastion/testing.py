"""Helpers to run rules on code held in memory: used by the test suite and by rule authors."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from bastion.config import Config
from bastion.discovery import SourceFile, file_kind
from bastion.engine import FileAnalyzer, FileResult
from bastion.findings import Finding


def lint_source(
    code: str | bytes,
    path: str = "example.py",
    *,
    select: Sequence[str] | None = None,
    config: Config | None = None,
) -> FileResult:
    """Analyse `code` as if it were the file `path` (its name decides its kind)."""
    kind = file_kind(path)
    if kind is None:
        raise ValueError(f"bastion does not check files named like {path!r}")
    if config is None:
        config = Config(root=Path("/nonexistent-root"), select=tuple(select) if select else None)
    analyzer = FileAnalyzer(config)
    result = FileResult()
    data = code.encode("utf-8") if isinstance(code, str) else code
    analyzer.analyze_bytes(SourceFile(path, Path(path), kind), data, result)
    return result


def findings_for(code: str | bytes, rule_id: str, path: str = "example.py") -> list[Finding]:
    """The findings of one rule (selected alone) on `code`."""
    result = lint_source(code, path, select=[rule_id])
    if result.internal_errors:
        raise AssertionError("\n".join(result.internal_errors))
    return [f for f in result.findings if f.rule == rule_id]
