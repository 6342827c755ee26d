"""DEP002-DEP004: what the project declares as dependencies (requirements files, pyproject)."""

from __future__ import annotations

from typing import ClassVar

from bastion.analysis.deps import (
    Dependency,
    LockDocument,
    PyprojectDocument,
    RequirementsDocument,
    requirements_role,
)
from bastion.findings import Severity
from bastion.kinds import kinds_taking
from bastion.kinds.compose import ComposeDocument
from bastion.kinds.dockerfile import DockerfileDocument
from bastion.kinds.procfile import ProcfileDocument
from bastion.rule import Example, FactCollector, ProjectRule, Rule

# the documents DEP003/DEP004 take, and the kinds (`bastion.kinds.KINDS`) that produce them
_TAKES = (RequirementsDocument, PyprojectDocument)
_DEP_KINDS = kinds_taking(*_TAKES)


def declared(rule: Rule | FactCollector) -> list[Dependency]:
    """The dependencies of the file being checked, each with its group: "main" for what
    production installs (a production requirements file, `[project] dependencies`, Poetry's
    main table), else the extra/group/file role."""
    doc = rule.ctx.document
    if isinstance(doc, RequirementsDocument):
        path = rule.ctx.path
        role = "input" if path.lower().endswith(".in") else requirements_role(path)
        if role == "input":
            role = requirements_role(path[:-3] + ".txt")
        return [_with_group(d, role) for d in doc.dependencies]
    if isinstance(doc, PyprojectDocument):
        return list(doc.dependencies)
    return []


def _with_group(dep: Dependency, group: str) -> Dependency:
    from dataclasses import replace

    return replace(dep, group=group)


# -- facts for the reduce step ---------------------------------------------------------------------


class DependencyFacts(FactCollector):
    """Each declared dependency, each lock file, each include, and whether the project is
    deployed as an application (Dockerfile, Procfile, compose file)."""

    key = "dependencies"
    # the documents it reads (the deployment files only for their presence); checked against
    # the kinds table by tests/unit/test_kinds.py
    takes: ClassVar[tuple[type, ...]] = (
        RequirementsDocument,
        PyprojectDocument,
        LockDocument,
        DockerfileDocument,
        ProcfileDocument,
        ComposeDocument,
    )
    kinds: ClassVar[frozenset[str]] = kinds_taking(*takes)

    def check(self) -> None:
        doc = self.ctx.document
        kind = self.ctx.kind
        if kind in {"dockerfile", "procfile", "compose"}:
            self.add(type="deployed")
            return
        if isinstance(doc, LockDocument) or kind == "lockfile":
            packages = doc.packages if isinstance(doc, LockDocument) else []
            self.add(type="lock", packages=[list(p) for p in packages])
            return
        if isinstance(doc, RequirementsDocument):
            self.add(
                type="requirements",
                input=self.ctx.path.lower().endswith(".in"),
                generated=doc.generated_by_pip_compile,
                constrained=any(i.option == "-c" for i in doc.includes),
                role=requirements_role(self.ctx.path),
            )
        if isinstance(doc, PyprojectDocument):
            self.add(type="pyproject", application=doc.is_application)
        for dep in declared(self):
            self.add(
                type="dep",
                name=dep.name,
                raw=dep.raw,
                line=dep.line,
                group=dep.group,
                bounded=dep.has_upper_bound,
                version=dep.pinned_version,
                source=kind,
            )


class UnpinnedDependency(ProjectRule):
    """Flags production dependencies of an *application* that have no upper bound (`requests`,
    `fastapi>=0.100`) when the project has no lock file (`uv.lock`, `poetry.lock`,
    `pdm.lock`, `Pipfile.lock`).

    What counts as an application's requirements:
    - entries of a production requirements file (`requirements.txt`, `requirements/prod.txt`,
      `requirements-base.txt`...) that is neither a pip-compile input (`*.in`), nor generated
      by pip-compile, nor constrained with `-c constraints.txt`;
    - `[project]`/Poetry main dependencies of a pyproject.toml that declares itself a
      non-package (Poetry `package-mode = false`, uv `package = false`), or of a project that
      is deployed (a Dockerfile, Procfile or compose file) and has no requirements file.

    A library's version ranges in pyproject.toml are never flagged: a library must stay
    installable next to other libraries, so it declares ranges and leaves pinning to the
    applications that use it."""

    id = "DEP002"
    needs = frozenset({"dependencies"})  # the facts it reads
    name = "unpinned-dependency"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "21 of 21 judged findings right (100%) on 15 application repositories, bench/ecosystem "
        "(the one judged wrong before, an extra next to its pinned package, is not reported)"
    )
    summary = "Application dependency with no upper pin and no lock file"
    why = (
        "Without a pin or a lock file, every build installs whatever is newest that day: a "
        "major release or a compromised upload reaches production without review, and the "
        "build that worked yesterday cannot be reproduced to bisect the breakage."
    )
    hint = (
        "Lock the dependencies (`uv lock`, `poetry lock`, `pip-compile` into requirements.txt) "
        "or pin exact versions (`fastapi==0.115.6`) and update them on purpose."
    )
    bad = [
        Example("fastapi\nuvicorn[standard]\n", path="requirements.txt"),
        Example("django>=4.2\n", path="requirements/prod.txt"),
        Example(
            '[project]\nname = "svc"\ndependencies = ["fastapi>=0.100"]\n'
            "[tool.uv]\npackage = false\n",
            path="pyproject.toml",
        ),
    ]
    good = [
        Example("fastapi==0.115.6\nuvicorn[standard]==0.32.1\n", path="requirements.txt"),
        Example("django>=4.2,<5\n", path="requirements.txt"),
        Example('[project]\nname = "lib"\ndependencies = ["httpx>=0.25"]\n', path="pyproject.toml"),
        Example("fastapi\n", path="requirements.in"),
        Example("bleach==6.3.0\nbleach[css]\n", path="requirements.txt"),  # an extra only
    ]

    def check_project(self) -> None:
        facts = self.project.facts("dependencies")
        if any(f["type"] == "lock" for _, f in facts):
            return
        files = {path: f for path, f in facts if f["type"] in {"requirements", "pyproject"}}
        deployed = any(f["type"] == "deployed" for _, f in facts)
        has_requirements = any(f["type"] == "requirements" for f in files.values())
        # `bleach==6.3.0` then `bleach[css]`: the second line only adds an extra, and the
        # version is pinned by the first (issue #15: DefectDojo)
        pinned = {
            (path, _normalized(fact["name"]))
            for path, fact in facts
            if fact["type"] == "dep" and fact["bounded"]
        }
        for path, fact in facts:
            if fact["type"] != "dep" or fact["bounded"] or fact["group"] != "main":
                continue
            if (path, _normalized(fact["name"])) in pinned:
                continue
            origin = files.get(path, {})
            if origin.get("type") == "requirements":
                if origin["input"] or origin["generated"] or origin["constrained"]:
                    continue
            elif origin.get("type") == "pyproject":
                if not (origin["application"] or (deployed and not has_requirements)):
                    continue
            else:
                continue
            self.report_at(
                path,
                fact["line"],
                1,
                f"`{fact['raw']}` has no upper bound and the project has no lock file",
            )


def _normalized(name: str) -> str:
    """A distribution name as PEP 503 compares them (`Foo_Bar` is `foo-bar`)."""
    return "-".join(name.lower().replace("_", "-").replace(".", "-").split("-"))


_DEV_TOOLS = frozenset(
    {
        "pytest",
        "pytest-cov",
        "pytest-asyncio",
        "pytest-django",
        "pytest-mock",
        "pytest-xdist",
        "black",
        "mypy",
        "ruff",
        "flake8",
        "isort",
        "pre-commit",
        "pylint",
        "coverage",
        "tox",
        "nox",
        "ipdb",
        "pdbpp",
        "bandit",
        "autopep8",
        "yapf",
        "pyright",
        "django-debug-toolbar",
        "factory-boy",
        "hypothesis",
    }
)


def _is_dev_tool(name: str) -> bool:
    return name in _DEV_TOOLS or name.startswith(("pytest-", "flake8-"))


class DevDependencyInProduction(Rule):
    """Flags test, lint and type-checking tools (`pytest` and its plugins, `black`, `mypy`,
    `ruff`, `flake8` and its plugins, `isort`, `pre-commit`, `pylint`, `coverage`, `tox`,
    `django-debug-toolbar`...) in the production dependency list: a production requirements
    file (`requirements.txt`, `requirements/prod.txt`, `requirements-base.txt`), `[project]
    dependencies`, or Poetry's main dependencies. Dev files (`requirements-dev.txt`,
    `requirements/test.txt`), optional extras and dependency groups are where they belong."""

    id = "DEP003"
    name = "dev-dependency-in-production"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "2 of 2 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    summary = "Test/lint tool in the production dependencies"
    why = (
        "Every production dependency is shipped, installed on every deploy and part of the "
        "attack surface; test runners and linters only slow builds, bloat images and add "
        "packages to patch - and a debug toolbar in production leaks internals."
    )
    hint = (
        "Move it to a dev-only list: `requirements-dev.txt` (with `-r requirements.txt`), a "
        "`[dependency-groups] dev` group, or `[tool.poetry.group.dev.dependencies]`."
    )
    takes = _TAKES
    kinds: ClassVar[frozenset[str]] = _DEP_KINDS
    bad = [
        Example("fastapi==0.115.6\npytest==8.3.4\n", path="requirements.txt"),
        Example("django==5.1.4\nblack==24.10.0\n", path="requirements/prod.txt"),
        Example(
            '[project]\nname = "svc"\ndependencies = [\n    "flask>=3",\n    "mypy>=1.13",\n]\n',
            path="pyproject.toml",
        ),
    ]
    good = [
        Example("pytest==8.3.4\nblack==24.10.0\n", path="requirements-dev.txt"),
        Example("pytest==8.3.4\n", path="requirements/test.txt"),
        Example(
            '[project]\nname = "svc"\ndependencies = ["flask>=3"]\n'
            '[project.optional-dependencies]\ntest = ["pytest>=8"]\n',
            path="pyproject.toml",
        ),
        Example(
            '[project]\nname = "svc"\ndependencies = ["flask>=3"]\n'
            '[dependency-groups]\ndev = ["ruff>=0.8"]\n',
            path="pyproject.toml",
        ),
    ]

    def check(self) -> None:
        for dep in declared(self):
            if dep.group == "main" and _is_dev_tool(dep.name):
                self.report_at(
                    dep.line,
                    1,
                    f"`{dep.raw}` is a development tool listed in the production dependencies",
                )


_SUCCESSORS = {
    "pycrypto": "unmaintained since 2013 with known vulnerabilities: use `pycryptodome` "
    "or `cryptography`",
    "python-jose": "barely maintained, with open security issues: use `PyJWT` or `joserfc`",
    "passlib": "unmaintained (breaks with bcrypt 4.1+ and Python 3.13): use `pwdlib`, "
    "`argon2-cffi` or `bcrypt`",
    "nose": "unmaintained since 2015 and broken on Python 3.10+: use `pytest`",
    "mock": "a backport: on Python 3 use the standard library's `unittest.mock`",
}


class UnmaintainedDependency(Rule):
    """Flags declared dependencies (any requirements file or pyproject table) that are
    unmaintained and have a maintained successor: `pycrypto`, `python-jose`, `passlib`,
    `nose`, and the `mock` backport on Python 3."""

    id = "DEP004"
    name = "unmaintained-dependency"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "6 of 6 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Dependency that is unmaintained and has a maintained successor"
    why = (
        "An unmaintained package gets no security fixes and stops working with new Python "
        "releases; the longer it stays, the more code depends on it when it finally breaks."
    )
    hint = "Replace it with its maintained successor (named in the message)."
    takes = _TAKES
    kinds: ClassVar[frozenset[str]] = _DEP_KINDS
    bad = [
        Example("fastapi==0.115.6\npython-jose[cryptography]==3.3.0\n", path="requirements.txt"),
        Example("passlib[bcrypt]==1.7.4\n", path="requirements.txt"),
        Example('[project]\nname = "x"\ndependencies = ["pycrypto>=2.6"]\n', path="pyproject.toml"),
        Example("nose==1.3.7\nmock==5.1.0\n", path="requirements-dev.txt"),
    ]
    good = [
        Example("pyjwt==2.10.1\npwdlib[argon2]==0.2.1\n", path="requirements.txt"),
        Example("pycryptodome==3.21.0\n", path="requirements.txt"),
        Example("pytest==8.3.4\npytest-mock==3.14.0\n", path="requirements-dev.txt"),
        Example("# passlib was replaced by pwdlib\npwdlib==0.2.1\n", path="requirements.txt"),
    ]

    def check(self) -> None:
        for dep in declared(self):
            successor = _SUCCESSORS.get(dep.name)
            if successor:
                self.report_at(dep.line, 1, f"`{dep.name}` is {successor}")
