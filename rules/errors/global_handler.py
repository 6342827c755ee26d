"""ERR007: a web app with no handler for unexpected exceptions (project-level)."""

from __future__ import annotations

import ast

from bastion.analysis.web import served_apps, web_project
from bastion.findings import Severity
from bastion.rule import FactCollector, ProjectRule

ERROR_TRACKER_FACTS = "error_tracker"
# Error trackers that hook the web framework themselves once initialised: Sentry's
# FastAPI/Starlette/Flask/Django integrations are enabled by `sentry_sdk.init()` and report
# every unexpected exception with its request (bench/ecosystem: fief, full-stack-fastapi-template).
_TRACKER_CALLS = frozenset({"sentry_sdk.init", "rollbar.init", "bugsnag.configure"})
_TRACKER_PREFIXES = ("sentry_sdk.integrations.", "rollbar.contrib.", "bugsnag.")


class ErrorTrackerFacts(FactCollector):
    """The file initialises an error tracker (`sentry_sdk.init(...)`, Sentry's ASGI/WSGI
    middleware, `rollbar.init`, `bugsnag.configure`)."""

    key = ERROR_TRACKER_FACTS
    requires = ("sentry", "rollbar", "bugsnag")

    def visit_Call(self, node: ast.Call) -> None:
        name = self.ctx.imports.imported_qualname(node.func) or ""
        if name in _TRACKER_CALLS or name.startswith(_TRACKER_PREFIXES):
            self.add(line=node.lineno, call=name)
            return
        for arg in node.args:  # `app.add_middleware(SentryAsgiMiddleware)`
            if isinstance(arg, ast.Name | ast.Attribute):
                value = self.ctx.imports.imported_qualname(arg) or ""
                if value.startswith(_TRACKER_PREFIXES):
                    self.add(line=node.lineno, call=value)
                    return


class NoGlobalExceptionHandler(ProjectRule):
    """Flags each FastAPI/Starlette/Flask app (created outside test files) in a project that
    registers no handler for unexpected errors anywhere: no `@app.exception_handler(Exception)`
    / `add_exception_handler(Exception, ...)` / `FastAPI(exception_handlers={Exception: ...})`,
    no Flask `@app.errorhandler(500)` / `errorhandler(Exception)` / `register_error_handler`
    / blueprint `app_errorhandler`, and no HTTP middleware that wraps the call in `except
    Exception`, and no helper named for it that the app is handed to
    (`register_error_handlers(app)`). Reported at the line that creates the app.

    The check is project-wide: handlers are often registered by a helper in another module
    (`register_error_handlers(app)`), so one anywhere in the project silences it. So does an
    error tracker initialised outside the tests (`sentry_sdk.init(...)`, Sentry's ASGI/WSGI
    middleware, `rollbar.init`, `bugsnag.configure`): its framework integration reports
    every unexpected exception with its request, and the framework's own 500 leaks nothing
    (measured on real applications, bench/ecosystem)."""

    id = "ERR007"
    needs = frozenset({"web", ERROR_TRACKER_FACTS})  # the facts it reads
    name = "no-global-exception-handler"
    severity = Severity.INFO
    precision = "high"
    precision_measured = (
        "2 of 2 judged findings right on 15 application repositories, bench/ecosystem, since "
        "an error tracker counts as a handler (2 of 7 before); too few findings to be sure of "
        "the band"
    )
    summary = "Web app without a global handler for unexpected exceptions"
    why = (
        "Without a catch-all handler an unexpected error becomes the framework's default 500 - "
        "a bare text page or an HTML debug page instead of your API's error format, and often "
        "without the request context in the logs. One handler for `Exception` gives every "
        "failure the same JSON shape, a log line with the traceback, and no internal details "
        "for the client."
    )
    hint = (
        "Register one catch-all handler, e.g. `@app.exception_handler(Exception)` (FastAPI) or "
        "`@app.errorhandler(500)` (Flask), that logs with the traceback and returns a generic "
        "error body."
    )
    bad = [
        "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "from flask import Flask\n\napp = Flask(__name__)\n\n@app.errorhandler(404)\n"
        "def not_found(e):\n    return {'error': 'not found'}, 404\n",
        "from fastapi import FastAPI, HTTPException\n\napp = FastAPI()\n\n"
        "@app.exception_handler(HTTPException)\nasync def http_error(request, exc): ...\n",
    ]
    good = [
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.exception_handler(Exception)\n"
        "async def unhandled(request, exc): ...\n",
        "from flask import Flask\n\napp = Flask(__name__)\n\n@app.errorhandler(500)\n"
        "def server_error(e):\n    return {'error': 'internal error'}, 500\n",
        "from starlette.applications import Starlette\n\n"
        "app = Starlette(exception_handlers={Exception: on_error})\n",
        "import sentry_sdk\nfrom fastapi import FastAPI\n\n"
        "sentry_sdk.init(dsn=SENTRY_DSN)\napp = FastAPI()\n",
    ]

    def check_project(self) -> None:
        web = web_project(self.project)
        apps = served_apps(self.project, web)
        if not apps or web.handlers or self._error_tracker():
            return
        for path, app in apps:
            flask = app.get("framework") == "flask"
            var = app.get("var") or "app"
            example = (
                f"@{var}.errorhandler(500)" if flask else f"@{var}.exception_handler(Exception)"
            )
            label = "Flask" if flask else "FastAPI/Starlette"
            self.report_at(
                path,
                app["line"],
                app.get("column", 1),
                f"{label} app `{var}` has no handler for unexpected exceptions (`{example}`)",
            )

    def _error_tracker(self) -> bool:
        is_test = self.project.config.is_test_path
        return any(not is_test(path) for path, _ in self.project.facts(ERROR_TRACKER_FACTS))
