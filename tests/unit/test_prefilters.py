"""Pre-filters (`Rule.requires`) and call filters (`Rule.call_names`) are an optimisation only:
with and without them, every rule gives the same findings - on every rule's own examples, on
the fixture projects, and on generated programs."""

from __future__ import annotations

from pathlib import Path

import hypothesmith
from hypothesis import given
from hypothesis import strategies as st

from bastion.config import Config
from bastion.discovery import SourceFile, discover, file_kind
from bastion.engine import FileAnalyzer, FileResult, _TokenSearch
from bastion.registry import load_registry

CONFIG = Config(root=Path("."), select=("ALL",))
WITH = FileAnalyzer(CONFIG)
WITHOUT = FileAnalyzer(CONFIG, prefilter=False)
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def both(path: str, data: bytes) -> tuple[list[object], list[object]]:
    kind = file_kind(path) or "python"
    source = SourceFile(path, Path(path), kind)
    a, b = FileResult(), FileResult()
    WITH.analyze_bytes(source, data, a)
    WITHOUT.analyze_bytes(source, data, b)
    return [f.to_json() for f in a.findings], [f.to_json() for f in b.findings]


def test_rule_examples_agree() -> None:
    for rule in load_registry().file_rules:
        for example in (*rule.bad_examples(), *rule.good_examples()):
            with_filter, without_filter = both(example.path, example.code.encode())
            assert with_filter == without_filter, (rule.id, example.code)


def test_fixture_and_example_projects_agree() -> None:
    checked = 0
    for root in (FIXTURES, EXAMPLES):
        for source in discover([root], Config(root=root, respect_gitignore=False)).files:
            with_filter, without_filter = both(source.path, source.abspath.read_bytes())
            assert with_filter == without_filter, source.path
            checked += 1
    assert checked > 10


@given(hypothesmith.from_grammar())
def test_generated_programs_agree(code: str) -> None:
    with_filter, without_filter = both("generated.py", code.encode())
    assert with_filter == without_filter


CALL_SHAPES = {
    # an aliased import: the call's name is not the function's
    "from subprocess import run as sh\n\nsh(cmd, shell=True)\n": "SEC017",
    # imported inside the function, after other calls of the same name were seen
    "def f(cmd):\n    run(cmd)\n    from subprocess import run\n    run(cmd, shell=True)\n": (
        "SEC017"
    ),
    # a module alias and an attribute call
    "import pickle as p\n\ndef load(blob):\n    return p.loads(blob)\n": "SEC013",
    # a call of a call's result: no name to filter on
    "import yaml\n\ndef load(s):\n    return getattr(yaml, 'load')(s)\n": None,
}


def test_call_filters_see_aliases_and_late_imports() -> None:
    for code, rule in CALL_SHAPES.items():
        with_filter, without_filter = both("app/module.py", code.encode())
        assert with_filter == without_filter, code
        if rule is not None:
            assert rule in {f["rule"] for f in with_filter}, code  # type: ignore[index]


# -- the token search behind `requires` ----------------------------------------------------------

_TOKENS = sorted({t for r in load_registry().rules for t in getattr(r, "requires", ())})
_PIECES = [*_TOKENS, " ", "\n", ".", "(", "_", "é", "\u017f", "\u00a0", "\t", "#", "x", "9", "-"]


@given(
    st.lists(st.sampled_from(_PIECES), max_size=30).map("".join),
    st.one_of(st.sampled_from(_TOKENS), st.text(min_size=1, max_size=6)),
)
def test_the_token_search_answers_as_a_substring_search(text: str, token: str) -> None:
    """Word tokens are looked up among the text's distinct words (ASCII text only): the answer
    must be `token in text` every time, for pre-filter tokens and arbitrary strings alike."""
    search = _TokenSearch(text)
    assert search.contains(token) == (token in text)
    assert search.contains(token) == (token in text)  # the second ask reuses the words


def test_the_token_search_on_the_example_projects() -> None:
    for path in sorted(EXAMPLES.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        search = _TokenSearch(text)
        assert [search.contains(t) for t in _TOKENS] == [t in text for t in _TOKENS]
