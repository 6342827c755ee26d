"""`--format github` workflow commands, and no planted secret in any output format."""

from __future__ import annotations

import io
import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli
from bastion.config import Config
from bastion.engine import RunResult
from bastion.findings import Finding, Severity
from bastion.registry import load_registry
from bastion.reporters import FORMATS, get_reporter
from bastion.reporters.github import annotation, escape_data, escape_property

FIXTURE = Path(__file__).parent.parent / "fixtures" / "cigate" / "project"


def test_github_annotations_for_the_fixture_project(tmp_path: Path) -> None:
    project = tmp_path / "project"  # outside any git work tree
    shutil.copytree(FIXTURE, project)
    result = CliRunner().invoke(cli, ["check", str(project), "--format", "github"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    err001 = [line for line in lines if "title=ERR001" in line]
    assert len(err001) == 1  # the suppressed one is not annotated
    assert err001[0].startswith(
        "::error file=app/jobs.py,line=11,endLine=11,col=5,endColumn=30,title=ERR001 bare-except::"
        "bare `except:` also catches"
    )
    assert "%0Ahint: Catch the exceptions you expect" in err001[0]
    assert any(line.startswith("::notice file=app/jobs.py,line=19,") for line in lines)
    assert lines[-1].startswith("Found 5 findings")


def test_github_escaping_follows_the_runner_rules() -> None:
    assert escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b"
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"
    finding = Finding(
        rule="ERR001",
        name="bare-except",
        severity=Severity.INFO,
        category="errors",
        path="dir,with:odd/na%me.py",
        line=3,
        column=2,
        end_line=5,
        end_column=1,
        message="line one\nline two: 100%",
        fix_hint="do, this",
    )
    text = annotation(finding)
    assert text == (
        "::notice file=dir%2Cwith%3Aodd/na%25me.py,line=3,endLine=5,col=2,"
        "title=ERR001 bare-except::line one%0Aline two: 100%25%0Ahint: do, this"
    )
    assert "\n" not in text


# -- secrets --------------------------------------------------------------------------------------

SECRET = "sk_live_4eC39HqLyjWDarjtT1zdp7dc"


def _secret_result(root: Path) -> RunResult:
    (root / "settings.py").write_text(f'STRIPE_KEY = "{SECRET}"\n', encoding="utf-8")
    rule = load_registry().by_id("ERR001")
    assert rule is not None
    finding = Finding(
        rule="ERR001",
        name="bare-except",
        severity=Severity.ERROR,
        category="errors",
        path="settings.py",
        line=1,
        column=14,
        end_line=1,
        end_column=14 + len(SECRET) + 2,
        message=f"secret {SECRET!r} assigned to STRIPE_KEY",
        fix_hint=f"read it from the environment instead of writing {SECRET}",
        redact=(SECRET,),
        source_line=f'STRIPE_KEY = "{SECRET}"',
        fingerprint="0" * 20,
    )
    suppressed = replace(finding, line=2, suppressed_by="reviewed")
    return RunResult([finding], [suppressed], [], [], [], [rule])


@pytest.mark.parametrize("fmt", [*FORMATS, "text-color"])
def test_no_planted_secret_in_any_format(tmp_path: Path, fmt: str) -> None:
    result = _secret_result(tmp_path)
    out = io.StringIO()
    name, color = ("text", True) if fmt == "text-color" else (fmt, False)
    get_reporter(name)(result, Config(root=tmp_path), out, color=color)
    text = out.getvalue()
    assert "ERR001" in text
    assert SECRET not in text
    assert SECRET[:12] not in text
    if fmt == "sarif":
        json.loads(text)


def test_no_planted_secret_through_the_cli_when_a_secret_rule_exists(tmp_path: Path) -> None:
    """Runs for real once a rule that detects secrets (SEC001) is in the registry."""
    if load_registry().by_id("SEC001") is None:
        pytest.skip("no SEC001 rule in this build")
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text("[tool.bastion]\n", encoding="utf-8")
    (project / "settings.py").write_text(f'SECRET_KEY = "{SECRET}"\n', encoding="utf-8")
    (project / ".env").write_text(f"STRIPE_API_KEY={SECRET}\n", encoding="utf-8")
    for fmt in FORMATS:
        result = CliRunner().invoke(cli, ["check", str(project), "--format", fmt])
        assert result.exit_code == 1, result.output
        assert "SEC001" in result.stdout
        assert SECRET not in result.stdout and SECRET not in result.stderr
