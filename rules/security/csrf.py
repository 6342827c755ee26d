"""SEC015: CSRF protection switched off."""

from __future__ import annotations

import ast
import re

from bastion.analysis.django import is_dev_name, is_dev_settings_path
from bastion.analysis.nodes import is_false, keyword_value, string_value
from bastion.findings import Severity
from bastion.rule import Example, Rule

CSRF_EXEMPT = frozenset({"django.views.decorators.csrf.csrf_exempt"})
_METHOD_DECORATOR = frozenset({"django.utils.decorators.method_decorator"})
_SETTING = "WTF_CSRF_ENABLED"
_EXEMPT = "from django.views.decorators.csrf import csrf_exempt\n\n"

# endpoints whose callers are other machines (no browser, no cookie, no CSRF token to send):
# exempting them is what the hint asks for
_MACHINE_NAME = re.compile(
    r"webhook|callback|(^|_)bot($|_)|(^|_)ping($|_)|bounce|unsubscribe|graphql", re.IGNORECASE
)
# a URL parameter that carries the credential (a ping UUID, a signed unsubscribe token)
_CREDENTIAL_PARAM = re.compile(r"^(code|uuid)$|token|key|signed|signature|secret", re.IGNORECASE)
# a decorator that authenticates some other way (an API key, a token, a signature); the
# cookie-session ones (`login_required`, `permission_required`) are not
_AUTH_DECORATOR = re.compile(r"auth|token|api_?key|signature|signed|cors", re.IGNORECASE)
# calls in the view that check a credential of their own
_VERIFY_CALL = re.compile(
    r"unsign|verify|compare_digest|authenticate|check_signature", re.IGNORECASE
)
_SAFE_ONLY = frozenset({"require_GET", "require_safe"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_BODY_READS = frozenset({"POST", "body", "FILES", "data", "read", "json"})


class CsrfDisabled(Rule):
    """Flags views taken out of CSRF protection and CSRF protection switched off:

    * Django `@csrf_exempt` on a view, `@method_decorator(csrf_exempt, ...)` on a class or
      method, and `csrf_exempt(view)` in URL patterns or module-level assignments. A
      `return csrf_exempt(view)` inside a function is a view *factory* (Django REST
      framework's `as_view()` does this because it enforces CSRF in its own session
      authentication) and is not flagged;
    * Flask-WTF `WTF_CSRF_ENABLED = False` as a module or config-class attribute,
      `app.config["WTF_CSRF_ENABLED"] = False`, `app.config.update(WTF_CSRF_ENABLED=False)`.
      Config classes and files named for tests, development or local use
      (`TestingConfig`, `config/dev.py`) are skipped: disabling CSRF there is the documented
      way to test forms.

    A `@csrf_exempt` view is not flagged when a forged request from a visitor's browser
    gains nothing (issue #15: 0 of 24 exemptions judged on 15 real applications were worth
    changing, all of these shapes): the view is called by other machines (its name says
    webhook, callback, bot, ping, bounce, unsubscribe, GraphQL), authenticates some other way
    (an `@authorize`/token/API-key/CORS decorator, a credential in the URL such as a ping
    `code` or a `signed_token`, a signature or token it verifies itself), or only reads
    (`@require_GET`, `@require_safe`, `require_http_methods(["GET"])`, a first
    `if request.method != "GET": return ...`, or it reads `request.GET` and no body).

    Test files are skipped."""

    id = "SEC015"
    name = "csrf-disabled"
    severity = Severity.INFO
    precision = "low"
    precision_measured = (
        "no finding left on 15 application repositories, bench/ecosystem (before: 0 of 24 judged: "
        "webhooks, pings, token-authenticated APIs and read-only views, now not reported); too "
        "few findings to measure a band, so it stays at the last measured one; default severity "
        "lowered from warning to info for it"
    )
    cwe = (352,)
    summary = "CSRF protection disabled (`@csrf_exempt`, `WTF_CSRF_ENABLED = False`)"
    why = (
        "With cookie-based sessions, any site a logged-in user visits can submit a form to "
        "your endpoint and the browser attaches the session cookie: without a CSRF token the "
        "request is indistinguishable from a real one (password changes, payments, deletes)."
    )
    hint = (
        "Keep CSRF on and send the token (`{% csrf_token %}`, `X-CSRFToken` header, "
        "`form.hidden_tag()`); for machine-to-machine webhooks, verify a signature instead "
        "and exempt only that view, with a comment saying why."
    )
    requires = ("csrf_exempt", _SETTING)
    bad = [
        "from django.views.decorators.csrf import csrf_exempt\n\n"
        "@csrf_exempt\ndef transfer(request):\n    ...\n",
        "from django.urls import path\nfrom django.views.decorators.csrf import csrf_exempt\n\n"
        'urlpatterns = [path("pay/", csrf_exempt(views.pay))]\n',
        "class Config:\n    SECRET_KEY = 'x'\n    WTF_CSRF_ENABLED = False\n",
        "from flask import Flask\n\napp = Flask(__name__)\n"
        'app.config["WTF_CSRF_ENABLED"] = False\n',
        "from django.utils.decorators import method_decorator\n"
        "from django.views.decorators.csrf import csrf_exempt\n\n"
        '@method_decorator(csrf_exempt, name="dispatch")\nclass Hook(View):\n    ...\n',
        # a session view that changes state: a machine-ish word in a *path* changes nothing
        _EXEMPT + "@csrf_exempt\n@login_required\ndef transfer(request):\n"
        "    request.user.account.pay(request.POST['to'])\n",
    ]
    good = [
        "from django.views.decorators.csrf import csrf_protect\n\n"
        "@csrf_protect\ndef transfer(request):\n    ...\n",
        "class TestingConfig(Config):\n    TESTING = True\n    WTF_CSRF_ENABLED = False\n",
        "from django.views.decorators.csrf import csrf_exempt\n\n"
        "def as_view(cls):\n    view = make_view(cls)\n    return csrf_exempt(view)\n",
        "@csrf_exempt\ndef hook(request):\n    ...\n",
        Example("WTF_CSRF_ENABLED = False\n", path="app/config/dev.py"),
        # issue #15, from healthchecks, flagsmith, DefectDojo, saleor: views whose callers
        # carry no session cookie, that check a credential of their own, or only read
        _EXEMPT + "@csrf_exempt\n@authorize\ndef pause(request, code):\n    check.pause()\n",
        _EXEMPT + "@csrf_exempt\ndef ping(request, code):\n    Check.objects.get(code=code)\n",
        _EXEMPT + "@csrf_exempt\ndef webhook(request):\n    return HttpResponse('')\n",
        _EXEMPT + "@csrf_exempt\ndef unsubscribe(request, signed_token):\n    ...\n",
        _EXEMPT + "@csrf_exempt\n@require_POST\ndef telegram_bot(request):\n    ...\n",
        _EXEMPT + "@csrf_exempt\ndef bounces(request):\n    unsign_bounce_id(request.body)\n",
        _EXEMPT + "@csrf_exempt\n@require_GET\ndef metadata(request):\n    ...\n",
        _EXEMPT + "@csrf_exempt\ndef index(request):\n    if request.method != 'GET':\n"
        "        return HttpResponse(status=405)\n    return render(request, 'i.html')\n",
        _EXEMPT + "@csrf_exempt\ndef docs_search(request):\n"
        "    form = SearchForm(request.GET)\n    return render(request, 's.html')\n",
        _EXEMPT + 'urlpatterns = [path("graphql/", csrf_exempt(GraphQLView.as_view()))]\n',
    ]

    def _exempt(self, node: ast.expr) -> bool:
        return self.ctx.imports.imported_qualname(node) in CSRF_EXEMPT

    def _decorators(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if self.ctx.is_test_file or _not_a_browser_view(node):
            return
        for decorator in node.decorator_list:
            if self._exempt(decorator):
                self.report(decorator, f"`@csrf_exempt` takes `{node.name}` out of CSRF checks")
            elif (
                isinstance(decorator, ast.Call)
                and self.ctx.imports.imported_qualname(decorator.func) in _METHOD_DECORATOR
                and decorator.args
                and self._exempt(decorator.args[0])
            ):
                self.report(
                    decorator,
                    f"`@method_decorator(csrf_exempt)` takes `{node.name}` out of CSRF checks",
                )

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._decorators(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._decorators(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self._decorators(node)
        if self._skip_config():
            return
        if is_dev_name(node.name):
            return
        for stmt in node.body:
            if isinstance(stmt, ast.Assign) and is_false(stmt.value):
                for target in stmt.targets:
                    if isinstance(target, ast.Name) and target.id == _SETTING:
                        self.report(stmt, f"`{_SETTING} = False` in config class `{node.name}`")

    def _skip_config(self) -> bool:
        return self.ctx.is_test_file or is_dev_settings_path(self.ctx.path)

    def visit_Call(self, node: ast.Call) -> None:
        if self.ctx.is_test_file:
            return
        if self._exempt(node.func) and node.args:
            parent = self.ctx.parent
            if isinstance(parent, ast.Return) and self.ctx.enclosing_function() is not None:
                return  # a view factory
            view = ast.unparse(node.args[0])
            if _MACHINE_NAME.search(view):
                return  # `csrf_exempt(GraphQLView.as_view(...))`, a webhook view
            self.report(node, f"`csrf_exempt({view[:40]})`")
            return
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "update"
            and isinstance(func.value, ast.Attribute)
            and func.value.attr == "config"
            and is_false(keyword_value(node, _SETTING))
            and not self._skip_config()
        ):
            self.report(node, f"`app.config.update({_SETTING}=False)`")

    def visit_Assign(self, node: ast.Assign) -> None:
        if not is_false(node.value) or self._skip_config():
            return
        for target in node.targets:
            if (
                isinstance(target, ast.Subscript)
                and string_value(target.slice) == _SETTING
                and isinstance(target.value, ast.Attribute)
                and target.value.attr == "config"
            ):
                self.report(node, f'`app.config["{_SETTING}"] = False`')
            elif (
                isinstance(target, ast.Name)
                and target.id == _SETTING
                and self.ctx.at_module_level()
            ):
                self.report(node, f"`{_SETTING} = False`")


def _name(node: ast.expr) -> str:
    """The last dotted part of a decorator or callee (`require_GET`, `authorize`)."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


def _not_a_browser_view(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> bool:
    """The exemption cannot be abused through a visitor's browser: the view is called by other
    machines (a webhook, a ping, a GraphQL/API endpoint with its own credentials), checks a
    credential of its own (a signed token, an API key, a signature), or only reads.

    CSRF rides on the visitor's session cookie; a view that authenticates otherwise, or
    changes nothing, gives a forged cross-site request nothing the attacker lacks. Exempting
    such views is what the hint asks for, so they are no finding (issue #15: 0 of 24 such
    exemptions on 15 real applications were worth changing)."""
    if isinstance(node, ast.ClassDef):
        return bool(_MACHINE_NAME.search(node.name))
    if _MACHINE_NAME.search(node.name):
        return True
    for decorator in node.decorator_list:
        name = _name(decorator)
        if name in _SAFE_ONLY or _safe_methods_only(decorator):
            return True
        if name != "csrf_exempt" and _AUTH_DECORATOR.search(name):
            return True
    params = [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
    if any(_CREDENTIAL_PARAM.search(a.arg) for a in params[1:]):
        return True
    return _checks_own_credential(node) or _reads_only(node)


def _safe_methods_only(decorator: ast.expr) -> bool:
    """`@require_http_methods(["GET"])`."""
    if not (
        isinstance(decorator, ast.Call)
        and _name(decorator) == "require_http_methods"
        and decorator.args
        and isinstance(decorator.args[0], (ast.List, ast.Tuple, ast.Set))
    ):
        return False
    return _safe_set(decorator.args[0])


def _checks_own_credential(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and _VERIFY_CALL.search(_name(sub.func)):
            return True
    return False


def _reads_only(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The view answers only safe methods (`if request.method != "GET": return ...` first), or
    reads only the query string (`request.GET`) and never a request body."""
    reads_query = False
    for sub in ast.walk(node):
        if isinstance(sub, ast.Attribute) and _is_request(sub.value):
            if sub.attr in _BODY_READS:
                return False
            reads_query = reads_query or sub.attr == "GET"
    return reads_query or _rejects_unsafe_methods(node)


def _safe_set(node: ast.expr) -> bool:
    elements = node.elts if isinstance(node, ast.List | ast.Tuple | ast.Set) else [node]
    methods = {string_value(e) for e in elements}
    return bool(methods) and methods <= _SAFE_METHODS


def _is_request(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "request"


def _rejects_unsafe_methods(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """The view's first statement turns away every method but GET: `if request.method !=
    "GET": return ...`."""
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and string_value(s.value))]
    if not body or not isinstance(body[0], ast.If):
        return False
    test = body[0].test
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Attribute)
        and test.left.attr == "method"
        and _is_request(test.left.value)
        and len(test.ops) == 1
        and isinstance(test.ops[0], ast.NotEq | ast.NotIn)
        and _safe_set(test.comparators[0])
        and any(isinstance(s, ast.Return) for s in body[0].body)
    )
