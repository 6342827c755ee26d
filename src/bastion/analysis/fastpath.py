"""Cheap questions a rule asks before the costly ones.

Most calls of a file are none of the few a rule looks for. A call `x.y.name(...)` resolves
(`ImportMap.qualname`) to a dotted name that ends with `name` whatever the imports say, since
imports rename only the root of a dotted name; a bare `name(...)` resolves to what `name` was
imported as, or to itself. So when that last part is none of the names a rule looks for, the
rule can return without resolving anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from bastion.imports import ImportMap


def last_parts(qualnames: Iterable[str]) -> frozenset[str]:
    """The last part of each dotted name: `{"yaml.load", "pickle.loads"}` -> `{"load", "loads"}`."""
    return frozenset(name.rpartition(".")[2] for name in qualnames)


def may_name(func: ast.expr, names: frozenset[str], imports: ImportMap | None = None) -> bool:
    """False when `func`'s qualified name cannot end with any of `names` (from `last_parts`),
    so cannot be any of the names they were made from: an attribute `x.y.attr` whose `attr`
    is not in `names`, or (given the module's imports) a bare name that resolves to one whose
    last part is not. True for anything else."""
    kind = type(func)
    if kind is ast.Attribute:
        return func.attr in names  # type: ignore[attr-defined]
    if kind is ast.Name and imports is not None:
        name: str = func.id  # type: ignore[attr-defined]
        return imports.aliases.get(name, name).rpartition(".")[2] in names
    return True


class TextMentions:
    """Whether a module's text contains any of `words`, searched once, when first asked.

    The second stage of a two-stage pre-filter: a rule whose findings all need a route sets
    `requires = ("@",)` (a route needs a decorator: one fast search) and asks for its words
    only once it has found a route, instead of searching every module for all of them."""

    def __init__(self, text: str, words: tuple[str, ...]) -> None:
        self._text = text
        self._words = words
        self._found: bool | None = None

    def __call__(self) -> bool:
        if self._found is None:
            self._found = any(word in self._text for word in self._words)
            self._text = ""  # not needed any more
        return self._found
