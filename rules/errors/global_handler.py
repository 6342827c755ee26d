"""ERR007: a web app with no handler for unexpected exceptions (project-level)."""

from __future__ import annotations

from bastion.analysis.web import served_apps, web_project
from bastion.findings import Severity
from bastion.rule import ProjectRule


class NoGlobalExceptionHandler(ProjectRule):
    """Flags each FastAPI/Starlette/Flask app (created outside test files) in a project that
    registers no handler for unexpected errors anywhere: no `@app.exception_handler(Exception)`
    / `add_exception_handler(Exception, ...)` / `FastAPI(exception_handlers={Exception: ...})`,
    no Flask `@app.errorhandler(500)` / `errorhandler(Exception)` / `register_error_handler`
    / blueprint `app_errorhandler`, and no HTTP middleware that wraps the call in `except
    Exception`, and no helper named for it that the app is handed to
    (`register_error_handlers(app)`). Reported at the line that creates the app.

    The check is project-wide: handlers are often registered by a helper in another module
    (`register_error_handlers(app)`), so one anywhere in the project silences it."""

    id = "ERR007"
    needs = frozenset({"web"})  # the facts it reads
    name = "no-global-exception-handler"
    severity = Severity.INFO
    precision = "low"
    precision_measured = (
        "2 of 7 judged findings right (29%) on 15 application repositories, bench/ecosystem"
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
    ]

    def check_project(self) -> None:
        web = web_project(self.project)
        apps = served_apps(self.project, web)
        if not apps or web.handlers:
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
