"""String building that reaches an injection sink (SQL, HTML).

The question rules ask: "is this argument a string built with an f-string, `%`, `.format()` or
`+` from values that are not literals?" - and if so, which values. What counts:

* **building**: an f-string with placeholders, `template % values`, `template.format(...)`,
  `a + b` where some operand is not a literal. A variable is followed **one assignment back**
  in the same function (`sql = f"..."; cursor.execute(sql)`), including `sql += ...`.
* **literal (safe) values**, which never make a building dangerous: constants; ALL_CAPS names
  and attributes (module/class constants); numbers made by `int()`/`len()`/`float()`/`bool()`;
  placeholder lists (`", ".join(["%s"] * len(ids))`, `"?" * n`); calls that quote or escape
  (`connection.ops.quote_name(...)`, `qn(...)`, `quote_name_unless_alias`, `escape(...)`,
  `conditional_escape`, `format_html`, and any callee whose name says escape/safe/quote);
  translations of literal text (`_("Saved")`); a `"sep".join(...)` or `map(escape, ...)` of
  such values; an element of a literal container (`{True: "t"}[flag]`); a conditional whose
  branches are both safe; and a local variable whose every assignment in the function is one
  of those, or that is escaped/quoted by a call on some path (`name = escape(name)`) - two
  steps back, not further. Rules may add their own: variables named for a fragment of the
  target language (`where_sql`, `row_html`) and callees such as `render*` for HTML.

Everything else (parameters, attributes, subscripts, arbitrary calls, loop variables) is a
non-literal: its content is not known here, so the string it builds is not known to be safe.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bastion.analysis.nodes import walk_local

# Calls whose result is an identifier quoted for SQL, an escaped string, or a number.
SAFE_CALLS = frozenset(
    {
        "quote_name",
        "quote_name_unless_alias",
        "qn",
        "qn2",
        "quote",
        "quote_ident",
        "quote_identifier",
        "quote_value",
        "escape",
        "conditional_escape",
        "escape_string",
        "format_html",
        "format_html_join",
        "html_safe",
        "urlencode",
        "int",
        "float",
        "len",
        "bool",
        "hash",
        "id",
        "range",
        "Identifier",
        "Literal",
    }
)

# Translations of literal text (`_("Saved")`) are literals too.
TRANSLATION_CALLS = frozenset(
    {
        "_",
        "gettext",
        "gettext_lazy",
        "lazy_gettext",
        "ugettext",
        "ugettext_lazy",
        "pgettext",
        "pgettext_lazy",
        "ngettext",
        "ngettext_lazy",
    }
)
# Callee names that say they escape or quote (`_html_safe_json`, `escape_uri_path`).
_SAFE_WORDS = ("escape", "safe", "quote", "sanitiz")
# String methods that keep a safe string safe.
_STR_METHODS = frozenset(
    {"replace", "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize"}
)

# How many assignments back a value is followed to prove it safe.
_MAX_DEPTH = 2

Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.Module


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _is_constant_name(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.isupper()
    return False


def is_fragment_name(node: ast.expr, word: str) -> bool:
    """`sql`, `where_sql`, `self.inner_sql`: a variable that already holds a compiled fragment
    of the target language (its own building is checked where it is made)."""
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    else:
        return False
    return word in name.lower().split("_")


@dataclass
class LocalAssignments:
    """Assignments to plain names in one scope (not entering nested functions/classes)."""

    by_name: dict[str, list[tuple[int, ast.expr, bool]]] = field(default_factory=dict)

    @classmethod
    def of(cls, scope: Scope) -> LocalAssignments:
        out = cls()
        body: ast.AST | list[ast.stmt]
        body = scope.body if isinstance(scope, ast.Module) else scope
        for node in walk_local(body):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        out.add(target.id, node.lineno, node.value, False)
                    elif isinstance(target, ast.Tuple | ast.List):
                        value = node.value
                        items: list[ast.expr] = (
                            list(value.elts)
                            if isinstance(value, ast.Tuple | ast.List)
                            and len(value.elts) == len(target.elts)
                            else [ast.Name(id="?")] * len(target.elts)
                        )
                        # `a, b = f(a), g(b)` pairs up; other unpacking is unknown
                        for element, item in zip(target.elts, items, strict=True):
                            if isinstance(element, ast.Name):
                                out.add(element.id, node.lineno, item, False)
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                if isinstance(node.target, ast.Name):
                    out.add(node.target.id, node.lineno, node.value, False)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                out.add(node.target.id, node.lineno, node.value, True)
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                for name in ast.walk(node.target):
                    if isinstance(name, ast.Name):
                        out.add(name.id, getattr(node, "lineno", 0), ast.Name(id="?"), False)
            elif isinstance(node, ast.NamedExpr):
                out.add(node.target.id, node.lineno, node.value, False)
        return out

    def add(self, name: str, line: int, value: ast.expr, augmented: bool) -> None:
        self.by_name.setdefault(name, []).append((line, value, augmented))

    def values(self, name: str, before: int | None = None) -> list[tuple[ast.expr, bool]]:
        """(value, is `+=`-style) of every assignment to `name` (on lines before `before`)."""
        return [
            (value, aug)
            for line, value, aug in self.by_name.get(name, [])
            if before is None or line <= before
        ]


class StringBuilding:
    """Answers "is this a string built from non-literals?" for one file, caching the local
    assignments of each scope it is asked about."""

    def __init__(
        self,
        extra_safe_calls: Iterable[str] = (),
        fragment_word: str = "",
        safe_prefixes: tuple[str, ...] = (),
    ) -> None:
        self._scopes: dict[int, LocalAssignments] = {}
        self.safe_calls = SAFE_CALLS | frozenset(extra_safe_calls)
        self.fragment_word = fragment_word
        self.safe_prefixes = safe_prefixes

    def locals_of(self, scope: Scope) -> LocalAssignments:
        key = id(scope)
        found = self._scopes.get(key)
        if found is None:
            found = self._scopes[key] = LocalAssignments.of(scope)
        return found

    # -- safety of one value ------------------------------------------------------------------
    def is_safe(self, node: ast.expr, scope: Scope | None, depth: int = 0) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if _is_constant_name(node):
            return True
        if self.fragment_word and is_fragment_name(node, self.fragment_word):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(self.is_safe(v, scope, depth) for v in _placeholders(node))
        if isinstance(node, ast.FormattedValue):
            return self.is_safe(node.value, scope, depth)
        if isinstance(node, ast.Name):
            if scope is None or depth >= _MAX_DEPTH:
                return False
            values = self.locals_of(scope).values(node.id)
            safe = [self.is_safe(v, scope, depth + 1) for v, _ in values]
            if values and all(safe):
                return True
            # escaped or quoted on some path (`name = escape(name)`): the author took care
            return any(
                ok and isinstance(v, ast.Call) for ok, (v, _) in zip(safe, values, strict=True)
            )
        if isinstance(node, ast.IfExp):
            return self.is_safe(node.body, scope, depth) and self.is_safe(node.orelse, scope, depth)
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Mult):
                # "?" * n, ["%s"] * len(ids): placeholders repeated
                return self._is_literal_sequence(node.left) or self._is_literal_sequence(node.right)
            return self.is_safe(node.left, scope, depth) and self.is_safe(node.right, scope, depth)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return all(self.is_safe(e, scope, depth) for e in node.elts)
        if isinstance(node, ast.Starred):
            return self.is_safe(node.value, scope, depth)
        if isinstance(node, ast.Dict):
            return all(self.is_safe(v, scope, depth) for v in node.values)
        if isinstance(node, ast.DictComp):
            return self.is_safe(node.value, scope, depth)
        if isinstance(node, ast.Subscript) and isinstance(
            node.value, ast.Dict | ast.List | ast.Tuple
        ):
            # {True: "true", False: "false"}[value]: one of the literal's own elements
            return self.is_safe(node.value, scope, depth)
        if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp):
            return self.is_safe(node.elt, scope, depth)
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in self.safe_calls or any(w in name.lower() for w in _SAFE_WORDS):
                return True
            if self.safe_prefixes and name.startswith(self.safe_prefixes):
                return True
            func = node.func
            if name in TRANSLATION_CALLS:
                return all(isinstance(a, ast.Constant) for a in node.args)
            if name == "map" and node.args:
                mapped = node.args[0]
                mapped_name = (
                    mapped.attr
                    if isinstance(mapped, ast.Attribute)
                    else mapped.id
                    if isinstance(mapped, ast.Name)
                    else ""
                )
                return mapped_name in self.safe_calls
            if name in _STR_METHODS and isinstance(func, ast.Attribute):
                return self.is_safe(func.value, scope, depth) and all(
                    self.is_safe(a, scope, depth) for a in node.args
                )
            if name == "join" and isinstance(func, ast.Attribute):
                return self.is_safe(func.value, scope, depth) and all(
                    self.is_safe(a, scope, depth) for a in node.args
                )
            if name in ("str", "format") and node.args:
                return self.is_safe(node.args[0], scope, depth)
            if name == "format" and isinstance(func, ast.Attribute):
                # a template held in a variable or attribute (`self.url_template`) is the
                # author's; what matters is what goes into it
                template = func.value
                template_ok = isinstance(template, ast.Name | ast.Attribute) or self.is_safe(
                    template, scope, depth
                )
                return template_ok and all(
                    self.is_safe(a, scope, depth) for a in _format_values(node)
                )
            return False
        return False

    @staticmethod
    def _is_literal_sequence(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.List | ast.Tuple):
            return all(isinstance(e, ast.Constant) for e in node.elts)
        return False

    # -- building -----------------------------------------------------------------------------
    def dynamic_values(self, node: ast.expr, scope: Scope | None) -> list[ast.expr] | None:
        """For a string built with an f-string/%/.format/+ : the interpolated values that are
        not literals (possibly empty). None when `node` is not such a building."""
        parts = building_parts(node)
        if parts is None:
            return None
        return [p for p in parts if not self.is_safe(p, scope)]

    def dynamic_building(
        self, node: ast.expr, scope: Scope | None, before: int | None = None
    ) -> tuple[ast.expr, list[ast.expr]] | None:
        """The building of `node` (itself, or for a variable, one assignment back in `scope`)
        that interpolates non-literal values: (the building expression, those values)."""
        found = self.dynamic_values(node, scope)
        if found:
            return node, found
        if isinstance(node, ast.Name) and scope is not None:
            for value, _aug in self.locals_of(scope).values(node.id, before):
                found = self.dynamic_values(value, scope)
                if found:
                    return value, found
                # `sql += where` appends a non-literal that is not itself a building
                if _aug and not self.is_safe(value, scope):
                    return value, [value]
        return None

    def literal_text(self, node: ast.expr, scope: Scope | None, before: int | None) -> str:
        """The literal text in an expression (and, for a variable, in its assignments in
        the scope): what a string building's template says."""
        texts = list(_constants(node))
        if scope is not None:
            names = [n for n in ast.walk(node) if isinstance(n, ast.Name)]
            for name in names:
                for value, _aug in self.locals_of(scope).values(name.id, before):
                    texts.extend(_constants(value))
        return " ".join(texts)


def _constants(node: ast.expr) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value


def _placeholders(node: ast.JoinedStr) -> list[ast.expr]:
    out: list[ast.expr] = []
    for value in node.values:
        if isinstance(value, ast.FormattedValue):
            out.append(value.value)
            if isinstance(value.format_spec, ast.JoinedStr):
                out.extend(_placeholders(value.format_spec))
    return out


def _format_values(call: ast.Call) -> list[ast.expr]:
    return [*call.args, *(kw.value for kw in call.keywords)]


def _is_stringish(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr
    )


def _add_operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_add_operands(node.left), *_add_operands(node.right)]
    return [node]


def building_parts(node: ast.expr) -> list[ast.expr] | None:
    """The values interpolated into a string building (see the module docstring); None when
    `node` is not a building."""
    if isinstance(node, ast.JoinedStr):
        parts = _placeholders(node)
        return parts if parts else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        left = node.left
        if isinstance(left, ast.Constant) and not isinstance(left.value, str):
            return None  # arithmetic
        right = node.right
        values: list[ast.expr]
        if isinstance(right, ast.Tuple):
            values = list(right.elts)
        elif isinstance(right, ast.Dict):
            values = list(right.values)
        else:
            values = [right]
        inner = building_parts(left)
        return [*(inner or []), *values]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format" and (node.args or node.keywords):
            inner = building_parts(node.func.value)
            return [*(inner or []), *_format_values(node)]
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        operands = _add_operands(node)
        if not any(_is_stringish(o) or building_parts(o) is not None for o in operands):
            return None  # `a + b` of unknowns: maybe numbers, maybe lists
        values = []
        for operand in operands:
            if isinstance(operand, ast.Constant):
                continue
            inner = building_parts(operand)
            values.extend(inner if inner is not None else [operand])
        return values
    return None


SQL_WORDS = re.compile(
    r"\b(select|insert\s+into|update|delete\s+from|create|drop|alter|truncate|where|"
    r"from|values|pragma|order\s+by|group\s+by|join|limit)\b",
    re.IGNORECASE,
)


def looks_like_sql(text: str) -> bool:
    return SQL_WORDS.search(text) is not None


def describe(node: ast.expr) -> str:
    """A short source-like rendering of a value for messages (`user_id`, `request.args[...]`)."""
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every expression ast produces
        return "a value"
    return text if len(text) <= 40 else text[:37] + "..."
