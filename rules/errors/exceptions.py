"""ERR001-ERR003: how exceptions are caught."""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

from bastion.analysis.calls import is_error_report_call, is_logging_call
from bastion.analysis.nodes import catches_broadly, exception_names, reraises, walk_local
from bastion.analysis.scripts import is_script_file
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule


def _reraises_directly(body: list[ast.stmt]) -> bool:
    return any(isinstance(n, ast.Raise) and n.exc is None for n in walk_local(body))


class BareExcept(Rule):
    """Flags `except:` clauses that name no exception type. A handler that only cleans up and
    re-raises with a bare `raise` is left alone: nothing is swallowed there."""

    id = "ERR001"
    name = "bare-except"
    aliases = ("E722", "B001")  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.ERROR
    precision = "very-high"
    precision_measured = (
        "32 of 32 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "`except:` with no exception type"
    why = (
        "A bare `except:` catches everything, including `KeyboardInterrupt`, `SystemExit` and "
        "`asyncio.CancelledError` - a worker that should stop keeps running, a cancelled request "
        "keeps its database transaction open, and real bugs disappear into the handler. Catch "
        "the exceptions you expect so that the unexpected ones reach your error handler."
    )
    hint = (
        "Catch the exceptions you expect (e.g. `except ValueError:`), at most `except Exception:`."
    )
    fix_safety = FixSafety.UNSAFE
    fix_safety_note = (
        "`except:` -> `except Exception:` changes what the handler catches: `KeyboardInterrupt`, "
        "`SystemExit`, `GeneratorExit` and `asyncio.CancelledError` (3.8+) now propagate instead "
        "of being handled. That is the point of the rule, but it changes run-time behaviour (a "
        "worker now stops on Ctrl-C), so `bastion fix` applies it only with `--unsafe-fixes`."
    )
    requires = ("except",)
    bad = [
        Example(
            "try:\n    user = repo.get(user_id)\nexcept:\n    user = None\n",
            fixed="try:\n    user = repo.get(user_id)\nexcept Exception:\n    user = None\n",
        ),
        Example(
            "for item in items:\n    try:\n        handle(item)\n    except:\n        continue\n",
            fixed="for item in items:\n    try:\n        handle(item)\n"
            "    except Exception:\n        continue\n",
        ),
        Example(
            "try:\n    send()\nexcept ValueError:\n    retry()\nexcept:\n    log.error('x')\n",
            fixed="try:\n    send()\nexcept ValueError:\n    retry()\n"
            "except Exception:\n    log.error('x')\n",
        ),
    ]
    good = [
        "try:\n    user = repo.get(user_id)\nexcept LookupError:\n    user = None\n",
        "try:\n    conn.send(data)\nexcept:\n    conn.close()\n    raise\n",
        "try:\n    run()\nexcept Exception:\n    logger.exception('run failed')\n",
    ]

    fix_node = "ExceptHandler"

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is None and not _reraises_directly(node.body):
            self.report(
                node,
                "bare `except:` also catches KeyboardInterrupt, SystemExit and task cancellation",
            )

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        import libcst as cst

        if not isinstance(node, cst.ExceptHandler) or node.type is not None:
            return None
        return Fix(
            node.with_changes(
                type=cst.Name("Exception"), whitespace_after_except=cst.SimpleWhitespace(" ")
            )
        )


def _only_passes(body: list[ast.stmt]) -> bool:
    for stmt in body:
        if isinstance(stmt, ast.Pass | ast.Continue):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # `...` or a string comment
        return False
    return True


# Comments that are tool directives, not an explanation.
_DIRECTIVES = ("expect", "noqa", "bastion:", "type:", "pragma", "pylint", "nosec", "fmt:")


def _commented(handler: ast.ExceptHandler, line: Callable[[int], str]) -> bool:
    """A comment on the `except` line or in the handler: the author says why the error is
    dropped (`except Exception:  # the file may already be gone`)."""
    end = handler.end_lineno or handler.lineno
    for number in range(handler.lineno, end + 1):
        code = line(number).split("'")[0].split('"')[0]
        if "#" in code:
            comment = code.partition("#")[2].strip().lower()
            if comment and not comment.startswith(_DIRECTIVES):
                return True
    return False


class SwallowedException(Rule):
    """Flags broad exception handlers - bare `except:`, `except Exception`, `except
    BaseException`, or a tuple holding one of them - whose body is only `pass`, `...` or
    `continue`: every error is dropped without a trace.

    An empty handler for a *specific* exception (`except KeyError: pass`, `except
    FileNotFoundError: pass`) is not flagged: naming the exception is itself the statement that
    ignoring it is intended (measured on django's sources, almost all such handlers are
    deliberate control flow). Nor is a handler with a comment on its `except` line or in its
    body (the author says why), nor one in tests, scripts and CLI modules (test cleanup,
    data-populating scripts): measured on real applications (bench/ecosystem) those were
    almost all deliberate. Off by default, enable it by id (`select = [..., "ERR002"]`):
    even the remaining ones were mostly best-effort fallbacks - 1 of 13 right on 15
    application repositories (bench/ecosystem), far below the 80% an `info` rule must reach,
    and no shape of the code tells a deliberate fallback from a hidden failure."""

    id = "ERR002"
    name = "swallowed-exception"
    aliases = ("S110", "S112")  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B110", "B112")  # bandit test ids honoured in `# nosec`
    severity = Severity.INFO
    enabled_by_default = False
    precision = "low"
    precision_measured = (
        "1 of 13 judged findings right (8%) on 15 application repositories, "
        "bench/ecosystem; default severity lowered from warning to info, and off by default"
    )
    summary = "Exception handler that silently discards the error"
    why = (
        "An empty handler turns a failure into silence: the request returns as if it worked, "
        "nothing reaches the logs or the error tracker, and the bug is found by a customer. If "
        "ignoring the error really is right, say so with `contextlib.suppress(...)` and a "
        "comment; otherwise log it or let it propagate."
    )
    hint = (
        "Log the error (`logger.exception(...)`), re-raise it, or make the intent explicit with "
        "`with contextlib.suppress(SpecificError):`."
    )
    requires = ("except",)
    bad = [
        "try:\n    charge(order)\nexcept Exception:\n    pass\n",
        "for job in jobs:\n    try:\n        job.run()\n"
        "    except BaseException:\n        continue\n",
        "try:\n    cache.set(key, value)\nexcept (ConnectionError, Exception):\n    ...\n",
        "try:\n    cache.set(key, value)\nexcept:\n    pass\n",
    ]
    good = [
        "try:\n    import ujson as json\nexcept ImportError:\n    pass\n",
        "try:\n    charge(order)\nexcept Exception:\n    logger.exception('charge failed')\n",
        "try:\n    value = mapping[key]\nexcept KeyError:\n    pass\n",
        "try:\n    charge(order)\nexcept PaymentError:\n    raise\n",
    ]

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if not _only_passes(node.body):
            return
        if not catches_broadly(node, self.ctx.imports):
            return
        if is_script_file(self.ctx) or _commented(node, self.ctx.source.line):
            return
        names = exception_names(node, self.ctx.imports)
        caught = ", ".join(n.rpartition(".")[2] for n in names) or "every exception"
        self.report(node, f"handler for {caught} discards the error without logging it")


_ERROR_WORDS = ("error", "fail", "problem", "invalid")


def _returns_error(node: ast.Return) -> bool:
    if node.value is None:
        return False
    for sub in ast.walk(node.value):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if any(w in name for w in ("Response", "Error", "Exception", "abort", "jsonify")):
                return True
        if isinstance(sub, ast.Constant):
            value = sub.value
            if isinstance(value, int) and not isinstance(value, bool) and 400 <= value < 600:
                return True
            if isinstance(sub.value, str) and any(w in sub.value.lower() for w in _ERROR_WORDS):
                return True
    return False


def _handles(handler: ast.ExceptHandler, rule: Rule) -> bool:
    """True when the handler logs, re-raises, reports, returns an error or hands the
    exception object on to someone else."""
    imports = rule.ctx.imports
    bound = handler.name
    for node in walk_local(handler.body):
        if isinstance(node, ast.Raise):
            return True
        if isinstance(node, ast.Return) and _returns_error(node):
            return True
        if isinstance(node, ast.Call) and (
            is_logging_call(node, imports) or is_error_report_call(node, imports)
        ):
            return True
        if bound and isinstance(node, ast.Name) and node.id == bound:
            return True  # the exception object is passed on, stored or rendered
        if isinstance(node, ast.Call) and (imports.qualname(node.func) or "") in (
            "sys.exc_info",
            "sys.exception",
        ):
            return True
    return False


class BroadExceptUnlogged(Rule):
    """Flags `except Exception` / `except BaseException` handlers that do
    real work but neither log the error, re-raise it, report it, return an error response, nor
    use the exception object. Empty handlers are left to ERR002.

    Off by default, enable it by id (`select = [..., "ERR003"]`): on 15 application
    repositories (bench/ecosystem) 3 of 20 judged findings were right - the rest were
    deliberate fallbacks (decode with a second format, an optional value, a default on a
    parse failure) that the code's shape cannot tell from a hidden failure, so no narrowing
    reaches the 80% an `info` rule must reach. Useful as an audit of a code base, not as a
    default check."""

    id = "ERR003"
    name = "broad-except-unlogged"
    aliases = ("BLE001",)  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.INFO
    enabled_by_default = False
    precision = "low"
    precision_measured = (
        "3 of 20 judged findings right (15%) on 15 application repositories, "
        "bench/ecosystem; default severity lowered from warning to info, and off by default"
    )
    summary = "Broad `except Exception` that neither logs, re-raises nor returns an error"
    why = (
        "Catching `Exception` is sometimes right at a boundary (a worker loop, a fallback), but "
        "then the error must leave a trace: a broad handler that quietly substitutes a default "
        "hides every bug behind it, including ones you did not know could happen."
    )
    hint = (
        'Log it with `logger.exception("...")` (keeps the traceback), re-raise, or catch the '
        "specific exceptions you expect."
    )
    requires = ("except",)
    bad = [
        "try:\n    rate = fetch_rate()\nexcept Exception:\n    rate = 1.0\n",
        "try:\n    send_email(user)\nexcept BaseException:\n    status = 'queued'\n",
        "try:\n    data = load()\nexcept (ValueError, Exception):\n    data = {}\n    retry()\n",
    ]
    good = [
        "try:\n    rate = fetch_rate()\nexcept Exception:\n"
        "    logger.exception('rate lookup failed')\n    rate = 1.0\n",
        "try:\n    rate = fetch_rate()\nexcept Exception as exc:\n    raise RateError() from exc\n",
        "try:\n    rate = fetch_rate()\nexcept ValueError:\n    rate = 1.0\n",
        "try:\n    body = handle()\nexcept Exception:\n"
        "    return JSONResponse({'detail': 'internal error'}, status_code=500)\n",
        "try:\n    run()\nexcept Exception as exc:\n    errors.append(exc)\n",
    ]

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is None or not catches_broadly(node, self.ctx.imports):
            return  # bare `except:` is ERR001's
        if _only_passes(node.body) or reraises(node.body) or _handles(node, self):
            return
        self.report(node, "broad `except` handles the error without logging or re-raising it")
