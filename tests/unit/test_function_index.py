"""The per-function index (`bastion.function_index`, `FileContext.function_index`): the same
answers as the walks it replaces, computed once per function and shared by every rule."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

from bastion.config import Config
from bastion.context import FileContext
from bastion.function_index import FunctionIndex, local_statements, walk_local
from bastion.imports import ImportMap
from bastion.source import SourceText

CODE = textwrap.dedent(
    """
    import requests
    import requests as rq

    def handler(ids):
        a = b = fetch()
        rows = select(User)
        rows = rows.where(x)
        x, y = pair()
        s = requests.Session()
        with rq.Session() as t, open(p) as f:
            for i in ids:
                c = s.get(i)
            def inner():
                hidden = requests.Session()
        return [lambda: z for z in rows]
    """
)


def _index() -> tuple[FunctionIndex, ImportMap, ast.FunctionDef]:
    tree = ast.parse(CODE)
    fn = tree.body[2]
    assert isinstance(fn, ast.FunctionDef)
    imports = ImportMap("app")
    imports.collect_top_level(tree)
    return FunctionIndex(fn), imports, fn


def test_nodes_and_statements_are_the_local_walks_in_their_order() -> None:
    index, _, fn = _index()
    assert list(index.nodes) == list(walk_local(fn.body))
    assert list(index.statements) == list(local_statements(fn.body))
    assert list(index.calls) == [n for n in walk_local(fn.body) if isinstance(n, ast.Call)]
    # nested functions and lambdas are not the function's own scope (as in `walk_local`, a
    # `def` written directly in the body list is the one exception: it is entered)
    assert not any(getattr(n, "id", "") == "hidden" for n in index.nodes)


def test_returns_and_loops_are_statements_of_the_own_scope() -> None:
    index, _, _ = _index()
    assert [r.lineno for r in index.returns] == [16]
    assert [loop.lineno for loop in index.loops] == [12]
    assert index.returns is index.returns  # computed once


def test_assignments_by_name() -> None:
    index, _, _ = _index()
    assert [a.lineno for a in index.assignments["rows"]] == [7, 8]
    assert [a.lineno for a in index.assignments["a"]] == [6]  # `a = b = ...` binds both
    assert "a" not in index.single_assignments and "b" not in index.single_assignments
    assert [a.lineno for a in index.single_assignments["rows"]] == [7, 8]
    assert "x" not in index.assignments  # tuple unpacking is not a binding here
    assert "hidden" not in index.assignments


def test_names_bound_to_calls_through_the_imports() -> None:
    index, imports, _ = _index()
    assert index.bound_to_calls(imports, {"requests.Session"}) == {"s", "t"}
    assert index.bound_to_calls(imports, {"open"}) == {"f"}
    assert index.bound_to_calls(imports, {"httpx.Client"}) == frozenset()


def test_memo_computes_once() -> None:
    index, _, _ = _index()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return 42

    assert index.memo("k", compute) == 42
    assert index.memo("k", compute) == 42
    assert calls == [1]


def test_the_context_shares_one_index_per_function() -> None:
    tree = ast.parse(CODE)
    ctx = FileContext(
        path="app.py", kind="python", source=SourceText(CODE), config=Config(root=Path("."))
    )
    ctx.tree = tree
    fn = tree.body[2]
    assert isinstance(fn, ast.FunctionDef)
    first = ctx.function_index(fn)
    assert ctx.function_index(fn) is first
    assert first.single_assignments is first.single_assignments  # built once
    other = fn.body[-2].body[-1]  # type: ignore[attr-defined]
    assert isinstance(other, ast.FunctionDef)
    assert ctx.function_index(other) is not first
