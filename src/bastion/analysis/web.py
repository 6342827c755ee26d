"""Recognising web routes: FastAPI/Starlette, Flask, Django REST Framework.

Route rules define `visit_route(handler, route)` (the engine calls it for each route of each
function, see `bastion.rule.Rule.visit_route`) or ask `routes_of(function, ctx)` instead of
matching decorator names themselves, so that aliases (`from fastapi import APIRouter as R`),
router prefixes (`APIRouter(prefix=...)`, `Blueprint(url_prefix=...)`) and the frameworks'
default methods are handled in one place.

Prefixes added in *another* module (`app.include_router(users.router, prefix="/api")`) are
only known to project rules: the `routes` and `router_mounts` facts (see
`bastion.rules.api.facts`) carry what is needed to join them.
"""

from __future__ import annotations

import ast
import functools
import re
import weakref
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any

from bastion.analysis.nodes import keyword_value, string_elements, string_value
from bastion.context import FileContext, ProjectContext

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
        "flask_restx.Resource",
        "flask_restplus.Resource",
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
    index: int = 0  # its position among the routes of its handler (0: the first decorator)

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


# Routes by function node, per parsed tree (kept while the tree lives: a route points at its
# handler, never at the module): the engine computes them once per function for the
# `visit_route` hook, and every rule that asks again gets the same list.
_ROUTES: weakref.WeakKeyDictionary[ast.Module, dict[ast.AST, list[Route]]] = (
    weakref.WeakKeyDictionary()
)


def routes_of(node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext) -> list[Route]:
    """The routes a function is registered for by its decorators (FastAPI, Flask), computed
    once per function of a parsed file (the list is shared: never modify it)."""
    if ctx.tree is None:
        return _decorator_routes(node, ctx)
    memo = _ROUTES.get(ctx.tree)
    if memo is None:
        memo = _ROUTES[ctx.tree] = {}
    routes = memo.get(node)
    if routes is None:
        routes = memo[node] = _decorator_routes(node, ctx)
    return routes


def _decorator_routes(
    node: ast.FunctionDef | ast.AsyncFunctionDef, ctx: FileContext
) -> list[Route]:
    routes: list[Route] = []
    for decorator in node.decorator_list:
        route = _decorator_route(decorator, node, ctx)
        if route is not None:
            routes.append(replace(route, index=len(routes)) if routes else route)
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


# -- project facts: apps, routers, routes, mounts, error handlers ------------------------------
#
# The `WebFacts` collector (`bastion.rules.api.facts`) records, per module, small dicts under
# the fact key `WEB_FACTS`, each with a "kind":
#   module   {name, package}                        dotted name from the path, is it __init__
#   app      {framework, var, line, column}         `app = FastAPI()` / `Flask(__name__)`
#   router   {framework, var, prefix, prefix_text, line}   `APIRouter(prefix=...)`, `Blueprint`
#   route    {framework, methods, path, router, handler, line, html, unknown_prefix}
#            (Starlette `Route`s inside `Mount`s have the mount paths joined to `path`)
#   include  {parent, child, prefix, prefix_text, replaces, line}
#            `include_router(users.router, prefix=...)`, `register_blueprint(bp, url_prefix=)`,
#            `mount("/v1", sub_app)`; `child` is the dotted name as imported ("app.api.users.
#            router", ".users.router" for relative imports, "router" for a local name)
#   handler  {target, exception, line}              exception handlers for Exception/500...,
#            also "helper" for `register_error_handlers(app)` and "middleware" for an HTTP
#            middleware that catches everything
#   health   {name, line}                           `setup_health(app)`: a health helper
# `prefix` is None when the prefix is not a string literal (then `prefix_text` is its source).

WEB_FACTS = "web"
DJANGO_SETTINGS_FACTS = "django_settings"

HEALTH_WORDS = frozenset(
    {
        "health",
        "healthz",
        "healthcheck",
        "health-check",
        "health_check",
        "_health",
        "livez",
        "readyz",
        "liveness",
        "readiness",
        "ping",
        "alive",
        "heartbeat",
        "probe",
    }
)
# Only a health route when they are the whole path (`/status`, `/ready`): `/orders/{id}/status`
# is not one.
WEAK_HEALTH_WORDS = frozenset({"status", "_status", "live", "ready", "up", "hc"})
_VERSION_SEGMENT = re.compile(r"^v\d+(\.\d+)*$", re.IGNORECASE)
_VERSION_TEXT = re.compile(r"(^|[^a-z])v\d|version", re.IGNORECASE)


# Words that make a handler, route name, router or included module about health checks.
HEALTH_NAME_WORDS = ("health", "ping", "alive", "liveness", "readiness", "heartbeat")


def mentions_health(text: str) -> bool:
    """`views.healthz`, `HealthView.as_view()`, `"health_check.urls"`: a name about health."""
    lowered = text.lower()
    return any(word in lowered for word in HEALTH_NAME_WORDS)


def is_health_path(path: str) -> bool:
    segments = [s for s in path.lower().split("/") if s]
    if any(s in HEALTH_WORDS for s in segments):
        return True
    return len(segments) == 1 and segments[0] in WEAK_HEALTH_WORDS


def has_version_segment(path: str) -> bool:
    return any(_VERSION_SEGMENT.match(s) for s in path.split("/") if s)


def mentions_version(text: str) -> bool:
    """`settings.API_V1_STR`, `f"/api/{version}"`: a prefix we cannot evaluate that names a
    version."""
    return bool(_VERSION_TEXT.search(text))


@functools.lru_cache(maxsize=4096)  # asked per module by several project facts (8k calls on django)
def module_name_of(path: str) -> tuple[str, bool]:
    """(`app.api.users`, is_package) for `app/api/users.py`; `src/` layouts keep their `src`
    (references are matched by suffix, see `WebProject.find_module`)."""
    parts = list(PurePosixPath(path).with_suffix("").parts)
    package = bool(parts) and parts[-1] == "__init__"
    if package:
        parts.pop()
    return ".".join(parts), package


@dataclass(frozen=True)
class ResolvedRoute:
    path: str  # the file
    line: int
    methods: tuple[str, ...]
    local_path: str
    full_path: str | None  # None when a prefix on the way is not a literal
    unknown_prefixes: tuple[str, ...]  # source text of the prefixes that are not literals
    root: tuple[str, str]  # (file, variable) at the top of the chain: an app when attached
    handler: str
    html: bool = False  # a page (template, redirect), not an API endpoint


@dataclass
class WebProject:
    """The web facts of a whole project, joined across modules."""

    modules: dict[str, tuple[str, bool]]  # file -> (module name, is package)
    apps: list[tuple[str, dict[str, Any]]]
    routers: dict[tuple[str, str], dict[str, Any]]
    routes: list[tuple[str, dict[str, Any]]]
    includes: list[tuple[str, dict[str, Any]]]
    handlers: list[tuple[str, dict[str, Any]]]
    health_hooks: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    @classmethod
    def from_facts(cls, facts: list[tuple[str, dict[str, Any]]]) -> WebProject:
        project = cls({}, [], {}, [], [], [])
        for path, fact in facts:
            kind = fact.get("kind")
            if kind == "module":
                project.modules[path] = (fact["name"], fact["package"])
            elif kind == "app":
                project.apps.append((path, fact))
            elif kind == "router":
                project.routers[(path, fact["var"])] = fact
            elif kind == "route":
                project.routes.append((path, fact))
            elif kind == "include":
                project.includes.append((path, fact))
            elif kind == "handler":
                project.handlers.append((path, fact))
            elif kind == "health":
                project.health_hooks.append((path, fact))
        for path in {p for p, _ in facts}:
            project.modules.setdefault(path, module_name_of(path))
        return project

    # -- names ------------------------------------------------------------------------------
    def find_module(self, dotted: str) -> str | None:
        """The file of module `dotted` (`app.api.users`), matched on whole trailing name parts
        so that a project checked from above its import root still resolves."""
        exact = [p for p, (name, _) in self.modules.items() if name == dotted]
        if len(exact) == 1:
            return exact[0]
        suffix = "." + dotted
        found = [p for p, (name, _) in self.modules.items() if name.endswith(suffix)]
        if len(found) == 1:
            return found[0]
        if found:  # the shortest name is the likeliest import root
            found.sort(key=lambda p: len(self.modules[p][0]))
            if len(self.modules[found[0]][0]) < len(self.modules[found[1]][0]):
                return found[0]
        return None

    def resolve_object(self, path: str, reference: str) -> tuple[str, str] | None:
        """(file, variable) for a reference made in file `path`: `router` (local),
        `app.api.users.router`, `.users.router` (relative)."""
        if "." not in reference:
            return (path, reference)
        if reference.startswith("."):
            level = len(reference) - len(reference.lstrip("."))
            name, package = self.modules.get(path, module_name_of(path))
            parts = name.split(".") if name else []
            base = parts if package else parts[:-1]
            if level > 1:
                base = base[: len(base) - (level - 1)]
            reference = ".".join([*base, reference.lstrip(".")])
        module, _, var = reference.rpartition(".")
        file = self.find_module(module)
        if file is not None:
            return (file, var)
        # `import app.api.users as users; users.router` resolved above; `from app.api import
        # users` then `users.router` too. A package re-exporting a router is not followed.
        return None

    # -- the joined view ----------------------------------------------------------------------
    def _parents(self) -> dict[tuple[str, str], list[tuple[tuple[str, str], dict[str, Any]]]]:
        parents: dict[tuple[str, str], list[tuple[tuple[str, str], dict[str, Any]]]] = {}
        for path, fact in self.includes:
            child = self.resolve_object(path, fact["child"])
            if child is None:
                continue
            parents.setdefault(child, []).append(((path, fact["parent"]), fact))
        return parents

    def resolved_routes(self) -> list[ResolvedRoute]:
        parents = self._parents()
        out: list[ResolvedRoute] = []
        for path, fact in self.routes:
            obj = (path, fact.get("router", ""))
            for prefix_parts, unknown, root in self._chains(obj, parents, frozenset()):
                if fact.get("unknown_prefix"):  # inside `Mount(<not a literal>, ...)`
                    unknown = (*unknown, fact["unknown_prefix"])
                full = None if unknown else join_paths(*prefix_parts, fact["path"])
                out.append(
                    ResolvedRoute(
                        path=path,
                        line=fact["line"],
                        methods=tuple(fact.get("methods", ())),
                        local_path=fact["path"],
                        full_path=full,
                        unknown_prefixes=unknown,
                        root=root,
                        handler=fact.get("handler", ""),
                        html=bool(fact.get("html")),
                    )
                )
        return out

    def _chains(
        self,
        obj: tuple[str, str],
        parents: dict[tuple[str, str], list[tuple[tuple[str, str], dict[str, Any]]]],
        seen: frozenset[tuple[str, str]],
    ) -> list[tuple[list[str], tuple[str, ...], tuple[str, str]]]:
        """Every way `obj` is mounted: (prefixes from the top, unknown prefix texts, root)."""
        own = self.routers.get(obj)
        own_prefix: list[str] = []
        own_unknown: tuple[str, ...] = ()
        step_unknown: tuple[str, ...]
        mine_unknown: tuple[str, ...]
        if own is not None:
            if own.get("prefix") is not None:
                own_prefix = [own["prefix"]]
            elif own.get("prefix_text"):
                own_unknown = (own["prefix_text"],)
        mounts = parents.get(obj, []) if obj not in seen else []
        if not mounts:
            return [(own_prefix, own_unknown, obj)]
        chains: list[tuple[list[str], tuple[str, ...], tuple[str, str]]] = []
        for parent, include in mounts:
            if include.get("prefix") is not None:
                step, step_unknown = [include["prefix"]], ()
            elif include.get("prefix_text"):
                step, step_unknown = [], (include["prefix_text"],)
            else:
                step, step_unknown = [], ()
            if include.get("replaces") and (step or step_unknown):
                mine, mine_unknown = step, step_unknown  # Flask: url_prefix replaces the bp's
            else:
                mine, mine_unknown = step + own_prefix, step_unknown + own_unknown
            for above, above_unknown, root in self._chains(parent, parents, seen | {obj}):
                chains.append((above + mine, above_unknown + mine_unknown, root))
        return chains

    def is_app(self, obj: tuple[str, str]) -> bool:
        return any(path == obj[0] and fact["var"] == obj[1] for path, fact in self.apps)


def web_project(project: ProjectContext) -> WebProject:
    return WebProject.from_facts(project.facts(WEB_FACTS))


def served_apps(
    project: ProjectContext, web: WebProject, *, top_level_only: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """Apps that serve traffic: created outside test files and not as the argument of another
    call (`TestClient(FastAPI())`). With `top_level_only`, apps mounted into another app of the
    same module (`app.mount("/admin", admin)`) are left out: the outer app answers for them."""
    mounted = {(path, include["child"]) for path, include in web.includes if include.get("child")}
    return [
        (path, fact)
        for path, fact in web.apps
        if not fact.get("nested")
        and not project.config.is_test_path(path)
        and not (top_level_only and (path, fact.get("var")) in mounted)
    ]
