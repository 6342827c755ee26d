"""Fact collectors for Django URLconfs and `ROOT_URLCONF` (read by LOG004, see
`bastion.analysis.urlconf`)."""

from __future__ import annotations

import ast
from typing import Any

from bastion.analysis.fastpath import may_name
from bastion.analysis.nodes import argument, import_time_statements, keyword_value, string_value
from bastion.analysis.urlconf import (
    INCLUDE_FUNCTIONS,
    ROOT_URLCONF_FACTS,
    ROUTE_FUNCTIONS,
    URLCONF_FACTS,
)
from bastion.analysis.web import mentions_health
from bastion.rule import FactCollector

_ROUTE_NAMES = frozenset(name.rpartition(".")[2] for name in ROUTE_FUNCTIONS)


class DjangoUrlConfFacts(FactCollector):
    """Every route a module declares with `path()`/`re_path()`/`url()` (in `urlpatterns` or in
    any other list it includes), and the line of its module-level `urlpatterns`."""

    key = URLCONF_FACTS
    requires = ("django",)
    call_names = _ROUTE_NAMES  # visit_Call's only calls (see may_name)

    def __init__(self, ctx: Any) -> None:
        super().__init__(ctx)
        self._routes: list[dict[str, str]] = []
        self._urlpatterns_at: tuple[int, int] | None = None

    def visit_Module(self, node: ast.Module) -> None:
        text = self.ctx.source.text
        if "urlpatterns" not in text and text.isascii():
            return  # no name can be `urlpatterns` (non-ASCII letters may spell one otherwise)
        for stmt in import_time_statements(node.body):
            targets: list[ast.expr] = []
            if isinstance(stmt, ast.Assign):
                targets = stmt.targets
            elif isinstance(stmt, ast.AnnAssign | ast.AugAssign):
                targets = [stmt.target]
            named = any(isinstance(t, ast.Name) and t.id == "urlpatterns" for t in targets)
            if named and not self._urlpatterns_at:
                self._urlpatterns_at = (stmt.lineno, stmt.col_offset + 1)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not may_name(func, _ROUTE_NAMES, self.ctx.imports):
            return  # the cheap test first (the engine asks it too, see `call_names`)
        if self.ctx.imports.qualname(func) not in ROUTE_FUNCTIONS:
            return
        route = argument(node, 0, "route")
        view = argument(node, 1, "view")
        entry = {"route": string_value(route) or ""}
        if isinstance(view, ast.Call) and (
            self.ctx.imports.qualname(view.func) in INCLUDE_FUNCTIONS
        ):
            target = view.args[0] if view.args else None
            if target is not None:
                entry["include"] = string_value(target) or ast.unparse(target)
        elif view is not None:
            entry["view"] = ast.unparse(view)
        name = keyword_value(node, "name")
        if name is not None and (literal := string_value(name)) is not None:
            entry["name"] = literal
        self._routes.append(entry)

    def finish(self) -> None:
        line, column = self._urlpatterns_at or (0, 0)
        if self._routes or line:
            self.add(routes=self._routes, urlpatterns_line=line, urlpatterns_column=column)


class DjangoRootUrlConfFacts(FactCollector):
    """`ROOT_URLCONF = "project.urls"` in a settings module, and whether its `MIDDLEWARE`
    names one that answers health checks itself."""

    key = ROOT_URLCONF_FACTS
    requires = ("ROOT_URLCONF",)

    def visit_Module(self, node: ast.Module) -> None:
        value: str | None = None
        line = 0
        health_middleware = False
        for stmt in import_time_statements(node.body):
            if not isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                continue
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if "ROOT_URLCONF" in names and stmt.value is not None:
                value, line = string_value(stmt.value), stmt.lineno
            if "MIDDLEWARE" in names and stmt.value is not None:
                health_middleware |= any(
                    isinstance(n, ast.Constant)
                    and isinstance(n.value, str)
                    and mentions_health(n.value)
                    for n in ast.walk(stmt.value)
                )
        if value is not None:
            self.add(value=value, line=line, health_middleware=health_middleware)
