"""Where a value interpolated into HTML comes from, as far as one file shows (SEC014).

A string marked safe (`mark_safe`, `Markup`, `HTMLResponse`) is only a risk when something in it
can be chosen by somebody other than the code's authors. On real applications (issue #15,
bench/ecosystem) almost every such string was built from code constants, choice labels, model
fields the code validates, identifiers and numbers - values whose content a local analysis
cannot prove, but which carry no untrusted provenance either. So SEC014 asks the opposite
question of `injection.StringBuilding`: not "is this value provably safe?" but "can this file
see it come from somewhere untrusted?". Untrusted, here:

* **request data**: `request.GET[...]`, `request.args.get(...)`, `request.form`, `request.json`
  ... (Django, Flask, Starlette, aiohttp), and what is derived from it;
* **a parameter of a plain function** (module level or nested, not a method): a view's URL
  captures, a helper's arguments - whatever its callers pass ends up in the markup, unless
  every call of it in the file passes a literal (calls from other modules are SEC014's
  `review`: see `trust_parameters`). Attributes and items of such a parameter count too
  (`user.name`);
* **the value of a template filter** (`@register.filter`, Flask's `template_filter`: its first
  parameter), passed through as it is or sliced (`value[:n]`), not its attributes: a filter
  that marks its own input safe makes every `{{ x|filter }}` unescaped, while the attributes
  of a model instance handed to a filter are the model's fields. A filter's argument and a
  template tag's arguments are written in the template by its authors, and a translation
  (`_(label)`) is a label: neither is data;
* **text rendered outside an escaping template layer**: the parts of a project's own `render`
  (`rendered["text"]` from `link.render(context)`, NetBox custom links rendered by Jinja2), or
  the output of a Jinja2 template from an environment of this module without `autoescape`.

Methods' parameters (framework hooks: a table column's `render(self, value)`, a widget's
`render(self, name, value)`), `self.` attributes, results of arbitrary calls and module
constants are of unknown provenance: not untrusted. Escaping calls end every chain.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass

from bastion.analysis.injection import TRANSLATION_CALLS, Scope, StringBuilding
from bastion.analysis.nodes import is_false, keyword_value
from bastion.context import FileContext

# Request attributes that carry what the client sent (Django, Flask, Starlette, aiohttp).
REQUEST_DATA = frozenset(
    {
        "args",
        "form",
        "values",
        "json",
        "data",
        "cookies",
        "headers",
        "GET",
        "POST",
        "FILES",
        "COOKIES",
        "META",
        "query_params",
        "path_params",
        "match_info",
        "query",
        "body",
    }
)
# Methods that hand back (part of) their receiver's content unchanged.
_PASSTHROUGH_METHODS = frozenset(
    {
        "get",
        "getlist",
        "copy",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "title",
        "capitalize",
        "replace",
        "split",
        "rsplit",
        "splitlines",
        "decode",
        "values",
        "items",
        "dict",
        "format",
        "join",
    }
)
# Builtins and helpers that hand back their argument's content.
_PASSTHROUGH_FUNCTIONS = frozenset({"str", "dumps", "list", "tuple", "sorted", "reversed"})
# Decorators that make a function a template filter (its value is the data being shown) or a
# template tag (its arguments come from the template).
_FILTER_DECORATORS = frozenset({"filter", "template_filter", "stringfilter", "app_template_filter"})
_TAG_DECORATORS = frozenset(
    {"simple_tag", "inclusion_tag", "tag", "assignment_tag", "template_global"}
)
_JINJA_ENVIRONMENTS = frozenset(
    {"jinja2.Environment", "jinja2.environment.Environment", "jinja2.sandbox.SandboxedEnvironment"}
)
_MAX_DEPTH = 4


@dataclass(frozen=True)
class _Function:
    """A function around the value: its parameters and how far they are trusted."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    kind: str  # "plain" | "filter" | "tag" | "method"
    params: frozenset[str]
    first: str  # the first parameter (a filter's value)
    top: bool  # defined at module level (other modules may call it)

    @property
    def name(self) -> str:
        return getattr(self.node, "name", "<lambda>")


def _decorator_name(decorator: ast.expr) -> str:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Name):
        return target.id
    return ""


def _params(node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> frozenset[str]:
    args = node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    names += [a.arg for a in (args.vararg, args.kwarg) if a is not None]
    return frozenset(n for n in names if n not in ("self", "cls", "mcs"))


def functions_around(stack: Sequence[ast.AST]) -> list[_Function]:
    """The functions enclosing the walk's position, outermost first, each with its kind."""
    out: list[_Function] = []
    for index, node in enumerate(stack):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        parent = stack[index - 1] if index else None
        decorators = (
            {_decorator_name(d) for d in node.decorator_list}
            if not isinstance(node, ast.Lambda)
            else set()
        )
        if decorators & _FILTER_DECORATORS:
            kind = "filter"
        elif decorators & _TAG_DECORATORS:
            kind = "tag"
        elif isinstance(parent, ast.ClassDef):
            kind = "method"
        else:
            kind = "plain"
        positional = [*node.args.posonlyargs, *node.args.args]
        first = positional[0].arg if positional else ""
        out.append(_Function(node, kind, _params(node), first, isinstance(parent, ast.Module)))
    return out


class HtmlProvenance:
    """Answers "can this value be seen to come from somewhere untrusted?" for one position of
    the walk (see the module docstring); the answer is a short reason for messages."""

    def __init__(self, ctx: FileContext, strings: StringBuilding) -> None:
        self.ctx = ctx
        self.strings = strings
        self.functions: list[_Function] = []
        self._literal_callers: dict[tuple[int, str], bool] = {}
        self._names: dict[tuple[int, str, bool], str | None] = {}
        # When set, parameters of module-level plain functions count as trusted and are
        # collected in `parameter_hits` instead: (function, parameter, positional index or
        # -1) - a finding that rests on them alone is decided by their callers elsewhere.
        self.trust_parameters = False
        self.parameter_hits: set[tuple[str, str, int]] = set()

    def enter(self) -> None:
        """Point the analysis at the walk's current position (call after `strings.enter`)."""
        self.functions = functions_around(self.ctx.stack)

    # -- one value ----------------------------------------------------------------------------
    def untrusted(self, node: ast.expr, scope: Scope | None, depth: int = 0) -> str | None:
        """Why `node` is untrusted, or None when this file shows no untrusted origin."""
        self._names = {}
        return self._origin(node, scope, depth, whole=True)

    def _origin(self, node: ast.expr, scope: Scope | None, depth: int, whole: bool) -> str | None:
        """`whole`: `node` is the value itself or a passthrough of it, not an attribute read
        from it (which matters for template filters and tags)."""
        if depth > _MAX_DEPTH:
            return None
        if _is_request_data(node):
            return "request data"
        if isinstance(node, ast.Name):
            return self._name_origin(node.id, scope, depth, whole)
        if isinstance(node, ast.Attribute):
            return self._origin(node.value, scope, depth + 1, whole=False)
        if isinstance(node, ast.Subscript):
            rendered = self._rendered_parts(node.value, scope)
            if rendered is not None:
                return rendered
            return self._origin(node.value, scope, depth + 1, whole)
        if isinstance(node, ast.Starred):
            return self._origin(node.value, scope, depth, whole)
        if isinstance(node, ast.FormattedValue):
            return self._origin(node.value, scope, depth, whole)
        if isinstance(node, ast.JoinedStr | ast.Tuple | ast.List | ast.Set):
            parts = node.values if isinstance(node, ast.JoinedStr) else node.elts
            return self._first(parts, scope, depth, whole)
        if isinstance(node, ast.Dict):
            return self._first([v for v in node.values if v is not None], scope, depth, whole)
        if isinstance(node, ast.BinOp):
            return self._first([node.left, node.right], scope, depth, whole)
        if isinstance(node, ast.IfExp):
            return self._first([node.body, node.orelse], scope, depth, whole)
        if isinstance(node, ast.BoolOp):
            return self._first(node.values, scope, depth, whole)
        if isinstance(node, ast.GeneratorExp | ast.ListComp | ast.SetComp):
            return self._origin(node.elt, scope, depth, whole)
        if isinstance(node, ast.Call):
            return self._call_origin(node, scope, depth, whole)
        return None

    def _first(
        self, nodes: Sequence[ast.expr], scope: Scope | None, depth: int, whole: bool
    ) -> str | None:
        for item in nodes:
            found = self._origin(item, scope, depth, whole)
            if found is not None:
                return found
        return None

    def _call_origin(
        self, node: ast.Call, scope: Scope | None, depth: int, whole: bool
    ) -> str | None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if self._unescaped_jinja_render(node, scope):
            return "text rendered by a Jinja2 environment without autoescape"
        if name in TRANSLATION_CALLS:
            return None  # a translated label (`_(display)`), not data
        if isinstance(func, ast.Attribute) and name in _PASSTHROUGH_METHODS:
            found = self._origin(func.value, scope, depth + 1, whole)
            if found is not None:
                return found
            if name in ("format", "join"):
                arguments = [*node.args, *(k.value for k in node.keywords)]
                return self._first(arguments, scope, depth, whole)
            return None
        if name in _PASSTHROUGH_FUNCTIONS and node.args:
            return self._origin(node.args[0], scope, depth + 1, whole)
        return None

    # -- names --------------------------------------------------------------------------------
    def _name_origin(self, name: str, scope: Scope | None, depth: int, whole: bool) -> str | None:
        # each variable is looked at once per question: `html = html + x` chains and loops of
        # assignments would otherwise branch at every step
        key = (id(scope), name, whole)
        if key in self._names:
            return self._names[key]
        self._names[key] = None
        found = self._lookup(name, scope, depth, whole)
        self._names[key] = found
        return found

    def _lookup(self, name: str, scope: Scope | None, depth: int, whole: bool) -> str | None:
        chain = list(reversed(self.functions))
        # closures: a value of an outer function is looked up from that function outwards
        start = next((i for i, f in enumerate(chain) if f.node is scope), 0)
        for function in chain[start:]:
            values = self.strings.locals_of(function.node).values(name)
            if values:
                if any(self._escapes(value) for value, _aug in values):
                    return None  # escaped on some path (`name = escape(name)`): taken care of
                for value, _aug in values:
                    found = self._origin(value, function.node, depth + 1, whole)
                    if found is not None:
                        return found
            if name in function.params:
                if function.kind == "plain" and self._callers_pass_literals(function, name):
                    return None
                if function.kind == "plain" and function.top and self.trust_parameters:
                    self.parameter_hits.add((function.name, name, _position(function, name)))
                    return None
                return _parameter_origin(function, name, whole)
            if values:
                return None
        return None

    def _escapes(self, value: ast.expr) -> bool:
        if not isinstance(value, ast.Call):
            return False
        func = value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        return name.lstrip("_").startswith("render") is False and self.strings.is_safe(value, None)

    def _callers_pass_literals(self, function: _Function, name: str) -> bool:
        """Every call of `function` in this file passes a literal (or a translated literal)
        for parameter `name`: its callers are visible and pass nothing untrusted. A function
        called nowhere here is an entry point whose callers are not visible."""
        key = (id(function.node), name)
        known = self._literal_callers.get(key)
        if known is not None:
            return known
        answer = False
        node = function.node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and self.ctx.tree is not None:
            positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
            index = positional.index(name) if name in positional else -1
            arguments: list[ast.expr | None] = []
            for call in ast.walk(self.ctx.tree):
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id == node.name
                ):
                    unpacked = any(isinstance(a, ast.Starred) for a in call.args) or any(
                        k.arg is None for k in call.keywords
                    )
                    given = call.args[index] if 0 <= index < len(call.args) else None
                    given = given or keyword_value(call, name)
                    # not passed: the default; `*args`/`**kwargs`: not visible
                    arguments.append(call if unpacked else given)
            answer = bool(arguments) and all(
                value is None or _literal_text(value) for value in arguments
            )
        self._literal_callers[key] = answer
        return answer

    # -- rendered text ------------------------------------------------------------------------
    def _rendered_parts(self, base: ast.expr, scope: Scope | None) -> str | None:
        """`rendered["text"]` where `rendered = link.render(context)` (or a helper of this class
        named `_render...`): the pieces a project's own render produced. A Django template's
        render returns one escaped string, never a mapping of parts, so these come from
        another engine, which this file does not show to escape."""
        calls = [base]
        if isinstance(base, ast.Name) and scope is not None:
            calls = [value for value, _aug in self.strings.locals_of(scope).values(base.id)]
        names = {_callee(call) for call in calls}
        if not calls or len(names) != 1:
            return None
        name = names.pop()
        if not name.lstrip("_").startswith("render") or name.startswith("render_to"):
            return None
        return f"text rendered by `{name}()` with no escaping this file can see"

    def _unescaped_jinja_render(self, call: ast.Call, scope: Scope | None) -> bool:
        """`env.from_string(source).render(...)` / `env.get_template(name).render(...)` /
        `jinja2.Template(source).render(...)` where the environment (of this module) or the
        template sets no `autoescape`: Jinja2 escapes nothing by default."""
        func = call.func
        if not (isinstance(func, ast.Attribute) and func.attr == "render"):
            return False
        template = func.value
        if isinstance(template, ast.Name) and scope is not None:
            values = self.strings.locals_of(scope).values(template.id)
            if len(values) != 1:
                return False
            template = values[0][0]
        if not isinstance(template, ast.Call):
            return False
        imports = self.ctx.imports
        qualified = imports.imported_qualname(template.func) or ""
        if qualified in ("jinja2.Template", "jinja2.environment.Template"):
            return _escapes_nothing(template)
        made = template.func
        if not (isinstance(made, ast.Attribute) and made.attr in ("from_string", "get_template")):
            return False
        if imports.instance_of(made.value) not in _JINJA_ENVIRONMENTS:
            return False
        environment = imports.instance_call(made.value)
        return environment is not None and _escapes_nothing(environment)


def _position(function: _Function, name: str) -> int:
    node = function.node
    positional = [a.arg for a in (*node.args.posonlyargs, *node.args.args)]
    return positional.index(name) if name in positional else -1


def literal_argument(node: ast.expr) -> bool:
    """What a caller passes that carries nothing untrusted: a literal, a constant, a
    translated literal."""
    return _literal_text(node)


def _literal_text(node: ast.expr) -> bool:
    """A constant, an ALL_CAPS name or attribute, or a translation of a constant."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Name):
        return node.id.isupper()
    if isinstance(node, ast.Attribute):
        return node.attr.isupper()
    return (
        isinstance(node, ast.Call)
        and _callee(node) in TRANSLATION_CALLS
        and all(isinstance(a, ast.Constant) for a in node.args)
    )


def _callee(node: ast.expr) -> str:
    """The called name of a call (`render` for `link.render(...)`), "" for anything else."""
    if not isinstance(node, ast.Call):
        return ""
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _escapes_nothing(call: ast.Call) -> bool:
    """A Jinja2 environment/template call with `autoescape` absent or False (and no
    `**options` that may set it)."""
    if any(k.arg is None for k in call.keywords):
        return False
    value = keyword_value(call, "autoescape")
    return value is None or is_false(value)


def _parameter_origin(function: _Function, name: str, whole: bool) -> str | None:
    if function.kind == "method":
        return None
    if function.kind == "filter":
        # the filtered value, passed through; not its attributes, nor the filter's argument
        if whole and name == function.first:
            return f"`{name}`, the value of template filter `{function.name}`"
        return None
    if function.kind == "tag":
        return None  # arguments written in the template by its authors
    return f"parameter `{name}` of `{function.name}()`"


def _is_request_data(node: ast.expr) -> bool:
    """`request.GET`, `request.args`, `self.request.POST`: what the client sent."""
    if not (isinstance(node, ast.Attribute) and node.attr in REQUEST_DATA):
        return False
    owner = node.value
    if isinstance(owner, ast.Attribute) and owner.attr == "request":
        return True
    return isinstance(owner, ast.Name) and owner.id in ("request", "req")
