"""Whatever a config file contains, the parsers either read it or raise `DocumentError`, and
the rules never crash on what they read."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.parsers import PARSERS, DocumentError
from bastion.testing import lint_source

_PATHS = {
    "dockerfile": "Dockerfile",
    "compose": "docker-compose.yml",
    "procfile": "Procfile",
    "requirements": "requirements.txt",
    "pyproject": "pyproject.toml",
    "lockfile": "uv.lock",
    "precommit": ".pre-commit-config.yaml",
    "ini": "setup.cfg",
    "gitignore": ".gitignore",
    "dotenv": ".env",
}

# fragments of each format, shuffled together, reach deeper than random characters
_FRAGMENTS = [
    "FROM python:3.12\n",
    "FROM build AS x\n",
    "USER root\n",
    "RUN pip install -r r.txt \\\n",
    'CMD ["flask", "run"]\n',
    "COPY . .\n",
    "ENV A=1 B\n",
    "ARG X\n",
    "services:\n",
    "  api:\n",
    "    command: [1, {a: b}]\n",
    "    environment:\n",
    "      - A\n",
    "      B: null\n",
    "repos:\n",
    "- repo: local\n",
    "  hooks: x\n",
    "[project]\n",
    'dependencies = [1, "x>="]\n',
    "[tool.poetry.group]\n",
    "dev = 3\n",
    "[tool.pytest]\n",
    "ini_options = 1\n",
    "[[package]]\n",
    'name = "a"\n',
    "-r\n",
    "-e\n",
    "--hash\n",
    "pkg @ \n",
    "web: \n",
    ":\n",
    "[section\n",
    "a = b\n",
    "\x00",
    "\ufeff",
    "'",
    '"',
    "\\",
    "${X}",
    "*",
    "!",
    "#",
]


@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=12), st.sampled_from(sorted(_PATHS)))
def test_parsers_raise_only_document_errors(parts: list[str], kind: str) -> None:
    text = "".join(parts)
    with contextlib.suppress(DocumentError):
        PARSERS[kind](text)


@pytest.mark.parametrize("kind", sorted(_PATHS))
@given(parts=st.lists(st.sampled_from(_FRAGMENTS), max_size=12))
def test_rules_never_crash(kind: str, parts: list[str]) -> None:
    result = lint_source("".join(parts), _PATHS[kind])
    assert not result.internal_errors, result.internal_errors
