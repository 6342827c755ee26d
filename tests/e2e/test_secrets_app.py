"""End to end on tests/fixtures/secrets_app: the exact set of (rule, path, line) findings of
SEC001/SEC012/SEC013/SEC017/SEC019/ERR005/ERR006 equals the `# expect: ID` annotations
(`# expect-next: ID` annotates the following line, for files that cannot take a trailing
comment)."""

from __future__ import annotations

import re
from pathlib import Path

from bastion.config import load_config
from bastion.engine import run

FIXTURE = Path(__file__).parent.parent / "fixtures" / "secrets_app"
RULES = ("SEC001", "SEC012", "SEC013", "SEC017", "SEC019", "ERR005", "ERR006")
_EXPECT = re.compile(r"#\s*expect(-next)?:\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def _expected() -> set[tuple[str, str, int]]:
    expected: set[tuple[str, str, int]] = set()
    for path in sorted(FIXTURE.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        rel = path.relative_to(FIXTURE).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found = _EXPECT.search(line)
            if found:
                target = number + 1 if found.group(1) else number
                for rule in found.group(2).split(","):
                    expected.add((rule.strip(), rel, target))
    return expected


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
