"""Pydantic: which classes of a module are models, and which major version a project declares.

The declared version is read from the project's own dependency files at the config root
(`pyproject.toml` - PEP 621, PEP 735 groups, Poetry -, `requirements*.txt`,
`requirements/*.txt`, and the pinned version in `poetry.lock`/`uv.lock`/`pdm.lock` when
present). Results are cached per root for the life of the process.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastion.imports import ImportMap
from bastion.safe_fs import read_tree_text

# packaging is imported where a dependency file is read: a check of a few Python files that
# never ask for the declared version does not pay for it (start-up time).
if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet
    from packaging.version import Version

SETTINGS_BASES = frozenset(
    {
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.v1.BaseSettings",
    }
)
MODEL_BASES = frozenset(
    {
        "pydantic.BaseModel",
        "pydantic.main.BaseModel",
        "pydantic.generics.GenericModel",
        "pydantic_settings.BaseSettings",
        "pydantic_settings.main.BaseSettings",
        "pydantic.BaseSettings",
        "pydantic.env_settings.BaseSettings",
        "pydantic.RootModel",
        "sqlmodel.SQLModel",
        "sqlmodel.main.SQLModel",
    }
)


def _is_v1_compat(qualified: str) -> bool:
    return qualified.startswith("pydantic.v1.") or qualified == "pydantic.v1"


# Statements that hold no other statement.
_SIMPLE_STATEMENTS = frozenset(
    {
        ast.Expr,
        ast.Assign,
        ast.AugAssign,
        ast.AnnAssign,
        ast.Return,
        ast.Import,
        ast.ImportFrom,
        ast.Pass,
        ast.Break,
        ast.Continue,
        ast.Raise,
        ast.Assert,
        ast.Delete,
        ast.Global,
        ast.Nonlocal,
    }
)


def class_definitions(tree: ast.Module) -> list[ast.ClassDef]:
    """Every `class` statement, at any depth: only statement lists are followed (a class is a
    statement), never expressions, which is most of a tree."""
    found: list[ast.ClassDef] = []
    todo: list[ast.stmt] = list(tree.body)
    simple = _SIMPLE_STATEMENTS
    while todo:
        stmt = todo.pop()
        if type(stmt) in simple:
            continue  # most statements: no statement lists inside
        if isinstance(stmt, ast.ClassDef):
            found.append(stmt)
        # a statement's `body`/`orelse`/`finalbody`, when it has one, is a list of statements
        for name in ("body", "orelse", "finalbody"):
            block = getattr(stmt, name, None)
            if block:
                todo.extend(block)
        for handler in getattr(stmt, "handlers", None) or ():
            todo.extend(handler.body)
        for case in getattr(stmt, "cases", None) or ():
            todo.extend(case.body)
    found.sort(key=lambda c: (c.lineno, c.col_offset))
    return found


def model_classes(
    tree: ast.Module, imports: ImportMap, classes: list[ast.ClassDef] | None = None
) -> tuple[set[str], set[str]]:
    """(names of the classes of this module that are pydantic models - directly or through
    another model class of the module -, names of those built on the `pydantic.v1` shim).
    `classes`: the module's `class_definitions(tree)` when the caller has them already."""
    if classes is None:
        classes = class_definitions(tree)
    models: set[str] = set()
    v1: set[str] = set()
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name in models or cls.name in v1:
                continue
            for base in cls.bases:
                target = base.value if isinstance(base, ast.Subscript) else base
                qualified = imports.qualname(target) or ""
                if _is_v1_compat(qualified) or (isinstance(target, ast.Name) and target.id in v1):
                    v1.add(cls.name)
                    changed = True
                    break
                if qualified in MODEL_BASES or (
                    isinstance(target, ast.Name) and target.id in models
                ):
                    models.add(cls.name)
                    changed = True
                    break
    return models, v1


# -- the declared version ------------------------------------------------------------------------

_PROBES = ("1.8.0", "1.10.0", "1.10.99", "2.0.0", "2.5.0", "2.11.0", "2.99.0")
_LOCK_FILES = ("poetry.lock", "uv.lock", "pdm.lock")


def declared_pydantic_major(root: Path) -> int | None:
    """1 or 2 as declared by the project at `root`; None when it does not say."""
    return _declared_major(str(root))


@lru_cache(maxsize=64)
def _declared_major(root_text: str) -> int | None:
    root = Path(root_text)
    locked = _locked_version(root)
    if locked is not None:
        return locked.major
    majors = {m for spec in _declared_specifiers(root) if (m := _major_of(spec)) is not None}
    if 2 in majors:
        return 2
    if 1 in majors:
        return 1
    return None


def _major_of(spec: SpecifierSet) -> int | None:
    """The highest major version of Pydantic that `spec` allows (1 or 2)."""
    from packaging.version import InvalidVersion, Version

    if not str(spec):
        return 2  # unpinned: whatever is newest
    candidates = [Version(v) for v in _PROBES]
    for item in spec:
        try:
            candidates.append(Version(item.version.removesuffix(".*")))
        except InvalidVersion:
            continue
    allowed = {v.major for v in candidates if spec.contains(v, prereleases=True)}
    if any(major >= 2 for major in allowed):
        return 2
    return 1 if 1 in allowed else None


def _locked_version(root: Path) -> Version | None:
    from packaging.version import InvalidVersion, Version

    for name in _LOCK_FILES:
        data = _toml(root / name)
        for package in data.get("package", []) if isinstance(data, dict) else []:
            if isinstance(package, dict) and package.get("name") == "pydantic":
                try:
                    return Version(str(package.get("version", "")))
                except InvalidVersion:
                    return None
    return None


def _toml(path: Path) -> dict[str, Any]:
    try:
        from bastion.kinds.common import DocumentError
        from bastion.kinds.toml import load_toml

        # a root-level file: a link out of the root, a FIFO or /dev/zero is refused
        return load_toml(read_tree_text(path, path.parent))
    except (OSError, ValueError, DocumentError, MemoryError):
        # TOMLDecodeError and UnicodeDecodeError are ValueErrors; a 1500-deep array used to
        # escape here and skip every Pydantic-importing module. The file itself gets its
        # BAS001 when it is analysed; here it only tells no version.
        return {}


def _requirement_specs(lines: Iterable[Any]) -> Iterator[SpecifierSet]:
    for line in lines:
        if not isinstance(line, str):
            continue
        text = line.split("#", 1)[0].strip()
        if not text or text.startswith("-"):
            continue
        # imported here, when there is a requirement to read: the import costs ~40 ms
        from packaging.requirements import InvalidRequirement, Requirement

        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if req.name.lower().replace("_", "-") == "pydantic":
            yield req.specifier


def dependency_files(root: Path) -> list[Path]:
    """The files the project's declared Pydantic version is read from (the cache keys on
    them: ORG004's findings in a module depend on them, not only on the module)."""
    return [
        root / "pyproject.toml",
        *(root / name for name in _LOCK_FILES),
        *_requirement_files(root),
    ]


def _requirement_files(root: Path) -> list[Path]:
    return sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt"))


def _declared_specifiers(root: Path) -> Iterator[SpecifierSet]:
    data = _toml(root / "pyproject.toml")
    project = data.get("project", {})
    if isinstance(project, dict):
        yield from _requirement_specs(project.get("dependencies", []) or [])
        optional = project.get("optional-dependencies", {}) or {}
        if isinstance(optional, dict):
            for group in optional.values():
                yield from _requirement_specs(group if isinstance(group, list) else [])
    groups = data.get("dependency-groups", {})
    if isinstance(groups, dict):
        for group in groups.values():
            yield from _requirement_specs(group if isinstance(group, list) else [])
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    if isinstance(poetry, dict):
        for key in ("dependencies", "dev-dependencies"):
            deps = poetry.get(key, {})
            value = deps.get("pydantic") if isinstance(deps, dict) else None
            if isinstance(value, dict):
                value = value.get("version")
            if isinstance(value, str):
                spec = _poetry_spec(value)
                if spec is not None:
                    yield spec
    for path in _requirement_files(root):
        try:
            text = read_tree_text(path, root, errors="replace")
        except OSError:
            continue
        yield from _requirement_specs(text.splitlines())


_CARET = re.compile(r"^\^(\d+)(?:\.(\d+))?")


def _poetry_spec(value: str) -> SpecifierSet | None:
    """Poetry's `^1.10`, `~1.10`, `1.10.*`, `>=1,<2`, `*`."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    value = value.strip()
    if value in ("", "*"):
        return SpecifierSet()
    caret = _CARET.match(value)
    if caret:
        major = int(caret.group(1))
        return SpecifierSet(f">={caret.group(1)}.{caret.group(2) or 0},<{major + 1}")
    if value.startswith("~") and not value.startswith("~="):
        parts = value[1:].split(".")
        if len(parts) >= 2:
            return SpecifierSet(f">={value[1:]},<{parts[0]}.{int(parts[1]) + 1}")
        return SpecifierSet(f">={value[1:]},<{int(parts[0]) + 1}")
    if value[0].isdigit():
        value = "==" + value
    try:
        return SpecifierSet(value)
    except InvalidSpecifier:
        return None
