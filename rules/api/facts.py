"""Fact collectors for the web project rules (API005, ERR007, LOG004) and for API001's review of
DRF views: what each module creates and mounts. The facts are described in
`bastion.analysis.web` (`WEB_FACTS`), which also joins them across modules (`WebProject`)."""

from __future__ import annotations

import ast
from typing import Any

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import keyword_value, string_value, walk_local
from bastion.analysis.web import (
    DJANGO_SETTINGS_FACTS,
    FASTAPI_APPS,
    FASTAPI_ROUTERS,
    FLASK_APPS,
    FLASK_BLUEPRINTS,
    WEB_FACTS,
    Route,
    join_paths,
    module_name_of,
)
from bastion.analysis.whole_collections import LIST_MODEL_FACTS, wraps_list
from bastion.rule import FactCollector

_HANDLED = frozenset(
    {
        "Exception",
        "BaseException",
        "builtins.Exception",
        "builtins.BaseException",
        "werkzeug.exceptions.InternalServerError",
        "werkzeug.exceptions.HTTPException",
    }
)
_REGISTRATIONS = frozenset(
    {
        "exception_handler",
        "add_exception_handler",
        "errorhandler",
        "app_errorhandler",
        "register_error_handler",
    }
)
_HOOK_VERBS = ("register", "handler", "init", "setup", "install", "add", "configure", "attach")
_STARLETTE_ROUTES = frozenset(
    {"starlette.routing.Route", "fastapi.routing.APIRoute", "starlette.routing.WebSocketRoute"}
)
_STARLETTE_MOUNT = frozenset({"starlette.routing.Mount", "starlette.routing.Host"})


def _prefix(value: ast.expr | None) -> tuple[str | None, str]:
    """(literal prefix or None, source text when not a literal)."""
    if value is None:
        return "", ""
    literal = string_value(value)
    if literal is not None:
        return literal, ""
    return None, ast.unparse(value)


def _exception_key(node: ast.expr, collector: FactCollector) -> str | None:
    """`Exception` / `500` -> what it is, when it is a catch-all; None otherwise."""
    if isinstance(node, ast.Constant) and node.value == 500:
        return "500"
    name = collector.ctx.imports.qualname(node)
    if name in _HANDLED:
        return name.rpartition(".")[2]
    return None


# the last parts of every name `WebFacts.visit_Call` resolves the called function against
_FACTORY_NAMES = last_parts(
    {
        *FASTAPI_APPS,
        *FLASK_APPS,
        *FASTAPI_ROUTERS,
        *FLASK_BLUEPRINTS,
        *_STARLETTE_ROUTES,
        *_STARLETTE_MOUNT,
    }
)


class WebFacts(FactCollector):
    key = WEB_FACTS
    requires = ("fastapi", "starlette", "flask", "quart", "Flask", "FastAPI")

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._apps: set[str] = set()

    def visit_Module(self, node: ast.Module) -> None:
        name, package = module_name_of(self.ctx.path)
        self.add(kind="module", name=name, package=package)

    def _assigned_name(self, call: ast.Call) -> str | None:
        parent = self.ctx.parent
        if isinstance(parent, ast.Assign) and parent.value is call and len(parent.targets) == 1:
            target = parent.targets[0]
            if isinstance(target, ast.Name):
                return target.id
        if (
            isinstance(parent, ast.AnnAssign)
            and parent.value is call
            and isinstance(parent.target, ast.Name)
        ):
            return parent.target.id
        return None

    def visit_Call(self, node: ast.Call) -> None:
        imports = self.ctx.imports
        # the cheap name test before resolving: most calls are none of the factories below
        qualified = ""
        if may_name(node.func, _FACTORY_NAMES, imports):
            qualified = imports.qualname(node.func) or ""
        if qualified in FASTAPI_APPS or qualified in FLASK_APPS:
            self._app(node, "flask" if qualified in FLASK_APPS else "fastapi")
            return
        if qualified in FASTAPI_ROUTERS or qualified in FLASK_BLUEPRINTS:
            var = self._assigned_name(node)
            if var is not None:
                key = "prefix" if qualified in FASTAPI_ROUTERS else "url_prefix"
                prefix, text = _prefix(keyword_value(node, key))
                self.add(
                    kind="router",
                    var=var,
                    prefix=prefix,
                    prefix_text=text,
                    line=node.lineno,
                    framework="fastapi" if qualified in FASTAPI_ROUTERS else "flask",
                )
            return
        if qualified in _STARLETTE_ROUTES and node.args:
            path = string_value(node.args[0])
            if path is not None:
                mounts, unknown = self._mount_prefixes()
                methods = keyword_value(node, "methods")
                self.add(
                    kind="route",
                    framework="starlette",
                    methods=_methods(methods),
                    path=join_paths(*mounts, path) if mounts else path,
                    router="",
                    handler="",
                    line=node.lineno,
                    unknown_prefix=unknown,
                )
            return
        if qualified in _STARLETTE_MOUNT and node.args:
            mounted = keyword_value(node, "app")
            child = self.ctx.imports.qualname(mounted) if mounted is not None else None
            if child is not None:  # `Mount("/v1", app=v1_app)`
                prefix, text = _prefix(node.args[0])
                self.add(
                    kind="include",
                    parent="",
                    child=child,
                    prefix=prefix,
                    prefix_text=text,
                    replaces=False,
                    line=node.lineno,
                )
            return
        self._hook(node)
        if not isinstance(node.func, ast.Attribute):
            return
        self._method_call(node, node.func)

    def _mount_prefixes(self) -> tuple[list[str], str]:
        """The paths of the `Mount(...)` calls a `Route(...)` is nested in, outermost first,
        and the source of the first one that is not a literal ("" when all are)."""
        prefixes: list[str] = []
        unknown = ""
        for ancestor in self.ctx.stack:
            if (
                isinstance(ancestor, ast.Call)
                and ancestor.args
                and self.ctx.imports.qualname(ancestor.func) in _STARLETTE_MOUNT
            ):
                prefix, text = _prefix(ancestor.args[0])
                if prefix is None:
                    unknown = unknown or text
                else:
                    prefixes.append(prefix)
        return prefixes, unknown

    def _hook(self, node: ast.Call) -> None:
        """`register_error_handlers(app)`, `setup_health(app)`: a helper (often in another
        module, or a library) that the app is handed to, named for what it installs."""
        if not node.args or not isinstance(node.args[0], ast.Name):
            return
        handed = node.args[0].id
        if handed not in self._apps and "app" not in handed.lower():
            return  # `exception_handler(HTTPException)` hands over an exception, not the app
        func = node.func
        name = (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")).lower()
        if name in _REGISTRATIONS:
            return  # `app.exception_handler(AppError)`: handled where registrations are read
        if ("error" in name or "exception" in name) and any(verb in name for verb in _HOOK_VERBS):
            self.add(kind="handler", target=node.args[0].id, exception="helper", line=node.lineno)
        elif "health" in name:
            self.add(kind="health", name=name, line=node.lineno)

    def _app(self, node: ast.Call, framework: str) -> None:
        var = self._assigned_name(node) or ""
        self._apps.add(var)
        parent = self.ctx.parent
        root_path, root_path_text = _prefix(keyword_value(node, "root_path"))
        self.add(
            kind="app",
            framework=framework,
            var=var,
            line=node.lineno,
            column=node.col_offset + 1,
            # apps made inside a function (`create_app()` factories) are still apps; one
            # created as the argument of another call (`TestClient(FastAPI())`) is a test's
            nested=not isinstance(parent, ast.Assign | ast.AnnAssign | ast.Return),
            root_path=root_path or root_path_text,
            # `FastAPI(openapi_url=None)`: publishes no schema (a server-rendered dashboard)
            schema=not _is_none(keyword_value(node, "openapi_url")),
        )
        handlers = keyword_value(node, "exception_handlers")
        if isinstance(handlers, ast.Dict):
            for key in handlers.keys:
                caught = _exception_key(key, self) if key is not None else None
                if caught is not None:
                    self.add(kind="handler", target=var, exception=caught, line=node.lineno)

    def _method_call(self, node: ast.Call, func: ast.Attribute) -> None:
        receiver = func.value
        target = receiver.id if isinstance(receiver, ast.Name) else ""
        attr = func.attr
        if attr in ("include_router", "register_blueprint", "mount") and node.args:
            if attr == "mount":
                if len(node.args) < 2:
                    return
                prefix, text = _prefix(node.args[0])
                child_node = node.args[1]
            else:
                key = "prefix" if attr == "include_router" else "url_prefix"
                prefix, text = _prefix(keyword_value(node, key))
                child_node = node.args[0]
            child = self.ctx.imports.qualname(child_node)
            if child is None:
                return
            self.add(
                kind="include",
                parent=target,
                child=child,
                prefix=prefix,
                prefix_text=text,
                replaces=attr == "register_blueprint",
                line=node.lineno,
            )
        elif attr in ("add_exception_handler", "register_error_handler") and node.args:
            caught = _exception_key(node.args[0], self)
            if caught is not None:
                self.add(kind="handler", target=target, exception=caught, line=node.lineno)
        elif attr in ("add_api_route", "add_route", "add_url_rule") and node.args:
            path = string_value(node.args[0])
            if path is not None:
                self.add(
                    kind="route",
                    framework="fastapi" if attr != "add_url_rule" else "flask",
                    methods=_methods(keyword_value(node, "methods")),
                    path=path,
                    router=target,
                    handler="",
                    line=node.lineno,
                )

    def visit_route(self, handler: ast.FunctionDef | ast.AsyncFunctionDef, route: Route) -> None:
        self.add(
            kind="route",
            framework=route.framework,
            methods=list(route.methods),
            path=route.local_path,
            router=route.router,
            handler=handler.name,
            line=route.node.lineno if hasattr(route.node, "lineno") else handler.lineno,
            html=_serves_html(handler, route.call),
        )

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """Error handlers and middlewares (the routes went to `visit_route`)."""
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
                continue
            attr = decorator.func.attr
            receiver = decorator.func.value
            target = receiver.id if isinstance(receiver, ast.Name) else ""
            if attr in ("exception_handler", "errorhandler", "app_errorhandler") and decorator.args:
                caught = _exception_key(decorator.args[0], self)
                if caught is not None:
                    self.add(kind="handler", target=target, exception=caught, line=node.lineno)
            elif attr == "middleware" and _catches_everything(node, self):
                # `@app.middleware("http")` wrapping `call_next` in `except Exception`
                self.add(kind="handler", target=target, exception="middleware", line=node.lineno)

    visit_AsyncFunctionDef = visit_FunctionDef


_HTML_CALLS = frozenset(
    {"render_template", "render_template_string", "render", "TemplateResponse", "redirect"}
)


def _serves_html(node: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call | None) -> bool:
    """A page, not an API endpoint: renders a template, redirects, or declares an HTML
    response class."""
    if call is not None:
        response_class = keyword_value(call, "response_class")
        if response_class is not None and "HTML" in ast.unparse(response_class):
            return True
    for sub in walk_local(node.body):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in _HTML_CALLS:
                return True
    return False


def _catches_everything(node: ast.FunctionDef | ast.AsyncFunctionDef, c: FactCollector) -> bool:
    for sub in walk_local(node.body):
        if isinstance(sub, ast.ExceptHandler):
            if sub.type is None:
                return True
            if _exception_key(sub.type, c) is not None:
                return True
    return False


def _methods(node: ast.expr | None) -> list[str]:
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return [v.upper() for e in node.elts if (v := string_value(e))]
    return ["GET"]


class DjangoSettingsFacts(FactCollector):
    """Modules that look like Django settings (`INSTALLED_APPS`/`REST_FRAMEWORK` at the top
    level), and whether they give DRF a default paginator."""

    key = DJANGO_SETTINGS_FACTS
    requires = ("INSTALLED_APPS", "REST_FRAMEWORK")

    def visit_Module(self, node: ast.Module) -> None:
        found = False
        paginated = False
        for stmt in node.body:
            targets: list[ast.expr] = []
            value: ast.expr | None = None
            if isinstance(stmt, ast.Assign):
                targets, value = stmt.targets, stmt.value
            elif isinstance(stmt, ast.AnnAssign):
                targets, value = [stmt.target], stmt.value
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                # REST_FRAMEWORK.update({...}) / REST_FRAMEWORK["X"] = ...
                if "DEFAULT_PAGINATION_CLASS" in ast.unparse(stmt):
                    paginated = True
                continue
            elif isinstance(stmt, ast.AugAssign):
                targets, value = [stmt.target], stmt.value
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            if "INSTALLED_APPS" in names or "REST_FRAMEWORK" in names:
                found = True
            subscripted = any(isinstance(t, ast.Subscript) for t in targets)
            if subscripted and "DEFAULT_PAGINATION_CLASS" in ast.unparse(stmt):
                paginated = True
            if "REST_FRAMEWORK" in names and value is not None and _sets_pagination(value):
                paginated = True
        if found:
            self.add(default_pagination=paginated, line=1)


def _sets_pagination(value: ast.expr) -> bool:
    """`{"DEFAULT_PAGINATION_CLASS": "...", ...}` or `dict(DEFAULT_PAGINATION_CLASS=...)`:
    anything but an explicit None counts, and so does a value that cannot be read."""
    if isinstance(value, ast.Dict):
        for key, item in zip(value.keys, value.values, strict=True):
            if key is None:
                return True  # `{**BASE, ...}`: cannot tell, assume paged
            if string_value(key) == "DEFAULT_PAGINATION_CLASS":
                return not (isinstance(item, ast.Constant) and item.value is None)
        return False
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "dict":
        if any(kw.arg is None for kw in value.keywords) or value.args:
            return True
        return any(kw.arg == "DEFAULT_PAGINATION_CLASS" for kw in value.keywords)
    return True  # built elsewhere (`get_rest_config()`): cannot tell, assume paged


class ListModelFacts(FactCollector):
    """Response models that wrap a list (`class TagsInList(BaseModel): tags: list[str]`), by
    module: API001 reads them for routes whose `response_model` is imported from there."""

    key = LIST_MODEL_FACTS
    requires = ("list[", "List[", "Sequence[")

    def visit_Module(self, node: ast.Module) -> None:
        for stmt in node.body:
            if isinstance(stmt, ast.ClassDef) and wraps_list(stmt):
                self.add(name=stmt.name, line=stmt.lineno)


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
