"""TEST001, TEST003: the project's test suite and its coverage gate."""

from __future__ import annotations

from bastion.analysis.tooling import project_anchor
from bastion.findings import Severity
from bastion.rule import Example, ProjectRule


class NoTests(ProjectRule):
    """Flags a project (a scanned folder with a manifest: pyproject.toml, setup.cfg, setup.py
    or requirements.txt) with Python code and not a single test file (`test_*.py`,
    `*_test.py`, `tests.py`, files under `tests/`, or the configured `test-paths`)."""

    id = "TEST001"
    needs = frozenset({"code", "tooling"})  # the facts it reads
    name = "no-tests"
    severity = Severity.WARNING
    summary = "Project with no test files at all"
    why = (
        "Without tests every change is verified by hand or by users; refactoring stops because "
        "nobody can tell what breaks. Even a few tests of the main routes catch most "
        "regressions."
    )
    hint = (
        "Add a `tests/` folder with pytest tests, starting with the critical paths (e.g. "
        "FastAPI's `TestClient` or Django's test client against the main endpoints)."
    )
    bad = [
        Example("from fastapi import FastAPI\napp = FastAPI()\n", path="app/main.py"),
        Example("def handler():\n    return 1\n", path="service.py"),
        Example("import flask\n", path="src/app/__init__.py"),
    ]
    good = [
        Example("def test_health():\n    assert True\n", path="tests/test_health.py"),
        Example("def test_x():\n    assert 1\n", path="app/test_views.py"),
        Example("from django.test import TestCase\n", path="shop/tests.py"),
    ]

    def check_project(self) -> None:
        anchor = project_anchor(self.project)
        if anchor is None or not self.project.paths("python"):
            return
        if any(f["type"] == "test" for _, f in self.project.facts("code")):
            return
        self.report_at(anchor, 1, 1, "the project has no test files")


class NoCoverageThreshold(ProjectRule):
    """Flags a project whose coverage is configured nowhere (`[tool.coverage]` in
    pyproject.toml, `[coverage:*]` in setup.cfg/tox.ini, `.coveragerc`, `--cov-fail-under` in
    pytest options or a CI workflow), or configured without `fail_under`. Reported on the
    manifest."""

    id = "TEST003"
    needs = frozenset({"code", "tooling"})  # the facts it reads
    name = "no-coverage-threshold"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "12 of 12 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Coverage not configured, or configured without `fail_under`"
    why = (
        'Coverage nobody enforces only goes down: a threshold in CI turns "we should add '
        'tests" into a failing build when a change lands untested.'
    )
    hint = (
        "Set a threshold: `[tool.coverage.report] fail_under = 80` in pyproject.toml (or "
        "`--cov-fail-under=80` in pytest's addopts)."
    )
    bad = [
        Example('[project]\nname = "svc"\n', path="pyproject.toml"),
        Example(
            '[project]\nname = "svc"\n[tool.coverage.run]\nbranch = true\n', path="pyproject.toml"
        ),
        Example("[run]\nbranch = True\n", path=".coveragerc"),
    ]
    good = [
        Example("[tool.coverage.report]\nfail_under = 85\n", path="pyproject.toml"),
        Example("[report]\nfail_under = 90\n", path=".coveragerc"),
        Example("[tool:pytest]\naddopts = --cov=app --cov-fail-under=80\n", path="setup.cfg"),
        Example(
            "[testenv]\ncommands =\n    pytest --cov=app --cov-fail-under=90\n", path="tox.ini"
        ),
        Example(
            "jobs:\n  test:\n    steps:\n      - run: coverage report --fail-under=85\n",
            path=".github/workflows/ci.yml",
        ),
    ]

    def check_project(self) -> None:
        anchor = project_anchor(self.project)
        if anchor is None:
            return
        coverage = [(p, f) for p, f in self.project.facts("tooling") if f["type"] == "coverage"]
        if any(f["threshold"] for _, f in coverage):
            return
        if coverage:
            path = coverage[0][0]
            self.report_at(path, 1, 1, "coverage is configured without a `fail_under` threshold")
        else:
            self.report_at(anchor, 1, 1, "coverage is not configured (no threshold enforced)")
