"""End to end on tests/fixtures/secrets_app: the exact set of (rule, path, line) findings of
SEC001/SEC012/SEC013/SEC017/SEC019/ERR005/ERR006 equals the `# expect: ID` annotations
(`# expect-next: ID` annotates the following line, for files that cannot take a trailing
comment)."""

from __future__ import annotations

from pathlib import Path

from bastion.engine import run
from bastion.selection import load_config
from bastion.testing import expected_findings as _annotated

FIXTURE = Path(__file__).parent.parent / "fixtures" / "secrets_app"
RULES = ("SEC001", "SEC012", "SEC013", "SEC017", "SEC019", "ERR005", "ERR006")


def _expected() -> set[tuple[str, str, int]]:
    return _annotated(FIXTURE, "*")


def test_fixture_findings_are_exactly_the_annotated_ones() -> None:
    config = load_config([FIXTURE])
    assert config.root == FIXTURE.resolve()
    result = run([FIXTURE], config)
    assert not result.internal_errors
    found = {(f.rule, f.path, f.line) for f in result.findings if f.rule in RULES}
    expected = _expected()
    assert len(expected) >= 20
    assert found == expected, (
        f"unexpected: {sorted(found - expected)}\nmissing: {sorted(expected - found)}"
    )


def test_every_rule_of_the_task_is_exercised() -> None:
    assert {rule for rule, _, _ in _expected()} == set(RULES)
