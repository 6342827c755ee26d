"""ORG006: mutable default arguments."""

from __future__ import annotations

import ast
import re

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.web import routes_of
from bastion.findings import Severity
from bastion.rule import Rule

_MUTABLE_CALLS = frozenset(
    {
        "list",
        "dict",
        "set",
        "bytearray",
        "collections.defaultdict",
        "collections.OrderedDict",
        "collections.deque",
        "collections.Counter",
    }
)

_MUTABLE_CALL_NAMES = last_parts(_MUTABLE_CALLS)
# the node types `_mutable_kind` can call mutable
_MAY_BE_MUTABLE = frozenset(
    {ast.List, ast.ListComp, ast.Dict, ast.DictComp, ast.Set, ast.SetComp, ast.Call}
)

# read-only protocols in the annotation say the default is never mutated
_READ_ONLY = frozenset(
    {"Mapping", "Sequence", "AbstractSet", "Collection", "Iterable", "Container", "Reversible"}
)
_NOQA_B006 = re.compile(r"#\s*noqa(?::[^#]*\bB006\b|\s*$)", re.IGNORECASE)


def _read_only_annotation(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    for node in ast.walk(annotation):
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        if name in _READ_ONLY:
            return True
    return False


def _mutable_kind(node: ast.expr, qualname: str | None) -> str | None:
    if isinstance(node, ast.List | ast.ListComp):
        return "list"
    if isinstance(node, ast.Dict | ast.DictComp):
        return "dict"
    if isinstance(node, ast.Set | ast.SetComp):
        return "set"
    if isinstance(node, ast.Call) and qualname in _MUTABLE_CALLS:
        return qualname.rpartition(".")[2]
    return None


class MutableDefaultArgument(Rule):
    """Flags a list, dict or set - a literal, a comprehension, or a call to `list()`, `dict()`,
    `set()`, `bytearray()`, `collections.defaultdict()`/`OrderedDict()`/`deque()`/`Counter()`
    - used as the default value of a function or lambda parameter.

    Not flagged: tuples, frozensets, `None`, and calls to anything else (FastAPI's
    `Query(default=[])`, `Field(default_factory=list)`), builtins shadowed by an import,
    parameters of FastAPI route handlers (FastAPI deep-copies a parameter's default for each
    request), parameters annotated with a read-only protocol (`Mapping`, `Sequence`,
    `AbstractSet`...: the signature promises not to mutate), and lines marked
    `# noqa: B006`."""

    id = "ORG006"
    name = "mutable-default-argument"
    aliases = ("B006",)  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "9 of 9 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Mutable list/dict/set used as a default argument"
    why = (
        "A default value is evaluated once, when the function is defined, and the same object "
        "is shared by every call: appending to a default list or updating a default dict leaks "
        "state from one request into the next - a classic source of data bleeding between "
        "users in long-running server processes."
    )
    hint = (
        "Default to `None` and create the value inside the function "
        "(`items = [] if items is None else items`), or use an immutable tuple/frozenset."
    )
    requires = ("=",)
    bad = [
        "def add_item(item, items=[]):\n    items.append(item)\n    return items\n",
        "async def search(q: str, filters: dict = {}):\n    filters['q'] = q\n    return filters\n",
        "def tags(*, seen=set()):\n    return seen\n",
        "handler = lambda event, acc=list(): acc.append(event)\n",
    ]
    good = [
        "def add_item(item, items=None):\n    items = [] if items is None else items\n"
        "    items.append(item)\n    return items\n",
        "def allowed(methods=('GET', 'HEAD')):\n    return methods\n",
        "from fastapi import Query\n\nasync def search(tags: list[str] = Query(default=[])):\n"
        "    return tags\n",
        "def f(options=frozenset()):\n    return options\n",
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n@router.get('/items')\n"
        "async def items(tags: list[str] = []):\n    return tags\n",
        "from typing import Mapping\n\ndef render(context: Mapping[str, str] = {}):\n"
        "    return dict(context)\n",
    ]

    def _check(
        self, args: ast.arguments, function: ast.FunctionDef | ast.AsyncFunctionDef | None = None
    ) -> None:
        # most defaults are `None`, constants or names: nothing that can be mutable, no pairs
        if _MAY_BE_MUTABLE.isdisjoint(map(type, args.defaults)) and _MAY_BE_MUTABLE.isdisjoint(
            map(type, args.kw_defaults)
        ):
            return
        routes_checked = function is None
        positional = [*args.posonlyargs, *args.args]
        pairs = list(
            zip(positional[len(positional) - len(args.defaults) :], args.defaults, strict=True)
        )
        pairs += [
            (a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d is not None
        ]
        for arg, default in pairs:
            qualname = (
                self.ctx.imports.qualname(default.func)
                if isinstance(default, ast.Call)
                and may_name(default.func, _MUTABLE_CALL_NAMES, self.ctx.imports)
                else None  # `Query(default=[])`, `Depends(...)`: none of the mutable calls
            )
            kind = _mutable_kind(default, qualname)
            if kind is None or _read_only_annotation(arg.annotation):
                continue
            if _NOQA_B006.search(self.ctx.source.line(default.lineno)):
                continue  # flake8-bugbear/ruff's own suppression
            if not routes_checked:  # asked once, and only when there is something to report
                assert function is not None
                if any(r.framework == "fastapi" for r in routes_of(function, self.ctx)):
                    return  # FastAPI deep-copies parameter defaults for every request
                routes_checked = True
            text = ast.unparse(default)
            if len(text) > 30:
                text = kind + " " + ("literal" if not isinstance(default, ast.Call) else "call")
            self.report(
                default,
                f"parameter `{arg.arg}` defaults to a mutable {kind} (`{text}`) "
                "shared by all calls",
            )

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node.args, node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node.args, node)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._check(node.args)
