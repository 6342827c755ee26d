"""git is run with the repository's programs neutralised (issue #14, part A.4), and files git
tracks are checked whatever `.gitignore` says (part A.5). Real git repositories in tmp folders,
the console script; each vector is first shown to fire with plain git, so the tests can fail."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.discovery import discover
from bastion.safe_git import run_git

BASTION = str(Path(sys.executable).with_name("bastion"))
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
]


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    (root / "app.py").write_text("import os\n")
    (root / ".env").write_text("SECRET_KEY=abc123\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "one")
    return root


# (how the repository is made hostile, the marker its program writes)
VECTORS = {
    "fsmonitor": [("config", "core.fsmonitor", "touch {m}; false")],
    "filter": [
        ("attributes", "*.py filter=x"),
        ("config", "filter.x.clean", "touch {m}; cat"),
        ("config", "filter.x.process", "touch {m}"),
    ],
    "textconv": [("attributes", "*.py diff=x"), ("config", "diff.x.textconv", "touch {m}; cat")],
    "diff-command": [("attributes", "*.py diff=x"), ("config", "diff.x.command", "touch {m}")],
    "diff-external": [("config", "diff.external", "touch {m}")],
    "pager": [("config", "core.pager", "touch {m}; cat")],
}


def make_hostile(repo: Path, vector: str, marker: Path) -> None:
    attributes = []
    for kind, *rest in VECTORS[vector]:
        if kind == "config":
            key, value = rest
            git(repo, "config", key, value.format(m=marker))
        else:
            attributes.append(rest[0])
    if attributes:
        (repo / ".gitattributes").write_text("\n".join(attributes) + "\n")
    (repo / "app.py").write_text("import os\nimport sys\n")  # a changed work-tree file
    # an ignored file bastion would check: discovery asks git which files are tracked
    (repo / ".gitignore").write_text("local.env\n")
    (repo / "local.env").write_text("A=1\n")


def plain_git_fires(repo: Path, marker: Path) -> bool:
    """Whether the vector runs its program with git as bastion used to call it."""
    for args in (
        ["diff", "-U0", "HEAD", "--"],
        ["-c", "core.pager=less", "-p", "diff", "HEAD"],
        ["ls-files", "--error-unmatch", "--", ".env"],
    ):
        subprocess.run(["git", *args], cwd=repo, capture_output=True, check=False)
    fired = marker.exists()
    marker.unlink(missing_ok=True)
    return fired


@pytest.mark.parametrize("vector", sorted(VECTORS))
def test_the_repository_config_runs_no_program(repo: Path, vector: str) -> None:
    marker = repo.parent / "PWNED"
    make_hostile(repo, vector, marker)
    if vector != "pager":  # git never pages into a pipe: the override is belt and braces
        assert plain_git_fires(repo, marker), "the vector must fire without the neutralisation"
    for args in (
        ["--diff-base", "HEAD"],
        ["--select", "SEC016", "--no-cache"],
        ["--select", "SEC016", "--diff-base", "HEAD", "--format", "json"],
    ):
        done = subprocess.run(
            [BASTION, "check", ".", *args], cwd=repo, capture_output=True, text=True, timeout=120
        )
        assert done.returncode in (0, 1), done.stderr
        assert not marker.exists(), f"{vector} ran a program through {args}"


def test_the_helper_still_answers(repo: Path) -> None:
    make_hostile(repo, "filter", repo.parent / "PWNED")
    done = run_git(["diff", "-U0", "--no-ext-diff", "--no-textconv", "HEAD", "--"], repo)
    assert done.returncode == 0
    assert "+import sys" in done.text
    assert not (repo.parent / "PWNED").exists()


def test_a_tracked_env_listed_in_gitignore_is_still_checked(repo: Path) -> None:
    # committed, then ignored: the classic leak - git still has every value
    (repo / ".gitignore").write_text(".env\nsecrets/\n")
    (repo / "secrets").mkdir()
    (repo / "secrets" / ".env").write_text("TOKEN=abc\n")
    git(repo, "add", "-f", "secrets/.env")
    git(repo, "add", ".gitignore")
    git(repo, "commit", "-qm", "ignore")
    (repo / "local.env").write_text("X=1\n")
    (repo / ".gitignore").write_text(".env\nsecrets/\nlocal.env\n")
    paths = [f.path for f in discover([repo], Config(root=repo)).files]
    assert ".env" in paths and "secrets/.env" in paths
    assert "local.env" not in paths  # ignored and not tracked: still skipped
    done = subprocess.run(
        [BASTION, "check", ".", "--select", "SEC016", "--format", "json", "--no-cache"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    flagged = {f["path"] for f in json.loads(done.stdout)["findings"]}
    assert {".env", "secrets/.env"} <= flagged


def test_outside_a_git_work_tree_gitignore_applies_silently(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(".env\n")
    (tmp_path / ".env").write_text("A=1\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    result = discover([tmp_path], Config(root=tmp_path))
    assert [f.path for f in result.files] == [".gitignore", "a.py"]
    assert result.notices == []


def test_a_diff_base_that_looks_like_an_option_is_refused(repo: Path) -> None:
    done = subprocess.run(
        [BASTION, "check", ".", "--diff-base=--output=/tmp/x"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "is not a revision" in done.stderr
