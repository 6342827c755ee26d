"""The CLI through click's runner: exit codes, formats, config errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli

BARE = "try:\n    f()\nexcept:\n    g()\n"
JSON_KEYS = {
    "rule",
    "name",
    "severity",
    "category",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "fix_hint",
    "fixable",
    "fingerprint",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR", "BAS"]\n')
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text(BARE)
    (tmp_path / "app" / "clean.py").write_text("x = 1\n")
    return tmp_path


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_findings_exit_1_with_path_line_col(project: Path) -> None:
    code, out, _ = invoke("check", str(project), "--no-color")
    assert code == 1
    assert "app/main.py:3:1 ERR001 bare `except:`" in out
    assert "hint: Catch the exceptions you expect" in out
    assert "Found 1 finding (1 error) in 3 files." in out


def test_clean_path_exits_0(project: Path) -> None:
    code, out, _ = invoke("check", str(project / "app" / "clean.py"))
    assert code == 0
    assert "No findings" in out


def test_fail_on_controls_exit_code(project: Path) -> None:
    (project / "app" / "main.py").write_text("try:\n    f()\nexcept Exception:\n    x = 1\n")
    # ERR003 is an info finding, off by default (its measured precision, bench/ecosystem)
    on = ("--extend-select", "ERR003")
    assert invoke("check", str(project), *on, "--fail-on", "info")[0] == 1
    assert invoke("check", str(project), *on, "--fail-on", "error")[0] == 0
    assert invoke("check", str(project), *on, "--fail-on", "never")[0] == 0


def test_json_contract(project: Path, tmp_path: Path) -> None:
    out_file = tmp_path / "out.json"
    code, out, _ = invoke("check", str(project), "--format", "json", "--output", str(out_file))
    assert code == 1 and out == ""
    doc = json.loads(out_file.read_text())
    assert doc["version"]
    assert len(doc["findings"]) == 1
    finding = doc["findings"][0]
    assert set(finding) == JSON_KEYS
    assert finding["path"] == "app/main.py"
    assert (finding["line"], finding["column"], finding["end_line"]) == (3, 1, 3)
    assert finding["severity"] == "error" and finding["category"] == "errors"
    assert finding["fixable"] is True and len(finding["fingerprint"]) == 20
    assert doc["summary"]["findings"] == 1 and doc["summary"]["by_rule"] == {"ERR001": 1}


def test_select_and_ignore_flags(project: Path) -> None:
    assert invoke("check", str(project), "--ignore", "ERR001")[0] == 0
    assert invoke("check", str(project), "--select", "ERR002,ERR003")[0] == 0


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ("[tool.bastion]\nnope = 1\n", "tool.bastion.nope"),
        ('[tool.bastion]\nselect = ["XYZ123"]\n', "XYZ123"),
        ("[tool.bastion\n", "invalid TOML"),
    ],
)
def test_config_errors_exit_2_naming_the_key(project: Path, body: str, named: str) -> None:
    (project / "pyproject.toml").write_text(body)
    code, out, err = invoke("check", str(project))
    assert code == 2
    assert named in err and out == ""


def test_unknown_select_flag_exit_2(project: Path) -> None:
    code, _, err = invoke("check", str(project), "--select", "NOPE9")
    assert code == 2 and "--select" in err and "NOPE9" in err


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = invoke("check", str(tmp_path / "missing"))
    assert code == 2 and "does not exist" in err


def test_unwritable_output_exit_2(project: Path) -> None:
    code, _, err = invoke("check", str(project), "-o", str(project / "no" / "dir" / "x.json"))
    assert code == 2 and "cannot write" in err


def test_rules_and_rule_commands() -> None:
    code, out, _ = invoke("rules", "--format", "json")
    assert code == 0
    ids = [r["id"] for r in json.loads(out)]
    assert "ERR001" in ids and ids == sorted(ids, key=lambda i: (i.rstrip("0123456789"), i))
    code, out, _ = invoke("rule", "bare-except")
    assert code == 0
    for section in (
        "# ERR001 bare-except",
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
        "## Fix safety",
    ):
        assert section in out
    code, _, err = invoke("rule", "ERR999")
    assert code == 2 and "unknown rule" in err


def test_parse_error_does_not_stop_the_run(project: Path) -> None:
    (project / "app" / "broken.py").write_text("def f(:\n")
    code, out, _ = invoke("check", str(project), "--no-color")
    assert code == 1
    assert "app/broken.py:1:" in out and "BAS001" in out
    assert "app/main.py:3:1 ERR001" in out


def test_fix_diff_writes_nothing_and_exits_1(project: Path) -> None:
    before = (project / "app" / "main.py").read_text()
    # ERR001's fix changes what is caught: unsafe, offered only with --unsafe-fixes
    assert invoke("fix", str(project), "--diff")[0] == 0
    code, out, err = invoke("fix", str(project), "--diff", "--unsafe-fixes")
    assert code == 1
    assert "-except:\n+except Exception:\n" in out
    assert "1 fix would be applied" in err
    assert (project / "app" / "main.py").read_text() == before


def test_fix_applies_and_reports_the_rest(project: Path) -> None:
    code, out, err = invoke(
        "fix", str(project), "--no-color", "--unsafe-fixes", "--extend-select", "ERR003"
    )
    assert "Fixed 1 finding." in err
    assert (project / "app" / "main.py").read_text() == BARE.replace("except:", "except Exception:")
    # what is left after the fix is reported as usual (ERR003: broad and unlogged)
    assert code == 0 and "app/main.py:3:1 ERR003" in out  # ERR003 is info: no CI failure
    code, out, err = invoke("fix", str(project), "--diff", "--unsafe-fixes")
    assert code == 0 and out == ""


def test_check_fix_flag_is_the_same_as_fix(project: Path) -> None:
    code, _, err = invoke("check", str(project), "--fix", "--unsafe-fixes", "--select", "ERR001")
    assert code == 0 and "Fixed 1 finding." in err


def test_statistics_and_area_summary(project: Path) -> None:
    (project / "app" / "more.py").write_text(BARE + "try:\n    f()\nexcept Exception:\n    pass\n")
    on = ("--extend-select", "ERR002")  # off by default (bench/ecosystem)
    code, out, _ = invoke("check", str(project), *on, "--statistics")
    assert code == 1
    assert out.splitlines() == [
        "     2  ERR001   [*] bare-except",
        "     1  ERR002       swallowed-exception",
    ]
    code, out, _ = invoke("check", str(project), *on, "--no-color")
    assert "  errors: 2 errors, 1 info\n" in out
    assert out.endswith(
        "Found 3 findings (2 errors, 1 info) in 4 files. 2 fixable with "
        "`bastion fix --unsafe-fixes`.\n"
    )
