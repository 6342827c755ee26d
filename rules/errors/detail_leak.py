"""ERR004: exception details sent to the client."""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass

from bastion.analysis.api_design import Handler, handler_params, status_code_value
from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import catches_broadly, exception_names, keyword_value, walk_local
from bastion.analysis.web import method_view_of, routes_of
from bastion.context import FileContext
from bastion.findings import Severity
from bastion.rule import Rule


@dataclass(frozen=True)
class _Sink:
    what: str  # for messages
    body_positions: tuple[int, ...]  # positional arguments that end up in the body
    body_keywords: tuple[str, ...]
    all_arguments: bool = False  # jsonify(*args, **kwargs)
    status_position: int | None = None
    status_keyword: str | None = None
    status: int | None = None  # implied by the class (HttpResponseServerError)


_HTTP_EXCEPTION = _Sink("HTTPException(detail=...)", (1,), ("detail",), False, 0, "status_code")
_ABORT = _Sink("abort(...)", (1,), ("description",), False, 0, "code")
_JSONIFY = _Sink("jsonify(...)", (), (), True)
_STARLETTE_RESPONSE = _Sink("the response body", (0,), ("content",), False, 1, "status_code")
_DJANGO_RESPONSE = _Sink("the response body", (0,), ("content", "data"), False, None, "status")
_DRF_RESPONSE = _Sink("the response body", (0,), ("data",), False, 1, "status")
_FLASK_RESPONSE = _Sink("the response body", (0,), ("response",), False, 1, "status")

_SINKS: dict[str, _Sink] = {
    "fastapi.HTTPException": _HTTP_EXCEPTION,
    "fastapi.exceptions.HTTPException": _HTTP_EXCEPTION,
    "starlette.exceptions.HTTPException": _HTTP_EXCEPTION,
    "flask.abort": _ABORT,
    "werkzeug.exceptions.abort": _ABORT,
    "quart.abort": _ABORT,
    "flask.jsonify": _JSONIFY,
    "flask.json.jsonify": _JSONIFY,
    "quart.jsonify": _JSONIFY,
    "flask.make_response": _Sink("make_response(...)", (0,), (), False, 1, None),
    "flask.Response": _FLASK_RESPONSE,
    "werkzeug.wrappers.Response": _FLASK_RESPONSE,
    "rest_framework.response.Response": _DRF_RESPONSE,
}
for _module in ("fastapi.responses", "starlette.responses", "fastapi"):
    for _cls in (
        "JSONResponse",
        "PlainTextResponse",
        "HTMLResponse",
        "ORJSONResponse",
        "UJSONResponse",
        "Response",
    ):
        _SINKS[f"{_module}.{_cls}"] = _STARLETTE_RESPONSE
for _module in ("django.http", "django.http.response"):
    for _cls in ("JsonResponse", "HttpResponse", "HttpResponseBadRequest"):
        _SINKS[f"{_module}.{_cls}"] = _DJANGO_RESPONSE
    _SINKS[f"{_module}.HttpResponseServerError"] = _Sink(
        "the response body", (0,), ("content",), False, None, None, 500
    )

# The last part of each sink's name: what `x.y.name(...)` must end with to be one (imports
# rename only the root of a dotted name).
_SINK_NAMES = last_parts(_SINKS)

_TRACEBACK_FORMATTERS = frozenset(
    {
        "traceback.format_exc",
        "traceback.format_exception",
        "traceback.format_exception_only",
        "traceback.format_tb",
        "traceback.format_stack",
    }
)
_TEXT_CALLS = frozenset({"str", "repr", "format", "dict", "list", "tuple"})
# Attributes of an exception that carry its message or the underlying driver error.
_EXC_ATTRIBUTES = frozenset({"args", "orig", "message", "msg", "strerror", "__cause__"})
# Exceptions whose text describes the infrastructure (SQL, hosts, paths), never the client's
# mistake.
_INFRA_PREFIXES = (
    "sqlalchemy.",
    "psycopg",
    "pymysql.",
    "MySQLdb.",
    "sqlite3.",
    "asyncpg.",
    "pymongo.",
    "redis.",
    "django.db.",
    "requests.",
    "httpx.",
    "aiohttp.",
    "urllib3.",
    "botocore.",
    "boto3.",
    "subprocess.",
    "socket.",
    "smtplib.",
)
_INFRA_BUILTINS = frozenset(
    {
        "OSError",
        "IOError",
        "ConnectionError",
        "TimeoutError",
        "FileNotFoundError",
        "PermissionError",
    }
)


@dataclass(frozen=True)
class _Caught:
    name: str
    what: str  # "Exception", "SQLAlchemyError"...
    always: bool  # broad or infrastructure: its text never belongs to a client
    own: bool = False  # the project's own exception classes: the project wrote their text


def _own_exception(name: str, module: str) -> bool:
    """`CTFd.exceptions.ChallengeCreateException` caught in `CTFd/api/v1/challenges.py`, a
    relative import, or a class of this module: an exception the project defines and raises
    with messages of its own (`raise ChallengeCreateException("Missing initial value")`)."""
    if name.startswith("."):
        return True
    if "." not in name:
        return name != "?" and not hasattr(builtins, name)
    return name.partition(".")[0] in module.split(".")[:-1]


def _is_traceback_call(node: ast.expr, rule: Rule) -> bool:
    return isinstance(node, ast.Call) and rule.ctx.imports.qualname(node.func) in (
        _TRACEBACK_FORMATTERS
    )


class ErrorDetailLeak(Rule):
    """Flags exception details put into what the client receives: the caught exception itself,
    `str(e)`, `repr(e)`, `e.args`, f-strings/`%`/`+`/`.format` built from them, or
    `traceback.format_exc()`, passed to `HTTPException(detail=...)` (FastAPI/Starlette), Flask
    `abort(...)`, `jsonify(...)`, `make_response(...)`, response classes (Starlette/FastAPI
    `JSONResponse`..., Django `JsonResponse`/`HttpResponse`, DRF `Response`), or returned from
    a route handler (`return {"error": str(e)}`). A name is followed one assignment back inside
    the same function (`msg = str(e)` then `detail=msg`).

    Which exceptions count: those caught by a broad handler (`except Exception as e`, bare,
    `BaseException`), infrastructure errors (SQLAlchemy, DB drivers, requests/httpx,
    `OSError`...), and the exception of an app-wide handler for `Exception`/500. The message of
    a specific exception (`except ValueError as e` -> 400 `detail=str(e)`) is often written for
    the client and is flagged only when it goes out with a 5xx status - and not even then when
    the project defines that exception itself (`except ChallengeCreateException as e`, imported
    from the project's own package or defined in the module): its text is the project's own
    message. Traceback text is always flagged."""

    id = "ERR004"
    name = "error-detail-leak"
    severity = Severity.ERROR
    precision = "very-high"
    precision_measured = (
        "9 of 9 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Exception message or traceback sent in an HTTP response"
    why = (
        "An exception's text describes the server, not the request: SQL statements and table "
        "names, file paths, host names, library versions, sometimes secrets from a connection "
        "string. Sent to the client it helps attackers map the system and tells users nothing "
        "they can act on. Log the details server-side and answer with a generic message (and a "
        "request id to correlate)."
    )
    hint = (
        "Log the exception (`logger.exception(...)`) and return a generic message, e.g. "
        "`HTTPException(status_code=500, detail='Internal server error')`."
    )
    cwe = (209,)
    requires = ("except", "traceback", "errorhandler")  # "exception_handler" has "except"
    call_names = _SINK_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "from fastapi import HTTPException\n\ndef charge(order):\n    try:\n        pay(order)\n"
        "    except Exception as e:\n        raise HTTPException(status_code=500, detail=str(e))\n",
        "import traceback\nfrom flask import jsonify\n\ndef view():\n    try:\n        run()\n"
        "    except Exception:\n        return jsonify(error=traceback.format_exc()), 500\n",
        "from django.http import JsonResponse\nfrom sqlalchemy.exc import SQLAlchemyError\n\n"
        "def view(request):\n    try:\n        save()\n    except SQLAlchemyError as exc:\n"
        "        msg = f'database error: {exc}'\n        return JsonResponse({'error': msg})\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/items')\ndef items():\n"
        "    try:\n        return load()\n    except Exception as e:\n"
        "        return {'error': repr(e)}\n",
        "from fastapi import FastAPI\nfrom fastapi.responses import JSONResponse\n"
        "app = FastAPI()\n\n@app.exception_handler(Exception)\n"
        "async def on_error(request, exc):\n"
        "    return JSONResponse({'detail': str(exc)}, status_code=500)\n",
    ]
    good = [
        "from fastapi import HTTPException\n\ndef charge(order):\n    try:\n        pay(order)\n"
        "    except Exception:\n        logger.exception('payment failed')\n"
        "        raise HTTPException(status_code=500, detail='Payment failed')\n",
        "from fastapi import HTTPException\n\ndef parse(raw):\n    try:\n"
        "        return Money.parse(raw)\n    except ValueError as e:\n"
        "        raise HTTPException(status_code=400, detail=str(e))\n",
        "from flask import jsonify\n\ndef view():\n    try:\n        run()\n"
        "    except Exception as e:\n        logger.error('failed: %s', e)\n"
        "        return jsonify(error='internal error'), 500\n",
        "from fastapi import HTTPException\n\ndef get(repo, id):\n    try:\n"
        "        return repo.get(id)\n    except Exception as e:\n"
        "        raise HTTPException(status_code=500, detail=error_code(e))\n",
        "def helper():\n    try:\n        run()\n    except Exception as e:\n"
        "        return {'error': str(e)}\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._route_cache: dict[int, bool] = {}
        self._named_handlers = 0  # `except ... as name:` blocks the walk is in
        self._text_reasons: bool | None = None

    # -- whether anything can leak here (asked first, for every call and return) -------------
    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._named_handlers += 1

    def leave_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self._named_handlers -= 1

    def _may_leak(self) -> bool:
        """What `_check_values` needs: a caught exception with a name (an `except ... as
        name:` block, or an app-wide handler's parameter: `exception_handler`/`errorhandler`
        is then in the text) or a traceback formatted in this module."""
        if self._named_handlers:
            return True
        if self._text_reasons is None:
            text = self.ctx.source.text
            self._text_reasons = any(
                word in text for word in ("traceback", "exception_handler", "errorhandler")
            )
        return self._text_reasons

    # -- what is caught here ------------------------------------------------------------------
    def _caught(self) -> list[_Caught]:
        caught: list[_Caught] = []
        imports = self.ctx.imports
        for node in reversed(self.ctx.stack):
            if isinstance(node, ast.ExceptHandler) and node.name:
                names = exception_names(node, imports)
                infra = [
                    n
                    for n in names
                    if n.startswith(_INFRA_PREFIXES) or n.rpartition(".")[2] in _INFRA_BUILTINS
                ]
                broad = catches_broadly(node, imports)
                what = ", ".join(n.rpartition(".")[2] for n in names) or "everything"
                module = self.ctx.module_name
                own = bool(names) and all(_own_exception(n, module) for n in names)
                caught.append(_Caught(node.name, what, broad or bool(infra), own))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                app_wide = self._app_wide_handler_param(node)
                if app_wide is not None:
                    caught.append(_Caught(app_wide, "Exception", True))
                break
            if isinstance(node, ast.Lambda | ast.ClassDef):
                break
        return caught

    def _app_wide_handler_param(self, func: Handler) -> str | None:
        for decorator in func.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
                continue
            kind = decorator.func.attr
            if kind not in ("exception_handler", "errorhandler") or not decorator.args:
                continue
            target = decorator.args[0]
            name = self.ctx.imports.qualname(target) or ""
            broad = name.rpartition(".")[2] in ("Exception", "BaseException") or (
                isinstance(target, ast.Constant) and target.value == 500
            )
            if not broad:
                continue
            params = [p for p in handler_params(func) if p.name not in ("self", "cls")]
            index = 1 if kind == "exception_handler" else 0
            if len(params) > index:
                return params[index].name
        return None

    # -- what carries the exception's text ----------------------------------------------------
    def _leaks(
        self, node: ast.expr, caught: dict[str, _Caught], follow: bool = True
    ) -> tuple[ast.expr, _Caught | None] | None:
        """(the sub-expression that carries exception text, the exception or None for a
        traceback) when `node` carries some."""
        if isinstance(node, ast.Name):
            if node.id in caught:
                return node, caught[node.id]
            if follow:
                value = self._assigned_value(node)
                if value is not None:
                    found = self._leaks(value, caught, follow=False)
                    if found is not None:
                        return node, found[1]
            return None
        if _is_traceback_call(node, self):
            return node, None
        if isinstance(node, ast.Attribute):
            value = node.value
            if node.attr in _EXC_ATTRIBUTES and isinstance(value, ast.Name) and value.id in caught:
                return node, caught[value.id]
            return None
        if isinstance(node, ast.Subscript):
            inner = self._leaks(node.value, caught, follow)
            return (node, inner[1]) if inner else None
        children: list[ast.expr] = []
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "join" and isinstance(func, ast.Attribute):
                children = list(node.args)
            elif name in _TEXT_CALLS:
                children = [*node.args, *(kw.value for kw in node.keywords)]
            else:
                return None
        elif isinstance(node, ast.JoinedStr):
            children = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
            children = [node.left, node.right]
        elif isinstance(node, ast.Dict):
            children = [v for v in node.values if v is not None]
        elif isinstance(node, ast.List | ast.Tuple | ast.Set):
            children = list(node.elts)
        for child in children:
            found = self._leaks(child, caught, follow)
            if found is not None:
                return (
                    found
                    if isinstance(node, ast.Dict | ast.List | ast.Tuple)
                    else (
                        node,
                        found[1],
                    )
                )
        return None

    def _assigned_value(self, name: ast.Name) -> ast.expr | None:
        """The value of the last `name = ...` before this use, in the same function."""
        func = self.ctx.enclosing_function()
        if func is None:
            return None
        best: ast.Assign | ast.AnnAssign | None = None
        for node in walk_local(func):
            if isinstance(node, ast.Assign | ast.AnnAssign) and node.lineno < name.lineno:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == name.id for t in targets) and (
                    best is None or node.lineno > best.lineno
                ):
                    best = node
        return best.value if best is not None else None

    # -- sinks ------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not may_name(func, _SINK_NAMES, self.ctx.imports) or not self._may_leak():
            return
        qualified = self.ctx.imports.qualname(func)
        sink = _SINKS.get(qualified or "")
        if sink is None:
            return
        values: list[ast.expr] = []
        if sink.all_arguments:
            values = [*node.args, *(kw.value for kw in node.keywords)]
        else:
            values = [node.args[i] for i in sink.body_positions if i < len(node.args)]
            values += [kw.value for kw in node.keywords if kw.arg in sink.body_keywords]
        if not values:
            return
        status = sink.status or self._status_of(node, sink)
        self._check_values(values, status, sink.what)

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is None or not self._may_leak() or not self._in_route_handler():
            return
        value = node.value
        status: int | None = None
        if isinstance(value, ast.Tuple) and value.elts:
            if len(value.elts) >= 2:
                status = status_code_value(value.elts[1])
            value = value.elts[0]
        if isinstance(value, ast.Call) and self.ctx.imports.qualname(value.func) in _SINKS:
            return  # checked as a call
        self._check_values([value], status, "the route's response")

    def _check_values(self, values: list[ast.expr], status: int | None, what: str) -> None:
        caught = {c.name: c for c in reversed(self._caught())}
        has_traceback = "traceback" in self.ctx.source.text
        if not caught and not has_traceback:
            return
        server_error = status is not None and status >= 500
        for value in values:
            found = self._leaks(value, caught)
            if found is None:
                continue
            expr, exc = found
            if exc is not None and not (exc.always or (server_error and not exc.own)):
                continue
            text = ast.unparse(expr)
            if len(text) > 50:
                text = text[:47] + "..."
            if exc is None:
                message = f"`{text}` sends a traceback to the client in {what}"
            else:
                message = (
                    f"`{text}` sends the text of the caught {exc.what} to the client in {what}"
                )
            self.report(expr, message)
            return

    def _status_of(self, call: ast.Call, sink: _Sink) -> int | None:
        node: ast.expr | None = None
        if sink.status_position is not None and sink.status_position < len(call.args):
            node = call.args[sink.status_position]
        if node is None and sink.status_keyword:
            node = keyword_value(call, sink.status_keyword)
        if node is None:
            parent = self.ctx.parent
            if isinstance(parent, ast.Tuple) and len(parent.elts) >= 2 and parent.elts[0] is call:
                node = parent.elts[1]
        value = status_code_value(node)
        if value is None and isinstance(node, ast.Attribute) and "SERVER_ERROR" in node.attr:
            return 500
        return value

    def _in_route_handler(self) -> bool:
        func = self.ctx.enclosing_function()
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        key = id(func)
        if key not in self._route_cache:
            self._route_cache[key] = bool(routes_of(func, self.ctx)) or (
                method_view_of(func, self.ctx) is not None
            )
        return self._route_cache[key]
