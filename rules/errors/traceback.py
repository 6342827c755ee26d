"""ERR005-ERR006: keeping the traceback and the cause of an error."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from bastion.analysis.calls import is_error_report_call, is_logging_call
from bastion.analysis.fixes import ast_path_at
from bastion.analysis.nodes import has_kwargs_splat, keyword
from bastion.analysis.posix_paths import path_parts
from bastion.astcompat import TRY_NODES
from bastion.findings import Finding, FixSafety, Severity
from bastion.function_index import CHILD_FIELDS, child_fields
from bastion.imports import ImportMap
from bastion.rule import Example, Fix, Rule

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_NOT_IN_BODY = (*_SCOPES, ast.ExceptHandler)
_STATEMENT_HOLDERS = (ast.stmt, ast.match_case)


def _handler_body(handler: ast.ExceptHandler) -> list[ast.AST]:
    """The nodes that run while `handler` handles its exception: its body, without nested
    functions/classes (they run later) and without nested handlers (they handle another
    exception, and are visited on their own). `ctx` markers (Load/Store) are left out. In the
    order of a depth-first walk (`ast.iter_child_nodes` order), as a list: no generator."""
    skip = _NOT_IN_BODY
    stack: list[ast.AST] = [s for s in reversed(handler.body) if not isinstance(s, _SCOPES)]
    found: list[ast.AST] = []
    pop, push, keep, AST, fields_of = stack.pop, stack.append, found.append, ast.AST, CHILD_FIELDS
    while stack:
        node = pop()
        keep(node)
        fields = fields_of.get(type(node))
        if fields is None:
            fields = child_fields(type(node))
        for field in fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, AST) and not isinstance(child, skip):
                        push(child)
            elif isinstance(value, AST) and not isinstance(value, skip):
                push(value)
    return found


def _handler_statements(handler: ast.ExceptHandler) -> Iterator[ast.stmt]:
    """The statements of `_handler_body(handler)`, in its order, without walking expressions
    (no statement is inside one)."""
    stack: list[ast.AST] = [s for s in reversed(handler.body) if not isinstance(s, _SCOPES)]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.stmt):
            yield node
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, _STATEMENT_HOLDERS) and not isinstance(child, _SCOPES):
                        stack.append(child)


def _keeps_traceback(call: ast.Call) -> bool:
    if has_kwargs_splat(call) or keyword(call, "exc_info") is not None:
        return True
    if keyword(call, "stack_info") is not None:
        return True
    func = call.func
    # loguru: `logger.opt(exception=True).error(...)`
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
        inner = func.value
        if isinstance(inner.func, ast.Attribute) and inner.func.attr == "opt":
            return keyword(inner, "exception") is not None
    return False


def _records_traceback(call: ast.Call, imports: ImportMap) -> bool:
    func = call.func
    if not is_logging_call(call, imports):
        name = imports.qualname(func) or ""
        return is_error_report_call(call, imports) and not name.endswith(".warn")
    return isinstance(func, ast.Attribute) and (
        func.attr == "exception" or keyword(call, "exc_info") is not None
    )


_CLI_DIRS = frozenset({"cli", "commands", "scripts", "bin"})
_CLI_FILES = frozenset({"cli.py", "__main__.py", "manage.py"})


def _is_cli_module(path: str) -> bool:
    """Command-line code (`cli.py`, `__main__.py`, `commands/`, `management/commands/`,
    `scripts/`): an error line without a traceback is the intended output for a user at a
    terminal."""
    parts = path_parts(path)
    return parts[-1] in _CLI_FILES or not _CLI_DIRS.isdisjoint(parts[:-1])


# Exceptions whose message is the whole story: bad input or configuration, a missing row or
# optional module, an HTTP client error (it names the URL and status). Measured on real
# applications (bench/ecosystem), `logger.error` after those was deliberate; the traceback
# matters for failures nobody expected.
_EXPECTED_ERRORS = frozenset(
    {
        "ValueError",
        "TypeError",
        "KeyError",
        "IndexError",
        "LookupError",
        "AttributeError",
        "ImportError",
        "ModuleNotFoundError",
        "UnicodeDecodeError",
        "JSONDecodeError",
        "DoesNotExist",
        "ObjectDoesNotExist",
        "MultipleObjectsReturned",
        "ValidationError",
        "error",  # re.error / regex.error
        "RequestException",
        "HTTPError",
        "HTTPStatusError",
    }
)


def _expected_only(handler: ast.ExceptHandler, guarded: list[ast.stmt]) -> bool:
    """Every exception the handler names is one of `_EXPECTED_ERRORS` (by its last name:
    `Model.DoesNotExist`, `requests.exceptions.RequestException`, `regex.error`).

    `AttributeError` only when a single statement of the `try` runs other code - reads an
    attribute, calls, indexes (`re.search(p, s).group(1)` that finds no match; `x += "/"`
    beside it runs nothing that could raise one): over several such statements it is as
    likely a bug - an attribute of `None` somewhere in the block - and the traceback is what
    says which (Netflix/dispatch `auth/permissions.py`, tests/fixtures/recall/logging)."""
    caught = handler.type
    if caught is None:
        return False
    names = caught.elts if isinstance(caught, ast.Tuple) else [caught]
    for name in names:
        last = name.attr if isinstance(name, ast.Attribute) else getattr(name, "id", "")
        if last not in _EXPECTED_ERRORS:
            return False
        if last == "AttributeError" and sum(map(_may_raise_attribute_error, guarded)) > 1:
            return False
    return True


def _may_raise_attribute_error(stmt: ast.stmt) -> bool:
    return any(isinstance(n, ast.Attribute | ast.Call | ast.Subscript) for n in ast.walk(stmt))


def _guarded(ctx_stack: list[ast.AST], handler: ast.ExceptHandler) -> list[ast.stmt]:
    """The body of the `try` that `handler` belongs to (empty when it cannot be found)."""
    for node in reversed(ctx_stack):
        if isinstance(node, TRY_NODES) and handler in node.handlers:
            return node.body
    return []


class LogErrorWithoutTraceback(Rule):
    """Flags `logger.error(...)` (stdlib `logging` - also imported bare, `from logging import
    error` -, structlog, loguru, any `*log*` object) called while handling an exception -
    directly in an `except` block - without `exc_info`: the log line says something failed
    but not where.

    Not flagged: `logger.exception(...)`, calls with `exc_info=...`, `stack_info=...` or
    `**kwargs`, loguru's `logger.opt(exception=...)`, calls in functions defined inside the
    handler, handlers where another call already records the traceback (`logger.debug(...,
    exc_info=True)`, `logger.exception(...)`, `traceback.print_exc()`, Sentry's
    `capture_exception`), handlers that re-raise (`raise` / `raise ... from ...`) or raise
    another exception: the traceback then travels with the exception to whoever logs it -
    except an HTTP error (`raise HTTPException(...)`, werkzeug/aiohttp/DRF HTTP errors) without
    `from e`, which the framework answers without logging; and command-line modules
    (`cli.py`, `__main__.py`, `manage.py`, `commands/`, `scripts/`), where a one-line error
    without a traceback is the intended output for the user. Nor are handlers that catch
    only exceptions whose message is the whole story (`ValueError`, `KeyError`,
    `Model.DoesNotExist`, `ImportError`, `json.JSONDecodeError`, `re.error`,
    `requests.RequestException`...; `AttributeError` only around a single statement):
    measured on real applications those logs were deliberate one-liners; the traceback
    matters for `except Exception`, domain errors, and an `AttributeError` that any line of
    a longer block may have raised."""

    id = "ERR005"
    name = "log-error-without-traceback"
    aliases = ("TRY400",)  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.INFO
    precision = "medium"
    precision_measured = (
        "19 of 23 judged findings right (83%) on 15 application repositories, "
        "bench/ecosystem; default severity lowered from warning to info for it"
    )
    summary = "`logger.error(...)` in an `except` block without the traceback"
    why = (
        "Inside an exception handler the traceback is the most useful thing you have: it says "
        "which line failed and how the code got there. `logger.error(...)` drops it (even when "
        "the message includes `str(exc)`), so the on-call engineer gets `failed: timeout` and "
        "no idea where. `logger.exception(...)` logs at ERROR level and attaches the traceback."
    )
    hint = (
        'Use `logger.exception("...")` (or pass `exc_info=True`) so the traceback is logged '
        "with the message."
    )
    requires = ("except",)
    fix_safety = FixSafety.SAFE
    fix_safety_note = (
        "`logger.error(...)` -> `logger.exception(...)` inside an `except` block logs the same "
        "message at the same level (ERROR) and only adds the active exception's traceback "
        "(`exc_info`); no control flow changes."
    )
    bad = [
        Example(
            "try:\n    charge(order)\nexcept PaymentError as exc:\n"
            '    logger.error("charge failed: %s", exc)\n',
            fixed="try:\n    charge(order)\nexcept PaymentError as exc:\n"
            '    logger.exception("charge failed: %s", exc)\n',
        ),
        "try:\n    sync()\nexcept Exception:\n    logging.error('sync failed')\n    return None\n",
        "try:\n    send(msg)\nexcept OSError:\n    self.log.error('send failed')\n    retry(msg)\n",
    ]
    good = [
        "try:\n    charge(order)\nexcept PaymentError:\n    logger.exception('charge failed')\n",
        "try:\n    charge(order)\nexcept PaymentError:\n"
        "    logger.error('charge failed', exc_info=True)\n",
        "try:\n    charge(order)\nexcept PaymentError:\n    logger.error('charge failed')\n"
        "    raise\n",
        "if not ok:\n    logger.error('validation failed')\n",
        "try:\n    run()\nexcept Exception:\n    def later():\n        logger.error('x')\n"
        "    schedule(later)\n",
    ]

    _cli: bool | None = None  # this file is command-line code (asked once per file)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if self._cli is None:
            self._cli = _is_cli_module(self.ctx.path)
        if self._cli:
            return
        nodes = _handler_body(node)
        # most handlers call no `.error(...)`: look for one before the costlier questions
        imports = self.ctx.imports
        errors = [
            n
            for n in nodes
            if type(n) is ast.Call
            and (
                (type(n.func) is ast.Attribute and n.func.attr == "error")
                # `from logging import error`
                or (type(n.func) is ast.Name and imports.qualname(n.func) == "logging.error")
            )
        ]
        if not errors:
            return
        raises = [n for n in nodes if isinstance(n, ast.Raise)]
        if any(not _raises_http_error(r, imports) for r in raises):
            return  # re-raised (or chained): the traceback travels with the exception
        if _expected_only(node, _guarded(self.ctx.stack, node)):
            return
        calls = [n for n in nodes if isinstance(n, ast.Call)]
        if any(_records_traceback(c, imports) for c in calls):
            return  # the traceback is logged or reported by another call of the handler
        for sub in errors:
            bare = isinstance(sub.func, ast.Name)
            if (bare or is_logging_call(sub, imports)) and not _keeps_traceback(sub):
                message = (
                    "`.error(...)` in an exception handler logs the message without the traceback"
                )
                if raises:
                    message += ", and the HTTP error raised after it does not carry it"
                self.report(sub, message, fixable=False if bare else None)

    fix_node = "Call"

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """`logger.error(...)` -> `logger.exception(...)`: same level, plus the traceback."""
        import libcst as cst

        func = node.func if isinstance(node, cst.Call) else None
        if not isinstance(func, cst.Attribute) or func.attr.value != "error":
            return None
        if any(arg.keyword is not None and arg.keyword.value == "exc_info" for arg in node.args):
            return None
        return Fix(node.with_changes(func=func.with_changes(attr=cst.Name("exception"))))


def _raises_http_error(node: ast.Raise, imports: ImportMap) -> bool:
    """`raise HTTPException(...)` / `abort(...)`-style errors without `from e`: the framework
    turns them into a response and logs nothing, so the original traceback is gone. A bare
    `raise`, `raise ... from e` and any other exception keep it (chained, for whoever logs)."""
    if node.exc is None or (node.cause is not None and not _is_none(node.cause)):
        return False
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    name = imports.qualname(exc) or ""
    last = name.rpartition(".")[2]
    if last == "HTTPException":
        return True
    return name.startswith(
        ("werkzeug.exceptions.", "aiohttp.web.HTTP", "rest_framework.exceptions.")
    ) or (last.startswith("HTTP") and name.startswith("web."))


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


_NO_TRACEBACK = frozenset(
    {"SystemExit", "builtins.SystemExit", "click.exceptions.Exit", "typer.Exit"}
)


def _references(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


class RaiseWithoutFrom(Rule):
    """Flags `raise NewError(...)` inside `except SomeError as e:` (or `except SomeError:`, where
    no fix is offered) with no `from`: the new
    exception is chained only implicitly ("during handling of the above exception, another
    exception occurred"), which reads like a bug in the handler, and `__cause__` is unset.

    Not flagged: a bare `raise`, `raise e` / `raise e.with_traceback(tb)` (the same
    exception), `raise X from e` / `from None`, raising a name or attribute that is not a call
    (`raise StopIteration`), `raise SystemExit(...)` (no traceback is printed), raises in
    functions defined inside the
    handler (they run later, elsewhere), and raises inside a nested `except` block (they
    belong to that handler)."""

    id = "ERR006"
    name = "raise-without-from"
    aliases = ("B904",)  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "86 of 86 judged findings right (100%) on 15 application repositories, bench/ecosystem "
        "(47 of them on handlers that bind no name; Celery's `raise self.retry()` is not reported)"
    )
    summary = "`raise NewError(...)` in `except ... as e` without `from e` / `from None`"
    why = (
        "Translating an exception is good practice, but without `from` the traceback reads "
        "'During handling of the above exception, another exception occurred' - as if the "
        "handler itself crashed - and tools that follow `__cause__` lose the original error. "
        "`raise NewError(...) from e` says 'this is why'; `from None` says 'the original is an "
        "implementation detail' and hides it on purpose."
    )
    hint = (
        "Chain it explicitly: `raise NewError(...) from e` (or `from None` to hide the "
        "original on purpose)."
    )
    requires = ("raise",)
    # unsafe: `from e` changes the traceback's wording and sets `__cause__`, which code that
    # inspects exceptions may read
    fix_safety = FixSafety.UNSAFE
    fix_safety_note = (
        'Adding `from e` sets `__cause__` and changes the chained traceback text ("direct cause" '
        'instead of "during handling"); code or tests that inspect '
        "`__cause__`/`__suppress_context__` or the printed traceback see the difference."
    )
    fix_node = "Raise"
    bad = [
        Example(
            "try:\n    user = repo.get(user_id)\nexcept KeyError as exc:\n"
            "    raise NotFound(f'no user {user_id}')\n",
            fixed="try:\n    user = repo.get(user_id)\nexcept KeyError as exc:\n"
            "    raise NotFound(f'no user {user_id}') from exc\n",
        ),
        Example(
            "try:\n    value = int(raw)\nexcept ValueError as e:\n"
            "    raise ValidationError(str(e))  # 422\n",
            fixed="try:\n    value = int(raw)\nexcept ValueError as e:\n"
            "    raise ValidationError(str(e)) from e  # 422\n",
        ),
        Example(
            "try:\n    data = load(path)\nexcept OSError as err:\n    if strict:\n"
            "        raise ConfigError('cannot read config')\n    data = {}\n",
            fixed="try:\n    data = load(path)\nexcept OSError as err:\n    if strict:\n"
            "        raise ConfigError('cannot read config') from err\n    data = {}\n",
        ),
        # `err` is rebound before the raise: flagged, but `from err` would chain the wrong
        # object, so no fix is offered
        "try:\n    data = load(path)\nexcept OSError as err:\n    err = str(err)\n"
        "    raise ConfigError(err)\n",
        # no name bound: flagged without a fix (`from None` or `as e` ... `from e` is a choice)
        "try:\n    article = Article.objects.get(slug=slug)\nexcept Article.DoesNotExist:\n"
        "    raise NotFound('no such article')\n",
    ]
    good = [
        "try:\n    user = repo.get(user_id)\nexcept KeyError as exc:\n"
        "    raise NotFound(user_id) from exc\n",
        "try:\n    value = int(raw)\nexcept ValueError as e:\n    raise\n",
        "try:\n    value = int(raw)\nexcept ValueError as e:\n    raise e\n",
        "try:\n    value = int(raw)\nexcept ValueError:\n"
        "    raise ValidationError('bad') from None\n",
        "try:\n    value = int(raw)\nexcept ValueError as e:\n    def fail():\n"
        "        raise ValidationError('bad')\n    defer(fail)\n",
        "try:\n    value = int(raw)\nexcept ValueError as e:\n"
        "    raise ValidationError('bad') from None\n",
        # Celery's retry idiom (saleor, issue #15): control flow that carries `exc` itself
        """
        @app.task(bind=True)
        def send(self, url):
            try:
                post(url)
            except ConnectionError as error:
                raise self.retry(exc=error, countdown=60)
        """,
    ]

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        bound = node.name
        if not bound:
            self._unnamed(node)
            return
        fixable: bool | None = None  # asked only when there is something to report
        for sub in _handler_statements(node):  # a `raise` is a statement
            if not isinstance(sub, ast.Raise) or sub.exc is None or sub.cause is not None:
                continue
            exc = sub.exc
            if not isinstance(exc, ast.Call):
                continue  # `raise e`, `raise StopIteration`
            func = exc.func
            if isinstance(func, ast.Attribute) and _references(func.value, bound):
                continue  # `raise e.with_traceback(tb)`
            if self.ctx.imports.qualname(func) in _NO_TRACEBACK or _celery_retry(exc):
                continue  # `raise SystemExit("usage: ...")` prints no traceback to chain
            if fixable is None:
                fixable = not _rebinds(node.body, bound)
            label = ast.unparse(func)
            if len(label) > 40:
                label = label[:37] + "..."
            self.report(
                sub,
                f"`raise {label}(...)` inside `except ... as {bound}` without "
                f"`from {bound}` or `from None`",
                fixable=fixable and not _may_return_same(exc, bound),
            )

    def _unnamed(self, node: ast.ExceptHandler) -> None:
        """`except Article.DoesNotExist: raise NotFound(...)`: the same implicit chaining,
        with nothing named to chain - `from None` (or binding the exception) says which."""
        caught: str | None = None  # the handler's type as written, once there is a finding
        for sub in _handler_statements(node):
            if not isinstance(sub, ast.Raise) or sub.exc is None or sub.cause is not None:
                continue
            if not isinstance(sub.exc, ast.Call):
                continue
            if self.ctx.imports.qualname(sub.exc.func) in _NO_TRACEBACK or _celery_retry(sub.exc):
                continue
            label = ast.unparse(sub.exc.func)
            if len(label) > 40:
                label = label[:37] + "..."
            if caught is None:
                caught = ast.unparse(node.type) if node.type is not None else ""
                if len(caught) > 30:
                    caught = caught[:27] + "..."
            self.report(
                sub,
                f"`raise {label}(...)` inside `except {caught}:` without `from`",
                hint="Write `raise ... from None` to hide the original on purpose, or bind it "
                "(`except X as e:`) and `raise ... from e`.",
                fixable=False,
            )

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """`raise X(...)` -> `raise X(...) from e`, `e` being the name of the handler whose
        body the raise is in (only findings whose handler never rebinds the name get here)."""
        import libcst as cst

        if not isinstance(node, cst.Raise) or node.exc is None or node.cause is not None:
            return None
        path = ast_path_at(self.ctx, finding.line, finding.column - 1, (ast.Raise,))
        handler = next((n for n in reversed(path or []) if isinstance(n, ast.ExceptHandler)), None)
        if handler is None or not handler.name:
            return None
        return Fix(node.with_changes(cause=cst.From(item=cst.Name(handler.name))))


def _celery_retry(call: ast.Call) -> bool:
    """`raise self.retry(exc=e, countdown=5)`: Celery's idiom to reschedule a task; the
    `Retry` it raises is control flow that Celery catches, and it carries `exc` itself
    (issue #15: saleor)."""
    return isinstance(call.func, ast.Attribute) and call.func.attr == "retry"


def _may_return_same(call: ast.Call, bound: str) -> bool:
    """`raise self.error(token, e)`: a lower-case factory handed the caught exception may
    return that very exception (Django's `Parser.error` does), and `from e` would make it its
    own cause. A class (`CommandError(e)`) builds a new one."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    if not name.lstrip("_")[:1].islower():
        return False
    values = [*call.args, *(kw.value for kw in call.keywords)]
    return any(_references(value, bound) for value in values)


def _rebinds(body: list[ast.stmt], name: str) -> bool:
    """`name` is assigned, deleted or bound by a nested `except ... as name` in `body` (which
    unbinds it when that handler ends): `from name` could then chain something else."""
    for stmt in body:
        for node in ast.walk(stmt):
            stored = isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load)
            if stored and isinstance(node, ast.Name) and node.id == name:
                return True
            if isinstance(node, ast.ExceptHandler) and node.name == name:
                return True
    return False
