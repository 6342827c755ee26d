"""SEC010 end to end on small multi-module projects: the exact (rule, path, line) set."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.config import Config
from bastion.engine import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _found(name: str) -> list[tuple[str, str, int, str]]:
    root = FIXTURES / name
    result = run([root], Config(root=root, select=("SEC010",)))
    assert not result.internal_errors, result.internal_errors
    return sorted((f.rule, f.path, f.line, f.message) for f in result.findings)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "headers_django",
            {("SEC010", "config/settings/production.py", 1), ("SEC010", "shop/settings.py", 1)},
        ),
        ("headers_fastapi", {("SEC010", "app/main.py", 7), ("SEC010", "app/proxy.py", 5)}),
        ("headers_flask", set()),
    ],
)
def test_exact_findings(name: str, expected: set[tuple[str, str, int]]) -> None:
    assert {(rule, path, line) for rule, path, line, _ in _found(name)} == expected


def test_django_messages_list_the_checks_of_the_combined_settings() -> None:
    messages = {path: message for _, path, _, message in _found("headers_django")}
    production = messages["config/settings/production.py"]
    assert "(with `base.py`)" in production
    for code in ("W005", "W021", "W012", "W016", "W019"):
        assert code in production, code
    # set in production.py itself, or fine in base.py
    for code in ("W001", "W004", "W008", "W009", "W020"):
        assert code not in production, code
    legacy = messages["shop/settings.py"]
    assert "W001" in legacy and "W009" in legacy
    assert "change-me" not in legacy  # the key itself is never printed
    # no SecurityMiddleware: the checks that need it are moot, as in Django
    assert "W004" not in legacy and "W008" not in legacy


def test_fixture_lines_are_marked() -> None:
    for name in ("headers_django", "headers_fastapi"):
        for _, path, line, _ in _found(name):
            text = (FIXTURES / name / path).read_text().splitlines()
            assert "expect: SEC010" in text[line - 1] or line == 1, (path, line)
