"""The pre-commit hooks' file pattern matches exactly the files bastion checks, and project-level
rules never run when bastion is given a list of files (as pre-commit does)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bastion.discovery import _KIND_BY_NAME, file_kind
from bastion.engine import run
from bastion.registry import load_registry
from bastion.selection import load_config

REPO = Path(__file__).resolve().parent.parent.parent
HOOKS: list[dict[str, Any]] = yaml.safe_load(
    (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
)

NAMES = [
    "app/main.py",
    "settings.py",
    "config/settings/production.py",
    "Dockerfile",
    "docker/Dockerfile.prod",
    "api.dockerfile",
    "Containerfile",
    "requirements.txt",
    "requirements-dev.txt",
    "requirements/base.in",
    "requirements/base.cfg",
    "constraints.txt",
    ".env",
    ".env.production",
    "deploy/prod.env",
    "pyproject.toml",
    "config/settings.toml",
    "docker-compose.yml",
    "compose.override.yaml",
    ".pre-commit-config.yaml",
    ".github/workflows/ci.yml",
    "Procfile",
    ".gitignore",
    "setup.cfg",
    "tox.ini",
    "mypy.ini",
    ".coveragerc",
    "pyrightconfig.json",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "README.md",
    "package.json",
    "app/static/site.css",
    "module.pyc",
    "notes.txt",
    "environment",
    "Makefile",
    "setup.py.orig",
]


def test_the_hooks_are_declared() -> None:
    ids = {hook["id"]: hook for hook in HOOKS}
    assert set(ids) == {"bastion", "bastion-fix"}
    assert ids["bastion"]["entry"] == "bastion check --"
    assert ids["bastion-fix"]["entry"] == "bastion fix --fail-on never --quiet --"
    for hook in HOOKS:
        assert hook["language"] == "python"
        assert hook["require_serial"] is True
        assert hook["files"] == HOOKS[0]["files"]


FIX = "update `files:` in .pre-commit-hooks.yaml to match bastion's file kinds"


@pytest.mark.parametrize("name", NAMES)
def test_the_files_pattern_matches_what_bastion_checks(name: str) -> None:
    pattern = re.compile(HOOKS[0]["files"])
    assert bool(pattern.search(name)) == (file_kind(name) is not None), f"{name}: {FIX}"


@pytest.mark.parametrize("glob", [pattern for pattern, _ in _KIND_BY_NAME])
def test_every_file_kind_reaches_the_hook(glob: str) -> None:
    """One sample name per discovery pattern, so that a new file kind cannot be forgotten."""
    pattern = re.compile(HOOKS[0]["files"])
    for name in (glob.replace("*", "x"), glob.replace("*", ""), glob.upper().replace("*", "x")):
        if file_kind(name) is not None:
            assert pattern.search(f"some/dir/{name}"), f"{name}: {FIX}"


_PART = st.sampled_from(
    [
        "",
        ".",
        "/",
        "-",
        "_",
        "a",
        "py",
        "env",
        "toml",
        "yml",
        "yaml",
        "txt",
        "in",
        "lock",
        "cfg",
        "ini",
        "json",
        "Dockerfile",
        "dockerfile",
        "requirements",
        "constraints",
        "compose",
        "Procfile",
        "gitignore",
        "setup",
        "tox",
        "pyrightconfig",
        "coveragerc",
    ]
)


@given(st.lists(_PART, min_size=1, max_size=6).map("".join))
def test_the_files_pattern_agrees_with_file_kind_on_generated_names(name: str) -> None:
    if not name or name.endswith("/") or "//" in name or name.startswith("/"):
        return
    pattern = re.compile(HOOKS[0]["files"])
    assert bool(pattern.search(name)) == (file_kind(name) is not None), f"{name}: {FIX}"


def test_project_rules_never_run_on_a_list_of_files(tmp_path: Path) -> None:
    """A project with no tests, no health route, no pre-commit config...: project rules may
    report it when the folder is checked, never when only its files are."""
    (tmp_path / "pyproject.toml").write_text("[tool.bastion]\n", encoding="utf-8")
    app = tmp_path / "main.py"
    app.write_text(
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
        "@app.get('/items')\ndef items():\n    return []\n",
        encoding="utf-8",
    )
    config = load_config([app])
    project_ids = {rule.id for rule in load_registry().project_rules}
    on_files = run([app, tmp_path / "pyproject.toml"], config)
    assert not [f for f in on_files.findings if f.rule in project_ids]
    assert not on_files.internal_errors
