"""SEC011: the deprecated `X-XSS-Protection` header switched on."""

from __future__ import annotations

import ast
from typing import Any

from bastion.analysis.django import is_deployment_settings, is_overridden, top_level_settings
from bastion.analysis.nodes import is_true, string_value
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule

_HEADER = "x-xss-protection"
_SETTERS = frozenset({"setdefault", "set", "add", "append", "add_header", "__setitem__"})


def _is_header(node: ast.expr | None) -> bool:
    return (string_value(node) or "").strip().lower() == _HEADER


def _enabling(value: ast.expr | None) -> str | None:
    """The header value when it is a constant that switches the filter on (`1`,
    `1; mode=block`, `1; report=...`); other text (a description in a dict) is not a value."""
    text = string_value(value)
    if text is None or not text.strip().startswith("1"):
        return None
    return text


class DeprecatedXssProtectionHeader(Rule):
    """Flags the `X-XSS-Protection` header set to a constant that enables the filter (`"1"`,
    `"1; mode=block"`, `"1; report=..."`; anything but `"0"` that is a header value): as a key of a
    dict literal (`headers={...}`), a subscript assignment (`response.headers[...] = ...`,
    Django's `response[...] = ...`), a `(name, value)` pair, or a call such as
    `headers.setdefault(name, value)`; and Django's `SECURE_BROWSER_XSS_FILTER = True` in a
    deployment settings module. Values computed at run time are not flagged."""

    id = "SEC011"
    name = "deprecated-xss-protection-header"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "1 of 1 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    cwe = (693,)
    summary = '`X-XSS-Protection` set to a value other than `"0"`'
    why = (
        "The browser XSS auditor this header controlled has been removed from every modern "
        "browser; where it still exists, `1; mode=block` could be abused to blank pages or "
        "leak data across origins (XS-Leaks). Current guidance is to send `0` (or nothing) "
        "and protect with a Content-Security-Policy."
    )
    hint = "Send `X-XSS-Protection: 0` (or drop it) and set a `Content-Security-Policy` instead."
    fix_safety = FixSafety.SAFE
    fix_safety_note = (
        "Current browsers ignore `X-XSS-Protection` (Chrome and Edge removed their XSS auditor, "
        "Firefox never had one) and Django no longer reads `SECURE_BROWSER_XSS_FILTER`: the new "
        "value `0` changes nothing there and only turns off the legacy filter where it still "
        "runs, which is the rule's intent."
    )
    # The header name is case-insensitive: the module must spell "xss" in some case. Asked by
    # `visit_Module` on the lower-cased text (one search, not eight of the text).
    requires = ()
    call_names = _SETTERS  # visit_Call's only calls (see may_name)
    bad = [
        Example(
            'def secure(response):\n    response.headers["X-XSS-Protection"] = "1; mode=block"\n'
            "    return response\n",
            fixed='def secure(response):\n    response.headers["X-XSS-Protection"] = "0"\n'
            "    return response\n",
        ),
        Example(
            'HEADERS = {"X-Content-Type-Options": "nosniff", "X-XSS-Protection": "1"}\n',
            fixed='HEADERS = {"X-Content-Type-Options": "nosniff", "X-XSS-Protection": "0"}\n',
        ),
        Example(
            "def add(response):\n"
            '    response.headers.setdefault("x-xss-protection", "1; mode=block")\n',
            fixed='def add(response):\n    response.headers.setdefault("x-xss-protection", "0")\n',
        ),
        Example(
            "INSTALLED_APPS = []\nSECURE_BROWSER_XSS_FILTER = True\n",
            fixed="INSTALLED_APPS = []\nSECURE_BROWSER_XSS_FILTER = False\n",
            path="site/settings.py",
        ),
    ]
    good = [
        'def secure(response):\n    response.headers["X-XSS-Protection"] = "0"\n',
        'HEADERS = {"X-Content-Type-Options": "nosniff"}\n',
        'def add(response, value):\n    response.headers.setdefault("X-XSS-Protection", value)\n',
        'HEADERS = [("Content-Security-Policy", "default-src \'self\'")]\n',
    ]

    fix_node = ("SimpleString", "Assign")

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        import libcst as cst

        if isinstance(node, cst.SimpleString):
            quote = node.quote if node.quote in ('"', "'") else '"'
            return Fix(node.with_changes(value=f"{node.prefix}{quote}0{quote}"))
        if isinstance(node, cst.Assign) and isinstance(node.value, cst.Name):
            return Fix(node.with_changes(value=cst.Name("False")))
        return None

    _off = False  # the module never spells "xss": nothing to find

    def visit_Module(self, node: ast.Module) -> None:
        # the module is the first node of the walk: this runs before every other visitor
        self._off = "xss" not in self.ctx.source.text.lower()
        if self._off or not is_deployment_settings(self.ctx):
            return
        for setting in top_level_settings(node):
            if is_overridden(node, setting):
                continue
            if setting.name == "SECURE_BROWSER_XSS_FILTER" and is_true(setting.value):
                self.report(
                    setting.statement,
                    "`SECURE_BROWSER_XSS_FILTER = True` sends `X-XSS-Protection: 1; mode=block`",
                )

    def _flag(self, node: ast.AST, value: str) -> None:
        self.report(node, f"`X-XSS-Protection: {value}` switches on a removed, leaky filter")

    def visit_Dict(self, node: ast.Dict) -> None:
        if self._off:
            return
        for key, value in zip(node.keys, node.values, strict=True):
            if key is not None and _is_header(key):
                text = _enabling(value)
                if text is not None:
                    self._flag(value, text)

    def visit_Tuple(self, node: ast.Tuple) -> None:
        if self._off:
            return
        if len(node.elts) == 2 and _is_header(node.elts[0]):
            text = _enabling(node.elts[1])
            if text is not None:
                self._flag(node.elts[1], text)

    def visit_Assign(self, node: ast.Assign) -> None:
        if self._off:
            return
        for target in node.targets:
            if isinstance(target, ast.Subscript) and _is_header(target.slice):
                text = _enabling(node.value)
                if text is not None:
                    self._flag(node.value, text)

    def visit_Call(self, node: ast.Call) -> None:
        if self._off:
            return
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr not in _SETTERS:
            return
        if len(node.args) >= 2 and _is_header(node.args[0]):
            text = _enabling(node.args[1])
            if text is not None:
                self._flag(node.args[1], text)
