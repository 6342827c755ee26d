"""API007: authentication routes without a rate limit."""

from __future__ import annotations

import ast
import re

from bastion.analysis.api_design import (
    Handler,
    handler_params,
    is_param_segment,
    literal_segments,
    segments,
    words,
)
from bastion.analysis.fastpath import TextMentions
from bastion.analysis.nodes import keyword_value
from bastion.analysis.web import Route, routes_of
from bastion.context import FileContext
from bastion.findings import Severity
from bastion.rule import Rule

# Last literal path segment (its words joined) that names a credential-checking endpoint.
_AUTH_SEGMENTS = frozenset(
    {
        "login",
        "signin",
        "logon",
        "token",
        "accesstoken",
        "authenticate",
        "forgotpassword",
        "resetpassword",
        "passwordreset",
        "passwordforgot",
        "recoverpassword",
        "passwordrecovery",
    }
)
_AUTH_TAILS = frozenset({("password", "reset"), ("password", "forgot"), ("password", "recover")})
# Segments of the step that sets a new password: it checks the reset token mailed to the user
# (random or signed: not guessable), not a password.
_RESET_SEGMENTS = frozenset({"resetpassword", "passwordreset"})
# Limiter machinery: any decorator or dependency whose text mentions one of these is taken as
# a rate limit (slowapi/flask-limiter `limiter.limit`, fastapi-limiter `RateLimiter`,
# django-ratelimit `ratelimit`, `limits`' `sleep_and_retry`, custom `throttle`s).
_LIMIT_WORDS = ("limit", "throttl")


# A bare `token` segment is an OAuth2/JWT login only under an auth-ish path (`/token`,
# `/api/v1/token`, `/auth/jwt/token`); `/devices/token` registers a push token.
_TOKEN_SEGMENTS = frozenset({"token", "accesstoken"})
_AUTH_CONTEXT = frozenset(
    {
        "api",
        "auth",
        "oauth",
        "oauth2",
        "jwt",
        "login",
        "user",
        "users",
        "account",
        "accounts",
        "identity",
        "security",
        "session",
        "sessions",
    }
)


def _is_auth_route(route: Route) -> str | None:
    parts = literal_segments(route.path)
    if not parts:
        return None
    last = "".join(words(parts[-1]))
    if last in _TOKEN_SEGMENTS:
        before = ["".join(words(p)) for p in parts[:-1]]
        if all(p in _AUTH_CONTEXT or re.fullmatch(r"v\d+", p) for p in before):
            return parts[-1]
        return None
    if last in _AUTH_SEGMENTS:
        return parts[-1]
    if len(parts) >= 2 and ("".join(words(parts[-2])), last) in _AUTH_TAILS:
        return "/".join(parts[-2:])
    return None


def _after_a_parameter(route: Route) -> bool:
    """`/{user_id}/reset-password`, `/{id}/access-token`: an action on another user's account
    (an administrator's), not a caller proving who they are."""
    parts = segments(route.path)
    return len(parts) >= 2 and is_param_segment(parts[-2])


def _checks_reset_token(segment: str, handler: Handler) -> bool:
    """A reset-password step that verifies a mailed token (`body.token`, `token = ...`)."""
    if "".join(words(segment)) not in _RESET_SEGMENTS:
        return False
    for node in ast.walk(handler):
        name = (
            node.id
            if isinstance(node, ast.Name)
            else node.attr
            if isinstance(node, ast.Attribute)
            else node.arg
            if isinstance(node, ast.arg)
            else ""
        )
        if "token" in name.lower():
            return True
    return False


def _mentions_limit(node: ast.AST | None) -> bool:
    if node is None:
        return False
    text = ast.unparse(node).lower()
    return any(word in text for word in _LIMIT_WORDS)


# The rule's former text pre-filter: a module without one of these words has no auth route.
_AUTH_WORDS = ("login", "token", "password", "signin", "authenticate", "logon")


class AuthRouteWithoutRateLimit(Rule):
    """Flags POST routes for login, token, and password-reset endpoints (`/login`, `/signin`,
    `/token` under an auth path, `/auth/jwt/login`, `/forgot-password`, `/password/reset`...)
    that carry no rate
    limit: no limiter decorator (slowapi/flask-limiter `@limiter.limit(...)`, django-ratelimit
    `@ratelimit`), no `RateLimiter` dependency in the handler's parameters, the decorator's or
    the router's `dependencies=`.

    Not flagged: modules that configure a default limit for the whole app or blueprint in the
    same file (`Limiter(..., default_limits=...)`, `limiter.limit(...)(bp)`,
    `SlowAPIMiddleware`), GET-only routes (rendering a login form), and refresh endpoints
    (`/token/refresh` needs a valid refresh token, not a guessable password), the step of a
    password reset that checks the mailed reset token (`/reset-password` whose handler reads a
    `token`: random or signed, not guessable - the `/forgot-password` route that sends the mail
    is still flagged), and credential actions on another account (`/{user_id}/reset-password`,
    `/{id}/access-token`: an administrator's action, not a login). Limits applied in
    another module (an app factory, a reverse proxy) cannot be seen: suppress with a reason."""

    id = "API007"
    name = "auth-route-without-rate-limit"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "7 of 7 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Login/token/password-reset route without a rate limit"
    why = (
        "Endpoints that check a password or send a reset e-mail are what credential-stuffing "
        "and brute-force tools hammer. Without a per-client limit an attacker can try "
        "thousands of passwords a minute, lock out users, or flood inboxes with reset mails; a "
        "limit (e.g. 5/minute per IP and per account) makes those attacks impractical."
    )
    hint = (
        "Rate-limit the route: `@limiter.limit('5/minute')` (slowapi, flask-limiter), "
        "`dependencies=[Depends(RateLimiter(times=5, seconds=60))]` (fastapi-limiter), or "
        "`@ratelimit(key='ip', rate='5/m')` (django-ratelimit)."
    )
    # Two stages: a route needs a decorator (`@`, one fast search); the words of an auth path
    # (six searches of the whole text) are looked for only once a route is found.
    requires = ("@",)
    bad = [
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.post('/token')\nasync def login(form: OAuth2PasswordRequestForm = Depends()):\n"
        "    return issue(form)\n",
        "from flask import Blueprint\nbp = Blueprint('auth', __name__, url_prefix='/auth')\n\n"
        "@bp.route('/login', methods=['GET', 'POST'])\ndef login():\n    return check()\n",
        "from fastapi import APIRouter\nrouter = APIRouter(prefix='/auth')\n\n"
        "@router.post('/forgot-password')\ndef forgot(body: Email):\n    send_reset(body)\n",
        "from fastapi import APIRouter\nrouter = APIRouter()\n\n"
        "@router.post('/users/password/reset')\ndef reset(body: Reset):\n    return apply(body)\n",
    ]
    good = [
        "from fastapi import FastAPI, Request\nfrom slowapi import Limiter\n"
        "limiter = Limiter(key_func=ip)\napp = FastAPI()\n\n"
        "@app.post('/token')\n@limiter.limit('5/minute')\n"
        "async def login(request: Request):\n    return issue(request)\n",
        "from fastapi import Depends, FastAPI\nfrom fastapi_limiter.depends import RateLimiter\n"
        "app = FastAPI()\n\n"
        "@app.post('/login', dependencies=[Depends(RateLimiter(times=5, seconds=60))])\n"
        "def login(form: Form):\n    return issue(form)\n",
        "from flask import Flask\nfrom flask_limiter import Limiter\napp = Flask(__name__)\n"
        "limiter = Limiter(ip, app=app, default_limits=['100 per hour'])\n\n"
        "@app.route('/login', methods=['POST'])\ndef login():\n    return check()\n",
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.route('/login')\ndef login_form():\n    return page()\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.post('/token/refresh')\ndef refresh(body: Refresh):\n    return renew(body)\n\n"
        "@app.post('/devices/{device_id}/token')\ndef push(device_id: int, body: Push):\n"
        "    return save(body)\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._module_limit: bool | None = None
        self._mentions_auth = TextMentions(ctx.source.text, _AUTH_WORDS)

    def _module_wide_limit(self) -> bool:
        """The module sets a default limit for its app/blueprint/router."""
        if self._module_limit is None:
            text = self.ctx.source.text
            self._module_limit = (
                "default_limits" in text
                or "SlowAPIMiddleware" in text
                or "application_limits" in text
                or self._limits_applied_to_objects()
            )
        return self._module_limit

    def _limits_applied_to_objects(self) -> bool:
        """`limiter.limit("10/minute")(bp)`: a limit applied to a whole blueprint/router."""
        if self.ctx.tree is None or ".limit(" not in self.ctx.source.text:
            return False
        for node in ast.walk(self.ctx.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Call)
                and isinstance(node.func.func, ast.Attribute)
                and node.func.func.attr in ("limit", "shared_limit")
            ):
                return True
        return False

    def visit_route(self, handler: Handler, route: Route) -> None:
        if "POST" not in route.methods or not self._mentions_auth():
            return
        segment = _is_auth_route(route)
        if segment is None or _after_a_parameter(route) or self._handler_limited(handler):
            return
        if _checks_reset_token(segment, handler):
            return
        if route.call is not None and _mentions_limit(keyword_value(route.call, "dependencies")):
            return
        if _router_limited(route, self) or self._module_wide_limit():
            return
        self.report(
            route.node,
            f"{route.describe()} checks credentials (`{segment}`) with no rate limit",
        )

    def _handler_limited(self, handler: Handler) -> bool:
        """A limit on the handler itself: a decorator besides its routes, or a parameter."""
        routes = routes_of(handler, self.ctx)
        if any(_mentions_limit(d) for d in handler.decorator_list if not _is_route_call(d, routes)):
            return True
        return any(
            _mentions_limit(param.default) or _mentions_limit(param.annotation)
            for param in handler_params(handler)
        )


def _is_route_call(decorator: ast.expr, routes: list[Route]) -> bool:
    return any(decorator is r.node for r in routes)


def _router_limited(route: Route, rule: Rule) -> bool:
    if route.call is None or not isinstance(route.call.func, ast.Attribute):
        return False
    router_call = rule.ctx.imports.instance_call(route.call.func.value)
    return router_call is not None and _mentions_limit(keyword_value(router_call, "dependencies"))
