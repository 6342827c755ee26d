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
  such values; an element of a literal container (`{True: "t"}[flag]`), of a constant or
  private table (`LEVELS[x]`, `self._levels[x]`) or of a local container built from safe
  values (loop variables included); counters (`self.query_counter`); a conditional whose
  branches are both safe; and a local variable whose every assignment in the function is one
  of those, or that is escaped/quoted by a call on some path (`name = escape(name)`) - two
  steps back, not further. Rules may add their own: variables named for a fragment of the
  target language (`where_sql`, `row_html`: trusted unless built in the same function from
  unsafe parts) and callees such as `render*` for HTML.

Everything else (parameters, attributes, subscripts, arbitrary calls, loop variables) is a
non-literal: its content is not known here, so the string it builds is not known to be safe.
"""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from bastion.analysis.nodes import walk_local
from bastion.astcompat import interpolated, is_template
from bastion.context import FileContext

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


# Upper-case attributes that hold request data, not constants (Django's `request.GET`...).
_REQUEST_ATTRIBUTES = frozenset({"GET", "POST", "FILES", "META", "COOKIES", "REQUEST", "DATA"})


def _is_constant_name(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.isupper() and node.attr not in _REQUEST_ATTRIBUTES
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
                line = getattr(node, "lineno", 0)
                loop_values = _loop_element(node.iter, node.target)
                for name in ast.walk(node.target):
                    if isinstance(name, ast.Name):
                        value = loop_values.get(name.id, ast.Name(id="?"))
                        out.add(name.id, line, value, False)
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


def _is_building_like(node: ast.expr) -> bool:
    if building_parts(node) is not None:
        return True
    return isinstance(node, ast.Call) and _call_name(node) == "join"


def _loop_element(iterable: ast.expr, target: ast.expr) -> dict[str, ast.expr]:
    """For `for v in X`, `for v in X.values()`, `for k, v in X.items()`: the loop variable
    that takes X's values, as the pseudo-expression `X[...]` (an element of X)."""
    container = iterable
    method = ""
    if (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and not iterable.args
    ):
        method = iterable.func.attr
        container = iterable.func.value
    if not isinstance(container, ast.Name):
        return {}
    element = ast.Subscript(value=container, slice=ast.Constant(value=None), ctx=ast.Load())
    if method in ("", "values") and isinstance(target, ast.Name):
        return {target.id: element}
    if (
        method == "items"
        and isinstance(target, ast.Tuple)
        and len(target.elts) == 2
        and isinstance(target.elts[1], ast.Name)
    ):
        return {target.elts[1].id: element}
    return {}


def _is_table_lookup(node: ast.Subscript) -> bool:
    """`self._lookup[key]`: a lookup in an object's own private table."""
    value = node.value
    return isinstance(value, ast.Attribute) and value.attr.startswith("_")


def _class_binding(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    """`name = value` / `name: T = value` in a class body."""
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
        return stmt.target.id, stmt.value
    if (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
    ):
        return stmt.targets[0].id, stmt.value
    return None


class StringBuilding:
    """Answers "is this a string built from non-literals?" for one file, caching the local
    assignments of each scope it is asked about."""

    def __init__(
        self,
        extra_safe_calls: Iterable[str] = (),
        fragment_word: str = "",
        safe_prefixes: tuple[str, ...] = (),
        position_filter: Callable[[str], bool] | None = None,
        safe_suffixes: tuple[str, ...] = (),
        non_text: Callable[[str], bool] | None = None,
        class_attributes: bool = False,
    ) -> None:
        self._scopes: dict[int, LocalAssignments] = {}
        self.safe_calls = SAFE_CALLS | frozenset(extra_safe_calls)
        self.fragment_word = fragment_word
        self.safe_prefixes = safe_prefixes
        # callee names that end like this return safe text (`get_status_display`, `get_html`)
        self.safe_suffixes = safe_suffixes
        # variable/attribute names that cannot hold text (`bg_color`, `job.pk`)
        self.non_text = non_text
        # `self.x`/`cls.x` bound in the enclosing class body to a safe value
        self.class_attributes = class_attributes
        self.cls: ast.ClassDef | None = None
        # When set, only values whose preceding literal text passes it count (e.g. SQL: only
        # values in a data position, not identifiers).
        self.position_filter = position_filter
        # The functions around the current node, outermost first (set by the rule before
        # asking), for closure variables.
        self.enclosing: list[Scope] = []
        self.module: ast.Module | None = None

    def enter(self, ctx: FileContext) -> Scope | None:
        """Point the analysis at the walk's current position (for closure variables) and
        return the scope whose local assignments count: the enclosing function, else the
        module."""
        self.enclosing = [
            n
            for n in ctx.stack
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        ]
        self.module = ctx.tree
        self.cls = ctx.enclosing_class()
        return ctx.enclosing_function() or ctx.tree

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
        if (
            self.non_text is not None
            and isinstance(node, ast.Name | ast.Attribute)
            and self.non_text(node.id if isinstance(node, ast.Name) else node.attr)
        ):
            return True
        if self.class_attributes and self._class_attribute_safe(node, depth):
            return True
        if self.fragment_word and is_fragment_name(node, self.fragment_word):
            # trusted, unless built right here from unsafe parts
            # (`html = "".join(f"<li>{x}</li>" for x in items)`)
            if isinstance(node, ast.Name) and scope is not None and depth < _MAX_DEPTH:
                for value, _aug in self.locals_of(scope).values(node.id):
                    if _is_building_like(value) and not self.is_safe(value, scope, depth + 1):
                        return False
            return True
        if isinstance(node, ast.JoinedStr):
            return all(self.is_safe(v, scope, depth) for v in _placeholders(node))
        if isinstance(node, ast.FormattedValue):
            return self.is_safe(node.value, scope, depth)
        if isinstance(node, ast.Name):
            if scope is None or depth >= _MAX_DEPTH:
                return False
            values = self.locals_of(scope).values(node.id)
            if not values:
                # a closure variable: assigned in an enclosing function
                for outer in reversed(self.enclosing):
                    if outer is not scope:
                        values = self.locals_of(outer).values(node.id)
                        if values:
                            scope = outer
                            break
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
        if isinstance(node, ast.Subscript) and (
            _is_constant_name(node.value) or _is_table_lookup(node)
        ):
            return True  # LEVELS[level], self._levels[level]: a lookup in a constant table
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            # an element of a local list/dict built only from safe values
            return self.is_safe(node.value, scope, depth)
        if isinstance(node, ast.DictComp):
            return self.is_safe(node.value, scope, depth)
        if isinstance(node, ast.Attribute) and node.attr.endswith(("counter", "_count")):
            return True  # a counter is a number
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
            if self.safe_suffixes and name.endswith(self.safe_suffixes):
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

    def _class_attribute_safe(self, node: ast.expr, depth: int) -> bool:
        """`self.base_message` where the enclosing class body binds `base_message` only to
        safe values (literals, f-strings of other class constants)."""
        if not (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in ("self", "cls")
            and self.cls is not None
            and depth < _MAX_DEPTH
        ):
            return False
        values = [
            bound[1]
            for bound in map(_class_binding, self.cls.body)
            if bound is not None and bound[0] == node.attr
        ]
        return bool(values) and all(self._class_value_safe(v, depth + 1) for v in values)

    def _class_value_safe(self, value: ast.expr, depth: int) -> bool:
        """A class-body value: other class attributes are read by their bare name there."""
        if isinstance(value, ast.Name) and self.cls is not None:
            return self._class_attribute_safe(
                ast.Attribute(value=ast.Name(id="cls", ctx=ast.Load()), attr=value.id), depth
            )
        if isinstance(value, ast.JoinedStr):
            return all(self._class_value_safe(v, depth) for v in _placeholders(value))
        return self.is_safe(value, None, depth)

    @staticmethod
    def _is_literal_sequence(node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.List | ast.Tuple):
            return all(isinstance(e, ast.Constant) for e in node.elts)
        return False

    # -- building -----------------------------------------------------------------------------
    def dynamic_values(
        self, node: ast.expr, scope: Scope | None, prefix: str = ""
    ) -> list[ast.expr] | None:
        """For a string built with an f-string/%/.format/+ : the interpolated values that are
        not literals (possibly empty). None when `node` is not such a building. With a
        `position_filter`, only values placed where the filter accepts the text before them
        (`prefix` is text known to come before the whole building)."""
        parts = building_parts(node)
        if parts is None:
            return None
        if self.position_filter is None:
            return [p for p in parts if not self.is_safe(p, scope)]
        keep = self.position_filter

        def literal_of(expr: ast.expr) -> str | None:
            return self.literal_value(expr, scope)

        placed = interpolations(node, literal_of) or []
        return [
            value
            for before, value in placed
            if keep(prefix + before) and not self.is_safe(value, scope)
        ]

    def literal_value(self, node: ast.expr, scope: Scope | None) -> str | None:
        """A string constant, or a variable assigned exactly one string constant."""
        text = string_constant(node)
        if text is not None or not isinstance(node, ast.Name) or scope is None:
            return text
        values = self.locals_of(scope).values(node.id)
        if not values and self.module is not None and scope is not self.module:
            values = self.locals_of(self.module).values(node.id)  # QUERY = "..." at the top
        if len(values) == 1 and not values[0][1]:
            return string_constant(values[0][0])
        return None

    def dynamic_building(
        self, node: ast.expr, scope: Scope | None, before: int | None = None
    ) -> tuple[ast.expr, list[ast.expr]] | None:
        """The building of `node` (itself, or for a variable, one assignment back in `scope`)
        that interpolates non-literal values: (the building expression, those values)."""
        found = self.dynamic_values(node, scope)
        if found:
            return node, found
        if isinstance(node, ast.Name) and scope is not None:
            text = ""  # literal text accumulated by earlier assignments (`sql = "..."`)
            for value, aug in self.locals_of(scope).values(node.id, before):
                prefix = text if aug else ""
                found = self.dynamic_values(value, scope, prefix)
                if found:
                    return value, found
                # `sql += where` appends a non-literal that is not itself a building
                if (
                    aug
                    and building_parts(value) is None
                    and not self.is_safe(value, scope)
                    and (self.position_filter is None or self.position_filter(prefix))
                ):
                    return value, [value]
                own = " ".join(_constants(value)) or "\x00"
                text = text + own if aug else own
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
                texts.append(self.literal_value(name, scope) or "")
        return " ".join(texts)


def string_constant(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


# A mapping key stops at the next `%` as well as at `)`: otherwise `%(%(%(...` without a `)`
# scanned the rest of the text from every `%` (quadratic).
_PERCENT_SPEC = re.compile(
    r"%(?:\((?P<key>[^)%]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])"
)
_NUMERIC_CONVERSIONS = frozenset("diouxXeEfFgGc")
_HOLE = "\x00"  # stands for an interpolated value in accumulated text


def interpolations(
    node: ast.expr, literal_of: Callable[[ast.expr], str | None]
) -> list[tuple[str, ast.expr]] | None:
    """[(literal text before the value, value)] for each value interpolated into a string
    building; the text is "" where the template is not known. Values formatted as numbers
    (`%d`, `{:d}`) are left out: they cannot carry text. None when `node` is no building."""
    if isinstance(node, ast.JoinedStr):
        out: list[tuple[str, ast.expr]] = []
        text = ""
        for value in node.values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                text += value.value
            elif isinstance(value, ast.FormattedValue):
                spec = value.format_spec
                numeric = (
                    isinstance(spec, ast.JoinedStr)
                    and len(spec.values) == 1
                    and isinstance(spec.values[0], ast.Constant)
                    and str(spec.values[0].value)[-1:] in ("d", "f", "e", "g", "x", "%")
                )
                if not numeric:
                    out.append((text, value.value))
                text += _HOLE
        return out if any(isinstance(v, ast.FormattedValue) for v in node.values) else None
    if is_template(node):
        placed = [interpolations(value, literal_of) for value in interpolated(node)]
        return [pair for pairs in placed if pairs for pair in pairs] or None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _percent_interpolations(node, literal_of)
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and (node.args or node.keywords)
    ):
        return _format_interpolations(node, node.func.value, literal_of)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        if building_parts(node) is None:
            return None
        out = []
        text = ""
        for operand in _add_operands(node):
            literal = string_constant(operand)
            if literal is not None:
                text += literal
                continue
            inner = interpolations(operand, literal_of)
            if inner is not None:
                out.extend((text + before, value) for before, value in inner)
                text += " ".join(_constants(operand)) + _HOLE
            else:
                out.append((text, operand))
                text += _HOLE
        return out
    return None


def _percent_interpolations(
    node: ast.BinOp, literal_of: Callable[[ast.expr], str | None]
) -> list[tuple[str, ast.expr]] | None:
    left, right = node.left, node.right
    if isinstance(left, ast.Constant) and not isinstance(left.value, str):
        return None  # arithmetic
    template = literal_of(left)
    if isinstance(right, ast.Tuple):
        values: list[ast.expr] = list(right.elts)
    elif isinstance(right, ast.Dict):
        values = list(right.values)
    else:
        values = [right]
    if template is None:
        inner = interpolations(left, literal_of) or []
        return [*inner, *(("", v) for v in values)]
    specs = [m for m in _PERCENT_SPEC.finditer(template) if m.group("conv") != "%"]
    out: list[tuple[str, ast.expr]] = []
    if isinstance(right, ast.Dict):
        by_key = {string_constant(k): v for k, v in zip(right.keys, right.values, strict=True) if k}
        for match in specs:
            value = by_key.get(match.group("key"))
            if value is not None and match.group("conv") not in _NUMERIC_CONVERSIONS:
                out.append((template[: match.start()], value))
        return out
    if isinstance(right, ast.Tuple):
        for match, value in zip(specs, values, strict=False):
            if match.group("conv") not in _NUMERIC_CONVERSIONS:
                out.append((template[: match.start()], value))
        return out
    # one value: a single placeholder, or a mapping/tuple held in a variable
    for match in specs:
        if match.group("conv") not in _NUMERIC_CONVERSIONS:
            out.append((template[: match.start()], right))
    return out


def _format_interpolations(
    call: ast.Call, template_node: ast.expr, literal_of: Callable[[ast.expr], str | None]
) -> list[tuple[str, ast.expr]]:
    template = literal_of(template_node)
    values = _format_values(call)
    if template is None:
        inner = interpolations(template_node, literal_of) or []
        return [*inner, *(("", v) for v in values)]
    keywords = {kw.arg: kw.value for kw in call.keywords if kw.arg is not None}
    splats = [kw.value for kw in call.keywords if kw.arg is None]
    splats += [a.value for a in call.args if isinstance(a, ast.Starred)]
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return [("", v) for v in values]
    out: list[tuple[str, ast.expr]] = []
    text = ""
    auto = 0
    for literal, field_name, spec, _conversion in fields:
        text += literal
        if field_name is None:
            continue
        head = _FIELD_HEAD.split(field_name, maxsplit=1)[0]
        value: ast.expr | None
        if head == "":
            value = call.args[auto] if auto < len(call.args) else None
            auto += 1
        elif head.isdigit():
            index = int(head)
            value = call.args[index] if index < len(call.args) else None
        else:
            value = keywords.get(head)
        if value is None and splats:
            value = splats[0]
        numeric = (spec or "")[-1:] in ("d", "f", "e", "g", "x", "%") and bool(spec)
        if value is not None and not isinstance(value, ast.Starred) and not numeric:
            out.append((text, value))
        elif isinstance(value, ast.Starred):
            out.append((text, value.value))
        text += _HOLE
    return out


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
    if is_template(node):
        # a t-string is no building: libraries bind its values as parameters (PEP 750); a
        # string built into one of its values (`t"... {f'... {x}'}"`) still is
        nested = [building_parts(value) for value in interpolated(node)]
        return [part for parts in nested if parts for part in parts] or None
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


_FIELD_HEAD = re.compile(r"[.\[]")

SQL_WORDS = re.compile(
    r"\b(select|insert\s+into|update|delete\s+from|create|drop|alter|truncate|where|"
    r"from|values|pragma|order\s+by|group\s+by|join|limit)\b",
    re.IGNORECASE,
)


def looks_like_sql(text: str) -> bool:
    return SQL_WORDS.search(text) is not None


def building_label(building: ast.expr) -> str:
    """How a string was built, for messages: "an f-string", "`%` formatting"..."""
    if isinstance(building, ast.JoinedStr):
        return "an f-string"
    if is_template(building):
        return "a string formatted into a t-string"
    if isinstance(building, ast.BinOp):
        return "`%` formatting" if isinstance(building.op, ast.Mod) else "`+` concatenation"
    if (
        isinstance(building, ast.Call)
        and isinstance(building.func, ast.Attribute)
        and building.func.attr == "format"
    ):
        return "`.format()`"
    return "an augmented assignment (`+=`/`%=`)"


def describe(node: ast.expr) -> str:
    """A short source-like rendering of a value for messages (`user_id`, `request.args[...]`)."""
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):  # pragma: no cover - deep or odd trees
        return "a value"
    return text if len(text) <= 40 else text[:37] + "..."
