"""`bastion.function_index.walk_breadth`: `ast.walk`'s nodes in `ast.walk`'s order, less the
`Load`/`Store`/`Del` markers (rules/performance/lazy.py relies on the order: the first model
found names the query, issue #17)."""

from __future__ import annotations

import ast
from pathlib import Path

from bastion.function_index import walk_breadth

ROOT = Path(__file__).resolve().parents[2]
_MARKERS = (ast.Load, ast.Store, ast.Del)


def test_walk_breadth_is_ast_walk_without_the_context_markers() -> None:
    globs = ("tests/fixtures/**/*.py", "src/**/*.py", "rules/**/*.py")
    seen = 0
    for path in sorted(p for pattern in globs for p in ROOT.glob(pattern) if p.is_file()):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except SyntaxError:
            continue
        expected = [n for n in ast.walk(tree) if not isinstance(n, _MARKERS)]
        assert list(walk_breadth(tree)) == expected, path
        seen += len(expected)
    assert seen > 100_000


def test_walk_breadth_enters_nested_scopes_like_ast_walk() -> None:
    tree = ast.parse("x = [lambda: a.b for c in d]\ndef f():\n    class C:\n        y = 1\n")
    names = [type(n).__name__ for n in walk_breadth(tree)]
    assert names == [type(n).__name__ for n in ast.walk(tree) if not isinstance(n, _MARKERS)]
    assert "Lambda" in names and "ClassDef" in names and "Load" not in names
