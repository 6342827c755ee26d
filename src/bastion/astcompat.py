"""`ast` node types that exist only on some of the Pythons bastion runs on (3.10 and newer).

Rules name these instead of `ast.TryStar` or `ast.TemplateStr`, so that they load, and mean
the same, on every version: on a Python without the node type, no parsed tree can hold it.
"""

from __future__ import annotations

import ast
from typing import cast


class _Absent(ast.AST):
    """Stands for a node type this Python does not have: no tree ever holds one."""


# `try: ... except* E:` (3.11, PEP 654): a `TryStar` with the same fields as `Try`.
TRY_STAR: type[ast.AST] = getattr(ast, "TryStar", _Absent)
# typed as `Try`: the fields code reads (`body`, `handlers`, `orelse`, `finalbody`) are the same
TRY_NODES: tuple[type[ast.Try], ...] = (ast.Try, cast("type[ast.Try]", TRY_STAR))

# t"..." (3.14, PEP 750): a `TemplateStr` whose `values` are string `Constant`s and
# `Interpolation`s (fields `value`, `str`, `conversion`, `format_spec`), and evaluates to a
# `string.templatelib.Template`, never to a `str`.
TEMPLATE_STR: type[ast.AST] = getattr(ast, "TemplateStr", _Absent)
INTERPOLATION: type[ast.AST] = getattr(ast, "Interpolation", _Absent)


def is_template(node: object) -> bool:
    return isinstance(node, TEMPLATE_STR)


def interpolated(node: ast.AST) -> list[ast.expr]:
    """The expressions a t-string interpolates, in order (empty for anything else)."""
    if not is_template(node):
        return []
    values: list[ast.AST] = getattr(node, "values", [])
    return [v.value for v in values if isinstance(v, INTERPOLATION)]  # type: ignore[attr-defined]
