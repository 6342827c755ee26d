"""API005: an API whose routes sit under no version prefix (project-level)."""

from __future__ import annotations

from bastion.analysis.web import (
    ResolvedRoute,
    has_version_segment,
    is_health_path,
    mentions_version,
    served_apps,
    web_project,
)
from bastion.findings import Severity
from bastion.rule import ProjectRule

_NOT_API = frozenset(
    {"", "/", "/docs", "/redoc", "/openapi.json", "/metrics", "/favicon.ico", "/robots.txt"}
)


# Protocol endpoints whose paths a standard fixes (OAuth 2, OpenID Connect discovery): clients
# find them by those paths, never under a version.
_PROTOCOL_SEGMENTS = frozenset({"oauth", "oauth2", ".well-known", "openid", "oidc"})


def _is_api_route(route: ResolvedRoute) -> bool:
    if route.html:
        return False
    path = route.full_path if route.full_path is not None else route.local_path
    if path.rstrip("/") in _NOT_API or path in _NOT_API:
        return False
    if is_health_path(path):
        return False
    if _PROTOCOL_SEGMENTS & {s.lower() for s in path.split("/")}:
        return False
    return not path.startswith(("/static", "/docs", "/admin"))


class UnversionedApi(ProjectRule):
    """Flags each FastAPI/Starlette/Flask app whose API routes, with every prefix they are
    mounted under (`APIRouter(prefix=)`, `include_router(..., prefix=)`, `Blueprint(url_prefix=)`,
    `register_blueprint(..., url_prefix=)`, `mount()`, joined across modules), contain no
    `/v<N>` segment anywhere in the project. Reported once per app, at the line that creates it.

    Deliberately silent when any route of the project is versioned (the unversioned rest is
    usually health, docs or legacy), when a prefix is not a literal (`settings.API_V1_STR`:
    it cannot be read statically), and for apps with no API routes (health, docs, `/` only,
    or pages that render templates or redirect), apps that publish no schema
    (`FastAPI(openapi_url=None)`: a server-rendered dashboard), apps with more pages than
    other routes (a website whose export or JSON helper routes are no API), and standard
    protocol paths (`/oauth/...`, `/.well-known/...`: OAuth and OpenID Connect fix them).
    When the project has a single app, routers whose mounting could not be followed are
    counted for it."""

    id = "API005"
    needs = frozenset({"web"})  # the facts it reads
    name = "unversioned-api"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "1 of 1 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    summary = "API routes mounted under no `/v<N>` version prefix"
    why = (
        "Clients depend on your API's shape. Without a version in the path, every breaking "
        "change breaks them all at once; with `/v1` you can ship `/v2` beside it and retire the "
        "old version on a schedule."
    )
    hint = (
        "Mount the API routers under a version prefix, e.g. `app.include_router(api_router, "
        'prefix="/api/v1")` (Flask: `register_blueprint(bp, url_prefix="/api/v1")`).'
    )
    bad = [
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/users')\ndef users(): ...\n",
        "from fastapi import APIRouter, FastAPI\n\nrouter = APIRouter(prefix='/users')\n\n"
        "@router.get('/')\ndef users(): ...\n\napp = FastAPI()\n"
        "app.include_router(router, prefix='/api')\n",
        "from flask import Blueprint, Flask\n\nbp = Blueprint('users', __name__)\n\n"
        "@bp.route('/users')\ndef users(): ...\n\napp = Flask(__name__)\n"
        "app.register_blueprint(bp, url_prefix='/api')\n",
    ]
    good = [
        "from fastapi import APIRouter, FastAPI\n\nrouter = APIRouter(prefix='/users')\n\n"
        "@router.get('/')\ndef users(): ...\n\napp = FastAPI()\n"
        "app.include_router(router, prefix='/api/v1')\n",
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n"
        "@app.get('/health')\ndef health(): ...\n",
        "from fastapi import FastAPI\n\napp = FastAPI()\n"
        "app.include_router(api_router, prefix=settings.API_V1_STR)\n",
    ]

    def check_project(self) -> None:
        web = web_project(self.project)
        apps = served_apps(self.project, web)
        if not apps:
            return
        texts = [f.get("prefix_text", "") for _, f in web.includes]
        texts += [f.get("prefix_text", "") for f in web.routers.values()]
        texts += [str(f.get("root_path", "")) for _, f in apps]
        if any(t and mentions_version(t) for t in texts):
            return
        every = web.resolved_routes()
        routes = [r for r in every if _is_api_route(r)]
        for route in routes:
            if route.unknown_prefixes:
                return  # a prefix we cannot read might carry the version
            if route.full_path is not None and has_version_segment(route.full_path):
                return
        prefixes = [f.get("prefix") for _, f in web.includes]
        prefixes += [f.get("prefix") for f in web.routers.values()]
        if any(p and has_version_segment(p) for p in prefixes):
            return
        single = len(apps) == 1
        api = {id(r) for r in routes}
        for path, app in apps:
            key = (path, app.get("var", ""))
            if app.get("schema") is False:
                continue  # `openapi_url=None`: a server-rendered site, not an API
            ours = [r for r in every if r.root == key or (single and not web.is_app(r.root))]
            mine = [r for r in ours if id(r) in api]
            pages = sum(1 for r in ours if r.html)
            if not mine or pages > len(mine):
                continue  # mostly pages: a website whose few other routes are no API
            sample = mine[0]
            shown = sample.full_path or sample.local_path
            methods = "/".join(sample.methods) or "GET"
            var = app.get("var") or "app"
            self.report_at(
                path,
                app["line"],
                app.get("column", 1),
                f"{len(mine)} API route(s) of `{var}` are under no `/v<N>` prefix "
                f"(e.g. `{methods} {shown}`)",
            )
