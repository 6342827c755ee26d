"""Reading the scanned tree (issue #14, part A.2 and A.3): FIFOs, devices, links out of the root,
catastrophic `.gitignore` patterns and absurdly deep trees return promptly, with a notice and
bounded memory. Real FIFOs, real links, the console script in a subprocess (a hang fails the
test through its timeout instead of blocking the suite)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bastion.safe_fs import UnsafeFileError, load_json, read_tree_file

BASTION = str(Path(sys.executable).with_name("bastion"))
# the child's peak RSS, measured by a fresh interpreter that only waits for it
_MEASURE = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "sys.stdout.write(f'{rss}\\n{p.returncode}\\n'); sys.stderr.write(p.stderr)\n"
)
RSS_LIMIT_KB = 400 * 1024


def bastion_check(root: Path, *args: str) -> tuple[int, str, int, float]:
    """(exit code, stderr, peak RSS in KiB, seconds) of `bastion check . args` in `root`."""
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-I", "-c", _MEASURE, BASTION, "check", ".", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    rss, code = done.stdout.split()
    return int(code), done.stderr, int(rss), time.monotonic() - start


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "app.py").write_text("import os\n")
    (root / "pyproject.toml").write_text('[project]\nname = "p"\ndependencies = ["pydantic>=2"]\n')
    return root


@pytest.mark.e2e
@pytest.mark.parametrize("cache", [[], ["--no-cache"]])
def test_a_fifo_named_requirements_txt_never_hangs(proj: Path, cache: list[str]) -> None:
    os.mkfifo(proj / "requirements.txt")
    code, stderr, rss, _ = bastion_check(proj, *cache)
    assert code in (0, 1) and "Traceback" not in stderr, stderr
    assert "requirements.txt: skipped: a FIFO, not a regular file" in stderr
    assert rss < RSS_LIMIT_KB


@pytest.mark.e2e
def test_a_link_to_dev_zero_is_never_read(proj: Path) -> None:
    # the reproducer: requirements-dev.txt -> /dev/zero, read by the cache and replay key code
    (proj / "requirements-dev.txt").symlink_to("/dev/zero")
    (proj / "requirements").mkdir()
    (proj / "requirements" / "base.txt").symlink_to("/dev/zero")
    for _ in range(2):  # cold, then warm (cache and replay keys)
        code, stderr, rss, seconds = bastion_check(proj)
        assert code in (0, 1) and "Traceback" not in stderr, stderr
        assert "requirements-dev.txt: skipped: symlink points outside the scanned root" in stderr
        assert rss < RSS_LIMIT_KB
        assert seconds < 30


@pytest.mark.e2e
def test_an_in_tree_link_to_a_fifo_never_hangs(proj: Path) -> None:
    os.mkfifo(proj / "pipe")
    (proj / "requirements.txt").symlink_to("pipe")
    (proj / "settings.py").symlink_to("pipe")
    code, stderr, _, _ = bastion_check(proj, "--no-cache")
    assert code in (0, 1) and "Traceback" not in stderr, stderr
    assert "settings.py: skipped: a FIFO, not a regular file" in stderr
    code, stderr, _, _ = bastion_check(proj)  # the cache key reads requirements*.txt too
    assert code in (0, 1) and "Traceback" not in stderr, stderr


@pytest.mark.e2e
def test_a_fifo_named_pyproject_toml_never_hangs(proj: Path) -> None:
    (proj / "pyproject.toml").unlink()
    os.mkfifo(proj / "pyproject.toml")
    code, stderr, _, _ = bastion_check(proj, "--no-cache")
    assert code in (0, 2), stderr  # settings it cannot read: a clear error or a notice
    assert "Traceback" not in stderr


@pytest.mark.e2e
def test_a_link_out_of_the_root_is_skipped_with_a_notice(proj: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text('API_KEY = "sk_live_0123456789abcdefghijklmn"\n')
    (proj / "leak.py").symlink_to(secret)
    (proj / "requirements.txt").symlink_to(secret)
    code, stderr, _, _ = bastion_check(proj, "--select", "ALL")
    assert "leak.py: skipped: symlink points outside the scanned root" in stderr
    assert "sk_l" not in stderr
    assert code in (0, 1)


def test_read_tree_file_refuses_special_files_and_links_out(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    os.mkfifo(root / "fifo")
    (root / "zero").symlink_to("/dev/zero")
    (root / "to_fifo").symlink_to("fifo")
    (tmp_path / "outside.txt").write_text("x")
    (root / "out").symlink_to(tmp_path / "outside.txt")
    (root / "big").write_bytes(b"x" * 101)
    (root / "ok").write_bytes(b"fine")
    (root / "inside").symlink_to("ok")
    start = time.monotonic()
    for name, reason in [
        ("fifo", "FIFO"),
        ("to_fifo", "FIFO"),
        ("zero", "outside the scanned root"),
        ("out", "outside the scanned root"),
        ("big", "over the 100-byte limit"),
    ]:
        with pytest.raises(UnsafeFileError, match=reason):
            read_tree_file(root / name, root, 100)
        with pytest.raises(UnsafeFileError):
            read_tree_file(root / name, root, 100, walked=True)
    assert time.monotonic() - start < 5
    assert read_tree_file(root / "ok", root, 100) == b"fine"
    assert read_tree_file(root / "inside", root, 100, walked=True) == b"fine"
    with pytest.raises(UnsafeFileError, match="device"):
        read_tree_file("/dev/zero", None, 100)


@pytest.mark.e2e
def test_a_catastrophic_gitignore_line_does_not_hang_discovery(proj: Path) -> None:
    (proj / ".gitignore").write_text("****************x\n*a*a*a*a*a*a*a*ax\n")
    (proj / ("a" * 200 + ".py")).write_text("import os\n")
    deep = proj.joinpath(*(["a" * 8] * 30))
    deep.mkdir(parents=True)
    (deep / ("a" * 120 + ".py")).write_text("import os\n")
    code, stderr, _, seconds = bastion_check(proj, "--no-cache")
    assert code in (0, 1) and "Traceback" not in stderr, stderr
    assert seconds < 30


@pytest.mark.e2e
def test_1500_nested_folders_give_a_notice_not_a_traceback(tmp_path: Path) -> None:
    root = tmp_path / "deep"
    root.mkdir()
    os.chdir(root)  # relative mkdirs: the absolute path would pass PATH_MAX
    try:
        for _ in range(1500):
            os.mkdir("d")
            os.chdir("d")
        Path("x.py").write_text("import os\n")
    finally:
        os.chdir(tmp_path)
    (root / "top.py").write_text("try:\n    f()\nexcept:\n    g()\n")
    try:
        code, stderr, _, _ = bastion_check(root, "--no-cache")
    finally:
        remove_deep(root)
    assert "Traceback" not in stderr
    assert "nested more than 200 levels deep" in stderr
    assert code == 1  # the rest of the tree is still checked


def remove_deep(top: Path) -> None:
    """Remove the chain of `d` folders under `top` without recursion (shutil.rmtree, and so
    pytest's clean-up of its tmp folders, would overflow the stack on it)."""
    here = os.getcwd()
    os.chdir(top)
    depth = 0
    while os.path.isdir("d"):
        os.chdir("d")
        depth += 1
    for name in os.listdir("."):
        os.unlink(name)
    for _ in range(depth):
        os.chdir("..")
        os.rmdir("d")
    os.chdir(here)


def test_load_json_refuses_depth_and_non_finite_numbers() -> None:
    with pytest.raises(ValueError, match="nested too deeply"):
        load_json("[" * 200_000 + "]" * 200_000)
    for constant in ("NaN", "Infinity", "-Infinity"):
        with pytest.raises(ValueError, match="not a JSON number"):
            load_json(f'{{"line": {constant}}}')
    assert load_json('{"a": [1, 2.5]}') == {"a": [1, 2.5]}
