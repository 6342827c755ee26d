"""ACME001: every FastAPI route declares the team that owns it, through `tags=`.

A plugin rule is an ordinary bastion rule: metadata, examples and visitor methods. Its id has
the plugin's own prefix (`ACME`), never one of bastion's.
"""

from __future__ import annotations

import ast

from bastion.findings import Severity
from bastion.rule import Rule

_ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "api_route"}
_ROUTE_OWNERS = ("fastapi.FastAPI", "fastapi.APIRouter")


class RouteWithoutOwnerTag(Rule):
    """Flags a FastAPI route (`@app.get(...)`, `@router.post(...)`) whose decorator passes no
    `tags=`, on an app or router created without `tags=` either."""

    id = "ACME001"
    name = "route-without-owner-tag"
    severity = Severity.WARNING
    summary = "A FastAPI route without `tags=` naming the team that owns it"
    why = (
        "At ACME the OpenAPI tags route pages and incidents to the owning team; an untagged "
        "route pages nobody."
    )
    hint = 'Add `tags=["<team>"]` to the route decorator, or to the `APIRouter(...)` it is on.'
    help_uri = "https://example.com/acme/bastion-rules#ACME001"
    requires = ("fastapi",)
    bad = [
        "from fastapi import APIRouter\nrouter = APIRouter()\n\n"
        "@router.get('/invoices')\ndef invoices():\n    return []\n",
    ]
    good = [
        "from fastapi import APIRouter\nrouter = APIRouter()\n\n"
        "@router.get('/invoices', tags=['billing'])\ndef invoices():\n    return []\n",
        "from fastapi import APIRouter\nrouter = APIRouter(tags=['billing'])\n\n"
        "@router.get('/invoices')\ndef invoices():\n    return []\n",
    ]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            if self._untagged_route(decorator):
                self.report(decorator, f"route `{node.name}` has no owner tag")

    visit_AsyncFunctionDef = visit_FunctionDef

    def _untagged_route(self, decorator: ast.expr) -> bool:
        if not isinstance(decorator, ast.Call) or not isinstance(decorator.func, ast.Attribute):
            return False
        if decorator.func.attr not in _ROUTE_METHODS:
            return False
        created = self.ctx.imports.instance_call(decorator.func.value)
        if created is None or not self.ctx.imports.matches(created.func, *_ROUTE_OWNERS):
            return False
        keywords = {k.arg for k in decorator.keywords} | {k.arg for k in created.keywords}
        return "tags" not in keywords
