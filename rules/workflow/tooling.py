"""WF001-WF003: the development workflow (pre-commit hooks, type checking)."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import ClassVar

from bastion.analysis.tooling import PrecommitDocument, hook_categories, project_anchor
from bastion.context import ProjectContext
from bastion.findings import Severity
from bastion.kinds import kinds_taking
from bastion.rule import Example, ProjectRule, Rule


def _has(project: ProjectContext, key: str, fact_type: str) -> bool:
    return any(f["type"] == fact_type for _, f in project.facts(key))


class NoPreCommit(ProjectRule):
    """Flags a project (a scanned folder with a pyproject.toml, setup.cfg, setup.py or
    requirements.txt) that has no `.pre-commit-config.yaml`. Reported on the manifest. A
    configuration next to the manifest counts even when a `.gitignore` hides it from the scan
    (in a checkout without git history bastion cannot tell that it is tracked)."""

    id = "WF001"
    needs = frozenset({"code", "tooling"})  # the facts it reads
    name = "no-pre-commit"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "5 of 5 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem, after counting a configuration that .gitignore hides (the 2 wrong "
        "ones of 7)"
    )
    summary = "Project without a `.pre-commit-config.yaml`"
    why = (
        "Formatting, linting and type errors are cheapest to fix before they are committed. "
        "pre-commit runs the same checks on every developer's machine that CI runs later, so "
        "review time goes to design instead of style."
    )
    hint = (
        "Add a `.pre-commit-config.yaml` (ruff, ruff-format, mypy hooks) and run "
        "`pre-commit install`."
    )
    bad = [
        Example('[project]\nname = "svc"\n', path="pyproject.toml"),
        Example("fastapi==0.115.6\n", path="requirements.txt"),
        Example("[metadata]\nname = svc\n", path="setup.cfg"),
    ]
    good = [
        Example("repos:\n  - repo: local\n    hooks: []\n", path=".pre-commit-config.yaml"),
        Example("repos: []\n", path=".pre-commit-config.yml"),
        Example("repos:\n  - repo: local\n    hooks: []\n", path="backend/.pre-commit-config.yaml"),
    ]

    def check_project(self) -> None:
        anchor = project_anchor(self.project)
        if anchor is None or _has(self.project, "tooling", "precommit"):
            return
        if _ignored_config_beside(self.project, anchor):
            return
        self.report_at(anchor, 1, 1, "the project has no `.pre-commit-config.yaml`")


def _ignored_config_beside(project: ProjectContext, anchor: str) -> bool:
    """A `.pre-commit-config.yaml` next to the manifest that discovery left out because a
    `.gitignore` lists it (lnbits names it; saleor ignores `.*`) and no git index says it is
    tracked (a checkout without `.git`, an unpacked archive): the team has the hooks all the
    same (bench/ecosystem)."""
    folder = project.config.root / PurePosixPath(anchor).parent
    return any(
        (folder / name).is_file() and not (folder / name).is_symlink()
        for name in (".pre-commit-config.yaml", ".pre-commit-config.yml")
    )


class PreCommitMissingChecks(Rule):
    """Flags a `.pre-commit-config.yaml` that runs no formatter (black, ruff-format...), no
    linter (ruff, flake8, pylint...) or no type checker (mypy, pyright...), recognised by hook
    id or by the program of a local hook's `entry`."""

    id = "WF002"
    name = "pre-commit-missing-checks"
    severity = Severity.INFO
    precision = "medium"
    precision_measured = (
        "6 of 7 judged findings right (86%) on 15 application repositories, bench/ecosystem"
    )
    summary = "`.pre-commit-config.yaml` without a formatter, a linter and a type checker"
    why = (
        "The hooks that catch the most for the least effort are a formatter (no style "
        "debates), a linter (real bugs: unused names, shadowing) and a type checker (wrong "
        "arguments, None handling). A pre-commit setup missing one of them lets that class of "
        "problem through to review."
    )
    hint = (
        "Add the missing hooks, e.g. `astral-sh/ruff-pre-commit` (ids `ruff`, `ruff-format`) "
        "and `pre-commit/mirrors-mypy` (id `mypy`)."
    )
    takes = (PrecommitDocument,)
    kinds: ClassVar[frozenset[str]] = kinds_taking(PrecommitDocument)
    bad = [
        Example(
            "repos:\n  - repo: https://github.com/psf/black\n    rev: 24.10.0\n"
            "    hooks:\n      - id: black\n",
            path=".pre-commit-config.yaml",
        ),
        Example(
            "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.8.4\n"
            "    hooks:\n      - id: ruff\n      - id: ruff-format\n",
            path=".pre-commit-config.yaml",
        ),
        Example("repos: []\n", path=".pre-commit-config.yaml"),
    ]
    good = [
        Example(
            "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    rev: v0.8.4\n"
            "    hooks:\n      - id: ruff\n      - id: ruff-format\n"
            "  - repo: https://github.com/pre-commit/mirrors-mypy\n    rev: v1.13.0\n"
            "    hooks:\n      - id: mypy\n",
            path=".pre-commit-config.yaml",
        ),
        Example(
            "repos:\n  - repo: local\n    hooks:\n"
            "      - {id: fmt, name: fmt, entry: black, language: system}\n"
            "      - {id: lint, name: lint, entry: flake8, language: system}\n"
            "      - {id: types, name: types, entry: pyright, language: system}\n",
            path=".pre-commit-config.yaml",
        ),
        Example(
            "repos:\n  - repo: local\n    hooks:\n"
            "      - {id: check, name: c, entry: ruff format --check, language: system}\n"
            "      - {id: pylint, name: p, entry: pylint, language: system}\n"
            "      - {id: t, name: t, entry: python -m mypy, language: system}\n",
            path=".pre-commit-config.yaml",
        ),
    ]

    def check(self) -> None:
        doc = self.ctx.document_as(PrecommitDocument)
        found = hook_categories(doc.hooks)
        missing = [c for c in ("formatter", "linter", "type checker") if c not in found]
        if missing:
            self.report_at(
                doc.repos_line,
                1,
                f"the pre-commit hooks run no {' and no '.join(missing)}",
            )


class NoTypeChecking(ProjectRule):
    """Flags a project with no type checker configuration anywhere: no `[tool.mypy]` /
    `[tool.pyright]` in pyproject.toml, no `[mypy]` in setup.cfg/tox.ini, no `mypy.ini`, no
    `pyrightconfig.json`, and no mypy/pyright pre-commit hook. Reported on the manifest."""

    id = "WF003"
    needs = frozenset({"code", "tooling"})  # the facts it reads
    name = "no-type-checking"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "6 of 6 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Project without mypy/pyright configuration"
    why = (
        "Type hints that nothing checks drift from the code and mislead; a type checker in CI "
        "finds wrong arguments, forgotten `None` cases and broken refactors before they reach "
        "production, where they are 500s."
    )
    hint = (
        "Configure a type checker: `[tool.mypy]` with `strict = true` (or `[tool.pyright]`) in "
        "pyproject.toml, and run it in CI and pre-commit."
    )
    bad = [
        Example('[project]\nname = "svc"\n', path="pyproject.toml"),
        Example('[project]\nname = "svc"\n[tool.ruff]\nline-length = 100\n', path="pyproject.toml"),
        Example("[metadata]\nname = svc\n", path="setup.cfg"),
    ]
    good = [
        Example('[project]\nname = "svc"\n[tool.mypy]\nstrict = true\n', path="pyproject.toml"),
        Example("[mypy]\nstrict = True\n", path="mypy.ini"),
        Example("{}\n", path="pyrightconfig.json"),
        Example("[testenv:typing]\ncommands = mypy --strict src\n", path="tox.ini"),
        Example(
            "jobs:\n  types:\n    steps:\n      - run: uv run pyright src\n",
            path=".github/workflows/ci.yml",
        ),
        Example(
            '[project]\nname = "svc"\n[tool.hatch.envs.types.scripts]\ncheck = "mypy src"\n',
            path="pyproject.toml",
        ),
    ]

    def check_project(self) -> None:
        anchor = project_anchor(self.project)
        if anchor is None or _has(self.project, "tooling", "type_check"):
            return
        self.report_at(anchor, 1, 1, "no mypy or pyright configuration in the project")
