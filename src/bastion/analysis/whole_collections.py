"""Whole collections in responses that the route decorators do not show: Django function
views, DRF views with paging switched off, and response models that wrap a list.

Used by API001 (`rules/api/pagination.py`). A Django *queryset* is lazy: it is read in full
when it is iterated, listed or serialised, so `[c.to_dict() for c in Check.objects.filter(...)]`
in a `JsonResponse` returns every row just as `.all()` in SQLAlchemy does.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass

from bastion.analysis.nodes import argument, string_elements, walk_local
from bastion.analysis.urlconf import route_text
from bastion.analysis.web import module_name_of
from bastion.context import FileContext

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

LIST_MODEL_FACTS = "api_list_models"
DJANGO_VIEW_CANDIDATES = "api001_django_views"
LIST_MODEL_CANDIDATES = "api001_list_models"

_QUERYSET_METHODS = frozenset(
    {
        "all",
        "filter",
        "exclude",
        "order_by",
        "values",
        "values_list",
        "select_related",
        "prefetch_related",
        "annotate",
        "distinct",
        "only",
        "defer",
        "using",
        "reverse",
    }
)
# Calls that bound or reduce a queryset (`[:n]` is a slice, checked apart).
_REDUCING = frozenset(
    {
        "first",
        "last",
        "get",
        "count",
        "exists",
        "aggregate",
        "earliest",
        "latest",
        "paginate",
        "limit",
        "in_bulk",
        "iterator",
    }
)
_JSON_RESPONSES = frozenset({"JsonResponse", "Response", "HttpResponse"})
_PAGES = frozenset({"render", "render_to_response", "TemplateResponse"})
# Calls whose result still holds every item of their first argument.
_CARRIERS = frozenset({"list", "tuple", "sorted", "dumps", "serialize", "dict", "reversed"})
_COUNTING = frozenset({"len", "sum", "any", "all", "max", "min", "bool", "int", "str"})
_VIEW_PARAMS = ("request", "req")


def assignments(func: FunctionNode) -> dict[str, ast.expr]:
    assigned: dict[str, ast.expr] = {}
    for node in walk_local(func.body):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                assigned[target.id] = node.value
    return assigned


def limits_rows(node: ast.AST, calls: frozenset[str]) -> bool:
    """This one node cuts a query's rows: a slice (`qs[:10]`) or a method call named in
    `calls` (`.first()`, `.limit(n)`...)."""
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Slice)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in calls
    )


def _is_bounded(node: ast.AST) -> bool:
    return any(limits_rows(sub, _REDUCING) for sub in ast.walk(node))


def is_queryset(node: ast.expr, assigned: dict[str, ast.expr], depth: int = 0) -> bool:
    """`Model.objects.filter(...)`, `Model.objects.all().order_by(...)`, `user.items_set.all()`
    (or a name assigned one): a Django queryset that nothing sliced or reduced."""
    if depth > 4:
        return False
    if isinstance(node, ast.Name):
        value = assigned.get(node.id)
        return value is not None and is_queryset(value, assigned, depth + 1)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
        return False
    if node.func.attr not in _QUERYSET_METHODS or _is_bounded(node):
        return False
    inner: ast.expr = node.func.value
    while True:
        if isinstance(inner, ast.Attribute):
            if inner.attr == "objects" or inner.attr.endswith("_set"):
                return True
            inner = inner.value
        elif isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
            if inner.func.attr not in _QUERYSET_METHODS:
                return False
            inner = inner.func.value
        elif isinstance(inner, ast.Name) and inner.id in assigned:
            return is_queryset(inner, assigned, depth + 1)
        else:
            return False


def _call_name(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def carries_queryset(node: ast.expr, assigned: dict[str, ast.expr], depth: int = 0) -> bool:
    """Every row of an unbounded queryset ends up in `node`: the queryset itself, a
    comprehension over it, `list(...)`, `json.dumps(...)`, a serializer with `many=True`, or a
    dict/list holding one of these."""
    if depth > 6:
        return False
    if is_queryset(node, assigned):
        return True
    if isinstance(node, ast.Name):
        value = assigned.get(node.id)
        return value is not None and carries_queryset(value, assigned, depth + 1)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        return any(carries_queryset(g.iter, assigned, depth + 1) for g in node.generators)
    if isinstance(node, ast.Dict):
        return any(carries_queryset(v, assigned, depth + 1) for v in node.values)
    if isinstance(node, ast.List | ast.Tuple):
        return any(carries_queryset(e, assigned, depth + 1) for e in node.elts)
    if isinstance(node, ast.Attribute) and node.attr == "data":
        inner = node.value  # `UserSerializer(users, many=True).data`
        if isinstance(inner, ast.Call) and any(
            kw.arg == "many" and isinstance(kw.value, ast.Constant) and kw.value.value is True
            for kw in inner.keywords
        ):
            return bool(inner.args) and carries_queryset(inner.args[0], assigned, depth + 1)
        return False
    if isinstance(node, ast.Call):
        name = _call_name(node)
        if name in _COUNTING:
            return False
        if name in _CARRIERS:
            return any(carries_queryset(a, assigned, depth + 1) for a in node.args)
    return False


@dataclass(frozen=True)
class ViewCollection:
    html: bool  # rendered into a page rather than returned as data
    helper: FunctionNode | None  # the same-module function the response came from


def django_view_methods(func: FunctionNode, ctx: FileContext) -> tuple[str, ...] | None:
    """The HTTP methods of a Django/DRF function view (None when `func` is not one): a
    module-level function of a module that imports Django or DRF, whose first parameter is
    the request. `@api_view([...])`, `@require_POST`, `@require_http_methods([...])` narrow it."""
    # the cheap tests first: most functions are methods, or take no request
    if not isinstance(ctx.parent, ast.Module):
        return None
    params = func.args.posonlyargs or func.args.args
    if not params or params[0].arg not in _VIEW_PARAMS:
        return None
    imports = ctx.imports
    if not (imports.is_imported("django") or imports.is_imported("rest_framework")):
        return None
    methods: tuple[str, ...] = ("GET", "POST")
    for decorator in func.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        name = (imports.qualname(call.func if call else decorator) or "").rpartition(".")[2]
        if name == "require_POST":
            methods = ("POST",)
        elif name in ("require_GET", "require_safe"):
            methods = ("GET",)
        elif name in ("api_view", "require_http_methods"):
            declared = string_elements(call.args[0]) if call and call.args else None
            methods = tuple(m.upper() for m in declared) if declared else ("GET",)
    return methods


def _response_collection(
    value: ast.expr, assigned: dict[str, ast.expr]
) -> tuple[bool, ast.Call | None] | None:
    """(html?, call to a same-module helper) when `value` returns a whole queryset."""
    if not isinstance(value, ast.Call):
        return None
    name = _call_name(value)
    if name in _PAGES:
        context = argument(value, 2, "context")
        if context is not None and carries_queryset(context, assigned):
            return (True, None)
        return None
    if name in _JSON_RESPONSES:
        data = argument(value, 0, "data")
        if data is not None and carries_queryset(data, assigned):
            return (False, None)
        return None
    if isinstance(value.func, ast.Name):
        return (False, value)  # maybe a helper: the caller looks it up
    return None


def view_collection(
    func: FunctionNode, definitions: dict[str, ast.AST], depth: int = 0
) -> ViewCollection | None:
    """How a view (or a same-module helper it returns, one or two levels down) hands back a
    whole queryset, if it does."""
    assigned = assignments(func)
    for ret in walk_local(func.body):
        if not isinstance(ret, ast.Return) or ret.value is None:
            continue
        found = _response_collection(ret.value, assigned)
        if found is None:
            continue
        html, helper_call = found
        if helper_call is None:
            return ViewCollection(html=html, helper=None)
        target = definitions.get(getattr(helper_call.func, "id", ""))
        if depth < 2 and isinstance(target, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = view_collection(target, definitions, depth + 1)
            if inner is not None:
                return ViewCollection(html=inner.html, helper=inner.helper or target)
    return None


# -- response models that wrap a list ----------------------------------------------------------

_LIST_NAMES = frozenset({"list", "List", "Sequence", "set", "Set", "tuple", "Tuple"})
_COUNT_WORDS = ("count", "total", "size")


def _is_list_annotation(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _is_list_annotation(node.left) or _is_list_annotation(node.right)
    if not isinstance(node, ast.Subscript):
        return False
    base = node.value
    name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
    if name in ("Optional", "Annotated"):
        inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
        return _is_list_annotation(inner)
    return name in _LIST_NAMES


def wraps_list(cls: ast.ClassDef) -> bool:
    """`class TagsInList(BaseModel): tags: list[str]`, `ItemsPublic(data: list[Item], count:
    int)`: a model whose fields are a list and at most counters. A model with other fields
    (`User(id, name, roles: list[str])`) is one object, not a collection."""
    fields = [
        s for s in cls.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
    ]
    lists = [f for f in fields if _is_list_annotation(f.annotation)]
    if not lists:
        return False
    for field in fields:
        if field in lists:
            continue
        assert isinstance(field.target, ast.Name)
        if not any(word in field.target.id.lower() for word in _COUNT_WORDS):
            return False
    return True


def resolve_module(paths: list[str], dotted: str) -> list[str]:
    """The files among `paths` whose module name is `dotted`, or ends with `.dotted` (a project
    checked from above its import root)."""
    out = []
    for path in paths:
        name, _ = module_name_of(path)
        if name == dotted or name.endswith("." + dotted):
            out.append(path)
    return out


# -- Django URLconfs: the URL of a function view -----------------------------------------------


def view_urls(
    urlconfs: list[tuple[str, dict[str, object]]], view_path: str, function: str
) -> list[str]:
    """The URLs under which `function` of module file `view_path` is routed in the project's
    URLconfs (`path("api/checks/", views.checks)`), with the prefixes of the `include()`s
    above them (followed three levels up). Empty when none is seen."""
    module, _ = module_name_of(view_path)
    last = module.rpartition(".")[2]
    found: list[str] = []
    for path, fact in urlconfs:
        for route in _routes(fact):
            # `views.items`, `ItemList.as_view()`: the function or class routed
            view = _AS_VIEW.sub("", str(route.get("view") or ""))
            parts = view.split(".")
            if parts[-1] != function:
                continue
            if len(parts) > 1 and parts[-2] != last:
                continue
            for prefix in _include_prefixes(urlconfs, path, 0):
                found.append("/" + (prefix + route_text(str(route.get("route") or ""))).lstrip("/"))
    return sorted(set(found))


def router_urls(
    urlconfs: list[tuple[str, dict[str, object]]], path: str, router: str, prefix: str
) -> list[str]:
    """The URLs of a DRF `router.register(prefix, ...)` made in module file `path`: under each
    `include(router.urls)` of that module (or the module's own place when it uses
    `urlpatterns = router.urls`), below the `include()`s of the modules above it."""
    above = _include_prefixes(urlconfs, path, 0)
    heres = [
        route_text(str(route.get("route") or ""))
        for p, fact in urlconfs
        if p == path
        for route in _routes(fact)
        if str(route.get("include") or "") == f"{router}.urls"
    ] or [""]
    tail = prefix.strip("^$/")
    return sorted({_join(a, h, tail) for a in above for h in heres})


def _join(*parts: str) -> str:
    inner = "/".join(p.strip("/") for p in parts if p.strip("/"))
    return "/" + inner + "/" if inner else "/"


# bounded: `.as_view(` repeated with no `)` at the end rescanned the rest from each copy
_AS_VIEW = re.compile(r"\.as_view\(.{0,512}\)$", re.DOTALL)


def _routes(fact: dict[str, object]) -> Iterator[dict[str, object]]:
    routes = fact.get("routes")
    if isinstance(routes, list):
        for route in routes:
            if isinstance(route, dict):
                yield route


def _include_prefixes(
    urlconfs: list[tuple[str, dict[str, object]]], path: str, depth: int
) -> list[str]:
    module, _ = module_name_of(path)
    prefixes: list[str] = []
    if depth < 3:
        for parent, fact in urlconfs:
            for route in _routes(fact):
                included = str(route.get("include") or "")
                if included and (module == included or module.endswith("." + included)):
                    here = route_text(str(route.get("route") or ""))
                    prefixes += [p + here for p in _include_prefixes(urlconfs, parent, depth + 1)]
    return prefixes or [""]
