"""Rules that read beyond their file declare it (`Rule.reads`), and the caches honour it: SEC016
asks git whether a `.env` is tracked, so `git add .env` alone - the file's bytes and stat
unchanged - must change the next run's answer, through the per-file cache and the replay."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli
from bastion.registry import load_registry
from bastion.rule import OUTSIDE_THE_TREE, READS

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="needs git")


def git(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run([GIT or "git", *args], cwd=root, env=env, check=True, capture_output=True)


def sec016_messages(root: Path, *extra: str) -> list[str]:
    result = CliRunner().invoke(
        cli, ["check", ".", "--select", "SEC016", "--format", "json", *extra]
    )
    assert result.exit_code in (0, 1), result.output
    return [f["message"] for f in json.loads(result.stdout)["findings"]]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / ".env").write_text("DATABASE_URL=postgres://app:pw@db/app\n")
    (root / "app.py").write_text("x = 1\n")
    git(root, "init", "-q")
    monkeypatch.chdir(root)
    monkeypatch.setattr("bastion.cache._RACY_NS", 0)  # trust stats of files written just now
    return root


@pytest.mark.parametrize("replay", [True, False], ids=["replayed", "per-file-cache"])
def test_git_add_changes_the_warm_answer(repo: Path, replay: bool) -> None:
    first = sec016_messages(repo)
    assert first == ["`.env` is not ignored by `.gitignore`: `git add .` commits it"]
    assert sec016_messages(repo) == first  # warm, nothing changed
    if not replay:
        for record in (repo / ".bastion_cache").rglob("replay"):
            shutil.rmtree(record)
    git(repo, "add", ".env")
    os.utime(repo / ".git" / "index", (1, 1))  # an old stat: trusted, not racy
    assert sec016_messages(repo) == ["`.env` is tracked by git: its values are in the repository"]
    assert sec016_messages(repo, "--no-cache") == [
        "`.env` is tracked by git: its values are in the repository"
    ]


def test_every_declared_input_is_known() -> None:
    for rule in load_registry().rules:
        assert rule.reads <= READS, rule.id
    by_id = {r.id: r for r in load_registry().rules}
    assert by_id["SEC016"].reads == {"git"}
    assert by_id["DEP001"].reads & OUTSIDE_THE_TREE
