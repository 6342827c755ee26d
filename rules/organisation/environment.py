"""ORG003: environment variables read all over the code base."""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from typing import Any

import pathspec

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import string_value
from bastion.analysis.pydantic import SETTINGS_BASES
from bastion.analysis.scripts import (
    in_script_code,
    is_script_file,
    main_entry_functions,
    runs_as_program,
)
from bastion.findings import Severity
from bastion.rule import Example, Rule

DEFAULT_SETTINGS_MODULES = [
    "settings.py",
    "*_settings.py",
    "settings_*.py",
    "settings/",
    "config.py",
    "*_config.py",
    "celeryconfig.py",
    "config/",
    "conf.py",
    "conf/",
    "gunicorn.conf.py",
    "env.py",
]


# variables of the operating system, the terminal, the shell and the toolchain: they describe
# the machine, not the application's configuration, and have no place in a settings class
_SYSTEM_VARIABLES = frozenset(
    {
        "PATH",
        "PATHEXT",
        "HOME",
        "USER",
        "USERNAME",
        "USERPROFILE",
        "LOGNAME",
        "SHELL",
        "TERM",
        "COLORTERM",
        "NO_COLOR",
        "FORCE_COLOR",
        "CLICOLOR",
        "CLICOLOR_FORCE",
        "COLUMNS",
        "LINES",
        "EDITOR",
        "VISUAL",
        "PAGER",
        "BROWSER",
        "LANG",
        "LANGUAGE",
        "LC_ALL",
        "LC_CTYPE",
        "LC_MESSAGES",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        "PWD",
        "OLDPWD",
        "HOSTNAME",
        "APPDATA",
        "LOCALAPPDATA",
        "PROGRAMDATA",
        "PROGRAMFILES",
        "PUBLIC",
        "SYSTEMROOT",
        "SYSTEMDRIVE",
        "WINDIR",
        "COMSPEC",
        "HOMEDRIVE",
        "HOMEPATH",
        "DISPLAY",
        "WAYLAND_DISPLAY",
        "VIRTUAL_ENV",
        "CFLAGS",
        "CPPFLAGS",
        "CXXFLAGS",
        "LDFLAGS",
        "CC",
        "CXX",
        "LDSHARED",
        "AR",
        "ARFLAGS",
        "MAKEFLAGS",
        "SOURCE_DATE_EPOCH",
    }
)
_SYSTEM_PREFIXES = (
    "XDG_",
    "PYTHON",
    "CONDA_",
    "COMP_",
    "SSH_",
    "LC_",
    "PIP_",
    "WT_",
    "TERM_",
    "ANDROID_",
    "PYTEST_",
    "PROCESSOR_",
)


# variables the platform, the server or the build sets to say where and how the process runs
# (`FLASK_RUN_FROM_CLI` set by `flask run`, `KUBERNETES_SERVICE_HOST` set in every pod, a
# container marker, the build's revision): detecting the runtime, not reading the
# application's configuration (bench/ecosystem: CTFd, paperless-ngx, dispatch)
_RUNTIME_VARIABLES = frozenset(
    {
        "FLASK_RUN_FROM_CLI",
        "WERKZEUG_RUN_MAIN",
        "WERKZEUG_SERVER_FD",
        "RUN_MAIN",
        "SERVER_SOFTWARE",
        "GAE_ENV",
        "DYNO",
        "K_SERVICE",
        "CI",
        "GIT_COMMIT",
        "GIT_SHA",
        "SOURCE_COMMIT",
        "SOURCE_VERSION",
    }
)
_RUNTIME_PREFIXES = ("KUBERNETES_", "GITHUB_", "GITLAB_", "AWS_LAMBDA_", "AWS_EXECUTION_")
_RUNTIME_SUFFIXES = ("_BUILD", "_REVISION", "_COMMIT", "_COMMIT_SHA", "_GIT_SHA")
_RUNTIME_WORDS = ("CONTAINERIZED", "IN_DOCKER", "IN_CONTAINER", "RUNNING_IN_")
# where the settings themselves live (`DJANGO_SETTINGS_MODULE`, `IHATEMONEY_SETTINGS_FILE_PATH`):
# read before any settings object exists, so it cannot come from one
_SETTINGS_LOCATION = re.compile(r"SETTINGS_(?:MODULE|FILE|FILE_PATH|PATH|DIR)$")


def is_system_variable(name: str) -> bool:
    upper = name.upper()
    return upper in _SYSTEM_VARIABLES or upper.startswith(_SYSTEM_PREFIXES)


def is_runtime_variable(name: str) -> bool:
    """Set by the platform, server or build, or names where the settings live."""
    upper = name.upper()
    return (
        upper in _RUNTIME_VARIABLES
        or upper.startswith(_RUNTIME_PREFIXES)
        or upper.endswith(_RUNTIME_SUFFIXES)
        or any(word in upper for word in _RUNTIME_WORDS)
        or _SETTINGS_LOCATION.search(upper) is not None
    )


@lru_cache(maxsize=32)
def _spec(patterns: tuple[str, ...]) -> Any:
    return pathspec.GitIgnoreSpec.from_lines(patterns)


_GETENV = frozenset({"os.getenv", "os.getenvb", "os.environ.get", "os.environb.get"})
_GETENV_NAMES = last_parts(_GETENV)
_ENVIRON_NAMES = frozenset({"environ", "environb"})


class ScatteredEnvAccess(Rule):
    """Flags reads of environment variables - `os.getenv(...)`, `os.environ.get(...)`,
    `os.environ[...]` - outside the settings modules.

    Settings modules are the files matching the `settings-modules` option (default:
    `settings.py`, `*_settings.py`, `settings/`, `config.py`, `*_config.py`,
    `celeryconfig.py`, `config/`, `conf.py`, `conf/`, `env.py`, `gunicorn.conf.py`) and
    any module that defines a pydantic `BaseSettings` subclass.

    Also not flagged: tests, scripts and CLIs (see LOG001), code under
    `if __name__ == "__main__":`, writes (`os.environ["X"] = ...`, `setdefault`), passing
    the environment on (`env=os.environ.copy()`), variables that describe the machine rather
    than the application (`PATH`, `HOME`, `TERM`, `EDITOR`, `LANG`, `TZ`, `XDG_*`,
    `PYTHON*`, compiler flags...), variables the platform, server or build sets to say where
    the process runs (`FLASK_RUN_FROM_CLI`, `KUBERNETES_*`, `*_CONTAINERIZED`, `*_BUILD`,
    `*_REVISION`) or that say where the settings live (`*_SETTINGS_MODULE`,
    `*_SETTINGS_FILE_PATH`), generic helpers that read a variable named by their
    parameter, Django system checks (`@register()`) that warn about a variable, reading back
    `os.environ[key]` that the same function has just set, and modules whose top-level code
    reads `sys.argv` or exits (programs, see LOG001)."""

    id = "ORG003"
    name = "scattered-env-access"
    severity = Severity.INFO
    precision = "medium"
    precision_measured = (
        "22 of 25 judged findings right (88%) on 15 application repositories, bench/ecosystem"
    )
    summary = "`os.environ`/`os.getenv` read outside the settings module"
    why = (
        "Configuration read from the environment wherever it is needed is invisible: nobody "
        "can list what a deployment must set, values are parsed (or not) differently at each "
        "place, a typo in a variable name silently yields the default, and tests have to patch "
        "the environment. One settings object (pydantic-settings' `BaseSettings`, Django "
        "settings) declares every variable with its type and default, validates them at "
        "start-up, and is injected where needed."
    )
    hint = (
        "Declare the variable as a field of a `BaseSettings` class (pydantic-settings) or in "
        "the settings module, and read it from the settings object."
    )
    options = {"settings-modules": DEFAULT_SETTINGS_MODULES}
    requires = ("environ", "getenv")
    call_names = _GETENV_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        Example(
            "import os\n\ndef get_db():\n    return connect(os.environ['DATABASE_URL'])\n",
            path="app/db.py",
        ),
        Example("import os\n\nAPI_KEY = os.getenv('STRIPE_KEY', '')\n", path="app/payments.py"),
        Example(
            "from os import environ\n\ndef debug_enabled():\n"
            "    return environ.get('DEBUG') == '1'\n",
            path="app/views.py",
        ),
    ]
    good = [
        Example("import os\n\nDATABASE_URL = os.environ['DATABASE_URL']\n", path="app/settings.py"),
        Example(
            "import os\nfrom pydantic_settings import BaseSettings\n\n"
            "class Settings(BaseSettings):\n    database_url: str\n\n"
            "REGION = os.getenv('AWS_REGION', 'eu-west-1')\n",
            path="app/core/settings_model.py",
        ),
        Example(
            "import os\n\ndef test_env():\n    assert os.getenv('CI') is not None\n",
            path="tests/test_env.py",
        ),
        Example(
            "import os\nimport subprocess\n\ndef build():\n"
            "    subprocess.run(['make'], env=os.environ.copy())\n"
            "    os.environ['LANG'] = 'C'\n",
            path="app/build.py",
        ),
        Example(
            "import os\n\ndef home():\n"
            "    return os.environ.get('HOME') or os.getenv('XDG_CONFIG_HOME')\n\n"
            "def read(name):\n    return os.environ[name]\n",
            path="app/paths.py",
        ),
        Example(
            "import os\n\nif __name__ == '__main__':\n"
            "    run(port=int(os.getenv('PORT', '8000')))\n",
            path="app/server.py",
        ),
    ]

    def visit_Module(self, node: ast.Module) -> None:
        patterns = tuple(self.option("settings-modules"))
        self._skip = (
            is_script_file(self.ctx)
            or runs_as_program(node, self.ctx.imports)
            or _spec(patterns).match_file(self.ctx.path)
            or _defines_settings_class(node, self)
        )
        self._entry = main_entry_functions(node) if not self._skip else set()

    def _flag(self, node: ast.expr, variable: ast.expr | None, spelling: str) -> None:
        if self._skip or in_script_code(self.ctx, self._entry):
            return
        name = string_value(variable)
        if name is not None and (is_system_variable(name) or is_runtime_variable(name)):
            return
        if isinstance(variable, ast.Name) and self._is_parameter(variable.id):
            return  # a generic helper (`def env(name): return os.environ[name]`)
        if self._in_system_check():
            return  # a Django system check that warns about a (deprecated) variable
        if isinstance(variable, ast.Name) and self._written_here(variable.id):
            return  # `environ[key] = value` ... `environ[key]`: reads back what it set
        what = f'{spelling}("{name}")' if name and "[" not in spelling else spelling
        if name and "[" in spelling:
            what = f'os.environ["{name}"]'
        self.report(node, f"`{what}` read outside the settings module")

    def _is_parameter(self, name: str) -> bool:
        func = self.ctx.enclosing_function()
        if func is None:
            return False
        args = func.args
        return name in {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}

    def _in_system_check(self) -> bool:
        """Inside a function registered as a Django system check (`@register()` from
        `django.core.checks`): paperless-ngx's checks read deprecated variables to warn about
        them, which is the check's purpose."""
        for node in self.ctx.stack:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    name = self.ctx.imports.qualname(target) or ""
                    if name.startswith("django.core.checks") and name.endswith(".register"):
                        return True
        return False

    def _written_here(self, key: str) -> bool:
        """The enclosing function stores `os.environ[key]` under the same variable `key`."""
        func = self.ctx.enclosing_function()
        if func is None:
            return False
        for node in ast.walk(func):
            if (
                isinstance(node, ast.Subscript)
                and isinstance(node.ctx, ast.Store)
                and isinstance(node.slice, ast.Name)
                and node.slice.id == key
                and self.ctx.imports.qualname(node.value) in ("os.environ", "os.environb")
            ):
                return True
        return False

    def visit_Call(self, node: ast.Call) -> None:
        if not may_name(node.func, _GETENV_NAMES, self.ctx.imports):
            return
        qualified = self.ctx.imports.qualname(node.func)
        if qualified in _GETENV:
            variable = node.args[0] if node.args else None
            self._flag(node, variable, qualified)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load) or not may_name(
            node.value, _ENVIRON_NAMES, self.ctx.imports
        ):
            return
        if self.ctx.imports.qualname(node.value) in ("os.environ", "os.environb"):
            self._flag(node, node.slice, "os.environ[...]")


def _defines_settings_class(tree: ast.Module, rule: Rule) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            for base in stmt.bases:
                if rule.ctx.imports.qualname(base) in SETTINGS_BASES:
                    return True
    return False
