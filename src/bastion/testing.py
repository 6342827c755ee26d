"""Helpers to run rules on code held in memory: used by the test suite and by rule authors."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from bastion.config import Config
from bastion.discovery import SourceFile, file_kind
from bastion.engine import FileAnalyzer, FileResult
from bastion.findings import Finding
from bastion.rule import RuleMeta


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


_EXPECT = re.compile(r"#\s*expect(-next)?:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def expected_findings(root: Path, pattern: str = "*.py") -> set[tuple[str, str, int]]:
    """(rule, path, line) annotated in a fixture project, semgrep-style: a line that must be
    flagged carries `# expect: ID[, ID]`; `# expect-next: ID` stands on the line before (for
    files where a trailing comment would change the value, like `.env`). Paths are relative
    to `root`, posix; `pattern` picks the files read (`*` for every file kind)."""
    found: set[tuple[str, str, int]] = set()
    for path in sorted(root.rglob(pattern)):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        relative = path.relative_to(root).as_posix()
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                target = number + 1 if match.group(1) else number
                for rule in match.group(2).split(","):
                    found.add((rule.strip(), relative, target))
    return found


def check_rule_examples(rule: type[RuleMeta]) -> None:
    """Run a file rule's own examples as tests, as bastion's suite does for the built-in rules
    (for plugin authors: `def test_examples(): check_rule_examples(MyRule)`): every `bad`
    example must be flagged with a message and a hint, no `good` one may be. The rule must be
    registered (its plugin installed, or its local module active). Raises AssertionError
    listing every failed example."""
    failures: list[str] = []
    for example in rule.bad_examples():
        found = findings_for(example.code, rule.id, example.path)
        if not found:
            failures.append(f"bad example not flagged ({example.path}):\n{example.code}")
        elif not all(f.message and f.fix_hint for f in found):
            failures.append(f"finding without message or hint ({example.path})")
    for example in rule.good_examples():
        found = findings_for(example.code, rule.id, example.path)
        if found:
            lines = ", ".join(str(f.line) for f in found)
            failures.append(
                f"good example flagged at line {lines} ({example.path}):\n{example.code}"
            )
    if failures:
        raise AssertionError(f"{rule.id}: " + "\n".join(failures))
