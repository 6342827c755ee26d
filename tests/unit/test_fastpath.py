"""The cheap questions rules ask first must never answer differently from the costly ones."""

from __future__ import annotations

import ast
from pathlib import Path

import hypothesmith
from hypothesis import given

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import local_statements, walk_local, walk_statements
from bastion.imports import ImportMap

ROOT = Path(__file__).resolve().parents[2]


def _functions() -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    found: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
    for path in sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "rules").rglob("*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += [
            n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
    return found


def test_local_statements_are_walk_locals_statements_in_order() -> None:
    functions = _functions()
    assert len(functions) > 500
    for function in functions:
        expected = [n for n in walk_local(function.body) if isinstance(n, ast.stmt)]
        assert list(local_statements(function.body)) == expected, function.name


def test_local_statements_enter_handlers_and_cases_but_not_nested_scopes() -> None:
    body = ast.parse(
        "try:\n    a = 1\nexcept E:\n    b = 2\nfinally:\n    c = 3\n"
        "match x:\n    case 1:\n        d = 4\n"
        "if t:\n    def f():\n        e = 5\n"
    ).body
    names = [
        t.id
        for s in local_statements(body)
        if isinstance(s, ast.Assign)
        for t in s.targets
        if isinstance(t, ast.Name)
    ]
    assert sorted(names) == ["a", "b", "c", "d"]


def test_may_name_rules_out_only_attributes_with_another_last_part() -> None:
    names = last_parts({"yaml.load", "pickle.loads", "eval"})
    assert names == {"load", "loads", "eval"}
    imports = ImportMap("m")
    imports.collect_top_level(ast.parse("import yaml as y\nfrom pickle import loads as pl\n"))

    def func(code: str) -> ast.expr:
        call = ast.parse(code, mode="eval").body
        assert isinstance(call, ast.Call)
        return call.func

    for code in ("y.load(s)", "pl(s)", "eval(s)", "anything(s)", "f()(s)"):
        assert may_name(func(code), names), code  # can be one of them: resolve to know
    for code in ("y.safe_load(s)", "obj.method(s)"):
        assert not may_name(func(code), names), code
        assert imports.qualname(func(code)) not in {"yaml.load", "pickle.loads", "eval"}
    # given the imports, bare names are resolved first: `pl` is `pickle.loads`
    for code in ("y.load(s)", "pl(s)", "eval(s)", "f()(s)"):
        assert may_name(func(code), names, imports), code
    for code in ("anything(s)", "y.safe_load(s)"):
        assert not may_name(func(code), names, imports), code


WALK_SHAPES = """
def outer(a):
    x = 1
    try:
        y = f()
    except (ValueError, KeyError) as exc:
        z: int = 2
    else:
        w = 3
    finally:
        v = 4
    match a:
        case [first, *_]:
            m = first
        case _:
            m = None
    while x:
        for i in range(3):
            with open(p) as fh:
                k = fh.read()
        else:
            e = 5
    class Inner:
        attr = 1
        def method(self):
            q = lambda: (r := 1)
            return q
    async def nested():
        async with lock:
            s = await g()
    return x
"""


@given(hypothesmith.from_grammar())
def test_walk_statements_is_ast_walk_without_expressions(code: str) -> None:
    for source in (code, WALK_SHAPES):
        tree = ast.parse(source)
        expected = [n for n in ast.walk(tree) if isinstance(n, ast.stmt)]
        assert [n for n in walk_statements(tree) if isinstance(n, ast.stmt)] == expected
