"""Properties over generated programs: the engine never raises, never reports an internal error,
and gives the same findings twice."""

from __future__ import annotations

import hypothesmith
from hypothesis import given
from hypothesis import strategies as st

from bastion.testing import lint_source


@given(hypothesmith.from_grammar())
def test_engine_never_crashes_on_valid_programs(code: str) -> None:
    first = lint_source(code, "generated.py", select=["ALL"])
    assert not first.internal_errors, first.internal_errors
    second = lint_source(code, "generated.py", select=["ALL"])
    assert [f.to_json() for f in first.findings] == [f.to_json() for f in second.findings]
    lines = code.splitlines() or [""]
    for finding in first.findings:
        assert 1 <= finding.line <= max(len(lines), 1) + 1
        assert finding.column >= 1


@given(st.binary(max_size=2000))
def test_engine_never_crashes_on_arbitrary_bytes(data: bytes) -> None:
    for path in ("generated.py", ".env"):
        result = lint_source(data, path, select=["ALL"])
        assert not result.internal_errors, result.internal_errors


@given(st.text(max_size=500))
def test_engine_never_crashes_on_arbitrary_text(text: str) -> None:
    result = lint_source(text, "generated.py", select=["ALL"])
    assert not result.internal_errors
