"""Helpers for the route-level API-design rules (API003-API011) and ERR004.

Everything here reads one route handler (found by `bastion.analysis.web.routes_of`) and the
module it lives in: path templates and their parameters, words of a path segment, the handler's
parameters and the FastAPI parameter functions (`Depends`, `Query`, `Path`...) they use.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from bastion.analysis.nodes import keyword_value, string_value, walk_local
from bastion.context import FileContext
from bastion.imports import ImportMap

Handler = ast.FunctionDef | ast.AsyncFunctionDef

# `{name}` / `{name:path}` (FastAPI, Starlette) and `<name>` / `<int:name>` (Flask, werkzeug)
# A converter part stops at the next opener (`{` / `<`) too: `{a:{a:{a:...` or `<a(<a(...` with
# no closer otherwise rescanned the rest of the path from every opener (quadratic).
_FASTAPI_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::[^{}]*)?\}")
_FLASK_PARAM = re.compile(r"<(?:[A-Za-z_][A-Za-z0-9_]*(?:\([^)<]*\))?:)?([A-Za-z_][A-Za-z0-9_]*)>")


def path_params(path: str, framework: str) -> list[str]:
    """The parameter names of a path template, in order."""
    pattern = _FLASK_PARAM if framework == "flask" else _FASTAPI_PARAM
    return pattern.findall(path)


def is_param_segment(segment: str) -> bool:
    return "{" in segment or "<" in segment


def segments(path: str) -> list[str]:
    """Non-empty `/`-separated segments of a path template."""
    return [s for s in path.split("/") if s]


def literal_segments(path: str) -> list[str]:
    return [s for s in segments(path) if not is_param_segment(s)]


_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")


def words(segment: str) -> list[str]:
    """`getUsers` -> [get, users]; `create_user` / `create-user` -> [create, user];
    `settings` -> [settings]. Lower-case."""
    out: list[str] = []
    for chunk in re.split(r"[-_.~]+", segment):
        out.extend(w.lower() for w in _CAMEL.findall(chunk))
    return out


# -- FastAPI parameter functions --------------------------------------------------------------

FASTAPI_PARAM_FUNCTIONS = frozenset(
    {"Depends", "Security", "Query", "Path", "Body", "Header", "Cookie", "Form", "File"}
)
_FASTAPI_PARAM_MODULES = ("fastapi", "fastapi.param_functions", "fastapi.params")


def fastapi_param_function(node: ast.expr | None, imports: ImportMap) -> str | None:
    """`Query` for `Query(...)` / `fastapi.Query(...)` / `params.Query(...)`, resolved through
    imports; None for anything else."""
    if not isinstance(node, ast.Call):
        return None
    qualified = imports.qualname(node.func)
    if qualified is None:
        return None
    module, _, name = qualified.rpartition(".")
    if name in FASTAPI_PARAM_FUNCTIONS and module in _FASTAPI_PARAM_MODULES:
        return name
    return None


@dataclass(frozen=True)
class Param:
    name: str
    annotation: ast.expr | None
    default: ast.expr | None
    kind: str  # "positional" | "keyword" | "varargs" | "varkw"

    def annotated_metadata(self) -> list[ast.expr]:
        """The extra arguments of `Annotated[T, x, y]` (else [])."""
        ann = self.annotation
        if isinstance(ann, ast.Subscript) and isinstance(ann.slice, ast.Tuple):
            base = ann.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name == "Annotated":
                return list(ann.slice.elts[1:])
        return []

    def annotated_type(self) -> ast.expr | None:
        """`T` of `Annotated[T, ...]`, else the annotation itself."""
        ann = self.annotation
        if self.annotated_metadata():
            assert isinstance(ann, ast.Subscript) and isinstance(ann.slice, ast.Tuple)
            return ann.slice.elts[0]
        return ann

    def param_functions(self, imports: ImportMap) -> list[tuple[str, ast.Call]]:
        """FastAPI parameter functions used by this parameter, in `Annotated[...]` or as the
        default value."""
        found: list[tuple[str, ast.Call]] = []
        for candidate in (*self.annotated_metadata(), self.default):
            name = fastapi_param_function(candidate, imports)
            if name is not None:
                assert isinstance(candidate, ast.Call)
                found.append((name, candidate))
        return found


def handler_params(func: Handler) -> list[Param]:
    args = func.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += list(args.defaults)
    params = [
        Param(a.arg, a.annotation, d, "positional")
        for a, d in zip(positional, defaults, strict=True)
    ]
    params += [
        Param(a.arg, a.annotation, d, "keyword")
        for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True)
    ]
    if args.vararg is not None:
        params.append(Param(args.vararg.arg, args.vararg.annotation, None, "varargs"))
    if args.kwarg is not None:
        params.append(Param(args.kwarg.arg, args.kwarg.annotation, None, "varkw"))
    return params


def same_expression(a: ast.expr, b: ast.expr) -> bool:
    """Literally the same expression (positions and load/store context ignored)."""
    return ast.dump(a, include_attributes=False) == ast.dump(b, include_attributes=False)


# -- what a handler does ----------------------------------------------------------------------

_HTML_VIEW_CALLS = frozenset(
    {
        "flask.render_template",
        "flask.templating.render_template",
        "flask.render_template_string",
        "flask.redirect",
        "werkzeug.utils.redirect",
        "flask.url_for",
        # a form target that answers with a redirect (post/redirect/get)
        "fastapi.responses.RedirectResponse",
        "starlette.responses.RedirectResponse",
    }
)


def is_html_view(func: Handler, imports: ImportMap) -> bool:
    """A server-rendered page handler (Flask `render_template` / `redirect`, Starlette
    `TemplateResponse`, or a form target answering `RedirectResponse`): HTML forms can only
    send GET and POST, so `/posts/<id>/delete` and singular page paths are the convention
    there, and REST resource rules do not apply."""
    for node in walk_local(func.body):
        if isinstance(node, ast.Call):
            if imports.qualname(node.func) in _HTML_VIEW_CALLS:
                return True
            # Starlette/FastAPI `templates.TemplateResponse(...)`
            if isinstance(node.func, ast.Attribute) and node.func.attr == "TemplateResponse":
                return True
    return False


def docstring_first_word(func: Handler) -> str:
    doc = ast.get_docstring(func)
    if not doc:
        return ""
    first = doc.strip().split(None, 1)
    return first[0].lower().strip(".,:") if first else ""


def decorator_keyword(route_call: ast.Call | None, name: str) -> ast.expr | None:
    return keyword_value(route_call, name) if route_call is not None else None


def route_module_functions(ctx: FileContext) -> dict[str, ast.AST]:
    """Module-level functions and classes by name (for resolving `Depends(get_item)`)."""
    out: dict[str, ast.AST] = {}
    if ctx.tree is None:
        return out
    for stmt in ctx.tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out[stmt.name] = stmt
    return out


def status_code_value(node: ast.expr | None) -> int | None:
    """201 for `201`, `status.HTTP_201_CREATED`, `HTTPStatus.CREATED` (by its number-bearing
    name) when literal enough to read; None otherwise."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Attribute):
        match = re.match(r"HTTP_(\d{3})", node.attr)
        if match:
            return int(match.group(1))
        named = {"OK": 200, "CREATED": 201, "ACCEPTED": 202, "NO_CONTENT": 204}
        if node.attr in named:
            return named[node.attr]
    return None


def string_of(node: ast.expr | None) -> str | None:
    return string_value(node)
