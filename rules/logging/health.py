"""LOG004: a web app with no health-check route (project-level)."""

from __future__ import annotations

import re

from bastion.analysis.urlconf import URLCONF_FACTS, django_urls, route_text
from bastion.analysis.web import (
    WEAK_HEALTH_WORDS,
    WebProject,
    is_health_path,
    mentions_health,
    served_apps,
    web_project,
)
from bastion.findings import Severity
from bastion.rule import ProjectRule

_API_PREFIX = re.compile(r"^(?:api|v\d+(?:\.\d+)*)$")


def is_api_status_path(path: str) -> bool:
    """`/api/status/`, `/api/v1/status`: a status word under nothing but API and version
    segments - NetBox's documented health endpoint (bench/ecosystem)."""
    segments = [s for s in path.lower().split("/") if s]
    if len(segments) < 2 or segments[-1] not in WEAK_HEALTH_WORDS:
        return False
    return all(_API_PREFIX.match(s) for s in segments[:-1])


def has_health_route(web: WebProject) -> bool:
    """A health route anywhere in the project: by path (`/health`, `/healthz`, `/livez`,
    `/readyz`, `/ping`, `/status`...), by handler name, or a router/module about health that is
    mounted (`include_router(health.router)`), or a helper named for health that the app is
    handed to (`setup_health(app)`)."""
    if web.health_hooks:
        return True
    for _, route in web.routes:
        if is_health_path(route["path"]) or is_api_status_path(route["path"]):
            return True
        if mentions_health(route.get("handler", "")):
            return True
    for _, include in web.includes:
        if mentions_health(include["child"]):
            return True
        if include.get("prefix") and is_health_path(include["prefix"]):
            return True
    return any(r.get("prefix") and is_health_path(r["prefix"]) for r in web.routers.values())


class MissingHealthEndpoint(ProjectRule):
    """Flags each FastAPI/Starlette/Flask app (created outside test files) in a project where no
    module declares a health-check route: a path segment such as `health`, `healthz`, `livez`,
    `readyz`, `ping`, `status` or `heartbeat`, a handler named like one, or a mounted router or
    blueprint about health. Reported at the line that creates the app.

    Django projects are read from their URLconfs: the module that a (non-test) settings module
    names as `ROOT_URLCONF` is flagged, at its `urlpatterns`, when no `path()`/`re_path()`/
    `url()` anywhere in the project has a health path, a view or route name about health, or
    includes a health app (`include("health_check.urls")`), and no `MIDDLEWARE` entry is about
    health (such middleware answers the probe before URL resolution).

    A status word under nothing but API and version segments (`/api/status/`,
    `/api/v1/status`) counts too: NetBox's `api/status/` is its documented health endpoint
    (measured on real applications, bench/ecosystem).

    An app mounted into another one (`app.mount("/admin", admin)`) is not flagged: probes
    reach the outer app. The check is project-wide (any health route anywhere silences it):
    a health router in another module is usually mounted on the app in ways a static reading
    cannot always follow. A `ROOT_URLCONF` whose module is not in the scanned tree is not
    flagged."""

    id = "LOG004"
    needs = frozenset({"django_root_urlconf", "django_urlconf", "web"})  # the facts it reads
    name = "missing-health-endpoint"
    severity = Severity.INFO
    precision = "high"
    precision_measured = (
        "3 of 3 judged findings right on 15 application repositories, bench/ecosystem, since "
        "`/api/status` counts as a health route (3 of 4 before); too few findings to be sure "
        "of the band"
    )
    summary = "Web app without a health-check endpoint"
    why = (
        "Load balancers, Kubernetes probes and uptime monitors need a cheap endpoint that says "
        "whether this instance can serve: without one they probe a real page (slow, noisy, "
        "with side effects) or nothing at all, and a broken instance keeps receiving traffic."
    )
    hint = (
        "Add a cheap `GET /health` (liveness) route, and a `/health/ready` that checks the "
        "database and other dependencies, and point your probes at them."
    )
    bad = [
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/users')\ndef users(): ...\n",
        "from flask import Flask\n\napp = Flask(__name__)\n",
        "from starlette.applications import Starlette\n\napp = Starlette(routes=[])\n",
    ]
    good = [
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/health')\n"
        "def health():\n    return {'status': 'ok'}\n",
        "from flask import Flask\n\napp = Flask(__name__)\n\n@app.route('/healthz')\n"
        "def healthz():\n    return 'ok'\n",
        "from fastapi import FastAPI\nfrom app.api import health\n\napp = FastAPI()\n"
        "app.include_router(health.router)\n",
    ]

    def check_project(self) -> None:
        web = web_project(self.project)
        if has_health_route(web):
            return
        self._check_django()
        apps = served_apps(self.project, web, top_level_only=True)
        if not apps:
            return
        for path, app in apps:
            name = f" `{app['var']}`" if app.get("var") else ""
            self.report_at(
                path,
                app["line"],
                app.get("column", 1),
                f"{_framework_label(app)} app{name} has no health-check route "
                "(`/health`, `/healthz`, `/livez`, `/readyz`)",
            )

    def _check_django(self) -> None:
        urls = django_urls(self.project)
        if urls.health or self._django_api_status():
            return
        for value, path, line, column in urls.root_modules():
            self.report_at(
                path,
                line,
                column,
                f"Django URLconf `{value}` (ROOT_URLCONF) has no health-check route "
                "(`/health`, `/healthz`, `/livez`, `/readyz`)",
            )

    def _django_api_status(self) -> bool:
        """A URLconf route such as `path("api/status/", StatusView.as_view())`."""
        for path, fact in self.project.facts(URLCONF_FACTS):
            if self.project.config.is_test_path(path):
                continue
            for route in fact.get("routes", []):
                if is_api_status_path(route_text(str(route.get("route") or ""))):
                    return True
        return False


def _framework_label(app: dict[str, object]) -> str:
    return "Flask" if app.get("framework") == "flask" else "FastAPI/Starlette"
