"""The per-function index: what rules ask about one function's own scope, computed once.

Many rules ask the same questions of the function a node sits in - which nodes belong to its
own scope (not to nested functions, lambdas or classes, whose bodies run at another time),
which names its assignments bind and to what, which names hold the result of a call of `X`.
Each used to walk the function itself. `FileContext.function_index(fn)` builds one
`FunctionIndex` per function, lazily (a part is computed when first asked), and every rule of
the run shares it:

    index = self.ctx.function_index(fn)
    for node in index.nodes: ...                 # what `walk_local(fn.body)` yields
    index.returns, index.loops                   # its `return` and `for` statements
    index.single_assignments.get("rows", [])     # `rows = ...` statements, in order
    index.bound_to_calls(imports, {"requests.Session"})  # `s = requests.Session()`, `with`
    index.memo("sessions", lambda: ...)          # a rule family's own per-function fact

`memo` is how analysis helpers above this layer keep their own per-function facts in the index
(`bastion.analysis.function_facts.sessions`: the database sessions of a function), so that two
rules asking the same question pay for it once. Route rules (`rules/api`) can adopt the same
index for their handler walks.

The walks live here (core layer) and `bastion.analysis.nodes` re-exports them.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from bastion.imports import ImportMap

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_STATEMENT_HOLDERS = (ast.stmt, ast.excepthandler, ast.match_case)

T = TypeVar("T")


def walk_local(nodes: ast.AST | list[ast.stmt]) -> Iterator[ast.AST]:
    """Every node below `nodes`, without entering nested functions, lambdas or classes (whose
    bodies run at another time). The `Load`/`Store`/`Del` markers of names and attributes are
    not nodes anyone looks for, and are left out (a third fewer steps on real code)."""
    stack: list[ast.AST] = list(reversed(nodes)) if isinstance(nodes, list) else [nodes]
    pop, push, AST, fields_of = stack.pop, stack.append, ast.AST, CHILD_FIELDS
    while stack:
        node = pop()
        yield node
        # `ast.iter_child_nodes(node)`, in its order, without its two generators per node
        fields = fields_of.get(type(node))
        if fields is None:
            fields = child_fields(type(node))
        for name in fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, AST) and not isinstance(child, _SCOPES):
                        push(child)
            elif isinstance(value, AST) and not isinstance(value, _SCOPES):
                push(value)


# the fields of each node type that may hold child nodes, `ctx` left out: filled by
# `child_fields`, read directly by the walks (a dict lookup per node, no call)
CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def child_fields(kind: type[ast.AST]) -> tuple[str, ...]:
    """The fields of node type `kind` that may hold child nodes, in `_fields` order, without
    `ctx` (the Load/Store/Del markers no rule looks for): what every walk here iterates."""
    fields = CHILD_FIELDS.get(kind)
    if fields is None:
        fields = CHILD_FIELDS[kind] = tuple(f for f in kind._fields if f != "ctx")
    return fields


def walk_breadth(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk(node)`: every node below `node` (nested scopes included), breadth first, in
    its order - less the `Load`/`Store`/`Del` markers, which no rule looks for - at about
    half its cost (no `iter_child_nodes`/`iter_fields` generators per node)."""
    queue: list[ast.AST] = [node]
    push, AST, fields_of = queue.append, ast.AST, CHILD_FIELDS
    position = 0
    while position < len(queue):
        current = queue[position]
        position += 1
        yield current
        fields = fields_of.get(type(current))
        if fields is None:
            fields = child_fields(type(current))
        for name in fields:
            value = getattr(current, name, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, AST):
                        push(child)
            elif isinstance(value, AST):
                push(value)


def local_statements(nodes: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements `walk_local(nodes)` yields, in the same order, without walking any
    expression (no statement is ever inside one): for callers that look only at statements
    (assignments, `with` blocks), at a fraction of the cost."""
    stack: list[ast.AST] = list(reversed(nodes))
    pop, push = stack.pop, stack.append
    while stack:
        node = pop()
        if isinstance(node, ast.stmt):
            yield node
        # the children `walk_local` would push, less the expressions, in its order
        for name in node._fields:
            value = getattr(node, name, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, _STATEMENT_HOLDERS) and not isinstance(child, _SCOPES):
                        push(child)


class FunctionIndex:
    """One function's own scope, indexed on demand (see the module docstring). Every list
    keeps the order of `walk_local(fn.body)`."""

    __slots__ = (
        "_assignments",
        "_calls",
        "_memo",
        "_nodes",
        "_single",
        "_statements",
        "function",
    )

    def __init__(self, function: FunctionNode) -> None:
        self.function = function
        self._nodes: tuple[ast.AST, ...] | None = None
        self._calls: tuple[ast.Call, ...] | None = None
        self._statements: tuple[ast.stmt, ...] | None = None
        self._assignments: dict[str, list[ast.Assign]] | None = None
        self._single: dict[str, list[ast.Assign]] | None = None
        self._memo: dict[object, Any] = {}

    # -- walks ---------------------------------------------------------------------------------
    @property
    def nodes(self) -> tuple[ast.AST, ...]:
        """Every node of the function's own body: `walk_local(fn.body)`, once."""
        if self._nodes is None:
            self._nodes = tuple(walk_local(self.function.body))
        return self._nodes

    @property
    def calls(self) -> tuple[ast.Call, ...]:
        """The calls among `nodes`, in order."""
        if self._calls is None:
            self._calls = tuple(n for n in self.nodes if type(n) is ast.Call)
        return self._calls

    @property
    def statements(self) -> tuple[ast.stmt, ...]:
        """The statements among `nodes` (`local_statements`), without walking expressions."""
        if self._statements is None:
            body = self.function.body
            self._statements = tuple(local_statements(body)) if isinstance(body, list) else ()
        return self._statements

    @property
    def returns(self) -> tuple[ast.Return, ...]:
        """The `return` statements among `statements` (a route rule's returned values)."""
        return self.memo(
            "returns", lambda: tuple(s for s in self.statements if type(s) is ast.Return)
        )

    @property
    def loops(self) -> tuple[ast.For | ast.AsyncFor, ...]:
        """The `for`/`async for` statements among `statements`."""
        return self.memo(
            "loops",
            lambda: tuple(s for s in self.statements if isinstance(s, ast.For | ast.AsyncFor)),
        )

    # -- assignments ---------------------------------------------------------------------------
    def _index_assignments(self) -> None:
        every: dict[str, list[ast.Assign]] = {}
        single: dict[str, list[ast.Assign]] = {}
        for stmt in self.statements:
            if type(stmt) is not ast.Assign:
                continue
            seen: set[str] = set()
            for target in stmt.targets:
                if type(target) is ast.Name and target.id not in seen:
                    seen.add(target.id)
                    every.setdefault(target.id, []).append(stmt)
            if len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
                single.setdefault(stmt.targets[0].id, []).append(stmt)
        self._assignments, self._single = every, single

    @property
    def assignments(self) -> dict[str, list[ast.Assign]]:
        """Name -> the `Assign` statements with that bare name among their targets (`a = b =
        v` counts for both), in order. Tuple unpacking and attributes are not bindings here."""
        if self._assignments is None:
            self._index_assignments()
        assert self._assignments is not None
        return self._assignments

    @property
    def single_assignments(self) -> dict[str, list[ast.Assign]]:
        """Name -> the `name = value` statements (one bare-name target), in order."""
        if self._single is None:
            self._index_assignments()
        assert self._single is not None
        return self._single

    def bindings(self) -> Iterator[tuple[ast.expr, ast.expr | None]]:
        """(value, target) of every `target = value` with one target and every `with value
        as target` item, in order (the pairs a "name bound to a call" question reads)."""
        for stmt in self.statements:
            if type(stmt) is ast.Assign and len(stmt.targets) == 1:
                yield stmt.value, stmt.targets[0]
            elif isinstance(stmt, ast.With | ast.AsyncWith):
                for item in stmt.items:
                    yield item.context_expr, item.optional_vars

    def bound_to_calls(self, imports: ImportMap, qualnames: Iterable[str]) -> frozenset[str]:
        """Names bound (by `name = X(...)` or `with X(...) as name`) to a call of one of
        `qualnames` (resolved through the module's imports), memoised per set of names."""
        wanted = frozenset(qualnames)
        key = "bound_to_calls", wanted
        found: frozenset[str] | None = self._memo.get(key)
        if found is None:
            found = frozenset(
                target.id
                for value, target in self.bindings()
                if type(value) is ast.Call
                and type(target) is ast.Name
                and imports.qualname(value.func) in wanted
            )
            self._memo[key] = found
        return found

    # -- a rule family's own facts -------------------------------------------------------------
    def memo(self, key: str, compute: Callable[[], T]) -> T:
        """`compute()` once per function and key: how helpers above this layer (sessions,
        collections) share a per-function fact between the rules that ask for it."""
        if key in self._memo:
            value: T = self._memo[key]
            return value
        value = self._memo[key] = compute()
        return value
