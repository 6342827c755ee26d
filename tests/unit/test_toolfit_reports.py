"""`--format gitlab` (GitLab Code Quality) and `--format junit`, checked against what their
consumers document they read."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from bastion.cli import cli

FIXTURE = Path(__file__).parent.parent / "fixtures" / "cigate" / "project"

# GitLab's "Code Quality report format" (docs.gitlab.com/ci/testing/code_quality): a JSON array
# of objects; GitLab requires description, check_name, fingerprint, severity, location.path and
# location.lines.begin (or location.positions.begin.line); severity is one of five names.
GITLAB_CODE_QUALITY = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["description", "check_name", "fingerprint", "severity", "location"],
        "properties": {
            "description": {"type": "string", "minLength": 1},
            "check_name": {"type": "string", "minLength": 1},
            "fingerprint": {"type": "string", "minLength": 1},
            "severity": {"enum": ["info", "minor", "major", "critical", "blocker"]},
            "location": {
                "type": "object",
                "required": ["path", "lines"],
                "properties": {
                    "path": {"type": "string", "pattern": "^[^/]"},  # relative
                    "lines": {
                        "type": "object",
                        "required": ["begin"],
                        "properties": {"begin": {"type": "integer", "minimum": 1}},
                    },
                },
            },
        },
    },
}


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"  # outside any git work tree: paths relative to the project
    shutil.copytree(FIXTURE, root)
    return root


def test_gitlab_report_matches_the_documented_format(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(root), "--format", "gitlab", "--no-cache"])
    assert result.exit_code == 1
    issues = json.loads(result.stdout)
    jsonschema.validate(issues, GITLAB_CODE_QUALITY)
    assert len(issues) == 5
    fingerprints = [i["fingerprint"] for i in issues]
    assert len(set(fingerprints)) == len(fingerprints)  # GitLab dedups on it
    err001 = next(i for i in issues if i["check_name"] == "ERR001")
    assert err001["severity"] == "critical"
    assert err001["location"] == {"path": "app/jobs.py", "lines": {"begin": 11, "end": 11}}
    assert err001["description"].startswith("ERR001 bare-except: bare `except:`")
    # the same fingerprints as the JSON report and the baseline
    plain = CliRunner().invoke(cli, ["check", str(root), "--format", "json", "--no-cache"])
    assert sorted(fingerprints) == sorted(
        f["fingerprint"] for f in json.loads(plain.stdout)["findings"]
    )


def test_gitlab_report_of_a_clean_project_is_an_empty_array(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    result = CliRunner().invoke(
        cli, ["check", str(tmp_path), "--format", "gitlab", "--select", "ERR"]
    )
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_junit_report_structure(tmp_path: Path) -> None:
    root = project(tmp_path)
    result = CliRunner().invoke(cli, ["check", str(root), "--output-format", "junit", "--no-cache"])
    assert result.exit_code == 1
    suites = ET.fromstring(result.stdout)
    assert suites.tag == "testsuites"
    cases = suites.findall("./testsuite/testcase")
    failures = suites.findall("./testsuite/testcase/failure")
    assert len(failures) == 5 == int(suites.get("failures", "-1"))
    assert int(suites.get("tests", "-1")) == len(cases)
    for suite in suites.findall("testsuite"):
        own = suite.findall("testcase")
        assert int(suite.get("tests", "-1")) == len(own)
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
    for case in cases:  # what GitLab's JUnit parser reads
        assert case.get("name") and case.get("classname") and case.get("file")
    jobs = [c for c in cases if c.get("file") == "app/jobs.py" and c.find("failure") is not None]
    failure = next(c.find("failure") for c in jobs if "ERR001" in (c.get("name") or ""))
    assert failure is not None
    assert failure.get("type") == "ERR001 (error)"
    assert (failure.text or "").startswith("app/jobs.py:11:5: ERR001 bare `except:`")
    passing = [c for c in cases if c.find("failure") is None]
    assert passing and all(c.get("name") == "no findings" for c in passing)


def test_junit_report_survives_control_characters(tmp_path: Path) -> None:
    """XML 1.0 cannot carry most control characters; the report must still parse."""
    from bastion.config import Config
    from bastion.engine import RunResult
    from bastion.findings import Finding, Severity
    from bastion.reporters.junit import build_junit

    finding = Finding(
        rule="ERR001",
        name="bare-except",
        severity=Severity.ERROR,
        category="errors",
        path="a\x01b.py",
        line=1,
        column=1,
        end_line=1,
        end_column=2,
        message="bad \x1b[31m colour & <tags>",
        fix_hint="",
    )
    run = RunResult([finding], [], [], [], [], [])
    text = ET.tostring(build_junit(run, Config(root=tmp_path)), encoding="unicode")
    parsed = ET.fromstring(text)
    failure = parsed.find("./testsuite/testcase/failure")
    assert failure is not None and "<tags>" in (failure.get("message") or "")
