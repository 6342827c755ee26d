"""The suppression pre-check (`may_suppress`) has a fast path for ASCII text: it must answer
exactly what the case-insensitive search answers, for text and for bytes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bastion.suppression import _MARKERS, may_suppress

_PIECES = st.sampled_from(
    ["# noqa: E722", "# NOSEC B101", "# bastion: ignore[ERR001]", "BASTION:", "noqa", "nosec",
     "no qa", "nose c", "bastion", "no\u017fec", "bast\u0131on:", "x = 1", "\n", "é", " "]
)  # fmt: skip


def _expected(text: str) -> bool:
    return _MARKERS.search(text) is not None


@given(st.lists(_PIECES, max_size=8).map("".join) | st.text(max_size=60))
def test_the_fast_path_answers_what_the_search_answers(text: str) -> None:
    assert may_suppress(text) == _expected(text)
    data = text.encode("utf-8")
    assert may_suppress(data) == _expected(data.decode("utf-8", "replace"))


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_without_external_codes_only_bastion_directives_count(text: str) -> None:
    assert may_suppress(text, external=False) == ("bastion:" in text)
    assert may_suppress(text.encode("utf-8"), external=False) == ("bastion:" in text)
