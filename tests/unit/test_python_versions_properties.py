"""Properties of the newer-syntax detector over generated programs (hypothesmith) and any text.
CI runs them on the machine's Python and on the newest CPython (`.ci/newest-python`)."""

from __future__ import annotations

import ast

import hypothesmith
from hypothesis import given
from hypothesis import strategies as st

from bastion.syntax_version import constructs, newer_syntax, running


@given(hypothesmith.from_grammar())
def test_a_program_this_python_parses_needs_no_newer_python(code: str) -> None:
    """No false alarm: a program the running interpreter parses uses nothing newer than it
    (the f-string scan and the token checks agree with the real parser)."""
    ast.parse(code)
    assert all(c.version <= running() for c in constructs(code)), constructs(code)


@given(st.text(max_size=500))
def test_the_detector_never_raises(text: str) -> None:
    found = constructs(text)
    lines = max(text.count("\n") + 1, 1)
    assert all(1 <= c.line <= c.end_line <= lines + 1 for c in found)
    try:
        ast.parse(text)
    except SyntaxError as error:
        explained = newer_syntax(text, error.lineno)
        assert explained is None or explained.version > running()
    except (ValueError, RecursionError, MemoryError):
        pass
