"""Where a Python file's directive comments are (`python_comments`): for text that parses, a scan
of its strings and comments stands in for `tokenize` (pure Python before 3.12, the largest cost
of suppressions); it must give tokenize's answer exactly, and leave every case it cannot vouch
for to tokenize itself."""

from __future__ import annotations

import ast
import io
import sys
import tokenize
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.suppression import _MARKERS, _scan_comments, python_comments
from bastion.testing import lint_source

NEW_FSTRINGS = sys.version_info >= (3, 12)  # PEP 701: quotes and comments inside `{...}`


def reference(text: str) -> dict[int, int] | None:
    """What python_comments answered before the fast scan: tokenize's comments with a marker."""
    comments: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and _MARKERS.search(token.string):
                comments[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return comments


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


# -- generated sources ------------------------------------------------------------------------

_COMMENTS = [
    "# noqa: E722",
    "# NOSEC B101",
    "# bastion: ignore[ERR001] why",
    "# plain",
    "#",
    "# é € noqa: E1",
    "# nosec",
    "#bastion:ignore[X]",
    "# no qa",
    "# 'quote\" #",
]
_TEXT = ["a", " ", "# noqa: E1", "bastion:", "#", "é", "€", "𝄞", "\\\\", "\\n", "{{", "}}",
         "{x}", "'", '"', "\\'", '\\"', "\n", "nosec", "\t"]  # fmt: skip
_FIELDS = ["{x}", "{x!r}", "{x:>10}", "{x:#x}", "{x:>{w}}", "{x=}", "{d['k']}", '{d["k"]}',
           "{ {1: 2}[1] }", "{x:{w}.{p}}"]  # fmt: skip
_PREFIXES = ["", "r", "b", "rb", "Rb", "BR", "u", "U", "f", "rf", "F", "fR"]
_QUOTES = ['"', "'", '"""', "'''"]


@st.composite
def string_literal(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(_PREFIXES))
    quote = draw(st.sampled_from(_QUOTES))
    pieces = [*_TEXT]
    if "f" in prefix.lower():
        pieces += _FIELDS
        if NEW_FSTRINGS:  # the same quote, a backslash, a comment in a field (PEP 701)
            pieces += [
                "{f" + quote[0] + "{x}" + quote[0] + "}",
                "{" + quote[0] + "#" + quote[0] + "}",
                "{'\\n'.join(y)}",
            ]
            if len(quote) == 3:
                pieces += ["{x  # noqa: E1\n}", "{x # plain\n}"]
    body = ""
    for piece in draw(st.lists(st.sampled_from(pieces), max_size=6)):
        if piece in ("'", '"') and piece == quote[0]:
            piece = "\\" + piece
        if piece == "\n" and len(quote) == 1:
            piece = "\\\n"  # a backslash continues a one-line string
        if "b" in prefix.lower() and not piece.isascii():
            piece = "x"
        body += piece
    if body.endswith(quote[0]):  # `"""a""""` would end early
        body += " "
    return prefix + quote + body + quote


@st.composite
def statement(draw: st.DrawFn) -> str:
    lit = string_literal()
    comment = draw(st.sampled_from(["", *(f"  {c}" for c in _COMMENTS)]))
    form = draw(st.integers(0, 7))
    if form == 0:
        return f"v = {draw(lit)}{comment}"
    if form == 1:  # implicit concatenation across lines, comments between the parts
        inner = draw(st.sampled_from(_COMMENTS))
        return f"v = (\n    {draw(lit)}  {inner}\n    {draw(lit)}\n){comment}"
    if form == 2:  # a backslash continuation
        return f"v = {draw(lit)} \\\n    + {draw(lit)}{comment}"
    if form == 3:  # a docstring
        return f"def g():\n    {draw(lit)}\n    return 1{comment}"
    if form == 4:
        return draw(st.sampled_from(_COMMENTS))
    if form == 5:  # non-ASCII code before the comment
        return f"é = ['€', {draw(lit)}]{comment}"
    if form == 6:  # keywords glued to a string: `if"x"` is a keyword then a plain string
        return f"v = 1 if{draw(lit)}else 2{comment}"
    return f"if x:{comment}\n    pass"


sources = st.builds(
    lambda parts, eol: eol.join(parts) + eol,
    st.lists(statement(), min_size=1, max_size=6),
    st.sampled_from(["\n", "\r\n"]),
)


@settings(max_examples=400, deadline=None)
@given(sources)
def test_the_scan_answers_what_tokenize_answers(text: str) -> None:
    expected = reference(text)
    assert python_comments(text) == expected  # finds out by parsing
    if not parses(text):
        return
    assert python_comments(text, parses=True) == expected
    scanned = _scan_comments(text)
    if not NEW_FSTRINGS:
        assert scanned == expected  # before 3.12 it never needs tokenize for valid code
    elif scanned is not None:
        assert scanned == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*_TEXT, "x = ", "(", ")", "\r", " f", "r"]), max_size=12))
def test_any_text_gets_tokenizes_answer(parts: list[str]) -> None:
    """Not only valid code: whatever the scan gives up on, tokenize answers."""
    text = "".join(parts)
    assert python_comments(text) == reference(text)


# -- the cases the scan leaves to tokenize, and the ones it must get right --------------------


def test_a_lone_carriage_return_goes_to_tokenize() -> None:
    # tokenize reads lines by `\n` (the parser by either) and, before 3.12, takes the rest of
    # a comment-only line as the comment: a scan cut at `\r` would say column 4
    text = "# x\r# noqa: E722\nv = 1\n"
    assert parses(text)
    assert _scan_comments(text) is None
    assert python_comments(text, parses=True) == reference(text)
    assert reference(text) == ({} if NEW_FSTRINGS else {1: 0})


def test_an_unterminated_string_goes_to_tokenize() -> None:
    text = "x = 'abc  # noqa: E1\n"
    assert _scan_comments(text) is None
    assert python_comments(text, parses=True) == reference(text)
    assert python_comments(text) == reference(text)


def test_text_that_does_not_tokenize_gives_none() -> None:
    text = "x = (\n    1  # noqa: E1\n"  # EOF in a multi-line statement
    assert reference(text) is None
    assert python_comments(text) is None


@pytest.mark.skipif(not NEW_FSTRINGS, reason="PEP 701 f-strings (Python 3.12+)")
@pytest.mark.parametrize(
    "text",
    [
        'x = f"{"a#" + y}"  # noqa: E1\n',  # the same quote nested: ends after the field
        'x = f"""{y  # noqa: E1\n}"""\n',  # a comment inside a field
        'x = f"{y:#x}"  # noqa: E1\n',  # a `#` in a format spec
        "x = f'{\"\\n\".join(y)}'  # noqa: E1\n",  # a backslash in a field
    ],
)
def test_fstrings_the_scan_cannot_vouch_for_go_to_tokenize(text: str) -> None:
    assert parses(text)
    assert _scan_comments(text) is None
    assert python_comments(text, parses=True) == reference(text)
    assert reference(text)  # tokenize does find the comment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # implicit concatenation: one string node in the tree, a comment between its parts
        ('x = ("a"  # noqa: E1\n     "b")\n', {1: 10}),
        # quoted directives are not comments
        ('"""\n# noqa: E722\n"""\nx = "# nosec"  # bastion: ignore[X]\n', {4: 15}),
        # columns count characters, not UTF-8 bytes
        ('s = "€𝄞"  # noqa: E1\n', {1: 10}),
        # a keyword glued to a string is no prefix: `if"{"` is a plain string, even on 3.12+
        ('v = 1 if"{"else 2  # noqa: E1\n', {1: 19}),
        ('v = 1 if"#"else 2\n', {}),
        # plain f-strings are answered by the scan on every version
        ("v = f\"{x!r:>{w}} {{#}} {d['k']}\"  # nosec\n", {1: 34}),
        # a string continued by a backslash, with CRLF line ends
        ("v = 'a\\\r\n# noqa: E1'  # nosec\r\n", {2: 13}),
    ],
)
def test_the_scan_answers_without_tokenize(text: str, expected: dict[int, int]) -> None:
    assert parses(text)
    assert reference(text) == expected
    assert _scan_comments(text) == expected


def test_suppressions_without_findings_or_directive_checks_change_nothing() -> None:
    """The engine skips the comment scan for a file with no findings when BAS002 is off (or
    there is no `bastion:`): what is reported must not change."""
    bare = "x = 1  # bastion: ignore\ny = 2  # noqa: E722\n"
    assert [f.rule for f in lint_source(bare, select=["ERR001"]).findings] == []
    assert [f.rule for f in lint_source(bare, select=["ERR001", "BAS002"]).findings] == ["BAS002"]
    code = "try:\n    f()\nexcept:  # noqa: E722\n    g()\n"
    result = lint_source(code, select=["ERR001"])
    assert result.findings == [] and [f.rule for f in result.suppressed] == ["ERR001"]
