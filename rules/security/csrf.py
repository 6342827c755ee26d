"""SEC015: CSRF protection switched off."""

from __future__ import annotations

import ast

from bastion.analysis.django import is_dev_name, is_dev_settings_path
from bastion.analysis.nodes import is_false, keyword_value, string_value
from bastion.findings import Severity
from bastion.rule import Example, Rule

CSRF_EXEMPT = frozenset({"django.views.decorators.csrf.csrf_exempt"})
_METHOD_DECORATOR = frozenset({"django.utils.decorators.method_decorator"})
_SETTING = "WTF_CSRF_ENABLED"


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

    Test files are skipped."""

    id = "SEC015"
    name = "csrf-disabled"
    severity = Severity.INFO
    precision = "low"
    precision_measured = (
        "0 of 20 judged findings right (0%) on 15 application repositories, "
        "bench/ecosystem; default severity lowered from warning to info for it"
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
    ]
    good = [
        "from django.views.decorators.csrf import csrf_protect\n\n"
        "@csrf_protect\ndef transfer(request):\n    ...\n",
        "class TestingConfig(Config):\n    TESTING = True\n    WTF_CSRF_ENABLED = False\n",
        "from django.views.decorators.csrf import csrf_exempt\n\n"
        "def as_view(cls):\n    view = make_view(cls)\n    return csrf_exempt(view)\n",
        "@csrf_exempt\ndef hook(request):\n    ...\n",
        Example("WTF_CSRF_ENABLED = False\n", path="app/config/dev.py"),
    ]

    def _exempt(self, node: ast.expr) -> bool:
        return self.ctx.imports.imported_qualname(node) in CSRF_EXEMPT

    def _decorators(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if self.ctx.is_test_file:
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
            self.report(node, f"`csrf_exempt({ast.unparse(node.args[0])[:40]})`")
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
