"""Every rule's own examples are its first tests: each `bad` example is flagged by that rule,
each `good` look-alike is not, and the metadata that docs and SARIF need is present."""

from __future__ import annotations

import pytest

from bastion.registry import load_registry
from bastion.rule import Rule
from bastion.testing import findings_for

REGISTRY = load_registry()
FILE_RULES = [r for r in REGISTRY.file_rules]


def _cases(which: str) -> list[object]:
    cases = []
    for rule in FILE_RULES:
        examples = rule.bad_examples() if which == "bad" else rule.good_examples()
        for index, example in enumerate(examples):
            cases.append(pytest.param(rule, example, id=f"{rule.id}-{which}{index}"))
    return cases


@pytest.mark.parametrize(("rule", "example"), _cases("bad"))
def test_bad_example_is_flagged(rule: type[Rule], example) -> None:  # type: ignore[no-untyped-def]
    found = findings_for(example.code, rule.id, example.path)
    assert found, f"{rule.id} did not flag its bad example:\n{example.code}"
    for finding in found:
        assert finding.message and finding.fix_hint
        assert finding.line >= 1 and finding.column >= 1
    # an example that pins its finding: the exact line and message (ruff's snapshot idea)
    if example.line is not None:
        lines = sorted({f.line for f in found})
        assert example.line in lines, f"{rule.id}: expected line {example.line}, got {lines}"
    if example.message is not None:
        at = [f for f in found if example.line is None or f.line == example.line]
        messages = [f.message for f in at]
        assert example.message in messages, (
            f"{rule.id}: expected {example.message!r}, got {messages}"
        )


@pytest.mark.parametrize(("rule", "example"), _cases("good"))
def test_good_example_is_not_flagged(rule: type[Rule], example) -> None:  # type: ignore[no-untyped-def]
    found = findings_for(example.code, rule.id, example.path)
    assert not found, f"{rule.id} flagged its good example:\n{example.code}\n{found}"


@pytest.mark.parametrize("rule", REGISTRY.rules, ids=lambda r: r.id)
def test_rule_metadata_is_complete(rule) -> None:  # type: ignore[no-untyped-def]
    assert rule.id and rule.name and rule.summary and rule.why and rule.hint
    assert rule.name == rule.name.lower() and " " not in rule.name
    if rule.id.startswith("BAS"):
        return
    # the catalogue asks for at least three of each for every public rule
    assert len(rule.bad_examples()) >= 3, f"{rule.id} needs 3 bad examples"
    assert len(rule.good_examples()) >= 3, f"{rule.id} needs 3 good look-alikes"


def _fix_cases() -> list[object]:
    cases = []
    for rule in FILE_RULES:
        for index, example in enumerate(rule.bad_examples()):
            if example.fixed is not None:
                cases.append(pytest.param(rule, example, id=f"{rule.id}-fix{index}"))
    return cases


@pytest.mark.parametrize(("rule", "example"), _fix_cases())
def test_fix_turns_bad_example_into_fixed(rule: type[Rule], example) -> None:  # type: ignore[no-untyped-def]
    from pathlib import Path

    from bastion.config import Config
    from bastion.discovery import SourceFile, file_kind
    from bastion.fixer import Fixer

    assert rule.is_fixable(), f"{rule.id} has `fixed` examples but no fix"
    # a root without a pyproject.toml: the default line length (88), whatever the cwd
    fixer = Fixer(Config(root=Path("/nonexistent-root"), select=(rule.id,)), unsafe=True)
    kind = file_kind(example.path) or "python"
    result = fixer.fix_bytes(
        SourceFile(example.path, Path(example.path), kind), example.code.encode()
    )
    assert result.fixed.decode() == example.fixed
    # idempotent: fixing the fixed code changes nothing
    again = fixer.fix_bytes(SourceFile(example.path, Path(example.path), kind), result.fixed)
    assert again.fixed == result.fixed


@pytest.mark.parametrize("rule", [r for r in FILE_RULES if r.is_fixable()], ids=lambda r: r.id)
def test_every_fixable_rule_shows_its_fix(rule) -> None:  # type: ignore[no-untyped-def]
    assert any(e.fixed is not None for e in rule.bad_examples()), (
        f"{rule.id} has a fix but no bad example with `fixed=` to show and test it"
    )
