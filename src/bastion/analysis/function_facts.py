"""Per-function facts of the analysis layer, kept in the shared per-function index
(`FileContext.function_index`, `bastion.function_index`) so that every rule asking the same
question of a function pays for it once."""

from __future__ import annotations

import ast

from bastion.analysis.orm import Kind, local_sessions
from bastion.context import FileContext


def sessions(
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, ctx: FileContext
) -> dict[str, Kind]:
    """`orm.local_sessions`: the names in the function's own scope known to hold a database
    session or connection, and their kind (PERF001 and PERF003 both ask, per function)."""
    return ctx.function_index(function).memo("sessions", lambda: local_sessions(function, ctx))
