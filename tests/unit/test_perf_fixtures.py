"""End to end: the PERF/ORG rules on two fixture projects. Every line that must be flagged
carries `# expect: RULE[, RULE]`; the findings must be exactly those (rule, path, line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.engine import run
from bastion.selection import load_config
from bastion.testing import expected_findings as _annotated

FIXTURES = Path(__file__).parent.parent / "fixtures"
RULES = ["PERF001", "PERF002", "PERF003", "PERF004", "PERF005", "PERF006", "ORG001", "ORG002"]


def _expected(root: Path) -> set[tuple[str, str, int]]:
    return _annotated(root, "*.py")


@pytest.mark.parametrize("project", ["perf_fastapi_sqlalchemy", "perf_django"])
def test_fixture_findings_are_exactly_the_expected_ones(project: str) -> None:
    root = FIXTURES / project
    config = load_config([root], overrides={"select": RULES})
    result = run([root], config)
    assert not result.internal_errors, result.internal_errors
    actual = {(f.rule, f.path, f.line) for f in result.findings}
    expected = _expected(root)
    assert expected, "fixture has no expectations"
    assert sorted(actual - expected) == [], "unexpected findings"
    assert sorted(expected - actual) == [], "missing findings"
