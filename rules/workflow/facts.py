"""Facts about the project's tooling, tests and database migrations, gathered per file for the
project rules (WF001, WF003, TEST001, TEST003, PROD007)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath
from typing import ClassVar

from bastion.analysis.deploy import simple_commands, split_shell, strip_launchers
from bastion.analysis.deps import PyprojectDocument, RequirementsDocument
from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import string_value
from bastion.analysis.posix_paths import path_parts
from bastion.analysis.tooling import IniDocument, PrecommitDocument, hook_categories
from bastion.analysis.web import FASTAPI_APPS, FLASK_APPS
from bastion.context import FileContext
from bastion.parsers import SettingsDocument
from bastion.rule import FactCollector

_COV_FLAG = "--cov-fail-under"
_TYPE_CHECKERS = frozenset({"mypy", "pyright", "basedpyright", "pytype", "dmypy"})


class ToolingFacts(FactCollector):
    """Config files: manifests, type checker / coverage / pre-commit configuration, Alembic."""

    key = "tooling"
    # the documents it reads (YAML: CI workflows and Codecov settings; JSON has no parser,
    # `pyrightconfig.json` counts by its name); checked against the kinds table by
    # tests/unit/test_kinds.py
    takes: ClassVar[tuple[type, ...]] = (
        PyprojectDocument,
        IniDocument,
        PrecommitDocument,
        SettingsDocument,
        RequirementsDocument,
    )
    kinds: ClassVar[frozenset[str]] = frozenset(
        {"pyproject", "ini", "precommit", "json", "yaml", "requirements"}
    )

    def check(self) -> None:
        doc = self.ctx.document
        name = self.ctx.filename.lower()
        if self.ctx.kind == "requirements" and name == "requirements.txt":
            self.add(type="manifest")
        elif isinstance(doc, PyprojectDocument):
            self._pyproject(doc)
        elif isinstance(doc, IniDocument):
            self._ini(name, doc)
        elif isinstance(doc, PrecommitDocument):
            self.add(type="precommit", categories=sorted(hook_categories(doc.hooks)))
            if "type checker" in hook_categories(doc.hooks):
                self.add(type="type_check", where="pre-commit")
        elif self.ctx.kind == "json" and name == "pyrightconfig.json":
            self.add(type="type_check", where="pyrightconfig.json")
        elif self.ctx.kind == "yaml" and _is_ci_file(self.ctx.path):
            # CI workflows that run the checks on the command line: the engine parsed the file
            # once already (a SettingsDocument); its first YAML document is the workflow
            if not isinstance(doc, SettingsDocument):
                return
            data = doc.data
            lines = [line for text in _strings(data) for line in text.splitlines()]
            self._commands(lines, "CI")

    def _commands(self, commands: Iterable[str], where: str) -> None:
        """Command lines (tox `commands`, hatch scripts, CI steps) that enforce a coverage
        threshold or run a type checker."""
        threshold = type_check = False
        for command in commands:
            if not isinstance(command, str):
                continue
            words = split_shell(command)
            if any(w.startswith((_COV_FLAG, "--fail-under")) for w in words):
                threshold = True
            for simple in simple_commands(words):
                program = strip_launchers(simple)
                if program and program[0].rsplit("/", 1)[-1] in _TYPE_CHECKERS:
                    type_check = True
        if threshold:
            self.add(type="coverage", threshold=True)
        if type_check:
            self.add(type="type_check", where=where)

    def _pyproject(self, doc: PyprojectDocument) -> None:
        self.add(type="manifest")
        tool = doc.table("tool") or {}
        if not isinstance(tool, dict):
            return
        if "mypy" in tool or "pyright" in tool or "basedpyright" in tool:
            self.add(type="type_check", where="pyproject.toml")
        coverage = tool.get("coverage")
        pytest_table = tool.get("pytest")
        ini_options = pytest_table.get("ini_options") if isinstance(pytest_table, dict) else None
        addopts = str(ini_options.get("addopts", "")) if isinstance(ini_options, dict) else ""
        if isinstance(coverage, dict):
            report = coverage.get("report") or {}
            threshold = isinstance(report, dict) and "fail_under" in report
            self.add(type="coverage", threshold=threshold)
        if _COV_FLAG in addopts:
            self.add(type="coverage", threshold=True)
        # scripts of hatch/pdm/tox/poe tables: `cov = "pytest --cov-fail-under=90"`
        self._commands(_strings(tool), "pyproject.toml")

    def _ini(self, name: str, doc: IniDocument) -> None:
        sections = doc.sections
        if name in {"setup.cfg"}:
            self.add(type="manifest")
        if name == "alembic.ini" or "alembic" in sections:
            self.add(type="alembic")
        if name == "mypy.ini" or "mypy" in sections or any(s.startswith("mypy-") for s in sections):
            self.add(type="type_check", where=name)
        prefix = "" if name == ".coveragerc" else "coverage:"
        run, report = sections.get(prefix + "run"), sections.get(prefix + "report")
        if run is not None or report is not None:
            self.add(type="coverage", threshold=bool(report and "fail_under" in report))
        for section in ("pytest", "tool:pytest"):
            if _COV_FLAG in sections.get(section, {}).get("addopts", ""):
                self.add(type="coverage", threshold=True)
        # tox `commands = pytest --cov-fail-under=90`, `[testenv:typing] commands = mypy src`
        lines = [
            line for values in sections.values() for v in values.values() for line in v.splitlines()
        ]
        self._commands(lines, name)


_CI_FILES = frozenset(
    {".gitlab-ci.yml", "bitbucket-pipelines.yml", "azure-pipelines.yml", ".travis.yml"}
)


def _is_ci_file(path: str) -> bool:
    posix = PurePosixPath(path)
    folders = posix.parts[:-1]
    return (
        posix.name in _CI_FILES
        or folders[-2:] == (".github", "workflows")
        or ".circleci" in folders
    )


def _strings(value: object) -> Iterator[str]:
    """Every string inside a TOML table (lists and nested tables included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


_SQLA_BASES = frozenset(
    {
        "sqlalchemy.orm.DeclarativeBase",
        "sqlalchemy.orm.DeclarativeBaseNoMeta",
        "sqlalchemy.ext.declarative.declarative_base",
        "sqlalchemy.orm.declarative_base",
    }
)
_STARTUP_DECORATORS = ("on_event", "before_first_request", "before_serving", "on_startup")


_WEB_APPS = FASTAPI_APPS | FLASK_APPS


def _needs_migrations(model: ast.ClassDef) -> bool:
    """False for abstract (`abstract = True`) and unmanaged (`managed = False`) models."""
    for stmt in model.body:
        if not (isinstance(stmt, ast.ClassDef) and stmt.name == "Meta"):
            continue
        for item in stmt.body:
            if isinstance(item, ast.Assign) and isinstance(item.value, ast.Constant):
                names = {t.id for t in item.targets if isinstance(t, ast.Name)}
                if "abstract" in names and item.value.value is True:
                    return False
                if "managed" in names and item.value.value is False:
                    return False
    return True


def _is_startup_function(node: ast.AST) -> bool:
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    if "lifespan" in node.name or "startup" in node.name or node.name == "create_app":
        return True
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        if isinstance(target, ast.Attribute) and target.attr in _STARTUP_DECORATORS:
            if target.attr != "on_event":
                return True
            if call and call.args and string_value(call.args[0]) == "startup":
                return True
    return False


_BASE_NAMES = last_parts({"django.db.models.Model", "sqlmodel.SQLModel", *_SQLA_BASES})


def _assigns_tablename(cls: ast.ClassDef) -> bool:
    """A statement of the class body assigns `__tablename__` (a bare-name target)."""
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id == "__tablename__":
                    return True
    return False


class CodeFacts(FactCollector):
    """Python files: test files, setup.py, Alembic env, ORM models, migrations, and
    `metadata.create_all()` run at start-up."""

    key = "code"
    kinds: ClassVar[frozenset[str]] = frozenset({"python"})
    # visit_Call looks only at `x.create_all(...)` and `conn.run_sync(x.create_all)`
    call_names = frozenset({"create_all", "run_sync"})

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._model_reported = False
        self._tablename: bool | None = None  # whether the text says `__tablename__`, once asked

    def finish(self) -> None:
        parts = path_parts(self.ctx.path)
        name = parts[-1] if parts else ""
        apps = set(self.ctx.imports.instances.values()) & _WEB_APPS
        if apps:
            self.add(type="web_app")
        if self.ctx.is_test_file or name == "tests.py" or name.startswith("test_"):
            self.add(type="test")
        if name == "setup.py":
            self.add(type="manifest")
        # `migrations/`, or a MIGRATION_MODULES folder such as DefectDojo's `db_migrations/`
        folders = [i for i, p in enumerate(parts[:-1]) if p.endswith("migrations")]
        if folders and name != "__init__.py":
            self.add(type="migration", app="/".join(parts[: folders[-1]]))
        if name == "env.py" and self.ctx.imports.is_imported("alembic"):
            self.add(type="alembic")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if not node.bases and self._model_reported:
            return  # without a base, a class only matters while no model was reported
        imports = self.ctx.imports
        # only these qualified names are looked for below: a base whose last name cannot end
        # one of them (`may_name`) is left out without resolving it
        bases = [imports.qualname(b) or "" for b in node.bases if may_name(b, _BASE_NAMES, imports)]
        if "django.db.models.Model" in bases:
            path = PurePosixPath(self.ctx.path)
            app_parts = path.parts[:-1]
            in_models = path.name == "models.py" or (app_parts and app_parts[-1] == "models")
            if app_parts and app_parts[-1] == "models":
                app_parts = app_parts[:-1]
            if in_models and _needs_migrations(node):
                self.add(type="django_model", app="/".join(app_parts), line=node.lineno)
            return
        if self._model_reported:
            return
        if self._tablename is None:
            self._tablename = "__tablename__" in self.ctx.source.text
        has_table = self._tablename and _assigns_tablename(node)
        # asked only of a class with a `__tablename__` (it scans every import of the module)
        uses_orm = has_table and (
            imports.is_imported("sqlalchemy") or imports.is_imported("sqlmodel")
        )
        sqlmodel_table = "sqlmodel.SQLModel" in bases and any(
            k.arg == "table" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if (uses_orm and has_table) or sqlmodel_table or any(b in _SQLA_BASES for b in bases):
            if any(b in _SQLA_BASES for b in bases) and not has_table:
                return  # the declarative base itself
            self._model_reported = True
            self.add(type="sqla_model", line=node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "run_sync" and node.args:
            func = node.args[0]  # `await conn.run_sync(Base.metadata.create_all)`
        if not isinstance(func, ast.Attribute) or func.attr != "create_all":
            return
        receiver = func.value
        is_metadata = isinstance(receiver, ast.Attribute) and receiver.attr == "metadata"
        is_flask_db = self.ctx.imports.instance_of(receiver) == "flask_sqlalchemy.SQLAlchemy"
        if not (is_metadata or is_flask_db) or self.ctx.is_test_file:
            return
        function = self.ctx.enclosing_function()
        imports = self.ctx.imports
        if function is None:
            web = any(imports.is_imported(m) for m in ("fastapi", "flask", "starlette", "quart"))
            if not web:
                return  # a one-off script (init_db.py) is a deliberate choice
        elif not any(_is_startup_function(n) for n in self.ctx.stack):
            return  # a helper or a command: only start-up hooks and lifespans count
        self.add(
            type="create_all",
            line=node.lineno,
            column=node.col_offset + 1,
            code=ast.unparse(func),
        )
