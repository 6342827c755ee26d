"""`.gitignore` files, read with git's own semantics (pathspec); discovery reads them too."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import pathspec

from bastion.linear_glob import linear_spec


@dataclass
class GitignoreDocument:
    spec: Any  # pathspec.GitIgnoreSpec
    lines: list[str]


def parse_gitignore(text: str) -> GitignoreDocument:
    lines = text.splitlines()
    return GitignoreDocument(gitignore_spec(lines), lines)


def gitignore_spec(lines: list[str]) -> pathspec.GitIgnoreSpec:
    """A `.gitignore` as pathspec reads it; a line pathspec rejects (`foo\\` with a dangling
    escape) is dropped, as git itself discards invalid patterns, instead of failing the run.
    The regex module's FutureWarnings about odd patterns are the repository's business, not
    lines on bastion's stderr."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _gitignore_spec(lines)


def _gitignore_spec(lines: list[str]) -> pathspec.GitIgnoreSpec:
    try:
        spec = pathspec.GitIgnoreSpec.from_lines(lines)
    except ValueError:
        valid = []
        for line in lines:
            try:
                pathspec.GitIgnoreSpec.from_lines([line])
            except ValueError:
                continue
            valid.append(line)
        spec = pathspec.GitIgnoreSpec.from_lines(valid)
    # matched without backtracking: a `****x` line must not hang discovery (bastion.linear_glob)
    return linear_spec(spec)


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_gitignore
DOCUMENT = GitignoreDocument
