"""End to end on the web fixture projects: the exact (rule, path, line) set of the web rules
equals the `# expect: RULE[, RULE]` annotations in the fixture sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.engine import run
from bastion.selection import load_config
from bastion.testing import expected_findings as _annotated

FIXTURES = Path(__file__).parent.parent / "fixtures"
WEB_RULES = ("SEC002", "SEC003", "API001", "API002", "API005", "ERR007", "LOG004")


def expected(root: Path) -> set[tuple[str, str, int]]:
    return _annotated(root, "*.py")


def actual(root: Path, select: tuple[str, ...] = WEB_RULES) -> set[tuple[str, str, int]]:
    config = load_config([root], overrides={"select": list(select)})
    result = run([root], config)
    assert not result.internal_errors, result.internal_errors
    return {(f.rule, f.path, f.line) for f in result.findings if f.rule in select}


@pytest.mark.parametrize("name", ["fastapi_app", "flask_app", "drf_app"])
def test_fixture_findings_match_annotations(name: str) -> None:
    root = FIXTURES / name
    want = expected(root)
    assert want, f"{name} has no expectations"
    assert actual(root) == want


def test_each_rule_alone_gives_the_same_findings() -> None:
    """Selecting one rule must not change what it finds (collectors run for reviewers too)."""
    for name in ("fastapi_app", "flask_app", "drf_app"):
        root = FIXTURES / name
        want = expected(root)
        for rule in WEB_RULES:
            assert actual(root, (rule,)) == {w for w in want if w[0] == rule}, (name, rule)


def test_api001_names_the_route_by_its_full_path() -> None:
    root = FIXTURES / "fastapi_app"
    config = load_config([root], overrides={"select": ["API001"]})
    messages = {(f.path, f.line): f.message for f in run([root], config).findings}
    assert messages[("app/api/users.py", 9)] == "`GET /api/users` returns a list without pagination"
    assert messages[("app/api/items.py", 22)].startswith("`GET /api/items/export`")
