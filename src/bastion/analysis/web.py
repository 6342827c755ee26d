"""Recognising web routes: FastAPI/Starlette, Flask, Django REST Framework.

Route rules ask `routes_of(function, ctx)` instead of matching decorator names themselves, so
that aliases (`from fastapi import APIRouter as R`), router prefixes (`APIRouter(prefix=...)`,
`Blueprint(url_prefix=...)`) and the frameworks' default methods are handled in one place.

Prefixes added in *another* module (`app.include_router(users.router, prefix="/api")`) are
only known to project rules: the `routes` and `router_mounts` facts (see
`bastion.rules.api.facts`) carry what is needed to join them.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from bastion.analysis.nodes import keyword_value, string_elements, string_value
from bastion.context import FileContext

HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options", "trace")

FASTAPI_APPS = frozenset(
    {"fastapi.FastAPI", "fastapi.applications.FastAPI", "starlette.applications.Starlette"}
)
FASTAPI_ROUTERS = frozenset(
    {"fastapi.APIRouter", "fastapi.routing.APIRouter", "starlette.routing.Router"}
)
FLASK_APPS = frozenset({"flask.Flask", "flask.app.Flask", "quart.Quart"})
FLASK_BLUEPRINTS = frozenset({"flask.Blueprint", "flask.blueprints.Blueprint", "quart.Blueprint"})
FLASK_METHOD_VIEWS = frozenset(
    {
        "flask.views.MethodView",
        "flask.views.View",
        "flask_restful.Resource",
        "flask_smorest.MethodView",
    }
)

DRF_LIST_VIEWS = frozenset(
    {
        "rest_framework.generics.ListAPIView",
        "rest_framework.generics.ListCreateAPIView",
        "rest_framework.viewsets.ModelViewSet",
        "rest_framework.viewsets.ReadOnlyModelViewSet",
        "rest_framework.mixins.ListModelMixin",
    }
)


@dataclass(frozen=True)
class Route:
    framework: str  # "fastapi" | "flask" | "drf"
    methods: tuple[str, ...]  # upper-case HTTP methods
    path: str  # as declared, with the router's own prefix from this module when known
    local_path: str  # as written in the decorator
    router: str  # the receiver name (`router`, `app`, `bp`), "" when none
    handler: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    node: ast.AST  # where to report: the decorator (or the class for DRF)
    call: ast.Call | None  # the decorator call

    def describe(self) -> str:
        """`GET /api/users` for messages."""
        return f"{'/'.join(self.methods)} {self.path or '/'}"


def _framework_of_receiver(receiver: ast.expr, ctx: FileContext) -> str | None:
    """Which framework a router/app object belongs to: by how it was created in this module,
    else by which framework the module imports."""
    imports = ctx.imports
    factory = imports.instance_of(receiver)
    if factory in FASTAPI_APPS or factory in FASTAPI_ROUTERS:
        return "fastapi"
    if factory in FLASK_APPS or factory in FLASK_BLUEPRINTS:
        return "flask"
    if factory is not None:
        return None  # created by something else: not a router we know
    uses_fastapi = imports.is_imported("fastapi") or imports.is_imported("starlette")
    uses_flask = imports.is_imported("flask") or imports.is_imported("quart")
    if uses_fastapi and not uses_flask:
        return "fastapi"
    if uses_flask and not uses_fastapi:
        return "flask"
    return None


def router_prefix(receiver: ast.expr, ctx: FileContext) -> str:
    """The prefix given where the router was created in this module."""
    call = ctx.imports.instance_call(receiver)
    if call is None:
        return ""
    for key in ("prefix", "url_prefix"):
        value = string_value(keyword_value(call, key))
        if value:
            return value
    return ""


def join_paths(*parts: str) -> str:
    joined = "/".join(p.strip("/") for p in parts if p and p.strip("/"))
    trailing = "/" if parts and parts[-1].endswith("/") and len(parts[-1]) > 1 else ""
    return "/" + joined + trailing if joined else "/"


def _decorator_route(
    decorator: ast.expr,
    handler: ast.FunctionDef | ast.AsyncFunctionDef,
    ctx: FileContext,
) -> Route | None:
    if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
        return None
    attr = decorator.func.attr
    receiver = decorator.func.value
    if attr not in (*HTTP_METHODS, "route", "api_route", "websocket"):
        return None
    if attr == "websocket":
        return None
    framework = _framework_of_receiver(receiver, ctx)
    if framework is None:
        return None
    local = string_value(decorator.args[0] if decorator.args else keyword_value(decorator, "path"))
    if local is None:
        local = string_value(keyword_value(decorator, "rule")) if framework == "flask" else None
    if local is None:
        return None
    if attr in HTTP_METHODS:
        methods: tuple[str, ...] = (attr.upper(),)
    else:
        declared = string_elements(keyword_value(decorator, "methods"))
        if declared is None:
            # Flask's `route` defaults to GET; FastAPI's `api_route` too.
            declared = ["GET"]
        methods = tuple(m.upper() for m in declared)
    router = receiver.id if isinstance(receiver, ast.Name) else ""
    prefix = router_prefix(receiver, ctx)
    return Route(
        framework=framework,
        methods=methods,
        path=join_paths(prefix, local) if prefix else local,
        local_path=local,
        router=router,
        handler=handler,
        node=decorator,
        call=decorator,
    )


def routes_of(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> list[Route]:
    """The routes a function is registered for by its decorators (FastAPI, Flask)."""
    routes: list[Route] = []
    for decorator in node.decorator_list:
        route = _decorator_route(decorator, node, ctx)
        if route is not None:
            routes.append(route)
    return routes


def is_route_handler(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> bool:
    return bool(routes_of(node, ctx)) or method_view_of(node, ctx) is not None


def base_names(node: ast.ClassDef, ctx: FileContext) -> list[str]:
    return [name for base in node.bases if (name := ctx.imports.qualname(base))]


def is_drf_list_view(node: ast.ClassDef, ctx: FileContext) -> bool:
    return any(name in DRF_LIST_VIEWS for name in base_names(node, ctx))


def method_view_of(
    node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> ast.ClassDef | None:
    """For `get`/`post`/... methods of a Flask `MethodView` (or flask-restful `Resource`)
    class: that class."""
    if node.name not in HTTP_METHODS:
        return None
    cls = ctx.enclosing_class()
    if cls is None or node not in cls.body:
        return None
    if any(name in FLASK_METHOD_VIEWS for name in base_names(cls, ctx)):
        return cls
    return None


def parameter_names(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    args = node.args
    return [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
