"""Replaying the report of an identical command over an unchanged tree (`bastion.replay`):
it must be exactly what a real run prints, and never used when anything it depends on moved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bastion import engine, pipeline
from bastion.cli import cli

BARE = "try:\n    f()\nexcept:\n    g()\n"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    (root / "app").mkdir(parents=True)
    (root / "app" / "jobs.py").write_text(BARE)
    (root / "app" / "ok.py").write_text("def f() -> int:\n    return 1\n")
    (root / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR"]\n')
    monkeypatch.chdir(root)
    # the files were written a moment ago: trust their stat now instead of in two seconds
    monkeypatch.setattr("bastion.cache._RACY_NS", 0)
    return root


class RunCounter:
    """Counts real runs: the pipeline's map step (a spy: the engine still runs)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = pipeline.map_stage

        def counting(*args: Any, **kwargs: Any) -> engine.MapResult:
            self.calls += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(pipeline, "map_stage", counting)


def check(*args: str) -> Result:
    return CliRunner().invoke(cli, ["check", *args])


def records(root: Path) -> list[Path]:
    return sorted((root / ".bastion_cache").rglob("replay/*.json"))


def test_an_identical_command_is_replayed_byte_for_byte(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = RunCounter(monkeypatch)
    first = check(".", "--format", "json")
    second = check(".", "--format", "json")
    assert first.exit_code == second.exit_code == 1
    assert json.loads(first.stdout)["findings"][0]["rule"] == "ERR001"
    assert second.stdout == first.stdout and second.stderr == first.stderr
    assert runs.calls == 1
    assert len(records(tree)) == 1


@pytest.mark.parametrize(
    "change",
    ["edit", "add", "delete", "config", "dependencies"],
)
def test_any_change_to_the_tree_or_config_runs_for_real(
    tree: Path, monkeypatch: pytest.MonkeyPatch, change: str
) -> None:
    check(".")
    runs = RunCounter(monkeypatch)
    if change == "edit":
        (tree / "app" / "jobs.py").write_text(BARE.replace("except:", "except Exception:"))
    elif change == "add":
        (tree / "app" / "more.py").write_text(BARE)
    elif change == "delete":
        (tree / "app" / "jobs.py").unlink()
    elif change == "config":
        (tree / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR002"]\n')
    else:
        (tree / "requirements.txt").write_text("pydantic==2.9.2\n")
    result = check(".")
    assert runs.calls == 1
    assert ("ERR001" in result.stdout) is (change in ("add", "dependencies"))


def test_other_options_are_another_command(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    check(".")
    runs = RunCounter(monkeypatch)
    for args in ([".", "--select", "ERR002"], [".", "--format", "json"], ["app"]):
        check(*args)
    assert runs.calls == 3


def test_a_config_made_invalid_is_reported_not_replayed(tree: Path) -> None:
    assert check(".").exit_code == 1
    (tree / "pyproject.toml").write_text('[tool.bastion]\nselect = ["NOPE999"]\n')
    result = check(".")
    assert result.exit_code == 2
    assert "unknown rule id or prefix 'NOPE999'" in result.stderr


def test_output_file_is_written_again(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = tree.parent / "report.sarif"
    check(".", "--format", "sarif", "--output", str(report))
    first = report.read_text()
    report.unlink()
    runs = RunCounter(monkeypatch)
    assert check(".", "--format", "sarif", "--output", str(report)).exit_code == 1
    assert report.read_text() == first
    assert runs.calls == 0


def test_forged_or_corrupted_records_are_ignored(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = check(".")
    (record,) = records(tree)
    forged = json.loads(record.read_text())
    for bad in (
        "{not json",
        json.dumps({**forged, "exit_code": 7}),
        json.dumps({**forged, "stdout": ["not", "text"]}),
        json.dumps({**forged, "key": "another command"}),
    ):
        record.write_text(bad)
        runs = RunCounter(monkeypatch)
        again = check(".")
        assert runs.calls == 1
        assert again.stdout == expected.stdout and again.exit_code == expected.exit_code


@pytest.mark.parametrize(
    "args",
    [
        [".", "--no-cache"],
        [".", "--format", "html", "--output", "r.html"],
        [".", "--diff-base", "HEAD"],
        [".", "--diff"],
    ],
)
def test_never_recorded(tree: Path, args: list[str]) -> None:
    check(*args)
    assert records(tree) == []


def test_reports_with_secrets_are_recorded_redacted_and_replayed(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A report holds only redacted text: recording it stores nothing secret, and the warm
    run replays it like any other."""
    secret = "hV9$kq2!Lr8#zW4@pN6^tY1&"
    (tree / "app" / "settings.py").write_text(f'SECRET_KEY = "{secret}"\n')
    (tree / "pyproject.toml").write_text('[tool.bastion]\nselect = ["SEC001"]\n')
    first = check(".")
    assert "SEC001" in first.stdout and "hV9$kq2" not in first.stdout
    [record] = records(tree)
    assert secret.encode() not in record.read_bytes()
    assert b"hV9$kq2" not in record.read_bytes()
    counter = RunCounter(monkeypatch)
    again = check(".")
    assert again.stdout == first.stdout and again.exit_code == first.exit_code
    assert counter.calls == 0  # replayed


def test_files_changed_a_moment_ago_are_not_trusted(
    tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bastion.cache._RACY_NS", 2_000_000_000)
    check(".")
    assert records(tree) == []


def test_rules_that_read_beyond_the_tree_are_never_recorded(tree: Path) -> None:
    """DEP001 asks an advisory database (here a local OSV folder) that can change at any time."""
    (tree / "osv").mkdir()
    (tree / "requirements.txt").write_text("flask==2.0.0\n")
    (tree / "pyproject.toml").write_text(
        '[tool.bastion]\nselect = ["DEP001"]\n[tool.bastion.rules.DEP001]\nvuln-db = "osv"\n'
    )
    result = check(".")
    assert result.exit_code == 0, result.output
    assert records(tree) == []


def test_records_of_several_commands_are_kept(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pre-commit run on a few files and a full run alternate: both stay replayable, even
    though the per-file cache of each configuration replaces the other's."""
    commands = [[".", "--select", "ERR001"], ["app/jobs.py"], [".", "--format", "json"]]
    for args in commands:
        check(*args)
    assert len(records(tree)) == 3
    runs = RunCounter(monkeypatch)
    for args in commands:
        check(*args)
    assert runs.calls == 0
