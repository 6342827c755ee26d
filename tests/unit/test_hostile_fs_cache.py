"""A committed `.bastion_cache` with links in it never makes bastion delete, create or write
anything outside the cache (issue #14, part A.1). Real symlinks in tmp folders, the real CLI."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bastion.cache import Cache
from bastion.cli import cli
from bastion.replay import Record, save
from bastion.safe_fs import CacheFolder, UnsafeFileError

BARE = "try:\n    f()\nexcept:\n    g()\n"


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A project and, beside it, a victim folder the user cares about."""
    proj = tmp_path / "proj"
    (proj / ".bastion_cache").mkdir(parents=True)
    (proj / "app.py").write_text(BARE)
    victim = tmp_path / "victim"
    (victim / "important").mkdir(parents=True)
    (victim / "important" / "data.txt").write_text("precious")
    (victim / "0123456789abcdef0123456789abcdef.json").write_text("{}")
    monkeypatch.chdir(proj)
    monkeypatch.setattr("bastion.cache._RACY_NS", 0)
    return proj, victim


def check(*args: str) -> Result:
    return CliRunner().invoke(cli, ["check", *args])


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): (p.read_text() if p.is_file() else "/")
        for p in sorted(folder.rglob("*"))
    }


def assert_untouched(victim: Path) -> None:
    assert snapshot(victim) == {
        "0123456789abcdef0123456789abcdef.json": "{}",
        "important": "/",
        "important/data.txt": "precious",
    }


def test_a_link_named_like_the_cache_format_never_deletes_outside(
    world: tuple[Path, Path],
) -> None:
    # the reproducer: ln -s ../../victim proj/.bastion_cache/v2 && bastion check .
    proj, victim = world
    (proj / ".bastion_cache" / "v2").symlink_to("../../victim")
    result = check(".")
    assert result.exit_code == 1  # the run goes on, without a cache
    assert "cache disabled" in result.stderr and "symbolic link" in result.stderr
    assert_untouched(victim)


def test_an_old_format_link_is_unlinked_and_its_target_kept(world: tuple[Path, Path]) -> None:
    proj, victim = world
    (proj / ".bastion_cache" / "v1").symlink_to(victim)
    assert check(".").exit_code == 1
    assert not (proj / ".bastion_cache" / "v1").is_symlink()  # pruned: the link only
    assert_untouched(victim)


def test_a_salt_link_inside_the_format_folder_is_pruned_as_a_link(
    world: tuple[Path, Path],
) -> None:
    proj, victim = world
    (proj / ".bastion_cache" / "v2").mkdir()
    (proj / ".bastion_cache" / "v2" / ("a" * 24)).symlink_to(victim)
    assert check(".").exit_code == 1
    assert_untouched(victim)


def test_the_cache_folder_itself_a_link_is_refused(world: tuple[Path, Path]) -> None:
    proj, victim = world
    (proj / ".bastion_cache").rmdir()
    (proj / ".bastion_cache").symlink_to(victim)
    result = check(".")
    assert result.exit_code == 1
    assert "cache disabled" in result.stderr
    assert_untouched(victim)  # nothing created in it either (no v2/, no .gitignore, no replay/)


def test_a_replay_folder_link_never_unlinks_files_outside(world: tuple[Path, Path]) -> None:
    proj, victim = world
    (proj / ".bastion_cache" / "replay").symlink_to(victim)
    for _ in range(12):  # more commands than the records kept: pruning would run
        save(
            proj / ".bastion_cache",
            os.urandom(16).hex(),
            [["app.py", "python", 1, 2, 3, 4]],
            Record("", [], 0, None),
        )
    for fmt in ("json", "text", "sarif"):
        assert check(".", "--format", fmt).exit_code == 1
    assert_untouched(victim)


def test_replay_prunes_only_its_own_record_names(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "replay").mkdir(parents=True)
    (cache / "replay" / "notes.json").write_text("mine")
    for _ in range(12):
        save(cache, os.urandom(16).hex(), [], Record("", [], 0, None))
    names = sorted(p.name for p in (cache / "replay").iterdir())
    assert "notes.json" in names
    assert len(names) == 9  # eight records kept, the stranger left alone


def test_a_dangling_gitignore_link_creates_nothing_outside(world: tuple[Path, Path]) -> None:
    proj, victim = world
    (proj / ".bastion_cache" / ".gitignore").symlink_to(victim / "created.txt")
    assert check(".").exit_code == 1
    assert_untouched(victim)
    assert (proj / ".bastion_cache" / ".gitignore").is_symlink()  # left alone, not followed


def test_a_pack_link_is_replaced_not_written_through(tmp_path: Path) -> None:
    target = tmp_path / "outside.json"
    target.write_text("keep")
    cache = Cache(tmp_path / "cache", "b" * 24)
    folder = tmp_path / "cache" / "v2" / ("b" * 24)
    folder.mkdir(parents=True)
    (folder / "pack.json").symlink_to(target)
    cache.prepare()
    assert cache.usable
    cache._changed["x.py"] = None
    cache.save()
    assert target.read_text() == "keep"
    assert not (folder / "pack.json").is_symlink()


def test_a_cache_folder_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    if os.getuid() != 0:
        pytest.skip("chown to another user needs root")
    folder = tmp_path / "cache"
    folder.mkdir()
    os.chown(folder, 12345, 12345)
    with pytest.raises(UnsafeFileError, match="another user"):
        CacheFolder.open(folder, tmp_path)
    cache = Cache(folder, "c" * 24, tmp_path)
    cache.prepare()
    assert not cache.usable and cache.notice and "another user" in cache.notice


def test_a_link_among_the_cache_parents_inside_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "build").symlink_to(outside)
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        CacheFolder.open(root / "build" / "cache", root)
    assert list(outside.iterdir()) == []


def test_a_deep_stale_folder_is_removed_without_following_links(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("x")
    stale = tmp_path / "cache" / "v1" / "a" / "b"
    stale.mkdir(parents=True)
    (stale / "link").symlink_to(victim)
    (stale / "file").write_text("y")
    with CacheFolder.open(tmp_path / "cache", tmp_path) as folder:
        folder.remove("v1")
    assert not (tmp_path / "cache" / "v1").exists()
    assert (victim / "keep").read_text() == "x"


def test_a_normal_run_still_caches_and_replays(world: tuple[Path, Path]) -> None:
    proj, _ = world
    first = check(".", "--format", "json")
    second = check(".", "--format", "json")
    assert first.exit_code == second.exit_code == 1
    assert json.loads(first.stdout)["findings"] == json.loads(second.stdout)["findings"]
    assert list((proj / ".bastion_cache" / "v2").glob("*/pack.json"))
    assert list((proj / ".bastion_cache" / "replay").glob("*.json"))
    assert (proj / ".bastion_cache" / ".gitignore").read_text().endswith("*\n")
