"""End-to-end: the route-level API-design rules (API003-API011) and ERR004 on two small
projects. Every expected finding is annotated in the fixture sources with `# expect: ID[, ID]`
on its line; the run must report exactly that set of (rule, path, line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.engine import run
from bastion.selection import load_config
from bastion.testing import expected_findings as _annotated

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
RULES = {"API003", "API004", "API006", "API007", "API008", "API009", "API010", "API011", "ERR004"}


def _expected(root: Path) -> set[tuple[str, str, int]]:
    return _annotated(root, "*.py")


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
