"""False-positive shapes of the API rules (and ERR004) measured on real application
repositories (bench/ecosystem, issue #15), each as a small file in
tests/fixtures/ecosystem_api modeled on the real one: the engine's findings there equal the
`# expect:` annotations exactly (the false positive is gone, its real look-alike still found)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.engine import run
from bastion.findings import Finding
from bastion.selection import load_config
from bastion.testing import expected_findings

ROOT = Path(__file__).parent.parent / "fixtures" / "ecosystem_api"


@pytest.fixture(scope="module")
def findings() -> list[Finding]:
    result = run([ROOT], load_config([ROOT]))
    assert not result.internal_errors, result.internal_errors
    return result.findings


def _by_file(
    findings: list[Finding], name: str
) -> tuple[set[tuple[str, str, int]], set[tuple[str, str, int]]]:
    want = {w for w in expected_findings(ROOT, "*") if w[1] == name}
    got = {(f.rule, f.path, f.line) for f in findings if f.path == name}
    return got, want


@pytest.mark.parametrize(
    "name",
    [
        "app/auth_routes.py",
        "app/paginators.py",
        "app/case_views.py",
        "app/resources.py",
        "app/webhooks.py",
        "app/challenge_api.py",
        "app/nested_viewsets.py",
        "app/django_pages.py",
        "app/api/statistics/progression.py",
        "app/api/services.py",
        "app/dashboard_forms.py",
    ],
)
def test_real_false_positive_shapes(findings: list[Finding], name: str) -> None:
    got, want = _by_file(findings, name)
    assert got == want


def test_findings_equal_the_annotations(findings: list[Finding]) -> None:
    assert {(f.rule, f.path, f.line) for f in findings} == expected_findings(ROOT, "*")


VERSIONING = Path(__file__).parent.parent / "fixtures" / "ecosystem_api_versioning"


@pytest.mark.parametrize("project", ["dashboard", "oauth", "website", "api"])
def test_unversioned_api_shapes(project: str) -> None:
    """API005 reads the whole project: each shape is a project of its own."""
    root = VERSIONING / project
    result = run([root], load_config([root]))
    assert not result.internal_errors, result.internal_errors
    assert {(f.rule, f.path, f.line) for f in result.findings} == expected_findings(root, "*")
