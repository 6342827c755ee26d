"""API004: success status codes of creating and deleting routes."""

from __future__ import annotations

import ast
from typing import Any

from bastion.analysis.api_design import (
    Handler,
    docstring_first_word,
    handler_params,
    is_html_view,
    status_code_value,
    words,
)
from bastion.analysis.fastpath import TextMentions
from bastion.analysis.fixes import append_arg, keyword_arg
from bastion.analysis.nodes import has_kwargs_splat, keyword, walk_local
from bastion.analysis.web import Route, routes_of
from bastion.context import FileContext
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule

_CREATE_WORDS = frozenset({"create", "add", "insert"})
_CREATE_DOC_WORDS = frozenset({"create", "creates", "add", "adds", "insert", "inserts"})
# Issuing a token or starting a session is not creating a resource the client can GET back
# (OAuth2 token endpoints must answer 200).
# Likewise computed answers that are not stored (OpenAI-style `create_chat_completion` must
# answer 200 like the API it mimics).
_NOT_RESOURCES = frozenset(
    {
        "token",
        "tokens",
        "session",
        "sessions",
        "login",
        "auth",
        "jwt",
        "otp",
        "signature",
        "completion",
        "completions",
        "embedding",
        "embeddings",
        "chat",
        "prediction",
        "predictions",
        "inference",
        "summary",
        "translation",
        "transcription",
        "speech",
        "moderation",
        "moderations",
        "answer",
        "estimate",
        "preview",
    }
)


def _sets_status_itself(func: Handler) -> bool:
    """The handler chooses its own status: returns a Response object, returns a `(body,
    status)` tuple, or assigns `response.status_code`."""
    for node in walk_local(func.body):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            if isinstance(value, ast.Tuple) and len(value.elts) >= 2:
                return True
            if isinstance(value, ast.Call):
                func_node = value.func
                name = (
                    func_node.attr
                    if isinstance(func_node, ast.Attribute)
                    else getattr(func_node, "id", "")
                )
                if "Response" in name or name in ("make_response", "redirect", "abort"):
                    return True
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("status_code", "status")
            and isinstance(node.ctx, ast.Store)
        ):
            return True
    return False


def _returns_body(func: Handler) -> ast.Return | None:
    for node in walk_local(func.body):
        if isinstance(node, ast.Return) and node.value is not None:
            if isinstance(node.value, ast.Constant) and node.value.value is None:
                continue
            return node
    return None


def _creates(func: Handler, route: Route) -> str | None:
    """Why the handler looks like it creates a resource (for the message), else None."""
    name_words = words(func.name)
    path_words = {w for s in route.path.split("/") for w in words(s)}
    if (set(name_words) | path_words) & _NOT_RESOURCES:
        return None
    if name_words and name_words[0] in _CREATE_WORDS:
        return f"its name `{func.name}` says it creates"
    if docstring_first_word(func) in _CREATE_DOC_WORDS:
        return "its docstring says it creates"
    return None


class WrongSuccessStatus(Rule):
    """Flags a POST route that creates a resource - its handler is named `create_*`/`add_*`/
    `insert_*` or its docstring starts with "Create"/"Add" - and answers with the default 200,
    and a DELETE route that returns an undeclared body (`{"ok": True}`) with the default 200
    instead of 204. FastAPI routes
    without `status_code=`; Flask API routes whose successful returns all answer 200 (no status,
    or an explicit `, 200`).

    Not flagged: any explicit FastAPI `status_code=` (200 or 202 can be deliberate), handlers
    that set their own status (return a `Response`, a `(body, status)` tuple, or assign
    `response.status_code`), token/login/session endpoints (OAuth2 token responses are 200),
    computed answers (`create_chat_completion`, `create_embedding`: nothing is stored),
    DELETE handlers that return nothing or declare what they return (`response_model=` or a
    return annotation: answering 200 with the deleted representation is valid HTTP), and
    server-rendered Flask views."""

    id = "API004"
    name = "wrong-success-status"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "20 of 20 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Creating POST without 201, or DELETE returning a body with 200"
    why = (
        "Status codes are the part of a response that every client, proxy and monitoring tool "
        "reads. `201 Created` tells the client a new resource exists (and where, with a "
        "`Location` header); `204 No Content` tells it a DELETE succeeded with nothing to "
        "parse. Answering 200 to everything forces clients to inspect bodies to learn what "
        "happened."
    )
    hint = (
        "Declare the status: `@router.post(..., status_code=201)` for creation, "
        "`@router.delete(..., status_code=204)` returning nothing for deletion (Flask: "
        "`return jsonify(item), 201` / `return '', 204`)."
    )
    fix_safety = FixSafety.UNSAFE
    fix_safety_note = (
        "Adding `status_code=201` (or 204) changes the status every client sees: a client or test"
        " that checks for 200 breaks, and a 204 must not carry a body. Review each route."
    )
    # two stages (see `TextMentions`): a route needs a decorator; then the method words
    requires = ("@",)
    fix_node = "Call"
    bad = [
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.post('/users')\ndef create_user(user: UserIn) -> User:\n"
            "    return repo.add(user)\n",
            fixed="from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.post('/users', status_code=201)\ndef create_user(user: UserIn) -> User:\n"
            "    return repo.add(user)\n",
        ),
        Example(
            "from fastapi import APIRouter\nrouter = APIRouter()\n\n"
            "@router.post(\n    '/items',\n    tags=['items'],\n)\n"
            "async def new_item(item: Item):\n"
            '    """Create an item."""\n    return await repo.save(item)\n',
            fixed="from fastapi import APIRouter\nrouter = APIRouter()\n\n"
            "@router.post(\n    '/items',\n    tags=['items'],\n    status_code=201,\n)\n"
            "async def new_item(item: Item):\n"
            '    """Create an item."""\n    return await repo.save(item)\n',
        ),
        # FastAPI sends no body with a 204, whatever the handler returns
        Example(
            "from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.delete('/items/{item_id}')\ndef remove(item_id: int):\n"
            "    repo.delete(item_id)\n    return {'ok': True}\n",
            fixed="from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.delete('/items/{item_id}', status_code=204)\ndef remove(item_id: int):\n"
            "    repo.delete(item_id)\n    return {'ok': True}\n",
        ),
        # Flask: the status is in the returns, which the fix does not rewrite (no fix)
        "from flask import Flask, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/api/items', methods=['POST'])\ndef add_item():\n"
        "    return jsonify(repo.add(request.get_json()))\n",
    ]
    good = [
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.post('/users', status_code=201)\ndef create_user(user: UserIn) -> User:\n"
        "    return repo.add(user)\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.delete('/items/{item_id}', status_code=204)\ndef remove(item_id: int):\n"
        "    repo.delete(item_id)\n\n"
        "@app.delete('/carts/{cart_id}')\ndef clear(cart_id: int) -> None:\n"
        "    repo.clear(cart_id)\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.post('/token')\ndef create_access_token(form: Form):\n    return issue(form)\n",
        "from flask import Flask, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/api/items', methods=['POST'])\ndef add_item():\n"
        "    return jsonify(repo.add(request.get_json())), 201\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.post('/search')\ndef search(q: Query):\n    return run(q)\n",
    ]

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """FastAPI only: `status_code=201` (or 204 for the DELETE case) on the decorator."""
        import libcst as cst

        if not isinstance(node, cst.Call) or any(
            arg.keyword is not None and arg.keyword.value == "status_code" for arg in node.args
        ):
            return None
        code = "204" if "204 No Content" in finding.message else "201"
        return Fix(append_arg(node, keyword_arg("status_code", cst.Integer(code))))

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # the former text pre-filter: without one of these words no route is checked
        self._mentions_method = TextMentions(ctx.source.text, ("post", "delete", "POST", "DELETE"))

    def visit_route(self, handler: Handler, route: Route) -> None:
        if self.ctx.enclosing_class() is not None or not self._mentions_method():
            return
        routes = routes_of(handler, self.ctx)
        if routes[0].framework == "flask":
            if route.index == 0:  # the handler's returns: checked once, for all its routes
                self._check_flask(handler, routes)
            return
        if _sets_status_itself(handler) or _has_response_param(handler):
            return
        call = route.call
        if call is None or keyword(call, "status_code") is not None:
            return
        if keyword(call, "response_class") is not None:
            return  # an HTML page or a redirect: not a JSON resource
        if has_kwargs_splat(call):
            return
        if route.methods == ("POST",):
            reason = _creates(handler, route)
            if reason is not None:
                self.report(
                    route.node,
                    f"{route.describe()} answers 200 although {reason} a resource",
                    hint=_hint(False, 201),
                    fixable=True,
                )
        elif route.methods == ("DELETE",):
            returned = _returns_body(handler)
            declared = handler.returns is not None or keyword(call, "response_model")
            if returned is not None and not declared:
                self.report(
                    route.node,
                    f"{route.describe()} answers 200 with a body "
                    f"(`return {_short(returned)}`) instead of 204 No Content",
                    hint=_hint(False, 204),
                    fixable=True,
                )

    def _check_flask(self, node: Handler, routes: list[Route]) -> None:
        """Flask: the status is the second item of a returned tuple (200 when absent)."""
        if is_html_view(node, self.ctx.imports):
            return
        success = _flask_success_returns(node)
        if not success:
            return
        for route in routes:
            if route.methods == ("POST",):
                reason = _creates(node, route)
                if reason is not None and all(status == 200 for _, status in success):
                    self.report(
                        route.node,
                        f"{route.describe()} answers 200 although {reason} a resource",
                        hint=_hint(True, 201),
                        fixable=False,
                    )
            elif route.methods == ("DELETE",):
                if any(status == 204 for _, status in success):
                    continue
                with_body = [r for r, status in success if status == 200 and _has_body(r)]
                if with_body:
                    self.report(
                        route.node,
                        f"{route.describe()} answers 200 with a body "
                        f"(`return {_short(with_body[0])}`) instead of 204 No Content",
                        hint=_hint(True, 204),
                        fixable=False,
                    )


def _flask_success_returns(func: Handler) -> list[tuple[ast.Return, int]]:
    """The handler's successful returns with their status (200 when none is given); [] when
    any return builds its own response (`make_response`, `Response(...)`, `redirect`) or has a
    status that cannot be read."""
    out: list[tuple[ast.Return, int]] = []
    for node in walk_local(func.body):
        if not isinstance(node, ast.Return) or node.value is None:
            continue
        value = node.value
        status: int | None = 200
        if isinstance(value, ast.Tuple) and len(value.elts) >= 2:
            status = status_code_value(value.elts[1])
            value = value.elts[0]
        if isinstance(value, ast.Call):
            func_node = value.func
            name = (
                func_node.attr
                if isinstance(func_node, ast.Attribute)
                else getattr(func_node, "id", "")
            )
            if "Response" in name or name in ("make_response", "redirect", "abort", "send_file"):
                return []
        if status is None:
            return []
        if 200 <= status < 300:
            out.append((node, status))
    return out


def _has_body(node: ast.Return) -> bool:
    value = node.value
    if isinstance(value, ast.Tuple) and value.elts:
        value = value.elts[0]
    return not (isinstance(value, ast.Constant) and value.value in ("", None))


def _has_response_param(func: Handler) -> bool:
    """`response: Response` parameter: the handler may set `response.status_code`."""
    for param in handler_params(func):
        ann = param.annotation
        name = ann.attr if isinstance(ann, ast.Attribute) else getattr(ann, "id", "")
        if name == "Response":
            return True
    return False


def _short(node: ast.Return) -> str:
    assert node.value is not None
    value = node.value
    if isinstance(value, ast.Tuple) and value.elts:
        value = value.elts[0]
    text = ast.unparse(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _hint(flask: bool, status: int) -> str:
    if status == 201:
        if flask:
            return "Return the created resource with its status: `return jsonify(item), 201`."
        return "Declare the status on the route: `status_code=201` (`status.HTTP_201_CREATED`)."
    if flask:
        return "Return no body with 204: `return '', 204`."
    return "Declare `status_code=204` on the route and return nothing."
