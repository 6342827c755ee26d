"""Security response headers (SEC010): what a project sets, and what its Django settings miss.

Two kinds of facts feed the project rule:

* `SECURITY_HEADER_FACTS` (python files): evidence that the project sends at least one of
  Content-Security-Policy, X-Content-Type-Options or Strict-Transport-Security -
  `{kind: "header", name, line}` for a header name written where a header is *set* (see
  `header_set_position`), `{kind: "package", name, line}` for an import of a known
  security-header package (`HEADER_PACKAGES`), `{kind: "middleware", name, line}` for a
  middleware or wrapper whose name says security headers (`looks_like_header_middleware`).
* `DJANGO_DEPLOY_FACTS` (Django settings modules, found by `bastion.analysis.django`): the
  module's top-level statements, in order, reduced to what `manage.py check --deploy` reads -
  `["set", NAME, value, line]`, `["cond", NAME, line]` (assigned under `if`/`try`),
  `["import", ref, line]` / `["cond_import", ref, line]` (`from .base import *`),
  `["mw_add", [middleware...] | None, line]` (`MIDDLEWARE += [...]`, `.insert()`...),
  `["mw_wrap", [before...], [after...], line]` (`MIDDLEWARE = [...] + MIDDLEWARE + [...]`) and
  `["opaque", what, line]` (`include(...)` of django-split-settings, `exec`,
  `globals().update`). Values are JSON: `true`/`false`/`none`, `{"int": n}`, `{"str": s}`,
  `{"list": [...]}` for literals and `"other"` for anything computed. A `SECRET_KEY` is never
  stored: only `{"secret": "ok" | reason}` for a literal, `"other"` otherwise.

`DjangoDeploy.combined(path)` replays a module's events, following star-imports of other
settings modules of the project, and `deploy_problems` turns the result into the missing
hardening with Django's check ids.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from bastion.analysis.django import is_dev_settings_path
from bastion.analysis.nodes import string_value
from bastion.analysis.web import module_name_of
from bastion.astcompat import TRY_NODES

SECURITY_HEADER_FACTS = "security_headers"
DJANGO_DEPLOY_FACTS = "django_deploy"

# The headers SEC010 asks for, lower-case (`-report-only` CSP shows the policy is being
# rolled out: it counts).
SECURITY_HEADERS = frozenset(
    {
        "content-security-policy",
        "content-security-policy-report-only",
        "x-content-type-options",
        "strict-transport-security",
    }
)
# Top-level import names of packages that set these headers.
HEADER_PACKAGES = {
    "secure": "secure (secure.py)",
    "flask_talisman": "flask-talisman",
    "talisman": "talisman",
    "Secweb": "Secweb",
    "secweb": "Secweb",
    "fastapi_security_headers": "fastapi-security-headers",
    "flask_csp": "flask-csp",
}
# Normalised (lower-case, no `_`) fragments of a middleware/wrapper class name that says it
# sets security headers: `SecurityHeadersMiddleware`, `SecureHeaders`, `CSPMiddleware`.
_MIDDLEWARE_WORDS = (
    "securityheader",
    "secureheader",
    "talisman",
    "contentsecuritypolicy",
    "stricttransportsecurity",
    "cspmiddleware",
    "hstsmiddleware",
)
# Calls on a headers object that read rather than write.
_READS = frozenset(
    {
        "get",
        "getlist",
        "get_all",
        "getall",
        "getheader",
        "pop",
        "remove",
        "discard",
        "__contains__",
        "__getitem__",
        "__delitem__",
        "startswith",
        "endswith",
        "lower",
        "upper",
        "encode",
        "decode",
    }
)


def header_name(node: ast.AST) -> str | None:
    """The lower-case header name a str/bytes constant spells, when it is one of ours."""
    if not isinstance(node, ast.Constant):
        return None
    value = node.value
    if isinstance(value, bytes):
        try:
            value = value.decode("ascii")
        except UnicodeDecodeError:
            return None
    if not isinstance(value, str):
        return None
    name = value.strip().lower()
    return name if name in SECURITY_HEADERS else None


def header_set_position(node: ast.Constant, parent: ast.AST | None) -> bool:
    """Is this header-name constant where a header is set (or named to be set)?

    Yes: the key of a subscript assignment (`response.headers[...] = v`, Django's
    `response[...] = v`), an argument of a call that is not a read (`headers.setdefault(n, v)`,
    `MutableHeaders.append`, `add_header`), a dict key (`headers={...}`,
    `response.headers.update({...})`), the first item of a pair (`(b"strict-transport-security",
    b"...")` in raw ASGI headers), the value of an assignment or keyword (`CSP = "Content-..."`).
    No: comparisons, reads (`request.headers.get(...)`, `del headers[...]`), docstrings."""
    if isinstance(parent, ast.Subscript):
        return parent.slice is node and isinstance(parent.ctx, ast.Store)
    if isinstance(parent, ast.Call):
        if node not in parent.args:
            return False
        func = parent.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name not in _READS
    if isinstance(parent, ast.Dict):
        return any(key is node for key in parent.keys)
    if isinstance(parent, ast.Tuple | ast.List):
        return len(parent.elts) == 2 and parent.elts[0] is node
    return isinstance(parent, ast.Assign | ast.AnnAssign | ast.keyword)


def looks_like_header_middleware(name: str) -> bool:
    last = name.rpartition(".")[2].lower().replace("_", "")
    return any(word in last for word in _MIDDLEWARE_WORDS)


# -- Django settings ---------------------------------------------------------------------------

SECURITY_MIDDLEWARE = "django.middleware.security.SecurityMiddleware"
XFRAME_MIDDLEWARE = "django.middleware.clickjacking.XFrameOptionsMiddleware"
CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
SESSION_MIDDLEWARE = "django.contrib.sessions.middleware.SessionMiddleware"
SESSIONS_APP = "django.contrib.sessions"

# The settings the deploy checks read (others are not recorded).
DEPLOY_SETTINGS = frozenset(
    {
        "INSTALLED_APPS",
        "MIDDLEWARE",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_REFERRER_POLICY",
        "SESSION_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "CSRF_COOKIE_SECURE",
        "CSRF_USE_SESSIONS",
        "X_FRAME_OPTIONS",
        "ROOT_URLCONF",
        "SILENCED_SYSTEM_CHECKS",
        "DEBUG",
    }
)
SECRET_MIN_LENGTH = 50
SECRET_MIN_UNIQUE = 5
SECRET_INSECURE_PREFIX = "django-insecure-"
_OPAQUE_CALLS = frozenset({"include", "exec", "execfile", "optional"})


def secret_shape(secret: str) -> str:
    """Django's W009 test, as a reason ("ok" when the key passes). Never returns the key."""
    if secret.startswith(SECRET_INSECURE_PREFIX):
        return f"starts with `{SECRET_INSECURE_PREFIX}`"
    if len(secret) < SECRET_MIN_LENGTH:
        return f"shorter than {SECRET_MIN_LENGTH} characters"
    if len(set(secret)) < SECRET_MIN_UNIQUE:
        return f"fewer than {SECRET_MIN_UNIQUE} distinct characters"
    return "ok"


def describe_value(name: str, value: ast.expr) -> Any:
    """A JSON description of a literal setting value; `"other"` when computed."""
    if isinstance(value, ast.Constant):
        constant = value.value
        if name == "SECRET_KEY":
            return {"secret": secret_shape(constant)} if isinstance(constant, str) else "other"
        if constant is True or constant is False or constant is None:
            return constant
        if isinstance(constant, int):
            return {"int": constant}
        if isinstance(constant, str):
            return {"str": constant}
        return "other"
    if name == "SECRET_KEY":
        return "other"
    if isinstance(value, ast.List | ast.Tuple):
        items = [string_value(e) for e in value.elts]
        if all(i is not None for i in items):
            return {"list": items}
    return "other"


def _middleware_wrap(value: ast.expr) -> tuple[list[str], list[str]] | None:
    """`MIDDLEWARE = [...] + MIDDLEWARE + [...]`: the names added before and after."""
    parts: list[ast.expr] = []
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            stack += [node.right, node.left]
        else:
            parts.append(node)
    names = [p for p in parts if isinstance(p, ast.Name)]
    if len(names) != 1 or names[0].id != "MIDDLEWARE":
        return None
    before: list[str] = []
    after: list[str] = []
    seen = False
    for part in parts:
        if part is names[0]:
            seen = True
            continue
        described = describe_value("MIDDLEWARE", part)
        if not isinstance(described, dict) or "list" not in described:
            return None
        (after if seen else before).extend(described["list"])
    return before, after


def _star_import(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
        return "." * stmt.level + (stmt.module or "")
    return None


def _middleware_change(stmt: ast.stmt) -> tuple[bool, list[str] | None]:
    """(is a change of MIDDLEWARE, the names added or None when not literal)."""
    if isinstance(stmt, ast.AugAssign):
        target = stmt.target
        if isinstance(target, ast.Name) and target.id == "MIDDLEWARE":
            value = describe_value("MIDDLEWARE", stmt.value)
            return True, value["list"] if isinstance(value, dict) else None
        return False, None
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False, None
    call = stmt.value
    func = call.func
    if not (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Name)
        and func.value.id == "MIDDLEWARE"
    ):
        return False, None
    if func.attr in ("append", "insert") and call.args:
        added = string_value(call.args[-1])
        return True, [added] if added is not None else None
    if func.attr == "extend" and call.args:
        value = describe_value("MIDDLEWARE", call.args[0])
        return True, value["list"] if isinstance(value, dict) else None
    if func.attr in ("remove", "pop"):
        return True, None
    return False, None


def _opaque_call(stmt: ast.stmt) -> str | None:
    """`include("components/*.py")` (django-split-settings), `exec(...)`,
    `globals().update(...)`: settings we cannot read."""
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func
    if isinstance(func, ast.Name) and func.id in _OPAQUE_CALLS:
        return func.id
    if (
        isinstance(func, ast.Attribute)
        and func.attr == "update"
        and isinstance(func.value, ast.Call)
        and getattr(func.value.func, "id", "") in ("globals", "vars", "locals")
    ):
        return "globals().update"
    return None


def _conditional_events(block: list[ast.stmt], out: list[list[Any]]) -> None:
    for stmt in block:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and sub.id in DEPLOY_SETTINGS:
                        out.append(["cond", sub.id, stmt.lineno])
        elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
            if isinstance(stmt.target, ast.Name) and stmt.target.id in DEPLOY_SETTINGS:
                out.append(["cond", stmt.target.id, stmt.lineno])
        elif (ref := _star_import(stmt)) is not None:
            out.append(["cond_import", ref, stmt.lineno])
        elif _middleware_change(stmt)[0]:
            out.append(["cond", "MIDDLEWARE", stmt.lineno])
        elif (what := _opaque_call(stmt)) is not None:
            out.append(["opaque", what, stmt.lineno])
        elif isinstance(stmt, _BLOCK_STATEMENTS):
            for sub_block in _blocks(stmt):
                _conditional_events(sub_block, out)


_BLOCK_STATEMENTS = (ast.If, ast.With, ast.For, *TRY_NODES)  # `except*` too


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(stmt, ast.If | ast.For):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, ast.With):
        return [stmt.body]
    if isinstance(stmt, TRY_NODES):
        return [stmt.body, stmt.orelse, stmt.finalbody, *(h.body for h in stmt.handlers)]
    return []


def settings_events(tree: ast.Module) -> list[list[Any]]:
    """The deploy-relevant top-level statements of a settings module, in order."""
    out: list[list[Any]] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                if (
                    isinstance(target, ast.Name)
                    and target.id == "MIDDLEWARE"
                    and (wrap := _middleware_wrap(stmt.value))
                ):
                    out.append(["mw_wrap", wrap[0], wrap[1], stmt.lineno])
                elif isinstance(target, ast.Name) and target.id in DEPLOY_SETTINGS:
                    out.append(
                        ["set", target.id, describe_value(target.id, stmt.value), stmt.lineno]
                    )
                elif isinstance(target, ast.Tuple | ast.List):
                    for sub in target.elts:
                        if isinstance(sub, ast.Name) and sub.id in DEPLOY_SETTINGS:
                            out.append(["set", sub.id, "other", stmt.lineno])
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target = stmt.target
            if isinstance(target, ast.Name) and target.id in DEPLOY_SETTINGS:
                out.append(["set", target.id, describe_value(target.id, stmt.value), stmt.lineno])
        elif (ref := _star_import(stmt)) is not None:
            out.append(["import", ref, stmt.lineno])
        elif (what := _opaque_call(stmt)) is not None:
            out.append(["opaque", what, stmt.lineno])
        elif isinstance(stmt, _BLOCK_STATEMENTS):
            for block in _blocks(stmt):
                _conditional_events(block, out)
        else:
            changed, added = _middleware_change(stmt)
            if changed:
                out.append(["mw_add", added, stmt.lineno])
            elif (name := _changed_in_place(stmt)) is not None:
                # `ALLOWED_HOSTS += [...]`, `INSTALLED_APPS.append(...)`: no longer the literal
                out.append(["set", name, "other", stmt.lineno])
    return out


def _changed_in_place(stmt: ast.stmt) -> str | None:
    target: ast.expr | None = None
    if isinstance(stmt, ast.AugAssign):
        target = stmt.target
    elif (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Call)
        and isinstance(stmt.value.func, ast.Attribute)
        and stmt.value.func.attr in ("append", "extend", "insert", "update", "add")
    ):
        target = stmt.value.func.value
    if isinstance(target, ast.Name) and target.id in DEPLOY_SETTINGS:
        return target.id
    return None


UNKNOWN = "other"


@dataclass
class Combined:
    """A settings module's effective values, its star-imports followed."""

    values: dict[str, Any]
    opaque: bool  # some settings come from somewhere we cannot read
    bases: list[str]  # files merged in (star-imported), in order


@dataclass
class SettingsModule:
    path: str
    dev: bool
    events: list[list[Any]]
    derived: bool = False  # a settings module only through its star-imports


class DjangoDeploy:
    """The Django settings modules of a project, joined through their star-imports."""

    def __init__(self, facts: list[tuple[str, dict[str, Any]]], dev_paths: set[str]) -> None:
        self.modules: dict[str, SettingsModule] = {}
        for path, fact in facts:
            self.modules[path] = SettingsModule(
                path,
                bool(fact.get("dev")) or path in dev_paths,
                fact.get("events", []),
                bool(fact.get("derived")),
            )
        self.names = {path: module_name_of(path) for path in self.modules}

    def resolve(self, path: str, reference: str) -> str | None:
        """The settings file a star-import in `path` names (relative or absolute)."""
        if reference.startswith("."):
            level = len(reference) - len(reference.lstrip("."))
            name, package = self.names.get(path, module_name_of(path))
            parts = name.split(".") if name else []
            base = parts if package else parts[:-1]
            if level > 1:
                base = base[: len(base) - (level - 1)]
            reference = ".".join([*base, reference.lstrip(".")]).strip(".")
        exact = [p for p, (n, _) in self.names.items() if n == reference and p != path]
        if len(exact) == 1:
            return exact[0]
        found = [p for p, (n, _) in self.names.items() if n.endswith("." + reference) and p != path]
        return found[0] if len(found) == 1 else None

    def imports_settings(self, path: str) -> bool:
        """Does `path` star-import (unconditionally) a real settings module of the project?"""
        for event in self.modules[path].events:
            if event[0] == "import":
                target = self.resolve(path, event[1])
                if target is not None and not self.modules[target].derived:
                    return True
        return False

    def imported_bases(self) -> set[str]:
        """Settings modules that another one star-imports unconditionally (`base.py`): they are
        judged through the modules that import them, not alone."""
        bases: set[str] = set()
        for path, module in self.modules.items():
            for event in module.events:
                if event[0] == "import":
                    target = self.resolve(path, event[1])
                    if target is not None:
                        bases.add(target)
        return bases

    def combined(self, path: str, seen: frozenset[str] = frozenset()) -> Combined:
        result = Combined({}, False, [])
        module = self.modules[path]
        for event in module.events:
            kind = event[0]
            if kind == "set":
                result.values[event[1]] = event[2]
            elif kind == "cond":
                result.values[event[1]] = UNKNOWN
            elif kind == "mw_add":
                current = result.values.get("MIDDLEWARE")
                if isinstance(current, dict) and event[1] is not None:
                    result.values["MIDDLEWARE"] = {"list": [*current["list"], *event[1]]}
                else:
                    result.values["MIDDLEWARE"] = UNKNOWN
            elif kind == "mw_wrap":
                current = result.values.get("MIDDLEWARE")
                if isinstance(current, dict):
                    wrapped = [*event[1], *current["list"], *event[2]]
                    result.values["MIDDLEWARE"] = {"list": wrapped}
                else:
                    result.values["MIDDLEWARE"] = UNKNOWN
            elif kind == "opaque":
                result.opaque = True
            elif kind in ("import", "cond_import"):
                target = self.resolve(path, event[1])
                if target is None or target in seen or target == path:
                    if kind == "import" or not _names_dev(event[1]):
                        result.opaque = True
                    continue
                if kind == "cond_import":
                    if self.modules[target].dev:
                        continue  # `try: from .local import *`: a developer's machine only
                    inner = self.combined(target, seen | {path})
                    for name in inner.values:
                        result.values[name] = UNKNOWN
                    result.opaque = result.opaque or inner.opaque
                    continue
                inner = self.combined(target, seen | {path})
                result.values.update(inner.values)
                result.opaque = result.opaque or inner.opaque
                result.bases += [*inner.bases, target]
        return result


def _names_dev(reference: str) -> bool:
    return is_dev_settings_path(reference.lstrip(".").replace(".", "/") + ".py")


@dataclass(frozen=True)
class Problem:
    code: str  # Django's check id, "W004"
    text: str  # what is wrong, naming the setting


def _listed(value: Any, item: str) -> bool | None:
    """Is `item` in a literal list setting? None when the value is not known."""
    if isinstance(value, dict) and "list" in value:
        return item in value["list"]
    return None


def _falsy(value: Any) -> bool:
    return value is False or value is None or value == {"int": 0} or value == {"str": ""}


def deploy_problems(combined: Combined) -> list[Problem]:
    """What `manage.py check --deploy` would warn about, as far as the literals tell.

    A setting that is absent counts as missing only when nothing is opaque (no unreadable
    star-import, no split-settings `include`); a computed value counts as set."""
    values = combined.values
    missing_known = not combined.opaque
    out: list[Problem] = []

    def absent(name: str) -> bool:
        return missing_known and name not in values

    middleware = values.get("MIDDLEWARE")
    security = _listed(middleware, SECURITY_MIDDLEWARE)
    if security is False:
        out.append(Problem("W001", f"`{SECURITY_MIDDLEWARE}` not in MIDDLEWARE"))
    if _listed(middleware, XFRAME_MIDDLEWARE) is False:
        out.append(Problem("W002", f"`{XFRAME_MIDDLEWARE}` not in MIDDLEWARE"))
    if security is not False:
        # SecurityMiddleware installed (or MIDDLEWARE unknown: then only explicit values)
        sure = security is True
        hsts = values.get("SECURE_HSTS_SECONDS")
        if (sure and absent("SECURE_HSTS_SECONDS")) or (
            "SECURE_HSTS_SECONDS" in values and _falsy(hsts)
        ):
            out.append(Problem("W004", "SECURE_HSTS_SECONDS not set"))
        elif "SECURE_HSTS_SECONDS" in values:
            for name, code in (
                ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "W005"),
                ("SECURE_HSTS_PRELOAD", "W021"),
            ):
                if (sure and absent(name)) or (name in values and _falsy(values[name])):
                    out.append(Problem(code, f"{name} not True"))
        if "SECURE_CONTENT_TYPE_NOSNIFF" in values and _falsy(
            values["SECURE_CONTENT_TYPE_NOSNIFF"]
        ):
            out.append(Problem("W006", "SECURE_CONTENT_TYPE_NOSNIFF not True"))
        redirect = values.get("SECURE_SSL_REDIRECT")
        if (sure and absent("SECURE_SSL_REDIRECT")) or (
            "SECURE_SSL_REDIRECT" in values and _falsy(redirect)
        ):
            out.append(Problem("W008", "SECURE_SSL_REDIRECT not True"))
        if "SECURE_REFERRER_POLICY" in values and values["SECURE_REFERRER_POLICY"] is None:
            out.append(Problem("W022", "SECURE_REFERRER_POLICY is None"))
    secret = values.get("SECRET_KEY")
    if isinstance(secret, dict) and secret.get("secret", "ok") != "ok":
        out.append(Problem("W009", f"SECRET_KEY {secret['secret']}"))
    sessions = _listed(values.get("INSTALLED_APPS"), SESSIONS_APP) or _listed(
        middleware, SESSION_MIDDLEWARE
    )
    if sessions and absent("SESSION_COOKIE_SECURE"):
        out.append(Problem("W012", "SESSION_COOKIE_SECURE not set"))
    if sessions and values.get("SESSION_COOKIE_HTTPONLY", True) is False:
        out.append(Problem("W015", "SESSION_COOKIE_HTTPONLY = False"))
    csrf = _listed(middleware, CSRF_MIDDLEWARE)
    if csrf and values.get("CSRF_USE_SESSIONS") is not True and absent("CSRF_COOKIE_SECURE"):
        out.append(Problem("W016", "CSRF_COOKIE_SECURE not set"))
    if _listed(middleware, XFRAME_MIDDLEWARE):
        frame = values.get("X_FRAME_OPTIONS")
        if isinstance(frame, dict) and frame.get("str") not in (None, "DENY"):
            out.append(Problem("W019", f"X_FRAME_OPTIONS = {frame['str']!r}, not 'DENY'"))
    hosts = values.get("ALLOWED_HOSTS")
    if absent("ALLOWED_HOSTS") or hosts == {"list": []}:
        out.append(Problem("W020", "ALLOWED_HOSTS empty"))
    silenced = values.get("SILENCED_SYSTEM_CHECKS")
    if isinstance(silenced, dict) and "list" in silenced:
        out = [p for p in out if f"security.{p.code}" not in silenced["list"]]
    elif silenced is not None:
        out = []  # silenced checks we cannot read: any of ours may be among them
    return out
