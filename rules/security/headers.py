"""SEC010: web apps and Django settings without the security response headers (project-level).

The facts are gathered per file by the two collectors below; the rule joins them (see
`bastion.analysis.headers`)."""

from __future__ import annotations

import ast

from bastion.analysis.django import is_dev_settings_path, is_settings_module
from bastion.analysis.headers import (
    DJANGO_DEPLOY_FACTS,
    HEADER_PACKAGES,
    SECURITY_HEADER_FACTS,
    SECURITY_HEADERS,
    DjangoDeploy,
    deploy_problems,
    header_name,
    header_set_position,
    looks_like_header_middleware,
    settings_events,
)
from bastion.analysis.web import served_apps, web_project
from bastion.findings import Severity
from bastion.rule import Example, FactCollector, ProjectRule

# No character lower-cases to more than one ASCII character, so a constant that spells a
# header name (stripped, lower-cased) is at least as long as the name.
_SHORTEST_HEADER = min(len(name) for name in SECURITY_HEADERS)


class SecurityHeaderFacts(FactCollector):
    """Where a module sets CSP / nosniff / HSTS, imports a header package, or installs a
    middleware named for security headers."""

    key = SECURITY_HEADER_FACTS
    # the header names in their usual spellings, the packages, and middleware names
    requires = (
        "ecurity-",
        "ECURITY-",
        "ype-Options",
        "ype-options",
        "YPE-OPTIONS",
        "ransport-",
        "RANSPORT-",
        "secure",
        "Secure",
        "talisman",
        "Talisman",
        "Secweb",
        "secweb",
        "security_headers",
        "flask_csp",
        "Csp",
        "CSP",
        "Hsts",
        "HSTS",
        "ecurityHeader",
        "ecurity_header",
        "ecureHeader",
        "ecure_header",
    )

    def visit_Constant(self, node: ast.Constant) -> None:
        value = node.value
        if not isinstance(value, str | bytes) or len(value) < _SHORTEST_HEADER:
            return  # no header name: `header_name` strips and lower-cases, never lengthens
        name = header_name(node)
        if name is not None and header_set_position(node, self.ctx.parent):
            self.add(kind="header", name=name, line=node.lineno)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            top = alias.name.partition(".")[0]
            if top in HEADER_PACKAGES:
                self.add(kind="package", name=HEADER_PACKAGES[top], line=node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        top = (node.module or "").partition(".")[0]
        if node.level == 0 and top in HEADER_PACKAGES:
            self.add(kind="package", name=HEADER_PACKAGES[top], line=node.lineno)

    def visit_Call(self, node: ast.Call) -> None:
        """`app.add_middleware(SecurityHeadersMiddleware)`, `Middleware(CSPMiddleware)`,
        `SecureHeaders(app)`: a middleware or wrapper named for security headers."""
        for candidate in (node.func, *node.args[:1]):
            last = _last_name(candidate, self.ctx.imports.aliases)
            if last is None or not looks_like_header_middleware(last):
                continue  # the test below reads only the name's last part
            name = self.ctx.imports.qualname(candidate)
            if name and looks_like_header_middleware(name):
                self.add(kind="middleware", name=name, line=node.lineno)
                return


def _last_name(node: ast.expr, aliases: dict[str, str]) -> str | None:
    """The last part of `ImportMap.qualname(node)` (None where that is None), without
    building the dotted name: most calls name no middleware."""
    if type(node) is ast.Attribute:
        root = node.value
        while type(root) is ast.Attribute:
            root = root.value
        return node.attr if type(root) is ast.Name else None
    if type(node) is ast.Name:
        return aliases.get(node.id, node.id).rpartition(".")[2]
    return None


def _star_imports(body: list[ast.stmt]) -> bool:
    """Whether a top-level statement is a star-import (`from .base import *`)."""
    for stmt in body:
        if type(stmt) is ast.ImportFrom:
            for alias in stmt.names:
                if alias.name == "*":
                    return True
    return False


class DjangoDeployFacts(FactCollector):
    """The deploy-relevant top-level statements of each Django settings module."""

    key = DJANGO_DEPLOY_FACTS

    def visit_Module(self, node: ast.Module) -> None:
        named = is_settings_module(self.ctx.path, node)
        if not named and not _star_imports(node.body):
            # the events' "import"s are these top-level star-imports: without one, a module
            # that is not a settings module has nothing to record, and most modules are such
            return  # `config/production.py` with `from .base import *`: kept, see below
        events = settings_events(node)
        if not named and not any(event[0] == "import" for event in events):
            return
        if not named and all(event[0] in ("import", "cond_import") for event in events):
            return
        dev = is_dev_settings_path(self.ctx.path) or self.ctx.is_test_file
        # `derived`: not a settings module by itself, only through what it star-imports
        self.add(events=events, dev=dev, derived=not named, line=1)


_WEB_HINT = (
    "Send the headers from one place for every response: an HTTP middleware that sets "
    "`Content-Security-Policy`, `X-Content-Type-Options: nosniff` and "
    "`Strict-Transport-Security`, Flask's `@app.after_request`, or a package such as `secure` "
    "or flask-talisman (or set them at the reverse proxy, and suppress this finding)."
)
_DJANGO_HINT = (
    "Set the hardening in the production settings, e.g. `SECURE_HSTS_SECONDS = 31536000`, "
    "`SECURE_SSL_REDIRECT = True`, `SESSION_COOKIE_SECURE = True`, `CSRF_COOKIE_SECURE = True`, "
    "keep `SecurityMiddleware` first in MIDDLEWARE, and run `manage.py check --deploy` in CI."
)


class MissingSecurityHeaders(ProjectRule):
    """Two sides, one rule:

    **FastAPI / Starlette / Flask.** Each app that serves traffic (created outside test
    files, not mounted into another app; reported where it is created) is flagged when nothing
    in the project's non-test code sets any of `Content-Security-Policy` (or its
    `-Report-Only` form), `X-Content-Type-Options` or `Strict-Transport-Security`. Evidence
    that silences it, anywhere in the project:

    - the header name (any case, str or bytes) where a header is *set*: a subscript
      assignment (`response.headers["..."] = v`, Django's `response["..."] = v`), an argument
      of a call that is not a read (`headers.setdefault`, `MutableHeaders.append`,
      `add_header`...), a dict key (`headers={...}`, `.update({...})`), the first item of a
      pair (raw ASGI `(b"strict-transport-security", b"...")`), or the value of an assignment
      (`HSTS = "Strict-Transport-Security"`) - so middleware, Flask `after_request` hooks and
      helpers all count;
    - an import of a security-header package: `secure` (secure.py), `flask_talisman` /
      `talisman`, `Secweb`, `fastapi_security_headers`, `flask_csp`;
    - a middleware or wrapper whose name says so (`SecurityHeadersMiddleware`,
      `SecureHeaders`, `CSPMiddleware`, `HSTSMiddleware`, `Talisman`) passed to
      `add_middleware`/`Middleware(...)` or called.

    `TrustedHostMiddleware`, CORS and GZip middleware set no security header and do not count.
    Headers added by a reverse proxy (nginx, Traefik, a CDN) cannot be seen: suppress the
    finding on the app's line (`# bastion: ignore[SEC010] set by nginx`).

    **Django.** Each deployment settings module (not named for dev/local/test, not under the
    test paths, not itself star-imported by another settings module) whose settings include
    `INSTALLED_APPS` or `MIDDLEWARE` gets one finding (line 1) listing what
    `manage.py check --deploy` would warn about. A module that star-imports another settings
    module of the project (`from .base import *`) is judged on the combination, in statement
    order; a star-import bastion cannot read (another package, django-split-settings'
    `include()`, `exec`) means an absent setting may be set there, so then only values
    written explicitly are judged. Settings assigned under `if`/`try` count as set. A
    `try: from .local import *` of a dev module is ignored. Settings whose `DEBUG` is the
    literal `True` (after the star-imports) are development settings in practice: SEC008
    reports the `DEBUG` when the file may be deployed, and SEC010 stays silent there.

    | check | setting | covered | notes |
    |---|---|---|---|
    | W001 | `SecurityMiddleware` in MIDDLEWARE | yes | when MIDDLEWARE is a literal list |
    | W002 | `XFrameOptionsMiddleware` in MIDDLEWARE | yes | same |
    | W003 | `CsrfViewMiddleware` in MIDDLEWARE | no | token-auth APIs drop it on purpose |
    | W004 | SECURE_HSTS_SECONDS | yes | absent, 0 or None |
    | W005 | SECURE_HSTS_INCLUDE_SUBDOMAINS | yes | only once HSTS is on |
    | W006 | SECURE_CONTENT_TYPE_NOSNIFF | yes | explicit False/None (the default is True) |
    | W008 | SECURE_SSL_REDIRECT | yes | absent or False |
    | W009 | SECRET_KEY shape | yes | literal keys only (see below) |
    | W010-W012 | SESSION_COOKIE_SECURE | yes (W012) | absent; explicit False is SEC018's |
    | W013-W015 | SESSION_COOKIE_HTTPONLY | yes (as W015) | explicit False |
    | W016 | CSRF_COOKIE_SECURE | yes | absent; explicit False is SEC018's |
    | W018 | DEBUG | no | SEC008 reports it |
    | W019 | X_FRAME_OPTIONS | yes | a literal other than "DENY" with XFrameOptionsMiddleware |
    | W020 | ALLOWED_HOSTS | yes | absent or `[]` (a `["*"]` is SEC009's) |
    | W021 | SECURE_HSTS_PRELOAD | yes | only once HSTS is on |
    | W022 | SECURE_REFERRER_POLICY | yes | explicit None |
    | W025 | SECRET_KEY_FALLBACKS | no | rarely literal; not read |
    | E023, E024 | invalid referrer / COOP values | no | configuration errors, not hardening |

    W009: a literal `SECRET_KEY` shorter than 50 characters, with fewer than 5 distinct ones,
    or starting with `django-insecure-`; a key read from the environment (or computed) is not
    judged, a literal key as such is SEC001's, and the key is never printed. W012 needs
    `django.contrib.sessions` or `SessionMiddleware`, W016 needs `CsrfViewMiddleware` (and no
    `CSRF_USE_SESSIONS = True`). CSRF middleware itself (W003) is SEC015's area.

    Suppress a settings module's finding with `# bastion: ignore[SEC010] reason` on its first
    line. Checks listed in `SILENCED_SYSTEM_CHECKS` (`"security.W004"`) are not reported; a
    `SILENCED_SYSTEM_CHECKS` that cannot be read silences the Django side of the module.

    Checks that depend on `SecurityMiddleware` are judged only when MIDDLEWARE is a literal
    list that has it (or, when MIDDLEWARE cannot be read, only on explicit values), as Django
    does. Django's `DEBUG` (W018) is left to SEC008."""

    id = "SEC010"
    needs = frozenset({"django_deploy", "security_headers", "web"})  # the facts it reads
    name = "missing-security-headers"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "4 of 4 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    cwe = (693,)
    # the headers are often added by a reverse proxy, which a static reading cannot see
    summary = "No security headers (CSP, nosniff, HSTS) or Django `check --deploy` hardening"
    why = (
        "Browsers only apply defences a response asks for: without `Content-Security-Policy` an "
        "injected script runs with the page's rights, without `X-Content-Type-Options: nosniff` "
        "an upload can be sniffed into HTML or script, and without HSTS the first plain-HTTP "
        "request can be intercepted and downgraded. Django ships these switches off by default "
        "and lists them in `manage.py check --deploy`."
    )
    hint = _WEB_HINT
    references = (
        "https://owasp.org/www-project-secure-headers/",
        "https://docs.djangoproject.com/en/stable/ref/checks/#security",
    )
    bad = [
        Example(
            "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/items')\n"
            "def items():\n    return []\n",
            path="app/main.py",
        ),
        Example(
            "from flask import Flask\n\napp = Flask(__name__)\n\n@app.after_request\n"
            "def add_headers(response):\n"
            '    response.headers["Access-Control-Allow-Origin"] = "https://a.example"\n'
            "    return response\n",
            path="app.py",
        ),
        Example(
            "from starlette.applications import Starlette\n"
            "from starlette.middleware import Middleware\n"
            "from starlette.middleware.trustedhost import TrustedHostMiddleware\n\n"
            "app = Starlette(middleware=[Middleware(TrustedHostMiddleware, "
            'allowed_hosts=["a.example"])])\n',
            path="app.py",
        ),
        Example(
            'SECRET_KEY = os.environ["SECRET_KEY"]\nDEBUG = False\n'
            'ALLOWED_HOSTS = ["shop.example"]\nINSTALLED_APPS = ["django.contrib.sessions"]\n'
            'MIDDLEWARE = [\n    "django.middleware.security.SecurityMiddleware",\n'
            '    "django.contrib.sessions.middleware.SessionMiddleware",\n]\n',
            path="shop/settings.py",
        ),
    ]
    good = [
        Example(
            "from fastapi import FastAPI, Request\n\napp = FastAPI()\n\n"
            '@app.middleware("http")\nasync def headers(request: Request, call_next):\n'
            "    response = await call_next(request)\n"
            '    response.headers["Content-Security-Policy"] = "default-src \'self\'"\n'
            "    return response\n",
            path="app/main.py",
        ),
        Example(
            "from flask import Flask\nfrom flask_talisman import Talisman\n\n"
            "app = Flask(__name__)\nTalisman(app)\n",
            path="app.py",
        ),
        Example(
            "from flask import Flask\n\napp = Flask(__name__)\n\n@app.after_request\n"
            "def add_headers(response):\n"
            '    response.headers.setdefault("X-Content-Type-Options", "nosniff")\n'
            "    return response\n",
            path="app.py",
        ),
        Example(
            'SECRET_KEY = os.environ["SECRET_KEY"]\nALLOWED_HOSTS = ["shop.example"]\n'
            'INSTALLED_APPS = ["django.contrib.sessions"]\n'
            'MIDDLEWARE = ["django.middleware.security.SecurityMiddleware",\n'
            '    "django.contrib.sessions.middleware.SessionMiddleware",\n'
            '    "django.middleware.clickjacking.XFrameOptionsMiddleware"]\n'
            "SECURE_HSTS_SECONDS = 31536000\nSECURE_HSTS_INCLUDE_SUBDOMAINS = True\n"
            "SECURE_HSTS_PRELOAD = True\nSECURE_SSL_REDIRECT = True\n"
            "SESSION_COOKIE_SECURE = True\n",
            path="shop/settings.py",
        ),
        Example(
            "DEBUG = True\nINSTALLED_APPS = ['django.contrib.sessions']\nMIDDLEWARE = []\n",
            path="shop/settings/dev.py",
        ),
    ]

    def check_project(self) -> None:
        self._check_apps()
        self._check_django()

    def _check_apps(self) -> None:
        config = self.project.config
        evidence = [
            fact
            for path, fact in self.project.facts(SECURITY_HEADER_FACTS)
            if not config.is_test_path(path)
        ]
        if evidence:
            return
        web = web_project(self.project)
        for path, app in served_apps(self.project, web, top_level_only=True):
            label = "Flask" if app.get("framework") == "flask" else "FastAPI/Starlette"
            name = f" `{app['var']}`" if app.get("var") else ""
            self.report_at(
                path,
                app["line"],
                app.get("column", 1),
                f"{label} app{name} sends none of Content-Security-Policy, "
                "X-Content-Type-Options, Strict-Transport-Security (no header middleware, "
                "`after_request` hook or security-header package in the project)",
            )

    def _check_django(self) -> None:
        config = self.project.config
        facts = self.project.facts(DJANGO_DEPLOY_FACTS)
        if not facts:
            return
        dev_paths = {path for path, _ in facts if config.is_test_path(path)}
        deploy = DjangoDeploy(facts, dev_paths)
        bases = deploy.imported_bases()
        for path, module in sorted(deploy.modules.items()):
            if module.dev or path in bases:
                continue
            if module.derived and not deploy.imports_settings(path):
                continue
            combined = deploy.combined(path)
            values = combined.values
            if "INSTALLED_APPS" not in values and "MIDDLEWARE" not in values:
                continue  # not a project's settings (a library's `settings.py`)
            if values.get("DEBUG") is True:
                continue  # settings for development; SEC008 flags them if deployable
            problems = deploy_problems(combined)
            if not problems:
                continue
            listed = "; ".join(f"{p.text} ({p.code})" for p in problems)
            with_bases = ""
            if combined.bases:
                names = ", ".join(f"`{b.rpartition('/')[2]}`" for b in combined.bases)
                with_bases = f" (with {names})"
            self.report_at(
                path,
                1,
                1,
                f"Django settings{with_bases} miss `check --deploy` hardening: {listed}",
                hint=_DJANGO_HINT,
            )
