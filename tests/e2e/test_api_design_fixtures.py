"""End-to-end: the route-level API-design rules (API003-API011) and ERR004 on two small
projects. Every expected finding is annotated in the fixture sources with `# expect: ID[, ID]`
on its line; the run must report exactly that set of (rule, path, line)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bastion.config import load_config
from bastion.engine import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RULES = {"API003", "API004", "API006", "API007", "API008", "API009", "API010", "API011", "ERR004"}
_EXPECT = re.compile(r"#\s*expect:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def _expected(root: Path) -> set[tuple[str, str, int]]:
    found: set[tuple[str, str, int]] = set()
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            match = _EXPECT.search(line)
            if match:
                for rule in match.group(1).split(","):
                    found.add((rule.strip(), relative, number))
    return found


@pytest.mark.parametrize("project", ["api_design_fastapi", "api_design_flask"])
def test_fixture_findings_are_exactly_the_annotated_ones(project: str) -> None:
    root = FIXTURES / project
    config = load_config([root])
    result = run([root], config)
    assert not result.internal_errors
    actual = {(f.rule, f.path, f.line) for f in result.findings if f.rule in RULES}
    expected = _expected(root)
    assert expected, "fixture has no annotations"
    assert sorted(actual - expected) == [], "unexpected findings"
    assert sorted(expected - actual) == [], "missing findings"
