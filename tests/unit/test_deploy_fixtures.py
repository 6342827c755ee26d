"""End to end on the deployment fixture projects: the exact (rule, path, line) set of the
rules that read deployment, dependency and tooling files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli
from bastion.config import Config
from bastion.engine import run

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SELECT = ("PROD", "DEP", "SEC016", "WF", "TEST001", "TEST003")


def _found(name: str) -> set[tuple[str, str, int]]:
    root = FIXTURES / name
    result = run([root], Config(root=root, select=SELECT))
    assert not result.internal_errors, result.internal_errors
    return {(f.rule, f.path, f.line) for f in result.findings}


def test_fastapi_service() -> None:
    assert _found("deploy_fastapi") == {
        ("SEC016", ".env", 2),
        ("PROD003", "Dockerfile", 1),
        ("PROD002", "Dockerfile", 1),
        ("PROD006", "Dockerfile", 5),
        ("PROD005", "Dockerfile", 6),
        ("PROD004", "Dockerfile", 7),
        ("PROD001", "Dockerfile", 9),
        ("PROD001", "Procfile", 2),
        ("PROD001", "docker-compose.yml", 4),
        ("PROD007", "app/main.py", 6),
        ("PROD007", "app/models.py", 11),
        ("DEP002", "requirements.txt", 2),
        ("DEP002", "requirements.txt", 6),
        ("DEP003", "requirements.txt", 5),
        ("DEP004", "requirements.txt", 4),
        ("DEP004", "requirements-dev.txt", 3),
        ("TEST001", "requirements.txt", 1),
        ("TEST003", "requirements.txt", 1),
        ("WF001", "requirements.txt", 1),
        ("WF003", "requirements.txt", 1),
    }


def test_django_project() -> None:
    assert _found("deploy_django") == {
        ("WF002", ".pre-commit-config.yaml", 1),
        ("PROD002", "Dockerfile", 7),
        ("PROD004", "Dockerfile", 9),
        ("PROD001", "Procfile", 1),
        ("PROD007", "blog/models.py", 4),
        ("TEST003", "pyproject.toml", 1),
        ("DEP002", "pyproject.toml", 7),
        ("DEP002", "pyproject.toml", 8),
    }


def test_floating_base_image_is_info_and_untagged_is_warning(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim AS a\nFROM python\n")
    result = run([tmp_path], Config(root=tmp_path, select=("PROD003",)))
    assert [(f.line, f.severity.label) for f in result.findings] == [(1, "info"), (2, "warning")]


def test_user_severity_override_wins_over_the_info_case(tmp_path: Path) -> None:
    from bastion.findings import Severity

    (tmp_path / "Dockerfile").write_text("FROM python:3.12-slim\n")
    config = Config(root=tmp_path, select=("PROD003",), severity={"PROD003": Severity.ERROR})
    result = run([tmp_path], config)
    assert [f.severity.label for f in result.findings] == ["error"]


# -- audit-deps ------------------------------------------------------------------------------


def _audit(*args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(cli, ["audit-deps", *args, "--no-color", "--format", "json"])
    return result.exit_code, result.stdout, result.stderr


def test_audit_deps_offline_finds_the_advisories() -> None:
    import json

    code, out, err = _audit(str(FIXTURES / "audit_old"), "--vuln-db", str(FIXTURES / "osv_db"))
    assert code == 1, err
    findings = json.loads(out)["findings"]
    ids = {(f["path"].rsplit("/", 1)[-1], f["line"], f["message"].split()[5]) for f in findings}
    assert ids == {
        ("base.txt", 1, "GHSA-2gwj-7jmv-h26r"),  # PYSEC-2022-190 is its alias: reported once
        ("base.txt", 1, "GHSA-p64x-8rxx-wf6q"),
        ("base.txt", 1, "GHSA-xpfp-f569-q3p2"),  # a YAML record
        ("base.txt", 2, "GHSA-6757-jp84-gxfx"),
        ("base.txt", 2, "GHSA-8q59-q68h-6hv4"),
        ("requirements.txt", 4, "GHSA-j8r2-6x86-q33q"),
        ("requirements.txt", 4, "GHSA-x84v-xcm2-53pg"),
    }
    django = next(f for f in findings if "p64x" in f["message"])
    assert "CVE-2022-34265" in django["message"]
    assert "3.2.14" in django["fix_hint"]
    assert all(f["rule"] == "DEP001" for f in findings)


def test_audit_deps_missing_database_is_a_clear_error() -> None:
    code, _, err = _audit(str(FIXTURES / "audit_old"), "--vuln-db", "/nonexistent/osv")
    assert code == 2
    assert "is not a folder" in err and "Traceback" not in err


def test_audit_deps_malformed_record(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "bad.json").write_text("{not json")
    (tmp_path / "requirements.txt").write_text("django==3.2.0\n")
    code, _, err = _audit(str(tmp_path / "requirements.txt"), "--vuln-db", str(tmp_path / "db"))
    assert code == 2 and "bad.json" in err
    code, _, _ = _audit(
        str(tmp_path / "requirements.txt"),
        "--vuln-db",
        str(tmp_path / "db"),
        "--ignore-audit-errors",
    )
    assert code == 0


def test_audit_deps_nothing_pinned(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("django>=4\n")
    code, _, err = _audit(str(tmp_path), "--vuln-db", str(FIXTURES / "osv_db"))
    assert code == 0 and "no exactly pinned dependency" in err


def test_check_select_dep001_uses_the_vuln_db_option(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests==2.19.0\npyyaml==6.0.2\n")
    config = Config(
        root=tmp_path,
        select=("DEP001",),
        rule_options={"DEP001": {"vuln-db": str(FIXTURES / "osv_db")}},
    )
    result = run([tmp_path], config)
    assert not result.internal_errors
    assert sorted((f.line, f.message.split()[5]) for f in result.findings) == [
        (1, "GHSA-j8r2-6x86-q33q"),
        (1, "GHSA-x84v-xcm2-53pg"),
    ]


@pytest.mark.parametrize("name", ["deploy_fastapi", "deploy_django"])
def test_dep001_is_off_by_default(name: str) -> None:
    root = FIXTURES / name
    result = run([root], Config(root=root))
    assert not any(f.rule == "DEP001" for f in result.findings)


def test_audit_deps_reads_lock_files(tmp_path: Path) -> None:
    import json

    (tmp_path / "uv.lock").write_text(
        'version = 1\n\n[[package]]\nname = "PyYAML"\nversion = "5.3"\n\n'
        '[[package]]\nname = "requests"\nversion = "2.32.3"\n'
    )
    code, out, err = _audit(str(tmp_path), "--vuln-db", str(FIXTURES / "osv_db"))
    assert code == 1, err
    found = sorted(
        (f["path"], f["line"], f["message"].split()[5]) for f in json.loads(out)["findings"]
    )
    assert found == [
        ("uv.lock", 4, "GHSA-6757-jp84-gxfx"),
        ("uv.lock", 4, "GHSA-8q59-q68h-6hv4"),
    ]
