"""SEC018: cookies sent without the `Secure` and `HttpOnly` flags."""

from __future__ import annotations

import ast
import re

from bastion.analysis.django import is_deployment_settings, is_overridden, top_level_settings
from bastion.analysis.nodes import (
    argument,
    has_kwargs_splat,
    is_false,
    keyword_value,
    string_value,
)
from bastion.findings import Severity
from bastion.rule import Example, Rule

# set_cookie(key, value, max_age, expires, path, domain, secure, httponly, samesite): the same
# order in Werkzeug/Flask, Starlette/FastAPI and Django.
_POSITION = {"secure": 6, "httponly": 7}
_WEB_MODULES = ("flask", "werkzeug", "quart", "starlette", "fastapi", "django", "sanic")
_SETTINGS = ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")


def _flag_state(call: ast.Call, name: str) -> str:
    """ "missing", "false", or "set" (True or computed: not known to be off)."""
    if len(call.args) > _POSITION[name]:
        value: ast.expr | None = call.args[_POSITION[name]]
    else:
        value = keyword_value(call, name)
    if value is None:
        return "missing"
    if is_false(value) or (isinstance(value, ast.Constant) and value.value is None):
        return "false"
    return "set"


def _deletes(call: ast.Call) -> bool:
    """`set_cookie(key, max_age=0)` / `expires=<1970>`: a deletion, nothing is stored."""
    max_age = keyword_value(call, "max_age")
    if isinstance(max_age, ast.Constant) and max_age.value == 0:
        return True
    expires = keyword_value(call, "expires")
    if not isinstance(expires, ast.Constant):
        return False
    value = expires.value
    return value == 0 or (isinstance(value, str) and "1970" in value)


# Cookies that hold a preference, not a credential (bench/ecosystem: language and UI-flag
# cookies were most of the noise): matched against the words of the cookie's name.
_PREFERENCE_WORDS = frozenset(
    {"lang", "language", "locale", "theme", "timezone", "tz", "highlight", "sidebar", "consent"}
)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _carries_no_credential(call: ast.Call) -> bool:
    """A cookie whose value is a literal (`"true"`, `1`: the same for every user) or whose
    name says it is a preference (`settings.LANGUAGE_COOKIE_NAME`, `"theme"`)."""
    value = argument(call, 1, "value")
    if isinstance(value, ast.Constant) and value.value is not None:
        return True
    key = argument(call, 0, "key")
    name = string_value(key)
    if name is None and isinstance(key, ast.Attribute):
        name = key.attr
    return name is not None and bool(_words(name) & _PREFERENCE_WORDS)


def _wrapper_sets_flags(call: ast.Call, cls: ast.ClassDef | None) -> bool:
    """`self.set_cookie(...)` where the enclosing class defines its own `set_cookie` that sets
    both flags on the response: the wrapper, not this call, decides the flags."""
    func = call.func
    if cls is None or not isinstance(func, ast.Attribute):
        return False
    if not (isinstance(func.value, ast.Name) and func.value.id in ("self", "cls")):
        return False
    for stmt in cls.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == "set_cookie":
            return any(
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "set_cookie"
                and all(_flag_state(node, flag) == "set" for flag in _POSITION)
                for node in ast.walk(stmt)
            )
    return False


class InsecureCookie(Rule):
    """Flags `response.set_cookie(...)` calls (Flask/Werkzeug, Starlette/FastAPI, Django) that
    leave `secure` or `httponly` unset or false, in modules that import one of those
    frameworks; and Django `SESSION_COOKIE_SECURE = False` / `CSRF_COOKIE_SECURE = False` at the
    top level of a deployment settings module.

    A flag given a computed value (`secure=settings.SESSION_COOKIE_SECURE`) counts as set, and
    a call with `**kwargs` is not flagged. A cookie named for CSRF (`csrftoken`, `XSRF-TOKEN`)
    only needs `secure`: the double-submit pattern has page scripts read it. Deleting a
    cookie (`delete_cookie`, or `set_cookie` with `max_age=0` or a 1970 `expires`) stores
    nothing and is not flagged. Cookies that carry no credential are not flagged either: a
    literal value (`set_cookie("is_authorized", "true")`, the same for every user) or a
    preference named as such (`settings.LANGUAGE_COOKIE_NAME`, `"theme"`, `"locale"`); nor is
    `self.set_cookie(...)` when the class's own `set_cookie` wrapper sets both flags. Test files and
    settings named for dev/local/test are skipped."""

    id = "SEC018"
    name = "insecure-cookie"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "7 of 7 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    cwe = (614, 1004)
    summary = "Cookie set without `secure=True` and `httponly=True`"
    why = (
        "Without `Secure` the browser also sends the cookie over plain HTTP, where anyone on "
        "the network reads it; without `HttpOnly`, any injected script can read it with "
        "`document.cookie`. For session and auth cookies either one hands the session to an "
        "attacker."
    )
    hint = (
        'Set both flags: `response.set_cookie("session", value, secure=True, httponly=True, '
        'samesite="lax")` (leave `httponly` off only for a cookie that page scripts must read, '
        "such as a CSRF token); in Django set `SESSION_COOKIE_SECURE = True`."
    )
    requires = ("set_cookie", "COOKIE_SECURE")
    call_names = frozenset({"set_cookie"})  # visit_Call's only calls (see may_name)
    bad = [
        "from flask import make_response\n\ndef login(token):\n"
        "    resp = make_response('ok')\n    resp.set_cookie('session', token)\n    return resp\n",
        "from fastapi import Response\n\ndef login(response: Response, token: str):\n"
        '    response.set_cookie("access_token", token, httponly=True)\n',
        "from django.http import HttpResponse\n\ndef view(request):\n"
        "    response = HttpResponse()\n"
        '    response.set_cookie("sid", request.sid, secure=True, httponly=False)\n'
        "    return response\n",
        Example(
            "INSTALLED_APPS = []\nSESSION_COOKIE_SECURE = False\n", path="shop/settings/prod.py"
        ),
    ]
    good = [
        "from flask import make_response\n\ndef login(token):\n"
        "    resp = make_response('ok')\n"
        "    resp.set_cookie('session', token, secure=True, httponly=True, samesite='Lax')\n",
        "from django.conf import settings\nfrom django.http import HttpResponse\n\n"
        "def view(request):\n    response = HttpResponse()\n"
        '    response.set_cookie("sid", request.sid, secure=settings.SESSION_COOKIE_SECURE,\n'
        "                        httponly=settings.SESSION_COOKIE_HTTPONLY)\n",
        "from starlette.responses import Response\n\ndef clear(response: Response):\n"
        '    response.delete_cookie("session")\n',
        Example(
            "INSTALLED_APPS = []\nSESSION_COOKIE_SECURE = False\n", path="shop/settings/dev.py"
        ),
        "def store(jar, value):\n    jar.set_cookie('k', value)\n",
    ]

    def visit_Module(self, node: ast.Module) -> None:
        if not is_deployment_settings(self.ctx):
            return
        for setting in top_level_settings(node):
            if is_overridden(node, setting):
                continue
            if setting.name in _SETTINGS and is_false(setting.value):
                self.report(
                    setting.statement,
                    f"`{setting.name} = False`: the cookie is also sent over plain HTTP",
                )

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr != "set_cookie":
            return
        if self.ctx.is_test_file or has_kwargs_splat(node) or _deletes(node):
            return
        if _carries_no_credential(node) or _wrapper_sets_flags(node, self.ctx.enclosing_class()):
            return
        imports = self.ctx.imports
        if not any(imports.is_imported(m) for m in _WEB_MODULES):
            return
        flags = ["secure", "httponly"]
        cookie = (string_value(argument(node, 0, "key")) or "").lower()
        if "csrf" in cookie or "xsrf" in cookie:
            flags.remove("httponly")  # double-submit CSRF cookies are read by page scripts
        missing = [name for name in flags if _flag_state(node, name) != "set"]
        if not missing:
            return
        wanted = " and ".join(f"`{m}=True`" for m in missing)
        self.report(node, f"`set_cookie(...)` without {wanted}")
