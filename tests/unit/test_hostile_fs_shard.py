"""Shard files, baselines and `--output` are hostile input too (issue #14, part A.6): forged
numbers are bounded, paths stay inside the project, absurd JSON is a clear error (exit 2), and
no write goes through a link."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from bastion.cli import cli

BARE = "try:\n    f()\nexcept:\n    g()\n"
SECRET = "TOP-SECRET-CONTENT-4242"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.bastion]\n")
    (root / "jobs.py").write_text(BARE)
    (tmp_path / "outside_secret.txt").write_text(f"{SECRET}\n" * 5)
    monkeypatch.chdir(root)
    return root


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def one_shard(project: Path) -> tuple[Path, dict[str, Any]]:
    out = project.parent / "s.json"
    result = invoke("check", ".", "--shard", "1/1", "--format", "json", "-o", str(out))
    assert result.exit_code == 1, result.output
    return out, json.loads(out.read_text())


def merge(*files: Path, fmt: str = "text") -> Result:
    return invoke("merge", *map(str, files), "--format", fmt)


def test_a_huge_shard_count_is_refused_at_once(project: Path) -> None:
    out, document = one_shard(project)
    document["shard"]["count"] = 1_000_000_000
    out.write_text(json.dumps(document))
    start = time.monotonic()
    result = merge(out)
    assert result.exit_code == 2 and "bad shard count" in result.stderr
    assert time.monotonic() - start < 5


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("count", True),
        ("count", [1]),
        ("index", 1.0),
        ("analyzed", 10**30),
        ("analyzed", -1),
        ("files", {"a": 1}),
        ("hidden_frames", "x"),
    ],
)
def test_forged_shard_metadata_is_a_clear_error(project: Path, field: str, value: Any) -> None:
    out, document = one_shard(project)
    document["shard"][field] = value
    out.write_text(json.dumps(document))
    result = merge(out)
    assert result.exit_code == 2, result.output
    assert ("Traceback" not in result.output and result.exception is None) or isinstance(
        result.exception, SystemExit
    )


@pytest.mark.parametrize("value", [10**30, -5, 1.5, "3", None])
def test_a_forged_line_number_is_a_clear_error(project: Path, value: Any) -> None:
    out, document = one_shard(project)
    document["shard"]["findings"][0]["line"] = value
    out.write_text(json.dumps(document))
    result = merge(out)
    assert result.exit_code == 2 and "malformed finding record" in result.stderr


@pytest.mark.parametrize("path", ["../outside_secret.txt", "/etc/passwd", "a/../../x", ""])
def test_a_shard_path_out_of_the_project_is_refused(project: Path, path: str) -> None:
    out, document = one_shard(project)
    document["shard"]["findings"][0]["path"] = path
    out.write_text(json.dumps(document))
    result = merge(out, fmt="html")
    assert result.exit_code == 2, result.output
    assert SECRET not in result.output


def test_a_link_out_of_the_project_never_shows_its_text(project: Path) -> None:
    (project / "leak.py").symlink_to(project.parent / "outside_secret.txt")
    out, document = one_shard(project)
    document["shard"]["findings"][0]["path"] = "leak.py"
    out.write_text(json.dumps(document))
    for fmt in ("html", "text", "sarif", "json"):
        result = merge(out, fmt=fmt)
        assert result.exit_code == 1, result.output
        assert SECRET not in result.output


def test_non_finite_and_deep_shards_are_clear_errors(project: Path) -> None:
    out, document = one_shard(project)
    text = json.dumps(document)
    forged = re.sub(r'"line": \d+', '"line": Infinity', text, count=1)
    assert forged != text
    out.write_text(forged)
    result = merge(out)
    assert result.exit_code == 2 and "not JSON" in result.stderr
    out.write_text('{"shard": ' + "[" * 200_000 + "]" * 200_000 + "}")
    result = merge(out)
    assert result.exit_code == 2 and "nested too deeply" in result.stderr


def test_a_shard_or_baseline_linked_to_dev_zero_is_refused(project: Path) -> None:
    (project / "s.json").symlink_to("/dev/zero")
    result = merge(project / "s.json")
    assert result.exit_code == 2 and "device" in result.stderr
    (project / "baseline.json").symlink_to("/dev/zero")
    result = invoke("check", ".", "--baseline", "baseline.json", "--no-cache")
    assert result.exit_code == 2 and "device" in result.stderr


@pytest.mark.parametrize(
    "text",
    [
        "[" * 200_000 + "]" * 200_000,
        '{"bastion-baseline": Infinity, "findings": []}',
        '{"bastion-baseline": NaN, "findings": []}',
        '{"bastion-baseline": 1' + "0" * 5000 + ', "findings": []}',
    ],
)
def test_absurd_baselines_are_clear_errors(project: Path, text: str) -> None:
    (project / "baseline.json").write_text(text)
    result = invoke("check", ".", "--baseline", "baseline.json", "--no-cache")
    assert result.exit_code == 2, result.output
    assert ("baseline" in result.stderr and result.exception is None) or isinstance(
        result.exception, SystemExit
    )


def test_outputs_never_write_through_a_link(project: Path) -> None:
    victim = project.parent / "bashrc"
    victim.write_text("keep")
    (project / "report.txt").symlink_to(victim)
    result = invoke("check", ".", "-o", "report.txt", "--no-cache")
    assert result.exit_code == 2 and "symbolic link" in result.stderr
    (project / "base.json").symlink_to(victim)
    result = invoke("baseline", "create", "base.json", ".", "--force")
    assert result.exit_code == 2
    (project / "shard.json").symlink_to(victim)
    result = invoke("check", ".", "--shard", "1/1", "--format", "json", "-o", "shard.json")
    assert result.exit_code == 2
    assert victim.read_text() == "keep"
    assert (project / "report.txt").is_symlink()


def test_outputs_still_reach_files_and_devices(project: Path) -> None:
    assert invoke("check", ".", "-o", "out.json", "--format", "json").exit_code == 1
    assert json.loads((project / "out.json").read_text())["findings"]
    assert invoke("check", ".", "-o", "/dev/null", "--no-cache").exit_code == 1
    assert invoke("baseline", "create", "b.json", ".").exit_code == 0
    assert json.loads((project / "b.json").read_text())["findings"]


def test_a_replaced_output_keeps_its_permissions(project: Path) -> None:
    (project / "out.json").write_text("old")
    (project / "out.json").chmod(0o600)
    assert invoke("check", ".", "-o", "out.json", "--format", "json").exit_code == 1
    assert (project / "out.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((project / "out.json").read_text())["findings"]
