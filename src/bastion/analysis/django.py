"""Recognising Django settings modules statically (they are never imported).

A module is a *settings module* when it is named `settings.py`, lives in a `settings/` package,
or assigns `INSTALLED_APPS` (or both `SECRET_KEY` and `DATABASES`) at module level. Django's own
defaults (`django/conf/global_settings.py`) are not a project's settings: they are skipped.

Settings meant for development, local machines or tests are recognised by file name
(`settings/dev.py`, `local_settings.py`, `settings_test.py`, `settings/development.py`...) and by
the project's test paths (`tests/...`): deployment rules (DEBUG, ALLOWED_HOSTS, cookie flags,
password hashers) stay silent there, since those files are never meant to serve production.

Settings rules read only the module's own top-level statements (`top_level_settings`):
assignments nested in `if`/`try` blocks are environment-dependent and left alone, and a
top-level value that such a block replaces with another value (`is_overridden`) is only a
default for some environments, so it is left alone too. Settings split across modules are
judged module by module, with one exception (`production_overrides`): the shared defaults
module of a `settings/` package (`base.py`, `common.py`) whose production module next to it
(`production.py`, `prod.py`) assigns the same setting again - that value never reaches
production (issue #15: bakerydemo).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bastion.astcompat import TRY_NODES
from bastion.context import FileContext

# Words in a settings file name that say "not for production".
DEV_WORDS = frozenset(
    {
        "dev",
        "devel",
        "develop",
        "development",
        "local",
        "locals",
        "test",
        "tests",
        "testing",
        "debug",
        # settings for the test suite or CI (bench/ecosystem: DefectDojo's `unittests.py`,
        # NetBox's `smoketest_configuration.py`)
        "unittest",
        "unittests",
        "smoketest",
        "ci",
        "e2e",
    }
)
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
# Modules holding a framework's defaults rather than a project's choices.
_DEFAULTS_MODULES = frozenset({"global_settings.py"})


@dataclass(frozen=True)
class Setting:
    """One module-level `NAME = value` (or `NAME: T = value`) statement."""

    name: str
    value: ast.expr
    statement: ast.stmt
    target: ast.expr


def _words(text: str) -> set[str]:
    return {w for w in _WORD_SPLIT.split(text.lower()) if w}


def top_level_settings(tree: ast.Module) -> list[Setting]:
    """Upper-case names assigned directly in the module body, in order."""
    out: list[Setting] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if isinstance(target, ast.Name) and target.id.isupper():
                    out.append(Setting(target.id, stmt.value, stmt, target))
        elif (
            isinstance(stmt, ast.AnnAssign)
            and stmt.value is not None
            and isinstance(stmt.target, ast.Name)
            and stmt.target.id.isupper()
        ):
            out.append(Setting(stmt.target.id, stmt.value, stmt, stmt.target))
    return out


def is_settings_module(path: str, tree: ast.Module | None) -> bool:
    """A Django settings module, by name or by what it assigns (see the module docstring)."""
    pure = PurePosixPath(path)
    if pure.name in _DEFAULTS_MODULES:
        return False
    if pure.name == "settings.py" or "settings" in pure.parent.parts[-1:]:
        return True
    if tree is None:
        return False
    names = {s.name for s in top_level_settings(tree)}
    return "INSTALLED_APPS" in names or {"SECRET_KEY", "DATABASES"} <= names


def is_dev_settings_path(path: str) -> bool:
    """True when the file name (or, for a module of a `settings/` package, the module name)
    says development, local or test settings: `dev.py`, `local_settings.py`,
    `settings_test.py`, `settings/development.py`."""
    return bool(_words(PurePosixPath(path).stem) & DEV_WORDS)


def is_deployment_settings(ctx: FileContext) -> bool:
    """A settings module that may be deployed: not named for dev/local/test, not under the
    project's test paths."""
    if not is_settings_module(ctx.path, ctx.tree):
        return False
    return not is_dev_settings_path(ctx.path) and not ctx.is_test_file


def is_dev_name(name: str) -> bool:
    """A class or file name that says dev/local/test: `TestingConfig`, `DevConfig`,
    `LocalSettings`. CamelCase is split into words."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return bool(_words(spaced) & DEV_WORDS)


def _conditional_assignments(tree: ast.Module) -> list[tuple[str, ast.expr]]:
    """`NAME = value` statements nested in the module's top-level `if`/`try` blocks."""
    out: list[tuple[str, ast.expr]] = []
    blocks: list[list[ast.stmt]] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.If):
            blocks += [stmt.body, stmt.orelse]
        elif isinstance(stmt, TRY_NODES):
            blocks += [stmt.body, stmt.orelse, stmt.finalbody, *(h.body for h in stmt.handlers)]
    while blocks:
        for stmt in blocks.pop():
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        out.append((target.id, stmt.value))
            elif isinstance(stmt, ast.If):
                blocks += [stmt.body, stmt.orelse]
            elif isinstance(stmt, TRY_NODES):
                blocks += [stmt.body, stmt.orelse, stmt.finalbody, *(h.body for h in stmt.handlers)]
    return out


def is_overridden(tree: ast.Module, setting: Setting) -> bool:
    """True when the module also assigns the setting a *different* value under an `if`/`try`
    (`DEBUG = True` then `if os.environ.get("PROD"): DEBUG = False`): the top-level value is
    only a default for some environments."""
    flagged = ast.dump(setting.value)
    return any(
        name == setting.name and ast.dump(value) != flagged
        for name, value in _conditional_assignments(tree)
    )


# the shared module of a split `settings/` package, and the module that deploys
_BASE_SETTINGS = frozenset({"base", "common", "defaults", "default", "shared"})
_PRODUCTION_SETTINGS = ("production.py", "prod.py")


def production_overrides(ctx: FileContext) -> frozenset[str]:
    """Names the production module of the same `settings/` package assigns at module level
    (also inside its `if`/`try` blocks), when this file is that package's shared base module:
    those base values are development defaults production replaces. Empty otherwise."""
    path = PurePosixPath(ctx.path)
    if path.stem not in _BASE_SETTINGS or "settings" not in path.parent.parts[-1:]:
        return frozenset()
    folder = Path(ctx.config.root) / path.parent
    names: set[str] = set()
    for name in _PRODUCTION_SETTINGS:
        try:
            tree = ast.parse((folder / name).read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError, UnicodeDecodeError):
            continue
        names.update(s.name for s in top_level_settings(tree))
        names.update(name for name, _ in _conditional_assignments(tree))
    return frozenset(names)
