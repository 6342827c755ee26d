"""Rule examples written as indented triple-quoted blocks, optionally pinning the finding's line
and message: the format itself, and that a wrong pin is caught (the check can fail)."""

from __future__ import annotations

import pytest

from bastion.registry import load_registry
from bastion.rulemeta import Example, _as_example
from bastion.testing import findings_for


def test_an_indented_block_is_the_program_it_looks_like() -> None:
    example = Example(
        """
        try:
            f()
        except:
            pass
        """
    )
    assert example.code == "try:\n    f()\nexcept:\n    pass\n"


def test_left_aligned_code_is_unchanged() -> None:
    code = "import os\n\nx = os.environ['A']\n"
    assert Example(code).code == code
    assert _as_example(code).code == code


def test_plain_strings_are_dedented_like_examples() -> None:
    assert _as_example("\n    x = 1\n    y = 2\n").code == "x = 1\ny = 2\n"


def test_fixed_code_is_dedented_too() -> None:
    example = Example("\n    a = 1\n", fixed="\n    a = 2\n")
    assert example.fixed == "a = 2\n"


def test_relative_indentation_survives() -> None:
    example = Example("\n    def f():\n        return 1\n")
    assert example.code == "def f():\n    return 1\n"


def _pinned_examples() -> list[tuple[str, Example]]:
    return [
        (rule.id, example)
        for rule in load_registry().file_rules
        for example in rule.bad_examples()
        if example.line is not None or example.message is not None
    ]


def test_some_rules_pin_their_findings() -> None:
    assert len(_pinned_examples()) >= 3


@pytest.mark.parametrize(("rule_id", "example"), _pinned_examples())
def test_a_wrong_pin_would_be_caught(rule_id: str, example: Example) -> None:
    """The check in test_rule_examples compares pins with real findings: a line one off, or
    another message, is not among them."""
    found = findings_for(example.code, rule_id, example.path)
    if example.line is not None:
        assert example.line + 1 not in {f.line for f in found if f.line != example.line}
        assert example.line in {f.line for f in found}
    if example.message is not None:
        assert example.message + "!" not in {f.message for f in found}
        assert example.message in {f.message for f in found}
