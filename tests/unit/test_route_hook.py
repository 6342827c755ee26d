"""The route hook (issue #17): a rule defines `visit_route(handler, route)` and the engine calls
it for each route of each function, computing the routes once per function for every rule."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bastion.analysis import web
from bastion.analysis.web import Route
from bastion.config import Config
from bastion.discovery import SourceFile
from bastion.engine import FileAnalyzer, FileResult
from bastion.registry import Registry, load_registry
from bastion.rule import Rule, declared_visitors, has_route_hook

Handler = ast.FunctionDef | ast.AsyncFunctionDef


class _Recorder(Rule):
    """Records every route it receives (class-level, so the test can read it back)."""

    name = "route-recorder"
    summary = why = hint = "x"
    seen: ClassVar[list[tuple[str, str, tuple[str, ...], str, int]]] = []

    def visit_route(self, handler: Handler, route: Route) -> None:
        self.seen.append((handler.name, route.framework, route.methods, route.path, route.index))


class RecorderA(_Recorder):
    id = "API990"
    name = "route-recorder-a"
    seen: ClassVar[list[tuple[str, str, tuple[str, ...], str, int]]] = []


class RecorderB(_Recorder):
    id = "API991"
    name = "route-recorder-b"
    seen: ClassVar[list[tuple[str, str, tuple[str, ...], str, int]]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        # the hook ran first: this function's routes are already recorded
        self.seen.append((node.name, "visit_FunctionDef", (), "", -1))


class Crashes(Rule):
    id = "API992"
    name = "route-crasher"
    summary = why = hint = "x"

    def visit_route(self, handler: Handler, route: Route) -> None:
        raise ZeroDivisionError("boom")


def _analyze(code: str, path: str = "app/routes.py", *extra: type[Rule]) -> FileResult:
    registry = Registry(rules=(*load_registry().rules, RecorderA, RecorderB, *extra), collectors=())
    analyzer = FileAnalyzer(Config(root=Path("."), select=("API",)), registry)
    result = FileResult()
    analyzer.analyze_bytes(SourceFile(path, Path(path), "python"), code.encode(), result)
    return result


@pytest.fixture(autouse=True)
def _fresh() -> None:
    RecorderA.seen.clear()
    RecorderB.seen.clear()


FASTAPI = """\
from fastapi import APIRouter as R, FastAPI

app = FastAPI()
router = R(prefix="/api")


@app.get("/users")
def users():
    return []


@router.post("/items/{item_id}")
@router.put("/items/{item_id}")
async def save_item(item_id: int):
    return item_id


@router.api_route("/search", methods=["GET", "POST"])
def search():
    return []


@app.websocket("/ws")
async def socket(ws):
    return None


@some_cache(ttl=5)
def helper():
    return None
"""

FLASK = """\
from flask import Blueprint, Flask

app = Flask(__name__)
bp = Blueprint("admin", __name__, url_prefix="/admin")


@app.route("/")
def home():
    return "ok"


@bp.route("/users/<int:uid>", methods=["DELETE"])
def delete_user(uid):
    return "", 204
"""

QUART = """\
from quart import Quart

app = Quart(__name__)


@app.route("/ping", methods=["POST"])
async def ping():
    return "pong"
"""

STARLETTE = """\
from starlette.applications import Starlette

app = Starlette()


@app.route("/health")
async def health(request):
    return None
"""


def test_every_decorator_route_style_reaches_visit_route() -> None:
    for code in (FASTAPI, FLASK, QUART, STARLETTE):
        result = _analyze(code)
        assert not result.internal_errors, result.internal_errors
    assert RecorderA.seen == [
        ("users", "fastapi", ("GET",), "/users", 0),
        # two decorators: two routes, in decorator order, with the router's prefix
        ("save_item", "fastapi", ("POST",), "/api/items/{item_id}", 0),
        ("save_item", "fastapi", ("PUT",), "/api/items/{item_id}", 1),
        ("search", "fastapi", ("GET", "POST"), "/api/search", 0),
        # Flask's `route` defaults to GET; a blueprint's url_prefix is joined
        ("home", "flask", ("GET",), "/", 0),
        ("delete_user", "flask", ("DELETE",), "/admin/users/<int:uid>", 0),
        ("ping", "flask", ("POST",), "/ping", 0),
        ("health", "fastapi", ("GET",), "/health", 0),
    ]
    # websockets and other decorators are no routes
    assert not {name for name, *_ in RecorderA.seen} & {"socket", "helper"}


def test_the_hook_runs_before_the_rules_own_visit_functiondef() -> None:
    _analyze(FASTAPI)
    users = [entry for entry in RecorderB.seen if entry[0] == "users"]
    assert [entry[1] for entry in users] == ["fastapi", "visit_FunctionDef"]


def test_routes_are_computed_once_per_function(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every rule with the hook (the two recorders and the built-in API rules), and every
    rule that asks `routes_of` again, shares one computation per function."""
    computed: Counter[int] = Counter()
    real = web._decorator_routes

    def counting(node: Handler, ctx: Any) -> list[Route]:
        computed[id(node)] += 1
        return real(node, ctx)

    monkeypatch.setattr(web, "_decorator_routes", counting)
    result = _analyze(FASTAPI)
    assert not result.internal_errors, result.internal_errors
    assert computed, "no routes were computed"
    assert max(computed.values()) == 1
    assert RecorderA.seen == [e for e in RecorderB.seen if e[1] != "visit_FunctionDef"]
    hooked = [r for r in load_registry().file_rules if has_route_hook(r)]
    assert len(hooked) >= 8  # the API rules converted to the hook


def test_a_crash_in_visit_route_is_that_rules_alone() -> None:
    result = _analyze(FLASK, "app/routes.py", Crashes)
    assert result.internal_errors == [
        "internal error in API992 at app/routes.py:8: ZeroDivisionError: boom"
    ]
    # the other rules still received every route
    assert [name for name, *_ in RecorderA.seen] == ["home", "delete_user"]


def test_visit_route_is_no_ast_visitor() -> None:
    assert has_route_hook(RecorderA)
    assert not has_route_hook(Rule)
    assert all(method != "visit_route" for _, _, method in declared_visitors(RecorderA))
