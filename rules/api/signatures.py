"""API009-API011: how a route handler's signature matches its route (FastAPI, Flask)."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from typing import Any

from bastion.analysis.api_design import (
    Handler,
    Param,
    fastapi_param_function,
    handler_params,
    path_params,
    route_module_functions,
    same_expression,
    string_of,
)
from bastion.analysis.fixes import ast_path_at, ast_start, binds_other, imported_as
from bastion.analysis.nodes import keyword, keyword_value, walk_local
from bastion.analysis.web import Route, routes_of
from bastion.context import FileContext
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule

_REQUEST_TYPES = frozenset(
    {
        "fastapi.Request",
        "fastapi.requests.Request",
        "starlette.requests.Request",
        "starlette.requests.HTTPConnection",
        "fastapi.WebSocket",
        "starlette.websockets.WebSocket",
    }
)
# Flask decorators known to pass the view's keyword arguments through unchanged.
_TRANSPARENT_FLASK_DECORATORS = frozenset(
    {
        "login_required",
        "fresh_login_required",
        "jwt_required",
        "auth_required",
        "roles_required",
        "permission_required",
        "admin_required",
        "cached",
        "memoize",
        "limit",
        "exempt",
        "csrf_exempt",
        "cross_origin",
    }
)


def _names_taken(params: list[Param], rule: Rule) -> set[str]:
    """Names a handler accepts from the path: parameter names and `Path(alias=...)`."""
    taken = {p.name for p in params if p.kind in ("positional", "keyword")}
    for param in params:
        for name, call in param.param_functions(rule.ctx.imports):
            if name == "Path":
                alias = string_of(keyword_value(call, "alias"))
                if alias:
                    taken.add(alias)
    return taken


def _dependency_calls(route: Route, params: list[Param], rule: Rule) -> list[ast.Call] | None:
    """Every `Depends(...)`/`Security(...)` of the handler, of its decorator's
    `dependencies=[...]` and of the router's `dependencies=[...]` in this module; None when a
    `dependencies=` value is not a literal list (it could hold anything)."""
    imports = rule.ctx.imports
    calls: list[ast.Call] = []
    aliases = _annotated_aliases(rule.ctx.tree)
    for param in params:
        if isinstance(param.annotation, ast.Name) and param.annotation.id in aliases:
            # `CurrentCase = Annotated[Case, Depends(get_current_case)]` in this module
            param = replace(param, annotation=aliases[param.annotation.id])
        calls += [c for n, c in param.param_functions(imports) if n in ("Depends", "Security")]
    sources: list[ast.expr | None] = []
    if route.call is not None:
        sources.append(keyword_value(route.call, "dependencies"))
        if isinstance(route.call.func, ast.Attribute):
            router_call = imports.instance_call(route.call.func.value)
            if router_call is not None:
                sources.append(keyword_value(router_call, "dependencies"))
    for source in sources:
        if source is None:
            continue
        if not isinstance(source, ast.List | ast.Tuple):
            return None
        for element in source.elts:
            if fastapi_param_function(element, imports) in ("Depends", "Security"):
                assert isinstance(element, ast.Call)
                calls.append(element)
            else:
                return None
    return calls


def _annotated_aliases(tree: ast.Module | None) -> dict[str, ast.expr]:
    """Module-level `Name = Annotated[...]` aliases."""
    found: dict[str, ast.expr] = {}
    for stmt in tree.body if tree is not None else []:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if isinstance(target, ast.Name) and isinstance(value, ast.Subscript):
            found[target.id] = value
    return found


def _dependency_takes(
    call: ast.Call, missing: set[str], rule: Rule, depth: int = 0
) -> set[str] | None:
    """Which of `missing` a dependency consumes; None when the dependency cannot be read here
    (defined in another module, a class instance, a lambda...): it might take any of them."""
    if depth > 4:
        return None
    target = call.args[0] if call.args else keyword_value(call, "dependency")
    if target is None:
        return None  # `Depends()` builds the annotated class: it may take any of them
    if not isinstance(target, ast.Name):
        return None
    definition = route_module_functions(rule.ctx).get(target.id)
    if isinstance(definition, ast.ClassDef):
        init = next(
            (s for s in definition.body if isinstance(s, ast.FunctionDef) and s.name == "__init__"),
            None,
        )
        if init is None:
            return None  # a dataclass/pydantic model: fields are the parameters
        definition = init
    if not isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        return None
    params = handler_params(definition)
    if any(p.kind == "varkw" for p in params) or _reads_path_params(definition, params, rule):
        return None  # `request.path_params["case_id"]`: it may read any of them
    taken = _names_taken(params, rule) & missing
    for param in params:
        for name, sub in param.param_functions(rule.ctx.imports):
            if name in ("Depends", "Security"):
                deeper = _dependency_takes(sub, missing, rule, depth + 1)
                if deeper is None:
                    return None
                taken |= deeper
    return taken


def _reads_path_params(func: Handler, params: list[Param], rule: Rule) -> bool:
    imports = rule.ctx.imports
    if not any(
        p.annotation is not None and imports.qualname(p.annotation) in _REQUEST_TYPES
        for p in params
    ):
        return False
    return any(
        isinstance(n, ast.Attribute) and n.attr in ("path_params", "url") for n in walk_local(func)
    )


class PathParamNotInSignature(Rule):
    """Flags a route whose path declares a parameter the handler does not accept: FastAPI
    `{item_id}` (also `{path:path}`) with no `item_id` parameter nor `Path(alias="item_id")`,
    Flask `<int:item_id>` with no `item_id` argument. Flask then fails every request with a
    `TypeError`; FastAPI serves the route but the value is silently dropped, which is always a
    mistake in the handler or the path.

    Not flagged when something else may consume the value: a `**kwargs` parameter, a FastAPI
    dependency (`Depends`/`Security` on a parameter, in `dependencies=[...]` of the decorator or
    of the router, or in a module-level alias `CurrentCase = Annotated[Case,
    Depends(get_current_case)]`) that is defined in another module, takes the name itself or
    reads `request.path_params`, a `Request` parameter whose `path_params` are read, Flask
    views with decorators that may rewrite the arguments, modules with a Flask
    `url_value_preprocessor`, methods of classes (class-based views bind path values
    elsewhere), and parameters of a router's prefix (`APIRouter(prefix="/orgs/{org_id}")`): a
    dependency attached where the router is included may consume them. The exception is a
    Flask blueprint prefix (`url_prefix="/<lang>"`) whose other views in the module do receive
    the parameter: then nothing pops it, and a view without it fails."""

    id = "API009"
    name = "path-param-not-in-signature"
    aliases = ("FAST003",)  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.ERROR
    precision = "very-high"
    precision_measured = (
        "1 of 1 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    summary = "Route path parameter with no matching handler parameter"
    why = (
        "A path parameter the handler does not accept cannot work as written: Flask calls the "
        "view with an unexpected keyword argument and every request fails with a 500, and "
        "FastAPI matches the URL but throws the value away, so the handler acts on the wrong "
        "object or none. Usually the parameter was renamed on one side only."
    )
    hint = (
        "Add a parameter with the same name to the handler (`def read_item(item_id: int)`), "
        "or rename the path parameter to match; use `Path(alias=...)` when the names must differ."
    )
    # unsafe: the missing name is often a parameter renamed on one side only; the fix adds
    # it beside the old one, which the author must then remove or rename
    fix_safety = FixSafety.UNSAFE
    fix_safety_note = (
        "Adding the missing parameter to the handler changes its signature: FastAPI starts "
        "validating and passing the path value, and callers of the function outside the router "
        "must pass it too."
    )
    requires = ("{", "<")
    bad = [
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.get('/items/{item_id}')\ndef read_item(id: int):\n    return {'id': id}\n",
            fixed="from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.get('/items/{item_id}')\ndef read_item(id: int, item_id: str):\n"
            "    return {'id': id}\n",
        ),
        Example(
            "from fastapi import APIRouter as Router\nrouter = Router(prefix='/orgs')\n\n"
            "@router.get('/{org_id}/members/{member_id}')\n"
            "async def member(org_id: int, limit: int = 10):\n    return {}\n",
            fixed="from fastapi import APIRouter as Router\nrouter = Router(prefix='/orgs')\n\n"
            "@router.get('/{org_id}/members/{member_id}')\n"
            "async def member(org_id: int, member_id: str, limit: int = 10):\n    return {}\n",
        ),
        Example(
            "from flask import Flask, jsonify\napp = Flask(__name__)\n\n"
            "@app.route('/users/<int:user_id>')\ndef user():\n    return jsonify({})\n",
            fixed="from flask import Flask, jsonify\napp = Flask(__name__)\n\n"
            "@app.route('/users/<int:user_id>')\ndef user(user_id: int):\n"
            "    return jsonify({})\n",
        ),
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.get('/files/{file_path:path}')\ndef read(\n    *,\n    path: str,\n):\n"
            "    return path\n",
            fixed="from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.get('/files/{file_path:path}')\ndef read(\n    *,\n    path: str,\n"
            "    file_path: str,\n):\n    return path\n",
        ),
        # a custom converter: its type is unknown here (no fix)
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.route('/d/<uuid:doc_id>')\ndef doc():\n    return ''\n",
    ]
    good = [
        "from fastapi import FastAPI, Path\napp = FastAPI()\n\n"
        "@app.get('/items/{item-id}')\n"
        "def read_item(item_id: int = Path(alias='item-id')):\n    return {}\n",
        "from fastapi import FastAPI, Depends\nfrom .deps import get_item\napp = FastAPI()\n\n"
        "@app.get('/items/{item_id}')\ndef read_item(item=Depends(get_item)):\n    return item\n",
        "from fastapi import FastAPI, Depends\napp = FastAPI()\n\n"
        "def get_item(item_id: int):\n    return load(item_id)\n\n"
        "@app.get('/items/{item_id}')\ndef read_item(item=Depends(get_item)):\n    return item\n",
        "from flask import Flask, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/users/<int:user_id>')\ndef user(**kwargs):\n    return jsonify(kwargs)\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/files/{file_path:path}')\ndef read(file_path: str):\n    return file_path\n",
        "from fastapi import APIRouter\nrouter = APIRouter(prefix='/orgs/{org_id}')\n\n"
        "@router.get('/members')\nasync def members(limit: int = 10):\n    return []\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._value_preprocessor: bool | None = None
        self._received: dict[str, set[str]] | None = None

    def _has_value_preprocessor(self) -> bool:
        if self._value_preprocessor is None:
            self._value_preprocessor = "url_value_preprocessor" in self.ctx.source.text
        return self._value_preprocessor

    def visit_route(self, handler: Handler, route: Route) -> None:
        if self.ctx.enclosing_class() is not None:
            return
        params = handler_params(handler)
        if any(p.kind == "varkw" for p in params):
            return
        taken = _names_taken(params, self)
        # Parameters of the router's prefix are checked only for Flask blueprints whose
        # other views in this module receive them (then no preprocessor pops them): a
        # dependency given where a FastAPI router is included, or an app-wide
        # `url_value_preprocessor`, may consume them.
        declared = path_params(route.local_path, route.framework)
        if route.framework == "flask":
            received = self._prefix_params_received().get(route.router, set())
            declared += [
                p for p in path_params(route.path, "flask") if p in received and p not in declared
            ]
        missing = [n for n in declared if n not in taken]
        if not missing:
            return
        if route.framework == "flask":
            routes = routes_of(handler, self.ctx)
            if self._has_value_preprocessor() or self._flask_decorated(handler, routes):
                return
            if route.call is not None and keyword(route.call, "defaults") is not None:
                return
        else:
            if _reads_path_params(handler, params, self):
                return
            calls = _dependency_calls(route, params, self)
            still = set(missing) if calls is not None else set()
            for call in calls or []:
                consumed = _dependency_takes(call, still, self)
                if consumed is None:
                    still = set()
                    break
                still -= consumed
            missing = [m for m in missing if m in still]
            if not missing:
                return
        names = ", ".join(f"`{m}`" for m in missing)
        types = _param_types(route.path, route.framework)
        self.report(
            route.node,
            f"path parameter {names} of {route.describe()} is not a parameter of `{handler.name}`",
            fixable=all(types.get(m) in _TYPES for m in missing) and _room_for(handler),
        )

    fix_node = "FunctionDef"

    def _route_of(self, finding: Finding) -> tuple[Handler, Route] | None:
        path = ast_path_at(self.ctx, finding.line, finding.column - 1, (ast.Call,))
        if path is None or len(path) < 2:
            return None
        decorator, func = path[-1], path[-2]
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            return None
        for route in routes_of(func, self.ctx):
            if route.node is decorator:
                return func, route
        return None

    def fix_position(self, finding: Finding) -> tuple[int, int] | None:
        """Flagged at the route decorator; the fix adds parameters to the function."""
        found = self._route_of(finding)
        return None if found is None else ast_start(self.ctx, found[0])

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """Add each missing path parameter, typed from its converter (`{id}` -> `str`,
        `<int:id>` -> `int`): after the parameters without a default, or among the
        keyword-only ones when there are any (never a SyntaxError)."""
        import libcst as cst

        found = self._route_of(finding)
        named = _MISSING.match(finding.message)
        if found is None or named is None or not isinstance(node, cst.FunctionDef):
            return None
        route = found[1]
        types = _param_types(route.path, route.framework)
        params = node.params
        present = {
            p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)
        }
        missing = [m for m in re.findall(r"`([^`]+)`", named.group(1)) if m not in present]
        if not missing or any(types.get(m) not in _TYPES for m in missing):
            return None
        for name in missing:
            new = cst.Param(
                name=cst.Name(name),
                annotation=cst.Annotation(annotation=cst.Name(_TYPES[types[name]])),
            )
            if params.kwonly_params or isinstance(params.star_arg, cst.Param | cst.ParamStar):
                kwonly = _insert(
                    list(params.kwonly_params), len(params.kwonly_params), new, _separator(params)
                )
                params = params.with_changes(kwonly_params=kwonly)
            else:
                positional = list(params.params)
                index = next(
                    (i for i, p in enumerate(positional) if p.default is not None),
                    len(positional),
                )
                if index == len(positional) and params.posonly_params and not positional:
                    index = 0
                positional = _insert(positional, index, new, _separator(params))
                params = params.with_changes(params=positional)
        return Fix(node.with_changes(params=params))

    def _prefix_params_received(self) -> dict[str, set[str]]:
        """Blueprint name -> parameters of its prefix that some module-level view accepts."""
        if self._received is None:
            self._received = {}
            for stmt in self.ctx.tree.body if self.ctx.tree is not None else []:
                if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for route in routes_of(stmt, self.ctx):
                    if route.framework != "flask":
                        continue
                    local = set(path_params(route.local_path, "flask"))
                    prefix = set(path_params(route.path, "flask")) - local
                    accepted = _names_taken(handler_params(stmt), self) & prefix
                    self._received.setdefault(route.router, set()).update(accepted)
        return self._received

    def _flask_decorated(self, node: Handler, routes: list[Route]) -> bool:
        route_nodes = {id(r.node) for r in routes}
        for decorator in node.decorator_list:
            if id(decorator) in route_nodes:
                continue
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = self.ctx.imports.qualname(target) or ""
            if name.rpartition(".")[2] not in _TRANSPARENT_FLASK_DECORATORS:
                return True
        return False


class RedundantResponseModel(Rule):
    """Flags `response_model=X` on a FastAPI route whose handler is annotated `-> X` with
    literally the same type expression. Different expressions (`response_model=UserOut` with
    `-> User`, used to filter fields) are the documented way to narrow the output and are left
    alone, as are `list[User]` vs `List[User]` (not literally the same). Relies on FastAPI >=
    0.89, which reads the response model from the return annotation."""

    id = "API010"
    name = "redundant-response-model"
    aliases = ("FAST001",)  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "20 of 20 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "`response_model=` repeats the handler's return annotation"
    why = (
        "Since FastAPI 0.89 the return annotation is the response model: it validates, filters "
        "and documents the response. Repeating it in `response_model=` is a second place to "
        "update, and the two drift apart (the annotation changes, the decorator silently wins)."
    )
    hint = "Drop `response_model=` and keep the return annotation (`-> X`)."
    fix_safety = FixSafety.SAFE
    fix_safety_note = (
        "FastAPI uses the return annotation as the response model when `response_model=` is "
        "absent, and the fix only removes a `response_model=` that names exactly the annotated "
        "type: the OpenAPI schema and the response filtering stay the same."
    )
    requires = ("response_model",)
    bad = [
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.get('/users/{id}', response_model=User)\ndef get_user(id: int) -> User:\n"
            "    return load(id)\n",
            fixed="from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.get('/users/{id}')\ndef get_user(id: int) -> User:\n"
            "    return load(id)\n",
        ),
        Example(
            "from fastapi import APIRouter\nrouter = APIRouter()\n\n"
            "@router.get('/users', response_model=list[User], tags=['users'])\n"
            "async def users() -> list[User]:\n    return []\n",
            fixed="from fastapi import APIRouter\nrouter = APIRouter()\n\n"
            "@router.get('/users', tags=['users'])\n"
            "async def users() -> list[User]:\n    return []\n",
        ),
        "import fastapi\napp = fastapi.FastAPI()\n\n"
        "@app.post('/orders', response_model=schemas.Order, status_code=201)\n"
        "def create(order: schemas.OrderIn) -> schemas.Order:\n    return save(order)\n",
    ]
    good = [
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/users/{id}', response_model=UserOut)\ndef get_user(id: int) -> User:\n"
        "    return load(id)\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/users', response_model=list[User])\ndef users() -> List[User]:\n"
        "    return []\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/users/{id}', response_model=User)\ndef get_user(id: int):\n"
        "    return load(id)\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/users/{id}')\ndef get_user(id: int) -> User:\n    return load(id)\n",
    ]

    fix_node = "Arg"

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        import libcst as cst

        if isinstance(node, cst.Arg) and node.keyword and node.keyword.value == "response_model":
            return Fix(cst.RemovalSentinel.REMOVE)
        return None

    def visit_route(self, handler: Handler, route: Route) -> None:
        if handler.returns is None or route.framework != "fastapi" or route.call is None:
            return
        kw = keyword(route.call, "response_model")
        model = kw.value if kw is not None else None
        if kw is not None and model is not None and same_expression(model, handler.returns):
            self.report(
                kw,
                f"`response_model={ast.unparse(model)}` of {route.describe()} repeats the "
                f"return annotation of `{handler.name}`",
            )


class NonAnnotatedDependency(Rule):
    """Flags FastAPI parameter functions (`Depends`, `Security`, `Query`, `Path`, `Body`,
    `Header`, `Cookie`, `Form`, `File`) used as a parameter's default value, in any function of
    a module (route handlers and dependencies alike), resolved through imports. The same call
    inside `Annotated[...]` is the documented style and is not flagged; neither are
    `dependencies=[Depends(...)]` lists. `Annotated` parameters need FastAPI >= 0.95: a project
    pinned below that should turn the rule off."""

    id = "API011"
    name = "non-annotated-dependency"
    aliases = ("FAST002",)  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "20 of 20 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "FastAPI `Depends()`/`Query()`/... used as a default value instead of `Annotated`"
    why = (
        "FastAPI documents `Annotated[T, Depends(dep)]` since 0.95: the parameter keeps a real "
        "default (or none), the function stays callable with plain arguments in tests and other "
        "code, type checkers see the true type, and one `Annotated` alias can be reused across "
        "handlers instead of repeating `= Depends(dep)`."
    )
    hint = (
        "Move the call into the annotation: `user: Annotated[User, Depends(get_user)]`, "
        "`q: Annotated[str | None, Query(max_length=50)] = None`."
    )
    # unsafe: the function's plain signature changes (a call `me()` outside FastAPI no longer
    # gets the `Depends` object as a default), and `Annotated` needs Python >= 3.9
    fix_safety = FixSafety.UNSAFE
    fix_safety_note = (
        "Moving `Depends()`/`Query()` from the default into `Annotated` removes the parameter's "
        "default value: a direct call of the function that relied on the default now fails, and a"
        " parameter that gains no default may need reordering. As ruff's FAST002, always unsafe."
    )
    requires = ("fastapi",)
    bad = [
        Example(
            "from fastapi import Depends, FastAPI\napp = FastAPI()\n\n"
            "@app.get('/me')\ndef me(user: User = Depends(current_user)):\n    return user\n",
            fixed="from typing import Annotated\n"
            "\n"
            "from fastapi import Depends, FastAPI\n"
            "app = FastAPI()\n"
            "\n"
            "@app.get('/me')\n"
            "def me(user: Annotated[User, Depends(current_user)]):\n"
            "    return user\n",
        ),
        Example(
            "from typing import Optional\nfrom fastapi import Query\n\n"
            "def search(q: Optional[str] = Query(None, max_length=50)):\n    return q\n",
            fixed="from typing import Annotated, Optional\n"
            "from fastapi import Query\n"
            "\n"
            "def search(q: Annotated[Optional[str], Query(max_length=50)] = None):\n"
            "    return q\n",
        ),
        Example(
            "import fastapi\n\nasync def get_db(token: str = fastapi.Header(...)):\n"
            "    yield token\n",
            fixed="from typing import Annotated\n"
            "\n"
            "import fastapi\n"
            "\n"
            "async def get_db(token: Annotated[str, fastapi.Header()]):\n"
            "    yield token\n",
        ),
        Example(
            "from fastapi import params\n\n"
            "def paging(*, limit: int = params.Query(10), cursor: str = params.Query()):\n"
            "    return limit\n",
            fixed="from typing import Annotated\n"
            "\n"
            "from fastapi import params\n"
            "\n"
            "def paging(\n"
            "    *,\n"
            "    limit: Annotated[int, params.Query()] = 10,\n"
            "    cursor: Annotated[str, params.Query()],\n"
            "):\n"
            "    return limit\n",
        ),
        # `db` would lose its default after `page` keeps one: a SyntaxError, so `db` is
        # left alone (still flagged); `page` is rewritten
        Example(
            "from typing import Annotated\nfrom fastapi import Depends, Query\n\n"
            "def items(page: int = Query(1, ge=1), db: Session = Depends(get_db)):\n"
            "    return db\n",
            fixed="from typing import Annotated\nfrom fastapi import Depends, Query\n\n"
            "def items(page: Annotated[int, Query(ge=1)] = 1, db: Session = Depends(get_db)):\n"
            "    return db\n",
        ),
    ]
    good = [
        "from typing import Annotated\nfrom fastapi import Depends\n\n"
        "def me(user: Annotated[User, Depends(current_user)]):\n    return user\n",
        "from typing import Annotated\nfrom fastapi import Query\n\n"
        "def search(q: Annotated[str | None, Query(max_length=50)] = None):\n    return q\n",
        "from fastapi import APIRouter, Depends\n"
        "router = APIRouter(dependencies=[Depends(verify_token)])\n",
        "from fastapi import FastAPI\nfrom injector import Depends\n\n"
        "def me(user=Depends(current_user)):\n    return user\n",
    ]

    _annotated_ok: bool | None = None  # `Annotated` may be used in this module (per file)

    def visit_FunctionDef(self, node: Handler) -> None:
        self._check(node)

    def visit_AsyncFunctionDef(self, node: Handler) -> None:
        self._check(node)

    def _check(self, node: Handler) -> None:
        params = handler_params(node)
        flagged = [
            (param, name)
            for param in params
            if (name := fastapi_param_function(param.default, self.ctx.imports)) is not None
            and isinstance(param.default, ast.Call)
        ]
        if not flagged:
            return
        fixable = self._fixable(params)
        for param, name in flagged:
            assert isinstance(param.default, ast.Call)
            self.report(
                param.default,
                f"parameter `{param.name}` of `{node.name}` uses `{name}()` as its default value",
                hint=_annotated_hint(param, name, param.default),
                fixable=param.name in fixable,
            )

    def _fixable(self, params: list[Param]) -> set[str]:
        """The parameters the fix may rewrite. Each needs a type to put in `Annotated[...]`
        and a default that can move out of the call; a positional parameter whose default
        goes away (`Depends(f)`, `Query(...)`) must not follow one that keeps a default, or
        the signature would not compile (`a: int = 1, b: B` is a SyntaxError)."""
        if self._annotated_ok is None:  # a question about the whole module: asked once
            tree = self.ctx.tree
            self._annotated_ok = imported_as(
                tree, "Annotated", ("typing.Annotated", "typing_extensions.Annotated")
            ) or not binds_other(tree, "Annotated")
        if not self._annotated_ok:
            return set()
        out: set[str] = set()
        seen_default = False
        for param in params:
            default = param.default
            name = fastapi_param_function(default, self.ctx.imports)
            movable = (
                name is not None
                and isinstance(default, ast.Call)
                and param.annotation is not None
                and _movable_default(default, name)
            )
            if not movable:
                if default is not None and param.kind == "positional":
                    seen_default = True
                continue
            assert isinstance(default, ast.Call) and name is not None
            keeps = _kept_default(default, name) is not None
            if param.kind == "positional":
                if not keeps and seen_default:
                    seen_default = True  # left as it is: it keeps its default
                    continue
                seen_default = seen_default or keeps
            out.add(param.name)
        return out

    def fix_position(self, finding: Finding) -> tuple[int, int] | None:
        """Flagged at the default value; the fix rewrites the whole parameter."""
        found = self._param_of(finding)
        return None if found is None else ast_start(self.ctx, found[0])

    def _param_of(self, finding: Finding) -> tuple[ast.arg, ast.Call, str] | None:
        path = ast_path_at(self.ctx, finding.line, finding.column - 1, (ast.Call,))
        if path is None or len(path) < 2 or not isinstance(path[-2], ast.arguments):
            return None
        call, args = path[-1], path[-2]
        assert isinstance(call, ast.Call)
        positional = [*args.posonlyargs, *args.args]
        pairs: list[tuple[ast.arg, ast.expr | None]] = list(
            zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
        )
        pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
        name = fastapi_param_function(call, self.ctx.imports)
        for arg, default in pairs:
            if default is call and name is not None:
                return arg, call, name
        return None

    fix_node = "Param"

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """`x: T = Query(d, ge=1)` -> `x: Annotated[T, Query(ge=1)] = d`;
        `u: U = Depends(f)` -> `u: Annotated[U, Depends(f)]`."""
        import libcst as cst

        found = self._param_of(finding)
        if (
            found is None
            or not isinstance(node, cst.Param)
            or node.annotation is None
            or not isinstance(node.default, cst.Call)
        ):
            return None
        call: Any = node.default
        default: Any = None
        if found[2] not in ("Depends", "Security"):
            args = list(call.args)
            index = next(
                (
                    i
                    for i, a in enumerate(args)
                    if (a.keyword is None and not a.star)
                    or (a.keyword is not None and a.keyword.value == "default")
                ),
                None,
            )
            if index is not None:
                default = args.pop(index).value
                if args and index == len(args):  # the last went: its comma style stays
                    args[-1] = args[-1].with_changes(comma=call.args[-1].comma)
                call = call.with_changes(args=args)
            if isinstance(default, cst.Ellipsis):
                default = None
        element_comma = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
        annotated = cst.Subscript(
            value=cst.Name("Annotated"),
            slice=[
                cst.SubscriptElement(
                    slice=cst.Index(value=node.annotation.annotation), comma=element_comma
                ),
                cst.SubscriptElement(slice=cst.Index(value=call)),
            ],
        )
        param = node.with_changes(
            annotation=node.annotation.with_changes(annotation=annotated),
            default=default,
            equal=node.equal if default is not None else cst.MaybeSentinel.DEFAULT,
        )
        tree = self.ctx.tree
        imported = imported_as(
            tree, "Annotated", ("typing.Annotated", "typing_extensions.Annotated")
        )
        return Fix(param, imports=() if imported else (("typing", "Annotated"),))


def _default_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return keyword_value(call, "default")


def _movable_default(call: ast.Call, name: str) -> bool:
    if any(isinstance(a, ast.Starred) for a in call.args) or any(
        kw.arg is None for kw in call.keywords
    ):
        return False
    if name in ("Depends", "Security"):
        return True
    return keyword(call, "default_factory") is None


def _kept_default(call: ast.Call, name: str) -> ast.expr | None:
    """The default the parameter keeps once the call moves into `Annotated` (None: required)."""
    if name in ("Depends", "Security"):
        return None
    default = _default_arg(call)
    if isinstance(default, ast.Constant) and default.value is Ellipsis:
        return None
    return default


_MISSING = re.compile(r"^path parameter (.+?) of ")  # `^`: one start, even for search
# converter parts stop at the next opener too (linear: see docs/regex-audit.md)
_FASTAPI_CONVERTERS = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\}")
_FLASK_CONVERTERS = re.compile(
    r"<(?:([A-Za-z_][A-Za-z0-9_]*)(?:\([^)<]*\))?:)?([A-Za-z_][A-Za-z0-9_]*)>"
)
# converter -> the type the handler receives (unknown converters: no fix)
_TYPES = {"": "str", "str": "str", "string": "str", "path": "str", "int": "int", "float": "float"}


def _room_for(func: Handler) -> bool:
    """A parameter without default can be added: among keyword-only ones, or before the first
    positional default - not after a positional-only one with a default (`def f(a=1, /)`)."""
    args = func.args
    if args.kwonlyargs or args.vararg is not None:
        return True
    return len(args.defaults) <= len(args.args)


def _param_types(path: str, framework: str) -> dict[str, str]:
    """Path parameter -> its converter (`""` when none)."""
    if framework == "flask":
        return {name: converter for converter, name in _FLASK_CONVERTERS.findall(path)}
    return {name: converter for name, converter in _FASTAPI_CONVERTERS.findall(path)}


def _separator(params: Any) -> Any:
    """The comma between two parameters of this signature (one per line keeps its indent);
    a trailing comma is no model: it is followed by the closing parenthesis."""
    import libcst as cst

    elements = [*params.posonly_params, *params.params]
    if isinstance(params.star_arg, cst.Param | cst.ParamStar):
        elements.append(params.star_arg)
    elements += [*params.kwonly_params]
    if params.star_kwarg is not None:
        elements.append(params.star_kwarg)
    for element in elements[:-1]:
        if isinstance(element.comma, cst.Comma):
            return element.comma
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _insert(items: list[Any], index: int, new: Any, separator: Any) -> list[Any]:
    """Insert a parameter, keeping the signature's comma layout (a trailing comma stays last)."""
    import libcst as cst

    if index < len(items):
        return [*items[:index], new.with_changes(comma=separator), *items[index:]]
    if items:
        last = items[-1]
        if isinstance(last.comma, cst.Comma):
            return [
                *items[:-1],
                last.with_changes(comma=separator),
                new.with_changes(comma=last.comma),
            ]
        # the space before `)` (a newline) follows the new last parameter
        return [
            *items[:-1],
            last.with_changes(comma=separator, whitespace_after_param=cst.SimpleWhitespace("")),
            new.with_changes(whitespace_after_param=last.whitespace_after_param),
        ]
    return [new]


def _annotated_hint(param: Param, name: str, call: ast.Call) -> str:
    """`Write `q: Annotated[str | None, Query(max_length=50)] = None``: the default moves out
    of the call (FastAPI rejects a default inside `Annotated`)."""
    type_text = ast.unparse(param.annotation) if param.annotation is not None else "Any"
    if len(type_text) > 40:
        type_text = "T"
    default: ast.expr | None = None
    args = list(call.args)
    keywords = [kw for kw in call.keywords if kw.arg != "default"]
    if name not in ("Depends", "Security"):
        default = args.pop(0) if args else keyword_value(call, "default")
    inner = ast.Call(func=call.func, args=args, keywords=keywords)
    text = f"{param.name}: Annotated[{type_text}, {ast.unparse(inner)}]"
    if default is not None and not (
        isinstance(default, ast.Constant) and default.value is Ellipsis
    ):
        text += f" = {ast.unparse(default)}"
    return f"Write `{text}` (`from typing import Annotated`)."
