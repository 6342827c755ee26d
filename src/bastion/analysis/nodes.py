"""Small, pure helpers over stdlib `ast` nodes."""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterator

# the walks of a function's own scope live with the per-function index (core layer)
from bastion.function_index import local_statements as local_statements
from bastion.function_index import walk_local as walk_local
from bastion.imports import ImportMap


def walk_statements(root: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk(root)` restricted to statements (and `root`), in the same order, without
    visiting a single expression: statements only ever sit in the statement lists of statements,
    `except` handlers and `match` cases, and leaving out subtrees without statements keeps
    the breadth-first order of the rest. Several times cheaper than `ast.walk` on real code."""
    todo = deque([root])
    while todo:
        node = todo.popleft()
        yield node
        for name in _BLOCK_FIELDS.get(type(node), ()):
            todo.extend(getattr(node, name))


def import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements of a module body that run at import time: the body, and what is nested
    in its `if`, `try` and `with` blocks (`if settings.DEBUG: urlpatterns += [...]`) - not
    function or class bodies."""
    for stmt in body:
        yield stmt
        if isinstance(stmt, ast.If | ast.With):
            yield from import_time_statements(stmt.body)
            yield from import_time_statements(getattr(stmt, "orelse", []))
        elif isinstance(stmt, ast.Try) or type(stmt).__name__ == "TryStar":  # 3.11's except*
            for block in ("body", "orelse", "finalbody"):
                yield from import_time_statements(getattr(stmt, block))
            for handler in getattr(stmt, "handlers", []):
                yield from import_time_statements(handler.body)


def _block_fields(node_type: type[ast.AST]) -> tuple[str, ...]:
    """The fields of a node type that hold statements, handlers or match cases, in order."""
    blocks = ("body", "orelse", "finalbody", "handlers", "cases")
    return tuple(f for f in node_type._fields if f in blocks)


_STATEMENT_TYPES: list[type[ast.AST]] = [
    c for c in vars(ast).values() if isinstance(c, type) and issubclass(c, ast.stmt)
]
_BLOCK_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {
    t: _block_fields(t) for t in (*_STATEMENT_TYPES, ast.ExceptHandler, ast.match_case, ast.Module)
}


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def keyword_value(call: ast.Call, name: str) -> ast.expr | None:
    kw = keyword(call, name)
    return kw.value if kw is not None else None


def has_kwargs_splat(call: ast.Call) -> bool:
    """`f(**options)`: anything could be passed, so absence of a keyword proves nothing."""
    return any(kw.arg is None for kw in call.keywords)


def argument(call: ast.Call, position: int, name: str) -> ast.expr | None:
    """The argument passed at `position` or as keyword `name`."""
    if position < len(call.args) and not any(
        isinstance(a, ast.Starred) for a in call.args[: position + 1]
    ):
        return call.args[position]
    return keyword_value(call, name)


def is_true(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


def string_value(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def held_name(node: ast.AST) -> str | None:
    """The name a value is held under: a variable (`password`), an attribute
    (`user.password`), a string subscript (`form["password"]`) or a `.get("password")`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript):
        return string_value(node.slice)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
    ):
        return string_value(node.args[0])
    return None


def string_elements(node: ast.expr | None) -> list[str] | None:
    """The strings of a list/tuple/set literal of string constants (or a single string); None
    when the value is not such a literal."""
    single = string_value(node)
    if single is not None:
        return [single]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        out: list[str] = []
        for element in node.elts:
            value = string_value(element)
            if value is None:
                return None
            out.append(value)
        return out
    return None


def target_names(target: ast.expr) -> list[str]:
    """Names bound by an assignment target: `a`, `self.a` -> `a`, `x["a"]` -> `a`."""
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Attribute):
        return [target.attr]
    if isinstance(target, ast.Subscript):
        key = string_value(target.slice)
        return [key] if key is not None else []
    if isinstance(target, ast.Tuple | ast.List):
        return [n for element in target.elts for n in target_names(element)]
    return []


def exception_names(handler: ast.ExceptHandler, imports: ImportMap) -> list[str]:
    """Qualified names of the exception types a handler catches ([] for a bare `except:`)."""
    if handler.type is None:
        return []
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names: list[str] = []
    for t in types:
        name = imports.qualname(t)
        names.append(name if name is not None else "?")
    return names


BROAD_EXCEPTIONS = frozenset(
    {"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"}
)


def catches_broadly(handler: ast.ExceptHandler, imports: ImportMap) -> bool:
    """Bare `except:`, `except Exception` / `BaseException`, or a tuple holding one of them."""
    if handler.type is None:
        return True
    return any(name in BROAD_EXCEPTIONS for name in exception_names(handler, imports))


def reraises(body: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Raise) for n in walk_local(body))
