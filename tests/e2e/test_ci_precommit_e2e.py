"""The real `pre-commit try-repo` against this repository, in a temporary git repository with
staged files: the `bastion` hook fails on a violation and passes once it is fixed.

pre-commit installs the hook's environment with pip from this repository (a clone of its HEAD,
plus uncommitted changes when run from a work tree), so this needs PyPI; it runs in CI
(`.ci/run`) and can be deselected locally with `-m "not e2e"`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}
BAD = "def run(job):\n    try:\n        job()\n    except:\n        job.failed = True\n"
GOOD = BAD.replace("except:", "except ValueError:")
SETUP = "from setuptools import setup\n\nsetup()\n"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("git") is None, reason="needs git"),
]


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    env.update(GIT_ENV)
    env["PRE_COMMIT_HOME"] = str(home / "pre-commit-cache")
    env["HOME"] = str(home)  # no user git config (e.g. signing) leaks in
    for cache in ("PIP_CACHE_DIR", "XDG_CACHE_HOME"):  # keep pip's download cache if set
        if cache in os.environ:
            env[cache] = os.environ[cache]
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))
    return env


def _git(cwd: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )


def _try_repo(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), "bastion", "--verbose"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def test_pre_commit_hook_fails_on_staged_violations_and_passes_once_fixed(
    tmp_path: Path,
) -> None:
    pytest.importorskip("pre_commit")
    if not (REPO / ".git").exists():
        pytest.skip("needs this repository's git metadata")
    env = _env(tmp_path)
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    # The selection keeps the test about the hook, not about which rules exist: ERR001 for the
    # Python file, BAS001 (every file kind) so that every staged kind reaches bastion.
    (project / "pyproject.toml").write_text(
        '[tool.bastion]\nselect = ["ERR001", "BAS001"]\n', encoding="utf-8"
    )
    (project / "app" / "jobs.py").write_text(BAD, encoding="utf-8")
    (project / "Dockerfile").write_text("FROM python:3.12-slim\nUSER app\n", encoding="utf-8")
    (project / "requirements.txt").write_text("fastapi==0.115.0\n", encoding="utf-8")
    (project / ".env").write_text("LOG_LEVEL=info\n", encoding="utf-8")
    (project / "app" / "settings.py").write_text("DEBUG = False\n", encoding="utf-8")
    (project / "README.md").write_text("# not checked\n", encoding="utf-8")
    # pre-commit appends staged names after the hook's entry: a file named like an option
    # must be checked as a file (it once made bastion write its report over setup.py)
    (project / "setup.py").write_text(SETUP, encoding="utf-8")
    (project / "--output=setup.py").write_text("x = 1\n", encoding="utf-8")
    _git(project, env, "init", "-q")
    _git(project, env, "add", "-A")

    started = time.monotonic()
    failing = _try_repo(project, env)
    first = time.monotonic() - started
    output = failing.stdout + failing.stderr
    assert failing.returncode == 1, output
    assert "app/jobs.py:4:5 ERR001" in output
    # the eight staged files bastion knows reached it; README.md did not
    assert "Found 1 finding (1 error) in 8 files." in output
    assert (project / "setup.py").read_text(encoding="utf-8") == SETUP

    (project / "app" / "jobs.py").write_text(GOOD, encoding="utf-8")
    _git(project, env, "add", "-A")
    started = time.monotonic()
    passing = _try_repo(project, env)
    second = time.monotonic() - started
    output = passing.stdout + passing.stderr
    assert passing.returncode == 0, output
    assert "No findings in 8 files." in output
    assert (project / "setup.py").read_text(encoding="utf-8") == SETUP
    print(f"pre-commit try-repo: {first:.1f} s (installs the hook), then {second:.1f} s")
