"""Module-level constants and settings defaults, resolved across the project.

`allow_origins=settings.CORS_ORIGINS` says nothing in the module that writes it; the value is
the default of a field of a `Settings` class in another module (`CORS_ORIGINS: list[str] =
["*"]`, read from the environment only when set there) or a module constant (`ORIGINS =
["*"]`). The `ConstantFacts` collector (`rules/security/cors.py`) records, per module, the
literal values of such names; `resolve` answers a dotted reference made elsewhere
(`app.core.config.settings.CORS_ORIGINS`, `app.config.ORIGINS`).

Only names matching a caller's word list are recorded, and only JSON-able literals.
"""

from __future__ import annotations

import ast
from typing import Any

from bastion.analysis.web import module_name_of

CONSTANT_FACTS = "project_constants"


def literal(node: ast.expr | None) -> tuple[bool, Any]:
    """(True, value) for a JSON-able literal (str, number, bool, None, lists/tuples of them)."""
    if node is None:
        return False, None
    try:
        value = ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None
    if isinstance(value, tuple | set | frozenset):
        value = list(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return True, value
    if isinstance(value, str | int | float | bool) or value is None:
        return True, value
    return False, None


def module_constants(tree: ast.Module, wanted: tuple[str, ...]) -> list[dict[str, Any]]:
    """Facts for `NAME = <literal>`, classes with literal field defaults, and module-level
    instances of those classes, for names containing one of `wanted` (lower case)."""

    def interesting(name: str) -> bool:
        lowered = name.lower()
        return any(word in lowered for word in wanted)

    facts: list[dict[str, Any]] = []
    classes: dict[str, dict[str, Any]] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.ClassDef):
            fields: dict[str, Any] = {}
            for item in stmt.body:
                name, value = _assignment(item)
                if name and interesting(name):
                    ok, found = literal(value)
                    if ok:
                        fields[name] = found
            if fields:
                classes[stmt.name] = fields
                facts.append({"kind": "class", "name": stmt.name, "fields": fields})
            continue
        name, value = _assignment(stmt)
        if not name:
            continue
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Name)
            and value.func.id in classes
            and not value.args
            and not value.keywords
        ):
            facts.append({"kind": "instance", "var": name, "class": value.func.id})
        elif interesting(name):
            ok, found = literal(value)
            if ok:
                facts.append({"kind": "const", "name": name, "value": found})
    return facts


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if isinstance(target, ast.Name):
            return target.id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id, stmt.value
    return None, None


def resolve(facts: list[tuple[str, dict[str, Any]]], reference: str) -> tuple[bool, Any]:
    """The literal behind `reference` (`pkg.config.settings.CORS_ORIGINS` - an instance's
    field default -, `pkg.config.ORIGINS` - a constant): (True, value) when exactly one module
    of the project answers it."""
    by_module: dict[str, list[dict[str, Any]]] = {}
    for path, fact in facts:
        by_module.setdefault(path, []).append(fact)
    parts = reference.split(".")
    answers: list[Any] = []
    # `module.CONST`
    if len(parts) >= 2:
        for path in _files(by_module, ".".join(parts[:-1])):
            for fact in by_module[path]:
                if fact.get("kind") == "const" and fact.get("name") == parts[-1]:
                    answers.append(fact["value"])
    # `module.instance.FIELD`
    if len(parts) >= 3:
        module, var, field = ".".join(parts[:-2]), parts[-2], parts[-1]
        for path in _files(by_module, module):
            for fact in by_module[path]:
                if fact.get("kind") != "instance" or fact.get("var") != var:
                    continue
                for other in by_module[path]:
                    fields = other.get("fields") or {}
                    if other.get("name") == fact.get("class") and field in fields:
                        answers.append(fields[field])
    if len(answers) == 1:
        return True, answers[0]
    return False, None


def _files(by_module: dict[str, list[dict[str, Any]]], dotted: str) -> list[str]:
    out = []
    for path in by_module:
        name, _ = module_name_of(path)
        if name == dotted or name.endswith("." + dotted):
            out.append(path)
    return out if len(out) == 1 else []
