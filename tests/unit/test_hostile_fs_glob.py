"""Gitignore-style patterns match in linear time and give pathspec's answers (issue #14, A.3):
`bastion.linear_glob` rewrites pathspec's regexes; these tests compare the two on generated
patterns and paths, and time the patterns that used to hang discovery."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pathspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion.config import Config
from bastion.discovery import discover, gitignore_spec
from bastion.linear_glob import _NEGATED

TOKENS = ["a", "b", "*", "?", "/", "**/", "/**", "[ab]", "[!a]", "**", "\\*", "!", "[!/]", "."]


def reference(pattern: str) -> pathspec.GitIgnoreSpec:
    """pathspec's own regexes, with only the negated-class change (git's classes never match
    "/"): what the linear rewrite must agree with."""
    spec = pathspec.GitIgnoreSpec.from_lines([pattern])
    for p in spec.patterns:
        if p.regex is not None:
            text = _NEGATED.sub(lambda m: m.group(0)[:-1] + "/]", p.regex.pattern)
            p.regex = re.compile(text, p.regex.flags)
    return pathspec.GitIgnoreSpec(spec.patterns, backend="simple")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map("".join),
    st.lists(st.text("ab/.", min_size=1, max_size=10), min_size=1, max_size=8),
)
def test_the_linear_rewrite_gives_pathspecs_answers(pattern: str, paths: list[str]) -> None:
    try:
        expected = reference(pattern)
    except ValueError:
        return  # a pattern pathspec rejects (gitignore_spec drops it)
    actual = gitignore_spec([pattern])
    for raw in paths:
        path = raw.strip("/") or "a"
        for candidate in (path, path + "/"):
            assert actual.check_file(candidate).include == expected.check_file(candidate).include


def test_negated_classes_never_match_a_slash_as_in_git() -> None:
    spec = gitignore_spec(["a[!b]c"])
    assert spec.match_file("axc")
    assert not spec.match_file("a/c")


@pytest.mark.parametrize(
    "pattern",
    [
        "****************x",
        "*a*a*a*a*a*a*a*a*ax",
        "*[!a]*[!a]*[!a]*[!a]*[!a]*x",
        "**/a/**/a/**/a/**/a/**/x",
        "**/*a*a*a*/**/*a*a*a*/**/x",
    ],
)
def test_catastrophic_patterns_match_in_linear_time(pattern: str) -> None:
    spec = gitignore_spec([pattern])
    paths = ["a" * 250, "/".join(["a"] * 200), "/".join(["a" * 30] * 20) + "/" + "a" * 200]
    start = time.monotonic()
    for path in paths:
        spec.check_file(path)
        spec.check_file(path + "/")
    assert time.monotonic() - start < 1.0


def test_project_patterns_from_pyproject_are_linear_too(tmp_path: Path) -> None:
    # extend-exclude, test-paths and per-file-ignores come from the scanned pyproject.toml
    (tmp_path / ("a" * 200 + ".py")).write_text("x = 1\n")
    config = Config(
        root=tmp_path,
        extend_exclude=("*a*a*a*a*a*a*a*ax",),
        test_paths=("*a*a*a*a*a*a*a*ax",),
        per_file_ignores={"*a*a*a*a*a*a*a*ax": ("ERR",)},
    )
    start = time.monotonic()
    files = discover([tmp_path], config).files
    assert len(files) == 1
    assert not config.is_test_path(files[0].path)
    assert config.ignored_for_path(files[0].path) == set()
    assert time.monotonic() - start < 2.0
