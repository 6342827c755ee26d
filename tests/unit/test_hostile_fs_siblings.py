"""Siblings of the hostile-tree flaws of issue #14 part A, found elsewhere in the code: the same
reads, writes and git calls, each with its regression test."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.docs import write_rule_docs
from bastion.fixer import fix_paths
from bastion.gitdiff import ChangedLines
from bastion.safe_fs import UnsafeFileError, write_output
from bastion.safe_git import GitUnavailable, run_git

BARE = "try:\n    f()\nexcept:\n    g()\n"


def test_fix_honours_max_file_bytes(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text(BARE + "x = 1\n" * 100)
    run = fix_paths([tmp_path], Config(root=tmp_path, max_file_bytes=50))
    assert run.files == []
    assert any("big.py" in n and "over the 50-byte limit" in n for n in run.notices)


def test_fix_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "app.py").symlink_to("pipe")
    start = time.monotonic()
    run = fix_paths([tmp_path], Config(root=tmp_path))
    assert time.monotonic() - start < 5
    assert any("app.py" in n and "FIFO" in n for n in run.notices)


def test_rule_docs_are_never_written_through_a_link(tmp_path: Path) -> None:
    victim = tmp_path / "bashrc"
    victim.write_text("keep")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "ERR001.md").symlink_to(victim)
    with pytest.raises(UnsafeFileError):
        write_rule_docs(docs)
    assert victim.read_text() == "keep"


def test_an_output_folder_linked_out_of_the_working_folder_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    work = tmp_path / "work"
    work.mkdir()
    (work / "reports").symlink_to(outside)
    monkeypatch.chdir(work)
    with pytest.raises(UnsafeFileError, match="leading out"):
        write_output(Path("reports/out.sarif"), "{}")
    assert list(outside.iterdir()) == []
    write_output(Path("out.sarif"), "{}")
    assert (work / "out.sarif").read_text() == "{}"


def test_a_forged_finding_span_is_checked_without_walking_it() -> None:
    changes = ChangedLines(Path("/"), {"a.py": {5, 7}})
    start = time.monotonic()
    assert changes.touches("a.py", 1, 2**31 - 1)
    assert not changes.touches("a.py", 8, 2**31 - 1)
    assert time.monotonic() - start < 0.1


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_git_output_and_time_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "a.py").write_text("x = 1\n")
    subprocess.run(["git", "add", "a.py"], cwd=tmp_path, check=True)
    assert run_git(["ls-files", "-z"], tmp_path).text == "a.py\0"
    with pytest.raises(GitUnavailable, match="wrote more than"):
        run_git(["ls-files", "-z"], tmp_path, limit=2)
    # a git that hangs (a real process that sleeps: a tiny real git may finish before any
    # timeout is looked at, on a busy machine)
    slow = tmp_path / "slow-bin"
    slow.mkdir()
    (slow / "git").write_text("#!/bin/sh\nsleep 30\n")
    (slow / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{slow}{os.pathsep}{os.environ.get('PATH', '')}")
    started = time.monotonic()
    with pytest.raises(GitUnavailable, match="did not finish"):
        run_git(["ls-files", "-z"], tmp_path, timeout=0.5)
    assert time.monotonic() - started < 10
