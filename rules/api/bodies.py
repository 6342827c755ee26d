"""API006: request bodies read without a validated model."""

from __future__ import annotations

import ast

from bastion.analysis.api_design import (
    Handler,
    Param,
    handler_params,
    is_html_view,
    path_params,
)
from bastion.analysis.nodes import walk_local
from bastion.analysis.web import Route, method_view_of, routes_of
from bastion.context import FileContext
from bastion.findings import Severity
from bastion.rule import Rule

_REQUEST_TYPES = frozenset(
    {"fastapi.Request", "fastapi.requests.Request", "starlette.requests.Request"}
)
_FLASK_REQUEST = frozenset({"flask.request", "flask.globals.request", "quart.request"})
_DICT_TYPES = frozenset(
    {"dict", "Dict", "Mapping", "MutableMapping", "typing.Dict", "typing.Mapping"}
)
_ANY_TYPES = frozenset({"Any", "typing.Any", "object"})
_LIST_TYPES = frozenset({"list", "List", "Sequence", "typing.List", "typing.Sequence"})
_NOT_BODY = frozenset({"Query", "Path", "Header", "Cookie", "Form", "File", "Depends", "Security"})
# Calls that validate what they are given: marshmallow `load`, pydantic `model_validate`,
# `parse_obj`, cattrs `structure`, jsonschema `validate`, DRF-like `is_valid`.
_VALIDATING = ("load", "loads", "validate", "parse_obj", "parse_raw", "structure", "from_dict")


def _type_name(node: ast.expr | None, rule: Rule) -> str:
    if node is None:
        return ""
    if isinstance(node, ast.Subscript):
        node = node.value
    name = rule.ctx.imports.qualname(node) or ""
    return name.removeprefix("typing.").removeprefix("builtins.")


def _optional_inner(node: ast.expr | None, rule: Rule) -> ast.expr | None:
    """`Optional[X]`/`X | None`/`Union[X, None]` -> X."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        for side in (node.left, node.right):
            if not (isinstance(side, ast.Constant) and side.value is None):
                return side
    if isinstance(node, ast.Subscript):
        base = _type_name(node, rule)
        if base == "Optional":
            return node.slice
        if base == "Union" and isinstance(node.slice, ast.Tuple):
            rest = [
                e for e in node.slice.elts if not (isinstance(e, ast.Constant) and e.value is None)
            ]
            if len(rest) == 1:
                return rest[0]
    return node


def _untyped_kind(param: Param, rule: Rule) -> str | None:
    """`dict`/`Any`/`list[dict]` when the parameter's type is such an untyped container."""
    inner = _optional_inner(param.annotated_type(), rule)
    name = _type_name(inner, rule)
    if name in _DICT_TYPES:
        return "dict"
    if name in _ANY_TYPES:
        return "Any"
    if name in _LIST_TYPES and isinstance(inner, ast.Subscript):
        element = _optional_inner(inner.slice, rule)
        if _type_name(element, rule) in _DICT_TYPES:
            return f"list of {_type_name(element, rule)}"
    return None


def _parents(func: Handler) -> dict[int, ast.AST]:
    parents: dict[int, ast.AST] = {}
    for node in walk_local(func.body):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


def _validates(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if name.endswith(_VALIDATING) or name.startswith(("validate", "model_validate")):
        return True
    # `Item(**data)`, `ItemSchema().load(...)`, `MyForm(request.form)`: a class builds a model
    return name[:1].isupper()


def _is_validated(read: ast.expr, func: Handler, parents: dict[int, ast.AST]) -> bool:
    """The value read is handed to a validator directly, or one assignment later."""
    node: ast.AST = read
    parent = parents.get(id(node))
    # `request.get_json() or {}`, `request.form or request.get_json()`: the same value
    while isinstance(parent, ast.Await | ast.keyword | ast.Starred | ast.BoolOp):
        node, parent = parent, parents.get(id(parent))
    if isinstance(parent, ast.Call) and node is not parent.func and _validates(parent):
        return True
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1:
        target = parent.targets[0]
        if isinstance(target, ast.Name):
            items = _loop_names(func, target.id)
            for sub in walk_local(func.body):
                if not isinstance(sub, ast.Call) or not _validates(sub):
                    continue
                values = [*sub.args, *(kw.value for kw in sub.keywords)]
                for value in values:
                    inner = value.value if isinstance(value, ast.Starred) else value
                    if isinstance(inner, ast.Name) and inner.id == target.id:
                        return True
                    if items and any(
                        isinstance(n, ast.Name) and n.id in items for n in ast.walk(inner)
                    ):
                        return True  # `for k, v in req.items(): schema.load({"key": k, ...})`
    return False


def _loop_names(func: Handler, name: str) -> set[str]:
    """Names bound by a `for` over `name` or `name.items()`/`.values()`: its items, each of
    which a validator may take."""
    found: set[str] = set()
    for node in walk_local(func.body):
        if not isinstance(node, ast.For | ast.AsyncFor):
            continue
        source = node.iter
        if (
            isinstance(source, ast.Call)
            and isinstance(source.func, ast.Attribute)
            and source.func.attr in ("items", "values")
            and not source.args
        ):
            source = source.func.value
        if isinstance(source, ast.Name) and source.id == name:
            found |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
    return found


def _verifies_raw_body(func: Handler, ctx: FileContext) -> bool:
    """The handler also takes the raw bytes (`await request.body()`, a `body: bytes`
    parameter): a webhook that verifies a third party's signature (Stripe, Slack, PayPal) over
    a payload whose format that party defines."""
    for param in handler_params(func):
        if isinstance(param.annotation, ast.Name) and param.annotation.id == "bytes":
            return True
    return any(
        isinstance(n.func, ast.Attribute) and n.func.attr == "body" and not n.args
        for n in ctx.function_index(func).calls
    )


class UntypedRequestBody(Rule):
    """Flags route handlers that take the request body without a validated model:

    - FastAPI: `await request.json()` / `await request.form()` on a `Request` parameter, or a
      body parameter typed `dict`, `Dict[...]`, `Mapping`, `list[dict]` (FastAPI reads those
      from the body), or `Any` marked `Body()`;
    - Flask (routes and `MethodView` methods): `request.get_json()`, `request.json`, and
      `request.form` in JSON API handlers.

    Not flagged: a value handed straight (or one assignment later) to a validator - a class
    (`Item(**data)`, `ItemForm(request.form)`), marshmallow `load`, pydantic `model_validate`,
    `validate(...)`; `await request.body()` (raw bytes, e.g. for webhook signatures);
    `request.form` in server-rendered Flask views (handlers that `render_template`/`redirect`);
    parameters that are query, path, header or dependency parameters; a value loaded after
    `or {}` (`request.get_json() or {}`, `request.form or request.get_json()`) or item by item
    (`for key, value in req.items(): schema.load({...})`); and webhooks that also read the raw
    body to verify the sender's signature (`await request.body()`, a `body: bytes` parameter):
    the sender defines that payload.

    Severity: info. Measured on 15 application repositories (bench/ecosystem) 13 of 15
    findings were right (87%), below the 90% a warning needs: the rest validate by hand
    (checks and 400s field by field) or hand the dict to a converter that validates it."""

    id = "API006"
    name = "untyped-request-body"
    # info, not warning: 13 of 15 judged findings right on real applications (87%, below the
    # warning bar of 90%) once schema loads, per-item loads and signed webhooks are recognised
    severity = Severity.INFO
    precision = "medium"
    precision_measured = (
        "13 of 15 judged findings right (87%) on 15 application repositories, bench/ecosystem; "
        "info since then (it was a warning)"
    )
    summary = "Request body read as a raw dict/JSON instead of a validated model"
    why = (
        "A raw dict accepts anything: missing fields surface as `KeyError` 500s deep in the "
        "handler, wrong types reach the database, unexpected keys are mass-assigned, and the "
        "API documentation shows an empty schema. A Pydantic model (or a marshmallow schema / "
        "form class in Flask) validates the input at the edge, answers 422/400 with the exact "
        "field at fault, and documents the contract."
    )
    hint = (
        "Declare a Pydantic model and take it as the parameter (`def create(item: ItemIn)`); in "
        "Flask validate the JSON with a schema (`ItemIn.model_validate(request.get_json())`, "
        "marshmallow `schema.load(...)`)."
    )
    requires = ("request", "dict", "Dict", "Any", "Mapping")
    bad = [
        "from fastapi import FastAPI, Request\napp = FastAPI()\n\n"
        "@app.post('/items')\nasync def create(request: Request):\n"
        "    data = await request.json()\n    return repo.add(data['name'])\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.put('/items/{item_id}')\ndef update(item_id: int, payload: dict):\n"
        "    return repo.update(item_id, payload)\n",
        "from flask import Flask, request, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/api/items', methods=['POST'])\ndef create():\n"
        "    data = request.get_json()\n    return jsonify(repo.add(data['name']))\n",
        "from flask import request\nfrom flask.views import MethodView\n\n"
        "class Items(MethodView):\n    def post(self):\n"
        "        return repo.add(request.json['name'])\n",
        "from typing import Any\nfrom fastapi import Body, FastAPI\napp = FastAPI()\n\n"
        "@app.post('/events')\ndef ingest(event: Any = Body(...)):\n    return store(event)\n",
    ]
    good = [
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.post('/items')\ndef create(item: ItemIn):\n    return repo.add(item)\n",
        "from fastapi import FastAPI, Request\napp = FastAPI()\n\n"
        "@app.post('/webhook')\nasync def hook(request: Request):\n"
        "    body = await request.body()\n    verify(body, request.headers)\n",
        "from flask import Flask, request, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/api/items', methods=['POST'])\ndef create():\n"
        "    item = ItemIn.model_validate(request.get_json())\n"
        "    return jsonify(repo.add(item))\n",
        "from flask import Flask, request, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/api/items', methods=['POST'])\ndef create():\n"
        "    data = request.get_json()\n    item = schema.load(data)\n"
        "    return jsonify(repo.add(item))\n",
        "from flask import Flask, request, render_template\napp = Flask(__name__)\n\n"
        "@app.route('/create', methods=['GET', 'POST'])\ndef create():\n"
        "    title = request.form['title']\n    return render_template('x.html')\n",
        "from typing import Any\nfrom fastapi import FastAPI, Query\napp = FastAPI()\n\n"
        "@app.get('/items')\ndef items(filters: dict = Query(None), q: Any = None):\n"
        "    return []\n",
    ]

    def visit_route(self, handler: Handler, route: Route) -> None:
        if route.index:
            return  # the body is the handler's: checked once, with its first route
        if route.framework == "fastapi":
            routes = routes_of(handler, self.ctx)
            path_names = {n for r in routes for n in path_params(r.path, "fastapi")}
            self._check_fastapi(handler, path_names)
        else:
            self._check_flask(handler)

    def visit_FunctionDef(self, node: Handler) -> None:
        """Flask `MethodView` methods (decorator routes went to `visit_route`)."""
        # the cheap test first: only `get`/`post`/... methods of a view class can be one
        if method_view_of(node, self.ctx) is not None and not routes_of(node, self.ctx):
            self._check_flask(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def _check_fastapi(self, node: Handler, path_names: set[str]) -> None:
        imports = self.ctx.imports
        request_names: set[str] = set()
        for param in handler_params(node):
            if param.kind not in ("positional", "keyword"):
                continue
            ann = param.annotated_type()
            if ann is not None and imports.qualname(ann) in _REQUEST_TYPES:
                request_names.add(param.name)
                continue
            functions = {name for name, _ in param.param_functions(imports)}
            if functions & _NOT_BODY or param.name in path_names:
                continue
            kind = _untyped_kind(param, self)
            if kind is None or (kind == "Any" and "Body" not in functions):
                continue  # `Any` without Body() is a query parameter
            self.report(
                param.annotation or node,
                f"body parameter `{param.name}` of `{node.name}` is typed `{kind}`: the body is "
                "not validated",
            )
            return
        if not request_names or _verifies_raw_body(node, self.ctx):
            return
        parents = _parents(node)
        for sub in self.ctx.function_index(node).calls:
            if (
                isinstance(sub.func, ast.Attribute)
                and sub.func.attr in ("json", "form")
                and isinstance(sub.func.value, ast.Name)
                and sub.func.value.id in request_names
                and not _is_validated(sub, node, parents)
            ):
                self.report(
                    sub,
                    f"`{node.name}` reads `{ast.unparse(sub)}` without validating it with a model",
                )
                return

    def _check_flask(self, node: Handler) -> None:
        imports = self.ctx.imports
        parents: dict[int, ast.AST] | None = None
        html: bool | None = None
        for sub in self.ctx.function_index(node).nodes:
            if not isinstance(sub, ast.Attribute) or sub.attr not in ("get_json", "json", "form"):
                continue
            if imports.qualname(sub.value) not in _FLASK_REQUEST:
                continue
            read: ast.expr = sub
            if parents is None:
                parents = _parents(node)
            parent = parents.get(id(sub))
            if sub.attr == "get_json":
                if not (isinstance(parent, ast.Call) and parent.func is sub):
                    continue
                read = parent
            if sub.attr == "form":
                if html is None:
                    html = is_html_view(node, imports)
                if html:
                    continue
            if _is_validated(read, node, parents):
                continue
            self.report(
                read,
                f"`{node.name}` reads `{ast.unparse(read)}` without validating it with a schema",
            )
            return
