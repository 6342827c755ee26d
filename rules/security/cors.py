"""SEC002-SEC003: CORS that lets any origin in (and, worse, with credentials).

Both rules share one recogniser (`_cors_configs`): each CORS configuration found in a module
is described once (where, which origins pattern, whether credentials are allowed), then SEC003
reports the configurations that combine a wildcard with credentials and SEC002 the others. A
configuration is never reported by both: with credentials, SEC003 (an error) supersedes SEC002.
"""

from __future__ import annotations

import ast
import contextlib
import re
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from bastion.analysis.nodes import (
    has_kwargs_splat,
    is_true,
    keyword_value,
    string_elements,
    string_value,
)
from bastion.analysis.project_constants import CONSTANT_FACTS, module_constants, resolve
from bastion.context import FileContext, ProjectContext
from bastion.findings import Finding, Severity
from bastion.rule import Example, FactCollector, Rule

CORS_MIDDLEWARE = frozenset(
    {
        "fastapi.middleware.cors.CORSMiddleware",
        "starlette.middleware.cors.CORSMiddleware",
    }
)
MIDDLEWARE_WRAPPERS = frozenset(
    {"starlette.middleware.Middleware", "fastapi.middleware.Middleware"}
)
FLASK_CORS = frozenset({"flask_cors.CORS", "flask_cors.extension.CORS"})
FLASK_CROSS_ORIGIN = frozenset({"flask_cors.cross_origin", "flask_cors.decorator.cross_origin"})

DJANGO_ALLOW_ALL = ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL")
DJANGO_REGEXES = ("CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST")
DJANGO_CREDENTIALS = "CORS_ALLOW_CREDENTIALS"

# Hosts no allow-list would let in together: a pattern that accepts all of them under one
# scheme accepts any origin (an attacker picks the scheme).
_PROBE_HOSTS = ("attacker.example", "evil.test:8443", "a.b.c.d.invalid")
_REGEX_CHARS = re.compile(r"[\\^$*+?()\[\]{}|]")


def is_match_all_regex(pattern: str, *, full: bool = False) -> bool:
    """True when `pattern` accepts unrelated origins (`.*`, `https?://.*`, `^.+$`). Starlette
    matches the whole origin (`full`); flask-cors and django-cors-headers only its start."""
    try:
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    match = compiled.fullmatch if full else compiled.match
    try:
        with _cpu_budget(_PROBE_SECONDS):
            return any(
                all(match(f"{scheme}://{host}") for host in _PROBE_HOSTS)
                for scheme in ("https", "http")
            )
    except _ProbeTimeout:
        # The pattern comes from the scanned code and backtracks catastrophically on a
        # 25-character origin: it fails on at least one probe (a success returns at once),
        # so it does not accept every origin.
        return False


_PROBE_SECONDS = 0.5


class _ProbeTimeout(BaseException):
    pass


@contextlib.contextmanager
def _cpu_budget(seconds: float) -> Iterator[None]:
    """Interrupt the block after `seconds` of this process's CPU time (ITIMER_VIRTUAL: the
    engine's per-file budget uses the wall-clock timer, so the two do not clash). Main
    thread only; elsewhere the file's own budget is the bound."""
    if (
        not hasattr(signal, "setitimer")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _ProbeTimeout

    previous = signal.signal(signal.SIGVTALRM, expire)
    signal.setitimer(signal.ITIMER_VIRTUAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        signal.signal(signal.SIGVTALRM, previous)


@dataclass(frozen=True)
class CorsConfig:
    node: ast.AST  # where to report
    construct: str  # how the configuration is spelled, for the message
    origins: str  # what lets any origin in, for the message
    credentials: bool
    # origins (and credentials) read from another module of the project, decided in `review`
    origins_ref: str = ""
    credentials_ref: str = ""


def _assigned_value(stmt: ast.stmt, name: str) -> ast.expr | None:
    """The value `stmt` assigns to the plain name `name`, if it does."""
    if isinstance(stmt, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == name for t in stmt.targets
    ):
        return stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.value if stmt.target.id == name else None
    return None


def _last_assignment(name: str, ctx: FileContext) -> ast.expr | None:
    """The value of the closest earlier `name = <value>` in the block that holds the statement
    being visited (module or function body), or None."""
    statement: ast.AST | None = None
    for ancestor in reversed(ctx.stack):
        if isinstance(ancestor, ast.stmt):
            statement = ancestor
            break
    if statement is None:
        return None
    for ancestor in reversed(ctx.stack):
        for field in ("body", "orelse", "finalbody"):
            block = getattr(ancestor, field, None)
            if isinstance(block, list) and statement in block:
                found: ast.expr | None = None
                for stmt in block[: block.index(statement)]:
                    found = _assigned_value(stmt, name) or found
                return found
        if isinstance(ancestor, ast.stmt) and ancestor is not statement:
            statement = ancestor
    return None


def _truthy(node: ast.expr | None) -> bool:
    """`True`, `"true"`, `1`: the libraries test the option's truth, not `is True`."""
    return isinstance(node, ast.Constant) and bool(node.value) and node.value is not Ellipsis


def _literal(node: ast.expr | None, ctx: FileContext) -> ast.expr | None:
    """Follow a name to the literal assigned to it earlier in the same block."""
    if isinstance(node, ast.Name):
        return _last_assignment(node.id, ctx)
    return node


def _origin_wildcard(value: ast.expr | None, ctx: FileContext, *, flask: bool) -> str | None:
    """`"*"` (as a string or in a list) or a match-all regex (flask-cors treats origins that
    look like regexes as regexes); None for explicit lists and anything not literal."""
    origins = string_elements(_literal(value, ctx))
    if origins is None:
        return None
    for origin in origins:
        if origin == "*":
            return '"*"'
        if flask and _REGEX_CHARS.search(origin) and is_match_all_regex(origin):
            return f"the pattern {origin!r}"
    return None


def _starlette_config(call: ast.Call, construct: str, ctx: FileContext) -> CorsConfig | None:
    if has_kwargs_splat(call):
        return None
    credentials = _truthy(_literal(keyword_value(call, "allow_credentials"), ctx))
    wildcard = _origin_wildcard(keyword_value(call, "allow_origins"), ctx, flask=False)
    if wildcard is not None:
        origins = f"allow_origins={wildcard}"
    else:
        regex = string_value(_literal(keyword_value(call, "allow_origin_regex"), ctx))
        if regex is None or not is_match_all_regex(regex, full=True):
            return _settings_config(call, construct, ctx, credentials)
        origins = f"allow_origin_regex={regex!r}"
    return CorsConfig(call, construct, origins, credentials)


def _reference(node: ast.expr | None, ctx: FileContext) -> str:
    """`settings.CORS_ORIGINS` / `ORIGINS` whose root was imported from a module: the dotted
    reference to resolve in the project (`app.core.config.settings.CORS_ORIGINS`)."""
    if not isinstance(node, ast.Name | ast.Attribute):
        return ""
    qualified = ctx.imports.imported_qualname(node) or ""
    return qualified if "." in qualified else ""


def _settings_config(
    call: ast.Call, construct: str, ctx: FileContext, credentials: bool
) -> CorsConfig | None:
    """Origins from a settings object or constant of another module: a candidate that
    `review` keeps only when the project shows the value is `"*"`."""
    origins = keyword_value(call, "allow_origins")
    reference = _reference(origins, ctx)
    if not reference or origins is None:
        return None
    credentials_ref = _reference(keyword_value(call, "allow_credentials"), ctx)
    described = f'allow_origins={ast.unparse(origins)}, which is "*" in the project\'s settings'
    return CorsConfig(
        call,
        construct,
        described,
        credentials,
        origins_ref=reference,
        credentials_ref=credentials_ref,
    )


def _flask_config(call: ast.Call, construct: str, ctx: FileContext) -> CorsConfig | None:
    """flask-cors: `origins` defaults to "*", per-resource options override the top-level
    ones. Anything not literal (a variable, the app config) is left alone."""
    if has_kwargs_splat(call):
        return None
    top_origins = keyword_value(call, "origins")
    top_credentials = _truthy(_literal(keyword_value(call, "supports_credentials"), ctx))
    resources = _literal(keyword_value(call, "resources"), ctx)
    option_sets: list[tuple[ast.expr | None, bool]] = []
    if isinstance(resources, ast.Dict):
        for value in resources.values:
            options = _literal(value, ctx)
            if not isinstance(options, ast.Dict):
                return None
            keys = [string_value(k) if k is not None else None for k in options.keys]
            if None in keys:
                return None
            by_key = dict(zip(keys, options.values, strict=True))
            origins = by_key.get("origins", top_origins)
            credentials = (
                _truthy(by_key["supports_credentials"])
                if "supports_credentials" in by_key
                else top_credentials
            )
            option_sets.append((origins, credentials))
    elif resources is None or string_elements(resources) is not None:
        option_sets.append((top_origins, top_credentials))
    else:
        return None
    for origins, credentials in option_sets:
        if origins is None and _config_loaded_elsewhere(ctx):
            continue  # the defaults may be overridden by `CORS_ORIGINS` in that config
        if origins is None:
            described = 'no `origins` given: flask-cors allows "*"'
        else:
            wildcard = _origin_wildcard(origins, ctx, flask=True)
            if wildcard is None:
                continue
            described = f"origins={wildcard}"
        return CorsConfig(call, construct, described, credentials)
    return None


_CONFIG_LOADERS = ("config.from_", "config.update(", "config.setdefault(")


def _config_loaded_elsewhere(ctx: FileContext) -> bool:
    """`app.config.from_object(...)` and friends: flask-cors reads `CORS_ORIGINS` from there."""
    return any(loader in ctx.source.text for loader in _CONFIG_LOADERS)


def _is_cors_middleware(node: ast.expr, ctx: FileContext) -> bool:
    """Starlette's `CORSMiddleware`, or a class of this module that subclasses it (a
    `CORSMiddlewarePath` that only adds a path filter applies the same origins)."""
    if ctx.imports.qualname(node) in CORS_MIDDLEWARE:
        return True
    if not isinstance(node, ast.Name) or ctx.tree is None:
        return False
    return any(
        isinstance(stmt, ast.ClassDef)
        and stmt.name == node.id
        and any(ctx.imports.qualname(base) in CORS_MIDDLEWARE for base in stmt.bases)
        for stmt in ctx.tree.body
    )


def _call_config(call: ast.Call, ctx: FileContext) -> CorsConfig | None:
    imports = ctx.imports
    func = call.func
    qualified = imports.qualname(func)
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "add_middleware"
        and call.args
        and _is_cors_middleware(call.args[0], ctx)
    ):
        return _starlette_config(call, "`add_middleware(CORSMiddleware, ...)`", ctx)
    if qualified in MIDDLEWARE_WRAPPERS and call.args:
        if _is_cors_middleware(call.args[0], ctx):
            return _starlette_config(call, "`Middleware(CORSMiddleware, ...)`", ctx)
        return None
    if qualified in CORS_MIDDLEWARE:  # `app = CORSMiddleware(app, allow_origins=[...])`
        return _starlette_config(call, "`CORSMiddleware(...)`", ctx)
    if qualified in FLASK_CORS:
        # `CORS()` without an app is configured later by `init_app(app, ...)`
        if not call.args and keyword_value(call, "app") is None:
            return None
        if "CORS_ORIGINS" in ctx.source.text or "CORS_RESOURCES" in ctx.source.text:
            return None  # origins come from the app config
        return _flask_config(call, "`CORS(app)`", ctx)
    if qualified in FLASK_CROSS_ORIGIN:
        if "CORS_ORIGINS" in ctx.source.text:
            return None
        return _flask_config(call, "`@cross_origin()`", ctx)
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "init_app"
        and imports.instance_of(func.value) in FLASK_CORS
    ):
        if "CORS_ORIGINS" in ctx.source.text or "CORS_RESOURCES" in ctx.source.text:
            return None
        return _flask_config(call, "`CORS().init_app(app)`", ctx)
    return None


def _module_setting(tree: ast.Module, name: str) -> ast.expr | None:
    """The value of the last top-level `NAME = value` (not inside `if`: a setting guarded by
    `if DEBUG:` is a development choice)."""
    found: ast.expr | None = None
    for stmt in tree.body:
        found = _assigned_value(stmt, name) or found
    return found


def _django_configs(tree: ast.Module) -> list[CorsConfig]:
    """django-cors-headers settings assigned at the top level of a module."""
    credentials = is_true(_module_setting(tree, DJANGO_CREDENTIALS))
    configs: list[CorsConfig] = []
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
            continue
        target = stmt.targets[0]
        if not isinstance(target, ast.Name):
            continue
        if target.id in DJANGO_ALLOW_ALL and is_true(stmt.value):
            configs.append(CorsConfig(stmt, f"`{target.id} = True`", "", credentials))
        elif target.id in DJANGO_REGEXES:
            for pattern in string_elements(stmt.value) or []:
                if is_match_all_regex(pattern):
                    configs.append(
                        CorsConfig(stmt, f"`{target.id}`", f"the pattern {pattern!r}", credentials)
                    )
                    break
    return configs


_CANDIDATES = "cors_settings_candidates_"


class ConstantFacts(FactCollector):
    """Module constants and settings defaults about origins and credentials
    (`bastion.analysis.project_constants`), for configurations that read them elsewhere."""

    key = CONSTANT_FACTS
    requires = ("origin", "ORIGIN", "Origin", "credential", "CREDENTIAL")

    def visit_Module(self, node: ast.Module) -> None:
        for fact in module_constants(node, ("origin", "credential")):
            self.add(**fact)


class _CorsRule(Rule):
    requires = ("CORS", "cross_origin")
    reports_credentials: bool = False

    def _accept(self, config: CorsConfig) -> None:
        if config.origins_ref:
            # both rules report the candidate; `review` keeps the one the settings decide
            self.ctx.facts.setdefault(_CANDIDATES + self.id, []).append(
                {
                    "line": getattr(config.node, "lineno", 1),
                    "origins": config.origins_ref,
                    "credentials": config.credentials,
                    "credentials_ref": config.credentials_ref,
                }
            )
            self._report(config)
            return
        if config.credentials == self.reports_credentials:
            self._report(config)

    @classmethod
    def review(cls, findings: list[Finding], project: ProjectContext) -> list[Finding]:
        """Keep a configuration whose origins come from another module only when that module
        sets them to `"*"` (a constant, or a settings field default), as SEC003 when the
        credentials resolve to true, else as SEC002."""
        candidates = project.facts(_CANDIDATES + cls.id)
        if not candidates:
            return findings
        constants = project.facts(CONSTANT_FACTS)
        drop: set[tuple[str, int]] = set()
        for path, fact in candidates:
            known, value = resolve(constants, str(fact["origins"]))
            wildcard = known and (value == "*" or (isinstance(value, list) and "*" in value))
            credentials = bool(fact.get("credentials"))
            if fact.get("credentials_ref"):
                known_credentials, flag = resolve(constants, str(fact["credentials_ref"]))
                credentials = known_credentials and bool(flag)
            if not wildcard or credentials != cls.reports_credentials:
                drop.add((path, int(fact["line"])))
        return [f for f in findings if f.rule != cls.id or (f.path, f.line) not in drop]

    def _report(self, config: CorsConfig) -> None:
        raise NotImplementedError

    def visit_Call(self, node: ast.Call) -> None:
        config = _call_config(node, self.ctx)
        if config is not None:
            self._accept(config)

    def visit_Module(self, node: ast.Module) -> None:
        if "CORS_" not in self.ctx.source.text:
            return
        for config in _django_configs(node):
            self._accept(config)


class CorsWildcardOrigin(_CorsRule):
    """Flags CORS configurations that accept requests from any origin:

    - FastAPI/Starlette `CORSMiddleware` (via `app.add_middleware(...)`, `Middleware(...)` in
      `FastAPI(middleware=[...])`/`Starlette(middleware=[...])`, or wrapping an app) with
      `allow_origins=["*"]` or an `allow_origin_regex` that matches any origin (`.*`,
      `https?://.*`);
    - flask-cors `CORS(app)` / `@cross_origin()` with the default origins (any) or `"*"`, at
      the top level or in `resources={...: {"origins": "*"}}`;
    - django-cors-headers `CORS_ALLOW_ALL_ORIGINS = True` / `CORS_ORIGIN_ALLOW_ALL = True` (or a
      match-all `CORS_ALLOWED_ORIGIN_REGEXES`) assigned at the top level of a module.

    A list of origins assigned to a variable earlier in the same block is followed
    (`origins = ["*"]` then `allow_origins=origins`), and so are origins imported from another
    module of the project: a module constant (`ORIGINS = ["*"]`) or the default of a settings
    field (`CORS_ORIGINS: list[str] = ["*"]` on the `settings = Settings()` imported) - and,
    for SEC003, `allow_credentials` read the same way. Origins read from the environment or
    from settings bastion cannot see, explicit lists, flask-cors origins set in the app config
    (`CORS_ORIGINS`), and Django settings inside `if DEBUG:` are not flagged; nor is
    flask-cors left at its default origins in a module that loads the app config from
    elsewhere (`app.config.from_object`, `from_pyfile`, `config.update(...)`), which may set
    `CORS_ORIGINS`.

    When the same configuration also allows credentials, SEC003 reports it instead (as an
    error), and this rule stays silent on it.

    Default severity `info` (lowered from `warning`, issue #15): without credentials a
    browser sends no cookies cross-origin, so a wildcard only exposes what the API answers
    to anyone anyway - on real applications (bench/ecosystem) both findings were public APIs
    authenticated by header keys. It still matters for an API that trusts the network it
    sits on (an intranet, IP allow-lists), which any web page can then read through a
    visitor's browser. Off by default (issue #15): the recall set's wildcard configurations
    are real, but on real applications none was a mistake a reviewer would change; select
    SEC002 by id where the API trusts its network. SEC003 (a wildcard with credentials)
    stays on, as an error."""

    id = "SEC002"
    needs = frozenset({"cors_settings_candidates_SEC002", "project_constants"})
    name = "cors-wildcard-origin"
    severity = Severity.INFO
    enabled_by_default = False
    precision = "low"
    precision_measured = (
        "0 of 2 judged findings right (0%) on 15 application repositories, bench/ecosystem, too "
        "few findings to be sure of the band: both public APIs authenticated by header keys; "
        "default severity lowered from warning to info, and off by default (select it by id)"
    )
    cwe = (942,)
    summary = "CORS allows requests from any origin"
    why = (
        "CORS is the browser's guard on which websites may call your API with a user's "
        "browser. A wildcard origin turns it off: any page on the internet can read your "
        "responses from a visitor's browser. List the front-ends that need access; a public, "
        "read-only API that really is for everyone is the only case for `*`."
    )
    hint = (
        'List the allowed origins explicitly, e.g. `allow_origins=["https://app.example.com"]`, '
        "read from settings per environment."
    )
    bad = [
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n\n"
        'app = FastAPI()\napp.add_middleware(CORSMiddleware, allow_origins=["*"])\n',
        "from starlette.applications import Starlette\nfrom starlette.middleware import "
        "Middleware\nfrom starlette.middleware.cors import CORSMiddleware\n\n"
        'middleware = [Middleware(CORSMiddleware, allow_origin_regex="https?://.*")]\n'
        "app = Starlette(middleware=middleware)\n",
        "from flask import Flask\nfrom flask_cors import CORS\n\n"
        "app = Flask(__name__)\nCORS(app)\n",
        'from flask_cors import cross_origin\n\n@app.route("/feed")\n@cross_origin()\n'
        "def feed():\n    return []\n",
        Example("CORS_ALLOW_ALL_ORIGINS = True\n", path="settings.py"),
        "import fastapi.middleware.cors as cors\n\ndef setup(app):\n"
        '    origins = ["*"]\n    app.add_middleware(cors.CORSMiddleware, allow_origins=origins)\n',
    ]
    good = [
        "from fastapi.middleware.cors import CORSMiddleware\n\napp.add_middleware(\n"
        '    CORSMiddleware, allow_origins=["https://app.example.com"],\n'
        "    allow_credentials=True,\n)\n",
        "from fastapi.middleware.cors import CORSMiddleware\n\n"
        "app.add_middleware(CORSMiddleware, allow_origins=settings.CORS_ORIGINS)\n",
        'from flask_cors import CORS\n\nCORS(app, origins=["https://app.example.com"])\n',
        'from flask_cors import CORS\n\nCORS(app, resources={r"/api/*": {"origins": '
        '"https://app.example.com"}})\n',
        Example("if DEBUG:\n    CORS_ALLOW_ALL_ORIGINS = True\n", path="settings.py"),
        Example("CORS_ALLOW_ALL_ORIGINS = DEBUG\n", path="settings.py"),
        # some other CORSMiddleware, not Starlette's
        "from mylib import CORSMiddleware\n\n"
        'app.add_middleware(CORSMiddleware, allow_origins=["*"])\n',
    ]

    def _report(self, config: CorsConfig) -> None:
        if config.origins:
            message = f"{config.construct} allows any origin ({config.origins})"
        else:
            message = f"{config.construct} allows any origin"
        # without credentials, the risk is what the network trusts: say so
        self.report(
            config.node,
            message + " (without credentials: any web page can read what this API answers "
            "to anyone on the visitor's network)",
        )


class CorsCredentialsWithWildcard(_CorsRule):
    """Flags the SEC002 configurations that also allow credentials: `allow_credentials=True`
    (Starlette/FastAPI), `supports_credentials=True` (flask-cors, top level or per resource),
    `CORS_ALLOW_CREDENTIALS = True` in the same module (django-cors-headers).

    Browsers refuse `Access-Control-Allow-Origin: *` with credentials, so these libraries echo
    the caller's origin back instead: every website may then send authenticated requests with
    the user's cookies and read the answers. Reported instead of SEC002, never in addition."""

    id = "SEC003"
    needs = frozenset({"cors_settings_candidates_SEC003", "project_constants"})
    name = "cors-credentials-with-wildcard"
    severity = Severity.ERROR
    cwe = (942, 346)
    reports_credentials = True
    summary = "CORS allows any origin together with credentials (cookies, auth headers)"
    why = (
        "With credentials allowed, the CORS libraries answer a wildcard configuration by "
        "echoing whatever origin asked: any website a logged-in user visits can call your API "
        "with their cookies and read the responses - account data, CSRF tokens, everything. "
        "Credentials must only ever go with an explicit list of trusted origins."
    )
    hint = (
        "List the trusted origins explicitly "
        '(`allow_origins=["https://app.example.com"]`), or drop credentials if the API is '
        "really public."
    )
    bad = [
        "from fastapi.middleware.cors import CORSMiddleware\n\napp.add_middleware(\n"
        '    CORSMiddleware, allow_origins=["*"], allow_credentials=True\n)\n',
        "from fastapi import FastAPI\nfrom starlette.middleware import Middleware\n"
        "from starlette.middleware.cors import CORSMiddleware\n\napp = FastAPI(middleware=[\n"
        '    Middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True),\n])\n',
        "from flask_cors import CORS\n\nCORS(app, supports_credentials=True)\n",
        'from flask_cors import CORS\n\nCORS(app, resources={r"/api/*": {"origins": "*", '
        '"supports_credentials": True}})\n',
        Example(
            "CORS_ORIGIN_ALLOW_ALL = True\nCORS_ALLOW_CREDENTIALS = True\n", path="settings.py"
        ),
    ]
    good = [
        "from fastapi.middleware.cors import CORSMiddleware\n\napp.add_middleware(\n"
        '    CORSMiddleware, allow_origins=["https://app.example.com"],\n'
        "    allow_credentials=True,\n)\n",
        "from fastapi.middleware.cors import CORSMiddleware\n\napp.add_middleware(\n"
        '    CORSMiddleware, allow_origins=["*"], allow_credentials=False\n)\n',
        'from flask_cors import CORS\n\nCORS(app, origins=["https://app.example.com"], '
        "supports_credentials=True)\n",
        Example(
            'CORS_ALLOWED_ORIGINS = ["https://app.example.com"]\nCORS_ALLOW_CREDENTIALS = True\n',
            path="settings.py",
        ),
    ]

    def _report(self, config: CorsConfig) -> None:
        what = f" ({config.origins})" if config.origins else " (`CORS_ALLOW_CREDENTIALS = True`)"
        self.report(config.node, f"{config.construct} allows credentials from any origin{what}")
