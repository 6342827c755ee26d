"""Cheap questions a rule asks before the costly ones.

Most calls of a file are none of the few a rule looks for. A call `x.y.name(...)` resolves
(`ImportMap.qualname`) to a dotted name that ends with `name` whatever the imports say, since
imports rename only the root of a dotted name: so when `name` ends none of the names a rule
looks for, the rule can return without resolving anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable


def last_parts(qualnames: Iterable[str]) -> frozenset[str]:
    """The last part of each dotted name: `{"yaml.load", "pickle.loads"}` -> `{"load", "loads"}`."""
    return frozenset(name.rpartition(".")[2] for name in qualnames)


def may_name(func: ast.expr, names: frozenset[str]) -> bool:
    """False when `func` is an attribute `x.y.attr` whose `attr` is not in `names` (from
    `last_parts`): its qualified name then cannot be any of the names `names` was made from.
    True for anything else (a bare name may be an alias of any of them)."""
    return type(func) is not ast.Attribute or func.attr in names
