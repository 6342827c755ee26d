"""The noise classes measured on real application repositories (bench/ecosystem, issue #15),
each as a small file in tests/fixtures/ecosystem_noise modeled on the real one: the engine's
findings there equal the `# expect:` annotations exactly (the noise is gone, and the look-alike
that is a real problem in each class is still found)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.engine import run
from bastion.file_roles import (
    is_ci_config,
    is_dev_or_test_config,
    is_lock_file,
    is_migration,
    is_script_named_test,
    is_test_settings_module,
    secret_context,
)
from bastion.findings import Finding, Severity
from bastion.selection import load_config
from bastion.testing import expected_findings

ROOT = Path(__file__).parent.parent / "fixtures" / "ecosystem_noise"


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    result = run([ROOT], load_config([ROOT]))
    assert not result.internal_errors, result.internal_errors
    return result.findings


def test_findings_equal_the_annotations(findings: list[Finding]) -> None:
    want = expected_findings(ROOT, "*")
    assert len(want) >= 10
    assert {(f.rule, f.path, f.line) for f in findings} == want


def _one(findings: list[Finding], rule: str, path: str) -> Finding:
    (found,) = [f for f in findings if f.rule == rule and f.path == path]
    return found


def test_code_runner_is_info_and_says_so(findings: list[Finding]) -> None:
    shell = _one(findings, "SEC013", "app/management/commands/appshell.py")
    assert shell.severity is Severity.INFO
    assert "feature" in shell.message
    injection = _one(findings, "SEC013", "app/views.py")
    assert injection.severity is Severity.WARNING


def test_name_based_secret_is_a_warning(findings: list[Finding]) -> None:
    assert _one(findings, "SEC001", "app/default_settings.py").severity is Severity.WARNING


_CI = "CI configuration"
_DEV = "development or test configuration"


@pytest.mark.parametrize(
    ("path", "role"),
    [
        (".github/workflows/tests.yml", _CI),
        (".gitlab-ci.yml", _CI),
        (".ci/compose.ci.yaml", _CI),
        (".devcontainer/docker-compose.yml", _DEV),
        (".worktree-container/docker-compose.yml", _DEV),
        ("docker/docker-compose.dev.yml", _DEV),
        ("frontend/Dockerfile.e2e", _DEV),
        ("Dockerfile.dev", _DEV),
        (".env.testing", _DEV),
        ("Taskfile.yml", _DEV),
        ("app/settings/test.py", _DEV),
        ("docker-compose.yml", None),
        ("docker/compose/docker-compose.postgres.yml", None),
        ("config/production.yaml", None),
        ("app/tests.py", None),  # a Python module is not config by its name alone
    ],
)
def test_file_roles(path: str, role: str | None) -> None:
    assert secret_context(path) == role
    assert is_ci_config(path) is (role == _CI)
    if role == _DEV:
        assert is_dev_or_test_config(path)


def test_lock_files_and_settings_modules() -> None:
    for name in ("pnpm-lock.yaml", "web/package-lock.json", "poetry.lock", "uv.lock"):
        assert is_lock_file(name)
    assert not is_lock_file("config/locks.yaml")
    assert is_test_settings_module("netbox/netbox/configuration_testing.py")
    assert is_test_settings_module("dojo/settings/unittests.py")
    assert is_test_settings_module("api/app/settings/test.py")
    assert not is_test_settings_module("app/settings/production.py")
    assert not is_test_settings_module("app/test_views.py")


def test_scripts_named_like_tests_and_migrations() -> None:
    assert is_script_named_test("scripts/load_test.py")
    assert is_script_named_test("dev/scripts/all_recipes_stress_test.py")
    assert is_script_named_test("dojo/management/commands/test_celery_decorator.py")
    assert not is_script_named_test("tests/scripts/smoke_test.py")
    assert not is_script_named_test("app/service_test.py")
    assert is_migration("app/migrations/0001_initial.py")
    assert is_migration("dojo/db_migrations/0175_x.py")
    assert is_migration("alembic/versions/2024_abc.py")
    assert is_migration("src/app/database/revisions/core/versions/x.py")
    assert not is_migration("app/versions.py")
