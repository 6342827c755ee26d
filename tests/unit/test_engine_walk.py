"""The engine's walk skips work on leaf nodes (names, constants, operators): it must still call
every handler on every node, in source order, with the same ancestors on `ctx.stack` as a plain
recursive walk would. A recording rule on leaf and inner node types is compared with a reference
walk written here, on generated programs and on hand-picked ones."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings

from bastion.config import Config
from bastion.discovery import SourceFile
from bastion.engine import FileAnalyzer, FileResult
from bastion.registry import Registry
from bastion.rule import Rule

Event = tuple[str, str, int, int, tuple[str, ...]]
# leaf types (some skipped by the walk when nobody visits them) and inner ones
VISITED = ("Name", "Constant", "Add", "Pass", "alias", "Call", "BinOp", "FunctionDef", "Compare")
LEFT = ("Name", "Constant", "FunctionDef", "Eq")


class _WalkRecorder(Rule):
    id = "ORG990"
    name = "walk-recorder"
    summary = why = hint = "x"
    events: ClassVar[list[Event]] = []

    def _record(self, phase: str, node: ast.AST) -> None:
        ancestors = tuple(type(n).__name__ for n in self.ctx.stack)
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        self.events.append((phase, type(node).__name__, *where, ancestors))


def _handler(phase: str) -> Any:
    def handle(self: _WalkRecorder, node: ast.AST) -> None:
        self._record(phase, node)

    return handle


for _name in VISITED:
    setattr(_WalkRecorder, f"visit_{_name}", _handler("visit"))
for _name in LEFT:
    setattr(_WalkRecorder, f"leave_{_name}", _handler("leave"))


def _children(node: ast.AST) -> Iterator[ast.AST]:
    for field, value in ast.iter_fields(node):
        if field == "ctx":  # the engine never visits expression contexts
            continue
        if isinstance(value, list):
            yield from (v for v in value if isinstance(v, ast.AST))
        elif isinstance(value, ast.AST):
            yield value


def _reference(tree: ast.AST) -> list[Event]:
    events: list[Event] = []
    stack: list[ast.AST] = []

    def record(phase: str, node: ast.AST) -> None:
        where = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        ancestors = tuple(type(n).__name__ for n in stack)
        events.append((phase, type(node).__name__, *where, ancestors))

    def walk(node: ast.AST) -> None:
        if type(node).__name__ in VISITED:
            record("visit", node)
        stack.append(node)
        for child in _children(node):
            walk(child)
        stack.pop()
        if type(node).__name__ in LEFT:
            record("leave", node)

    walk(tree)
    return events


def _engine(code: str) -> list[Event]:
    _WalkRecorder.events = []
    registry = Registry(rules=(_WalkRecorder,), collectors=())
    analyzer = FileAnalyzer(Config(root=Path("."), select=("ORG990",)), registry)
    result = FileResult()
    analyzer.analyze_bytes(SourceFile("m.py", Path("m.py"), "python"), code.encode(), result)
    assert not result.internal_errors
    return _WalkRecorder.events


SAMPLES = [
    "x = a + 1\nif x == 2:\n    pass\n",
    "import os, sys as system\nfrom a import (b, c as d)\n",
    "def f(a, b=1, *c, d=2, **e):\n    return g(a)(b) + h[c] - -d\n",
    "class C:\n    x: int = 0\n    def m(self):\n"
    "        global y\n        y = [i for i in range(3) if i == 1]\n",
    "match p:\n    case None | True:\n        pass\n"
    "    case [1, *rest]:\n        pass\n    case {'k': v, **kw}:\n        pass\n",
    "async def f():\n    async with a as b:\n        await c(d, e=f'{g!r:>{w}}')\n",
    "x = {1: 2, **other}\ny = not a and b or c < d <= e is not f\n",
]


@pytest.mark.parametrize("code", SAMPLES)
def test_the_walk_visits_what_a_plain_recursive_walk_visits(code: str) -> None:
    expected = _reference(ast.parse(code))
    assert expected  # the sample exercises the recorder
    assert _engine(code) == expected


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(hypothesmith.from_grammar())
def test_the_walk_matches_the_reference_on_generated_programs(code: str) -> None:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError):  # the engine reports those (BAS001)
        return
    assert _engine(code) == _reference(tree)


def test_the_cycle_collector_is_paused_during_a_file_and_restored_after() -> None:
    import gc

    seen: list[bool] = []

    class GcProbe(Rule):
        id = "ORG991"
        name = "gc-probe"
        summary = why = hint = "x"

        def visit_Module(self, node: ast.Module) -> None:
            seen.append(gc.isenabled())

    registry = Registry(rules=(GcProbe,), collectors=())
    analyzer = FileAnalyzer(Config(root=Path("."), select=("ORG991",)), registry)
    source = SourceFile("m.py", Path("m.py"), "python")
    assert gc.isenabled()
    analyzer.analyze_data(source, b"x = 1\n")
    assert seen == [False] and gc.isenabled()
    gc.disable()  # a caller that manages the collector itself keeps it as it was
    try:
        analyzer.analyze_data(source, b"x = 1\n")
        assert seen == [False, False] and not gc.isenabled()
    finally:
        gc.enable()
