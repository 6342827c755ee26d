"""Baselines: `bastion baseline create|update FILE` and `bastion check --baseline FILE`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bastion.baseline import SCHEMA_KEY, SCHEMA_VERSION, Baseline, BaselineError, load_baseline
from bastion.cli import cli

FIXTURE = Path(__file__).parent.parent / "fixtures" / "cigate" / "project"
NEW_BUG = "\n\ndef fresh(job):\n    try:\n        job()\n    except:\n        job.failed = True\n"


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return root


def test_create_writes_sorted_fingerprints_with_rule_and_path_only(project: Path) -> None:
    file = project / "bastion-baseline.json"
    result = invoke("baseline", "create", str(file), str(project))
    assert result.exit_code == 0, result.output
    assert "with 5 findings" in result.stderr
    document = json.loads(file.read_text(encoding="utf-8"))
    assert document[SCHEMA_KEY] == SCHEMA_VERSION
    entries = document["findings"]
    assert [set(e) for e in entries] == [{"rule", "path", "fingerprint"}] * 5
    assert entries == sorted(entries, key=lambda e: (e["path"], e["rule"], e["fingerprint"]))
    assert {(e["rule"], e["path"]) for e in entries} == {
        ("BAS001", "app/broken.py"),
        ("ERR001", "app/jobs.py"),
        ("ERR002", "app/jobs.py"),
        ("ERR003", "app/jobs.py"),
        ("BAS002", "app/suppress.py"),
    }
    text = file.read_text(encoding="utf-8")
    assert '"line"' not in text and "20" + "26-" not in text  # no line numbers, no dates


def test_create_is_byte_stable_and_ignores_lines_added_above(project: Path) -> None:
    first, second = project / "a.json", project / "b.json"
    assert invoke("baseline", "create", str(first), str(project)).exit_code == 0
    jobs = project / "app" / "jobs.py"
    jobs.write_text("# a new comment\n\n" + jobs.read_text(encoding="utf-8"), encoding="utf-8")
    assert invoke("baseline", "create", str(second), str(project)).exit_code == 0
    assert first.read_bytes() == second.read_bytes()


def test_create_refuses_to_overwrite_without_force(project: Path) -> None:
    file = project / "b.json"
    file.write_text("{}", encoding="utf-8")
    result = invoke("baseline", "create", str(file), str(project))
    assert result.exit_code == 2 and "exists" in result.stderr
    assert invoke("baseline", "create", str(file), str(project), "--force").exit_code == 0


def test_check_fails_only_on_new_findings_and_counts_baselined_and_stale(project: Path) -> None:
    file = project / "b.json"
    assert invoke("baseline", "create", str(file), str(project)).exit_code == 0

    result = invoke("check", str(project), "--baseline", str(file), "--no-color")
    assert result.exit_code == 0, result.output
    assert "No findings" in result.stdout
    assert "5 findings baselined" in result.stderr and "entries stale" not in result.stderr

    jobs = project / "app" / "jobs.py"
    jobs.write_text(jobs.read_text(encoding="utf-8") + NEW_BUG, encoding="utf-8")
    (project / "app" / "broken.py").write_text("def fixed():\n    pass\n", encoding="utf-8")
    result = invoke("check", str(project), "--baseline", str(file), "--format", "json")
    assert result.exit_code == 1
    findings = json.loads(result.stdout)["findings"]
    assert [(f["rule"], f["path"], f["line"]) for f in findings] == [("ERR001", "app/jobs.py", 40)]
    assert "4 findings baselined, 1 entries stale" in result.stderr
    assert f"bastion baseline update {file}" in result.stderr


def test_stale_count_ignores_files_and_rules_not_checked(project: Path) -> None:
    file = project / "b.json"
    assert invoke("baseline", "create", str(file), str(project)).exit_code == 0
    one_file = project / "app" / "jobs.py"
    result = invoke("check", str(one_file), "--baseline", str(file), "--select", "ERR001")
    assert result.exit_code == 0, result.output
    assert "1 findings baselined" in result.stderr and "entries stale" not in result.stderr


def test_update_refreshes_and_prune_only_never_adds(project: Path) -> None:
    file = project / "b.json"
    assert invoke("baseline", "create", str(file), str(project)).exit_code == 0
    jobs = project / "app" / "jobs.py"
    jobs.write_text(jobs.read_text(encoding="utf-8") + NEW_BUG, encoding="utf-8")
    (project / "app" / "broken.py").write_text("def fixed():\n    pass\n", encoding="utf-8")

    result = invoke("baseline", "update", str(file), str(project), "--prune-only")
    assert result.exit_code == 0 and "(0 added, 1 removed)" in result.stderr
    assert len(load_baseline(file).entries) == 4
    assert invoke("check", str(project), "--baseline", str(file)).exit_code == 1

    result = invoke("baseline", "update", str(file), str(project))
    assert result.exit_code == 0 and "(1 added, 0 removed)" in result.stderr
    assert invoke("check", str(project), "--baseline", str(file)).exit_code == 0


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"bastion-baseline": 1, "findings": [', "corrupted (invalid JSON at line 1"),
        ("<<<<<<< HEAD\n", "corrupted"),
        ('{"bastion-baseline": 0, "findings": []}', "written by an older bastion"),
        ('{"bastion-baseline": 99, "findings": []}', "written by a newer bastion"),
        ('{"findings": []}', "is not a bastion baseline"),
        ('{"bastion-baseline": 1, "findings": {}}', "'findings' must be a list"),
        ('{"bastion-baseline": 1, "findings": [{"rule": "ERR001"}]}', "entry 1 needs"),
        ('{"bastion-baseline": "1", "findings": []}', "must be an integer"),
    ],
)
def test_bad_baselines_give_a_clear_error_and_exit_2(
    project: Path, content: str, expected: str
) -> None:
    file = project / "b.json"
    file.write_text(content, encoding="utf-8")
    result = invoke("check", str(project), "--baseline", str(file))
    assert result.exit_code == 2
    assert expected in result.stderr and str(file) in result.stderr
    assert result.stdout == ""
    assert invoke("baseline", "update", str(file), str(project)).exit_code == 2


def test_missing_baseline_says_how_to_create_it(project: Path) -> None:
    result = invoke("check", str(project), "--baseline", str(project / "nope.json"))
    assert result.exit_code == 2 and "bastion baseline create" in result.stderr


def test_load_rejects_non_utf8(tmp_path: Path) -> None:
    file = tmp_path / "b.json"
    file.write_bytes(b"\xff\xfe{")
    with pytest.raises(BaselineError, match="not UTF-8"):
        load_baseline(file)


def test_round_trip(tmp_path: Path) -> None:
    file = tmp_path / "b.json"
    Baseline(()).write(file)
    assert load_baseline(file).entries == ()
