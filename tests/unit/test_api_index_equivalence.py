"""rules/api/pagination.py reads handlers through the shared per-function index
(`FileContext.function_index`) instead of walking each body several times (issue #17). Each
helper must answer exactly as the walk it replaced: the walks are kept here as references and
compared on every function of the test fixtures, the examples, bastion's own code and some
synthetic handlers."""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from bastion.rules.api import pagination as p

from bastion.analysis.function_text import function_text
from bastion.analysis.nodes import string_value, walk_local
from bastion.config import Config
from bastion.context import FileContext
from bastion.imports import ImportMap
from bastion.source import SourceText

ROOT = Path(__file__).resolve().parents[2]
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

SYNTHETIC = textwrap.dedent(
    """
    def filled(db):
        out = []
        for row in db.query(User).all():
            out.append(row)
        return out

    def filled_late(db):
        return out
        for row in Model.objects.all():
            out.extend(row)

    def reassigned(session):
        rows = session.scalars(q.limit(10))
        rows = session.scalars(q)
        return rows.all()

    def nested(s):
        def inner():
            return s.query(User).all()
        return inner

    def wrapped(q):
        data = list(q.filter(x=1))
        return jsonify({"items": [d.to_dict() for d in data], "n": len(q.all())})

    def pages(request, limit):
        size = request.args.get("per_page")
        if limit > 100:
            limit = 100
        return render_template("x.html", rows=Model.query.all()[:limit])

    def scoped(request):
        mine = Item.objects.filter(owner=request.user).first()
        return Item.objects.filter(user=request.user)

    async def awaited(conn):
        cur = await conn.execute(q)
        return [r for r in await cur.fetchall()] + [lambda: q.all()]
    """
)


# Files where a text test on the function's lines would go wrong (`function_text` is None
# for them): identifiers spelled otherwise than in the tree, lines that `str.splitlines` splits
# where Python does not (the function's lines would be the wrong ones).
TRICKY = {
    "fullwidth.py": "def rows(q):\n    return q.\uff41ll()\n",
    "formfeed.py": "\x0c\x0c\x0c\x0c\ndef rows(db):\n    return db.query(User).all()\n\n\n\n"
    "def other():\n    return 1\n",
    "spaced.py": "def rows(db):\n    return db.query(User) . all ( )\n",
}


def _files() -> Iterator[tuple[str, str]]:
    yield "synthetic.py", SYNTHETIC
    yield from TRICKY.items()
    globs = ("tests/fixtures/**/*.py", "examples/**/*.py", "src/**/*.py", "rules/**/*.py")
    for path in sorted(path for pattern in globs for path in ROOT.glob(pattern)):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        yield str(path.relative_to(ROOT)), text


def _functions() -> Iterator[tuple[str, FileContext, FunctionNode]]:
    for name, text in _files():
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        ctx = FileContext(
            path=name, kind="python", source=SourceText(text), config=Config(root=ROOT)
        )
        ctx.tree = tree
        ctx.imports = ImportMap(ctx.module_name)
        ctx.imports.collect_top_level(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield name, ctx, node


FUNCTIONS = list(_functions())


# -- the walks the index replaced (session-5 start) ------------------------------------------
def _ref_parts(value: ast.expr) -> list[ast.expr]:
    out: list[ast.expr] = []
    stack: list[ast.AST] = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else ""
            called = func.attr if isinstance(func, ast.Attribute) else name
            if name in p._AGGREGATES or called in p._TEMPLATES:
                continue
        if isinstance(node, ast.Subscript) and not isinstance(node.slice, ast.Slice):
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.expr):
            out.append(node)
        stack.extend(ast.iter_child_nodes(node))
    return out


def _ref_assignments(handler: FunctionNode) -> dict[str, ast.expr]:
    assigned: dict[str, ast.expr] = {}
    for node in walk_local(handler.body):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                assigned[target.id] = node.value
    return assigned


def _ref_filled(handler: FunctionNode, assigned: dict[str, ast.expr]) -> set[str]:
    filled: set[str] = set()
    for node in walk_local(handler.body):
        if not isinstance(node, ast.For | ast.AsyncFor):
            continue
        if not p._is_query_result(node.iter, assigned):
            continue
        for inner in walk_local(node.body):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in ("append", "extend")
                and isinstance(inner.func.value, ast.Name)
            ):
                filled.add(inner.func.value.id)
    return filled


def _ref_returned_collection(handler: FunctionNode) -> ast.expr | None:
    returns = [
        node
        for node in walk_local(handler.body)
        if isinstance(node, ast.Return) and node.value is not None
    ]
    if not returns:
        return None
    assigned = _ref_assignments(handler)
    filled = _ref_filled(handler, assigned)
    for ret in returns:
        assert ret.value is not None
        for sub in _ref_parts(ret.value):
            if p._is_query_result(sub, assigned):
                return sub
            if isinstance(sub, ast.Name) and sub.id in filled:
                return sub
    return None


def _ref_returns_bounded(handler: FunctionNode) -> bool:
    assigned = _ref_assignments(handler)
    return any(
        isinstance(node, ast.Return)
        and node.value is not None
        and p._is_bounded_chain(node.value, assigned)
        for node in walk_local(handler.body)
    )


def _ref_pages_in_body(handler: FunctionNode) -> bool:
    for node in walk_local(handler.body):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if "paginat" in name.lower() or p._page_helper(name, node):
                return True
            if name in ("get", "getlist", "get_argument", "get_query_argument") and node.args:
                key = string_value(node.args[0])
                if key is not None and key.lower() in p.PAGINATION_PARAMS:
                    return True
        elif isinstance(node, ast.Subscript):
            key = string_value(node.slice)
            if key is not None and key.lower() in p.PAGINATION_PARAMS:
                return True
        elif isinstance(node, ast.Name) and "paginat" in node.id.lower():
            return True
    return False


def _ref_user_scoped(func: FunctionNode) -> bool:
    reduced: set[int] = set()
    for node in walk_local(func.body):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in p._ONE_ROW
        ):
            chain: ast.expr = node.func.value
            while isinstance(chain, ast.Call) and isinstance(chain.func, ast.Attribute):
                reduced.add(id(chain))
                chain = chain.func.value
    for node in walk_local(func.body):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in ("filter", "exclude") or id(node) in reduced:
            continue
        for value in [*node.args, *(kw.value for kw in node.keywords)]:
            for sub in ast.walk(value):
                if (
                    isinstance(sub, ast.Attribute)
                    and sub.attr == "user"
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id in ("request", "req")
                ):
                    return True
    return False


def _ref_companion_key(node: FunctionNode) -> bool:
    """The body half of `_pages` (a paging key read from the query string)."""
    for sub in walk_local(node.body):
        if isinstance(sub, ast.Call) and sub.args:
            key = string_value(sub.args[0])
            if key is not None and key.lower() in p._PAGE_COMPANIONS:
                return True
    return False


def test_the_corpus_of_functions_is_not_trivial() -> None:
    assert len(FUNCTIONS) > 1000
    collections = [f for _, _, f in FUNCTIONS if _ref_returned_collection(f) is not None]
    assert len(collections) > 20  # the comparisons below see whole queries, not only None


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_text_shortcut_never_hides_a_collection(name: str) -> None:
    found = [(ctx, f) for path, ctx, f in FUNCTIONS if path == name and f.name == "rows"]
    assert len(found) == 1
    ctx, fn = found[0]
    assert p._returned_collection(fn, ctx) is _ref_returned_collection(fn) is not None


def test_function_text_is_none_where_lines_or_names_differ() -> None:
    texts = {
        path: function_text(f, ctx)
        for path, ctx, f in FUNCTIONS
        if path in TRICKY
        if f.name == "rows"
    }
    assert texts == {
        "fullwidth.py": None,
        "formfeed.py": None,
        "spaced.py": "def rows(db):\n    return db.query(User) . all ( )",
    }


@pytest.mark.parametrize("function", ["filled", "filled_late", "reassigned", "wrapped"])
def test_synthetic_handlers_return_collections(function: str) -> None:
    found = {f.name: (ctx, f) for name, ctx, f in FUNCTIONS if name == "synthetic.py"}
    ctx, fn = found[function]
    assert p._returned_collection(fn, ctx) is _ref_returned_collection(fn) is not None


def test_returned_collection_is_the_walks_answer() -> None:
    for name, ctx, fn in FUNCTIONS:
        expected = _ref_returned_collection(fn)
        assert p._returned_collection(fn, ctx) is expected, (name, fn.lineno)
        assert p._returned_collection(fn, ctx) is expected  # memoised: the same answer


def test_returned_parts_are_the_walks_parts_in_order() -> None:
    for name, _, fn in FUNCTIONS:
        for ret in walk_local(fn.body):
            if isinstance(ret, ast.Return) and ret.value is not None:
                assert p._returned_parts(ret.value) == _ref_parts(ret.value), (name, ret.lineno)


def test_assignments_bounds_and_body_questions_are_the_walks_answers() -> None:
    for name, ctx, fn in FUNCTIONS:
        where = (name, fn.lineno)
        assert p._handler_assignments(fn, ctx) == _ref_assignments(fn), where
        assert p._returns_bounded(fn, ctx) == _ref_returns_bounded(fn), where
        assert p._pages_in_body(fn, ctx) == _ref_pages_in_body(fn), where
        assert p._user_scoped(fn, ctx) == _ref_user_scoped(fn), where
        assert p._reads_companion_key(fn, ctx) == _ref_companion_key(fn), where
        assigned = _ref_assignments(fn)
        assert p._names_filled_from_queries(ctx.function_index(fn), assigned) == _ref_filled(
            fn, assigned
        ), where
