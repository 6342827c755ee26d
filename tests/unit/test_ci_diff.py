"""Changed-lines mode: `bastion check --diff-base REV` against real git repositories."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bastion.cli import cli
from bastion.gitdiff import parse_diff, unquote_path

OLD = "def old(job):\n    try:\n        job()\n    except:\n        job.failed = True\n"
NEW = "\n\ndef new(job):\n    try:\n        job()\n    except:\n        job.failed = True\n"
CONFIG = '[tool.bastion]\nselect = ["ERR001"]\n'  # exact expectations as rules are added
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **GIT_ENV, "HOME": str(cwd)}
    done = subprocess.run(
        ["git", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    (root / "app" / "jobs.py").write_text(OLD, encoding="utf-8")
    (root / "app" / "other.py").write_text(OLD, encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "branch", "base")
    return root


def check(root: Path, *args: str) -> Result:
    runner = CliRunner()
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return runner.invoke(cli, ["check", *args, "--format", "json"], catch_exceptions=False)
    finally:
        os.chdir(cwd)


def places(result: Result) -> list[tuple[str, str, int]]:
    return [(f["rule"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]]


def test_only_findings_on_changed_lines_are_reported(repo: Path) -> None:
    jobs = repo / "app" / "jobs.py"
    jobs.write_text(OLD + NEW, encoding="utf-8")  # uncommitted change
    result = check(repo, "--diff-base", "base")
    assert result.exit_code == 1, result.output
    assert places(result) == [("ERR001", "app/jobs.py", 11)]
    assert "1 findings on changed lines, 2 elsewhere not reported" in result.stderr

    git(repo, "commit", "-qam", "new job")  # committed on the branch: same answer
    assert places(check(repo, "--diff-base", "base")) == [("ERR001", "app/jobs.py", 11)]
    clean = check(repo, "--diff-base", "HEAD")
    assert clean.exit_code == 0 and places(clean) == []


def test_a_changed_line_inside_a_finding_counts(repo: Path) -> None:
    jobs = repo / "app" / "jobs.py"
    jobs.write_text(OLD.replace("except:", "except:  # TODO narrow"), encoding="utf-8")
    assert places(check(repo, "--diff-base", "base")) == [("ERR001", "app/jobs.py", 4)]


def test_compares_with_the_merge_base_not_the_moving_base_branch(repo: Path) -> None:
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "app" / "jobs.py").write_text(OLD + NEW, encoding="utf-8")
    git(repo, "commit", "-qam", "feature work")
    git(repo, "checkout", "-q", "base")
    (repo / "app" / "other.py").write_text(OLD + NEW, encoding="utf-8")
    git(repo, "commit", "-qam", "base moved on")
    git(repo, "checkout", "-q", "feature")
    assert places(check(repo, "--diff-base", "base")) == [("ERR001", "app/jobs.py", 11)]


def test_untracked_files_are_new_in_full_and_renames_are_not(repo: Path) -> None:
    (repo / "app" / "fresh.py").write_text(OLD, encoding="utf-8")
    git(repo, "mv", "app/other.py", "app/renamed.py")
    assert places(check(repo, "--diff-base", "base")) == [("ERR001", "app/fresh.py", 4)]


def test_checking_a_subfolder_maps_paths_to_the_repository(repo: Path) -> None:
    (repo / "app" / "jobs.py").write_text(OLD + NEW, encoding="utf-8")
    (repo / "app" / "pyproject.toml").write_text(CONFIG, encoding="utf-8")
    result = check(repo / "app", "--diff-base", "base")
    assert places(result) == [("ERR001", "jobs.py", 11)]


def test_outside_a_git_repository_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(OLD, encoding="utf-8")
    result = check(tmp_path, "--diff-base", "main")
    assert result.exit_code == 2
    assert "--diff-base needs a git repository" in result.stderr
    assert result.stdout == ""


def test_unknown_revision_is_a_clear_error(repo: Path) -> None:
    result = check(repo, "--diff-base", "no-such-branch")
    assert result.exit_code == 2
    assert "unknown revision 'no-such-branch'" in result.stderr and "fetch" in result.stderr


def test_parse_diff_reads_hunks_deletions_and_quoted_paths() -> None:
    diff = (
        "diff --git a/a.py b/a.py\n"
        "--- a/a.py\n+++ b/a.py\n"
        "@@ -3 +3 @@\n-x\n+y\n"
        "@@ -10,0 +11,2 @@\n+p\n+q\n"
        "@@ -20,3 +22,0 @@\n-gone\n-gone\n-gone\n"
        "diff --git a/gone.py b/gone.py\n--- a/gone.py\n+++ /dev/null\n@@ -1 +0,0 @@\n-z\n"
        'diff --git "a/sp ace\\tx\\303\\251.py" "b/sp ace\\tx\\303\\251.py"\n'
        '--- "a/sp ace\\tx\\303\\251.py"\n+++ "b/sp ace\\tx\\303\\251.py"\n@@ -0,0 +1 @@\n+n\n'
    )
    assert parse_diff(diff) == {"a.py": {3, 11, 12}, "sp ace\txé.py": {1}}
    assert unquote_path('"a\\"b\\\\c"') == 'a"b\\c'
    assert unquote_path("plain.py") == "plain.py"


def test_project_level_findings_are_kept_when_their_file_changed(repo: Path) -> None:
    from bastion.engine import RunResult
    from bastion.findings import Finding, Severity
    from bastion.gitdiff import changed_lines, filter_changed
    from bastion.rule import ProjectRule

    class NoHealthRoute(ProjectRule):  # stands for any project rule; never registered
        id = "PROD999"
        name = "test-no-health-route"

        def check_project(self) -> None:  # pragma: no cover - not run
            pass

    def finding(rule: str, path: str, line: int) -> Finding:
        return Finding(rule, "n", Severity.INFO, "c", path, line, 1, line, 2, "m", "h")

    (repo / "app" / "jobs.py").write_text(OLD + "\n# touched\n", encoding="utf-8")
    findings = [
        finding("PROD999", "app/jobs.py", 1),  # project finding on a changed file, line as-is
        finding("PROD999", "app/other.py", 1),  # project finding on an unchanged file
        finding("ERR001", "app/jobs.py", 4),  # file finding on an unchanged line
    ]
    result = RunResult(findings, [], [], [], [], [NoHealthRoute])
    kept, dropped = filter_changed(result, changed_lines("base", repo), repo)
    assert [(f.rule, f.path) for f in kept.findings] == [("PROD999", "app/jobs.py")]
    assert dropped == 2
