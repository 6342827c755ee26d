"""The cache and the process pool change speed, never results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bastion import engine
from bastion.config import Config
from bastion.engine import run

BARE = "try:\n    f()\nexcept:\n    g()\n"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    for i in range(40):
        package = root / f"pkg{i % 4}"
        package.mkdir(parents=True, exist_ok=True)
        # ERR005 on the others (ERR003, which flagged `x = 1` here, is off by default)
        body = BARE if i % 3 == 0 else "try:\n    f()\nexcept Exception:\n    log.error('x')\n"
        (package / f"m{i}.py").write_text(f"# module {i}\n" + body)
    (root / "broken.py").write_text("def f(:\n")
    return root


def as_json(result: engine.RunResult) -> list[dict[str, object]]:
    return [f.to_json() for f in result.findings]


def test_same_findings_whatever_the_number_of_processes(tree: Path) -> None:
    config = Config(root=tree)
    serial = run([tree], config, jobs=1)
    parallel = run([tree], config, jobs=2)
    assert len(serial.findings) > 20
    assert as_json(serial) == as_json(parallel)


def test_cold_and_warm_cache_give_identical_results(tree: Path, tmp_path: Path) -> None:
    config = Config(root=tree)
    cache = tmp_path / "cache"
    cold = run([tree], config, cache_dir=cache)
    warm = run([tree], config, cache_dir=cache)
    assert cold.analyzed == 41 and warm.analyzed == 0
    assert as_json(cold) == as_json(warm)
    assert (cache / ".gitignore").read_text().strip().endswith("*")
    # touching one file re-analyses that file only
    (tree / "pkg1" / "m1.py").write_text(BARE)
    touched = run([tree], config, cache_dir=cache)
    assert touched.analyzed == 1
    assert ("pkg1/m1.py", "ERR001") in {(f.path, f.rule) for f in touched.findings}


def _pack(cache: Path) -> Path:
    (pack,) = cache.rglob("pack.json")
    return pack


def test_a_corrupted_pack_is_ignored_and_rewritten(tree: Path, tmp_path: Path) -> None:
    config = Config(root=tree)
    cache = tmp_path / "cache"
    expected = as_json(run([tree], config, cache_dir=cache))
    for garbage in (b"{not json", b"\x80\x04\x95 pickle-looking bytes", b"[]", b'{"format": 2}'):
        _pack(cache).write_bytes(garbage)
        again = run([tree], config, cache_dir=cache)
        assert again.analyzed == 41
        assert as_json(again) == expected
        assert run([tree], config, cache_dir=cache).analyzed == 0


def test_forged_entries_are_ignored_and_rewritten(tree: Path, tmp_path: Path) -> None:
    config = Config(root=tree)
    cache = tmp_path / "cache"
    expected = as_json(run([tree], config, cache_dir=cache))
    pack = json.loads(_pack(cache).read_text())
    paths = sorted(pack["entries"])
    pack["entries"][paths[0]]["findings"] = [{"rule": "X"}]
    pack["entries"][paths[1]]["notices"] = None
    pack["entries"][paths[2]] = "not an entry"
    _pack(cache).write_text(json.dumps(pack))
    again = run([tree], config, cache_dir=cache)
    assert again.analyzed == 3
    assert as_json(again) == expected
    assert run([tree], config, cache_dir=cache).analyzed == 0


def test_unchanged_files_are_not_read_and_changed_ones_are(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file whose stat signature is unchanged is trusted without reading it; a file with the
    same size and mtime but other bytes is still re-analysed (its ctime moved)."""
    config = Config(root=tree)
    cache = tmp_path / "cache"
    # the files were written a moment ago: trust their stat now instead of in two seconds
    monkeypatch.setattr("bastion.cache._RACY_NS", 0)
    cold = run([tree], config, cache_dir=cache)
    pack = json.loads(_pack(cache).read_text())
    assert all(entry["stat"] for entry in pack["entries"].values())
    # nothing is read on a warm run (a spy on the engine's one reading function)
    read: list[str] = []
    real_read = engine._read

    def spying_read(source: Any, result: Any, limit: int) -> bytes | None:
        read.append(source.path)
        return real_read(source, result, limit)

    monkeypatch.setattr(engine, "_read", spying_read)
    warm = run([tree], config, cache_dir=cache)
    assert warm.analyzed == 0 and read == []
    assert as_json(warm) == as_json(cold)
    # same size and same mtime, other content: a signature of (size, mtime) alone would miss it
    other = tree / "pkg1" / "m1.py"
    before = other.stat()
    text = other.read_text()
    other.write_text(text.replace("'x'", "'y'"))
    os.utime(other, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert other.stat().st_size == before.st_size
    assert run([tree], config, cache_dir=cache).analyzed == 1
    assert read == ["pkg1/m1.py"]


def test_config_change_invalidates_the_cache(tree: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run([tree], Config(root=tree), cache_dir=cache)
    other = run([tree], Config(root=tree, select=("ERR001",)), cache_dir=cache)
    assert other.analyzed == 41
    assert {f.rule for f in other.findings} == {"ERR001"}
    # entries of the old configuration were pruned
    assert len(list((cache / "v2").iterdir())) == 1


def test_deleted_files_are_pruned_from_the_cache(tree: Path, tmp_path: Path) -> None:
    config = Config(root=tree)
    cache = tmp_path / "cache"
    run([tree], config, cache_dir=cache)
    assert "pkg2/m2.py" in json.loads(_pack(cache).read_text())["entries"]
    (tree / "pkg2" / "m2.py").unlink()
    run([tree], config, cache_dir=cache)
    assert "pkg2/m2.py" not in json.loads(_pack(cache).read_text())["entries"]


def test_unwritable_cache_is_a_notice_not_a_failure(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("")
    result = run([tree], Config(root=tree), cache_dir=blocker / "cache")
    assert any("cache disabled" in n for n in result.notices)
    assert len(result.findings) > 20


def test_findings_with_secrets_are_never_cached(tmp_path: Path) -> None:
    from bastion.cache import Cache
    from bastion.findings import Finding, Severity

    cache = Cache(tmp_path / "c", "salt")
    cache.prepare()
    secret = Finding(
        "SEC001",
        "hardcoded-secret",
        Severity.ERROR,
        "security",
        "a.py",
        1,
        1,
        1,
        9,
        "secret assigned to `KEY`",
        "read it from the environment",
        redact=("hunter2hunter2",),
        source_line='KEY = "hunter2hunter2"',
    )
    data = b'KEY = "hunter2hunter2"\n'
    assert cache.by_content("a.py", "python", data, None) is None
    cache.store("a.py", [secret], [], None, [])
    cache.save()
    assert cache.by_content("a.py", "python", data, None) is None
    assert not any("hunter2" in p.read_text() for p in (tmp_path / "c").rglob("*") if p.is_file())


def test_project_files_that_rules_read_are_part_of_the_key(tmp_path: Path) -> None:
    """ORG004 reads the declared Pydantic version from pyproject.toml: changing it must not
    serve results computed under the old declaration."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "models.py").write_text(
        "from pydantic import BaseModel\n\nclass User(BaseModel):\n    name: str\n\n"
        "    class Config:\n        orm_mode = True\n"
    )
    (root / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["pydantic>=2"]\n')
    config = Config(root=root, select=("ORG004",))
    cache = tmp_path / "cache"
    assert [f.rule for f in run([root], config, cache_dir=cache).findings] == ["ORG004"]
    (root / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["pydantic<2"]\n')
    from bastion.analysis import pydantic

    pydantic._declared_major.cache_clear()  # one process serves one project in real runs
    again = run([root], config, cache_dir=cache)
    assert again.analyzed == 1
    assert again.findings == []


def test_files_changed_a_moment_ago_are_always_hashed(tree: Path, tmp_path: Path) -> None:
    """Within the racy window a file's stat is not recorded, so a second change in the same
    timestamp tick cannot be missed."""
    cache = tmp_path / "cache"
    run([tree], Config(root=tree), cache_dir=cache)
    pack = json.loads(_pack(cache).read_text())
    assert all(entry["stat"] is None for entry in pack["entries"].values())


def test_runs_sharing_the_cache_at_once_agree_and_leave_it_valid(
    tree: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    command = [sys.executable, "-m", "bastion", "check", str(tree), "--format", "json"]
    command += ["--cache-dir", str(cache), "--jobs", "1", "--fail-on", "never"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, cwd=tree) for _ in range(3)]
    outputs = [json.loads(process.communicate()[0])["findings"] for process in runs]
    assert all(process.returncode == 0 for process in runs)
    assert outputs[0] and outputs[1] == outputs[0] and outputs[2] == outputs[0]
    warm = run([tree], Config(root=tree), cache_dir=cache)
    assert warm.analyzed == 0
    assert as_json(warm) == as_json(run([tree], Config(root=tree)))


def test_a_cache_written_by_another_installation_is_never_used(
    tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A pull request can commit `.bastion_cache/`: entries that claim "no findings" must not
    silence anything when they were not written by this installation of bastion."""
    cache = tmp_path / "cache"
    config = Config(root=tree)
    expected = as_json(run([tree], config, cache_dir=cache))
    pack = json.loads(_pack(cache).read_text())
    for entry in pack["entries"].values():
        entry["findings"] = []
    _pack(cache).write_text(json.dumps(pack))
    monkeypatch.setattr("bastion.cache.code_stamp", lambda: "another installation")
    again = run([tree], config, cache_dir=cache)
    assert again.analyzed == 41
    assert as_json(again) == expected
