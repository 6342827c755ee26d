"""API001-API002: list endpoints without pagination, page sizes without a ceiling."""

from __future__ import annotations

import ast
import re
from dataclasses import replace

from bastion.analysis.api_design import handler_params, words
from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.function_text import function_text
from bastion.analysis.nodes import keyword_value, string_value, walk_local
from bastion.analysis.urlconf import URLCONF_FACTS
from bastion.analysis.web import (
    DJANGO_SETTINGS_FACTS,
    DRF_LIST_VIEWS,
    WEB_FACTS,
    Route,
    WebProject,
    base_names,
    method_view_of,
    module_name_of,
    parameter_names,
    routes_of,
)
from bastion.analysis.whole_collections import (
    DJANGO_VIEW_CANDIDATES,
    LIST_MODEL_CANDIDATES,
    LIST_MODEL_FACTS,
    django_view_methods,
    limits_rows,
    resolve_module,
    router_urls,
    view_collection,
    view_urls,
    wraps_list,
)
from bastion.context import FileContext, ProjectContext
from bastion.findings import Finding, Severity
from bastion.function_index import CHILD_FIELDS, FunctionIndex, child_fields
from bastion.rule import Example, FactCollector, Rule

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

# Parameter names that page through a collection.
PAGINATION_PARAMS = frozenset(
    {
        "limit",
        "offset",
        "skip",
        "page",
        "size",
        "per_page",
        "perpage",
        "page_size",
        "pagesize",
        "page_number",
        "page_token",
        "next_token",
        "cursor",
        "after",
        "before",
        "start",
        "first",
        "last",
        "take",
        "max_results",
        "pagination",
        "paginator",
        "params",  # fastapi-pagination's `params: Params = Depends()`
    }
)
# Parameters that set how many items one page holds (API002).
SIZE_PARAMS = frozenset(
    {"limit", "size", "per_page", "perpage", "page_size", "pagesize", "take", "max_results"}
)
# Names that are page sizes only beside other paging (`page`, `offset`...) or on a list route.
AMBIGUOUS_SIZE_PARAMS = frozenset({"size", "take"})
_PAGE_COMPANIONS = frozenset({"page", "offset", "skip", "cursor", "page_number", "start"})
_QUERY_METHODS = frozenset(
    {
        "all",
        "filter",
        "filter_by",
        "scalars",
        "execute",
        "query",
        "order_by",
        "where",
        "select_related",
        "prefetch_related",
        "exclude",
        "values",
        "values_list",
        "find",
    }
)
_LIST_TYPES = frozenset(
    {
        "list",
        "builtins.list",
        "typing.List",
        "typing.Sequence",
        "collections.abc.Sequence",
    }
)
_BOUND_KEYWORDS = ("le", "lt", "max_value", "maximum")
_DRF_PAGINATION = {
    "rest_framework.pagination.PageNumberPagination": ("page_size_query_param", "max_page_size"),
    "rest_framework.pagination.LimitOffsetPagination": ("", "max_limit"),
}
_DRF_PAGINATION_NAMES = last_parts(_DRF_PAGINATION)


# -- what a handler returns ------------------------------------------------------------------


def _is_list_type(node: ast.expr | None, ctx: FileContext) -> bool:
    """`list[User]`, `List[User]`, `Sequence[User]` (also inside `Optional`/`Annotated`)."""
    if node is None:
        return False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return False
    if isinstance(node, ast.Subscript):
        base = ctx.imports.qualname(node.value)
        if base in _LIST_TYPES:
            return True
        if base in ("typing.Annotated", "typing_extensions.Annotated"):
            first = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
            return _is_list_type(first, ctx)
    return False


def _is_query_result(node: ast.expr, assigned: dict[str, ast.expr], depth: int = 0) -> bool:
    """An expression that materialises a whole query: `q.all()`, `cur.fetchall()`,
    `session.scalars(stmt).all()`, `list(Model.objects.filter(...))`, or a name assigned one."""
    if depth > 4:
        return False
    if isinstance(node, ast.Name) and node.id in assigned:
        return _is_query_result(assigned[node.id], assigned, depth + 1)
    if isinstance(node, ast.Await):
        return _is_query_result(node.value, assigned, depth + 1)
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Attribute) and not node.args and not node.keywords:
        if func.attr == "fetchall":
            return True
        if func.attr == "all" and isinstance(func.value, ast.Call | ast.Attribute | ast.Name):
            return not _is_bounded_chain(func.value, assigned)
    if isinstance(func, ast.Name) and func.id == "list" and len(node.args) == 1:
        arg = node.args[0]
        if isinstance(arg, ast.Name) and arg.id in assigned:
            arg = assigned[arg.id]
        if isinstance(arg, ast.Await):
            arg = arg.value
        if (
            isinstance(arg, ast.Call)
            and isinstance(arg.func, ast.Attribute)
            and arg.func.attr in _QUERY_METHODS
        ):
            return not _is_bounded_chain(arg, assigned)
    return False


_BOUNDING_CALLS = frozenset(
    {
        "limit",
        "paginate",
        "slice",
        "first",
        "one",
        "one_or_none",
        "get",
        "fetchmany",
        "scalar",
        # an aggregate per group (`count(...)` grouped by a column): one row per group value
        "group_by",
    }
)


def _is_sized_to_list(node: ast.AST) -> bool:
    """Motor/Beanie `cursor.to_list(length=100)` / `to_list(100)`: at most that many."""
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "to_list"
    ):
        return False
    size = node.args[0] if node.args else keyword_value(node, "length")
    return isinstance(size, ast.Constant) and isinstance(size.value, int) and size.value > 0


def _is_bounded_chain(
    node: ast.expr, assigned: dict[str, ast.expr] | None = None, depth: int = 0
) -> bool:
    """A query that already limits its size: `.limit(n)`, `[:n]`, `.paginate(...)`, also
    through names assigned earlier in the handler (`result = await s.scalars(q.limit(10))`)."""
    if depth > 4:
        return False
    for sub in ast.walk(node):
        if limits_rows(sub, _BOUNDING_CALLS) or _is_sized_to_list(sub):
            return True
        if (
            assigned is not None
            and isinstance(sub, ast.Name)
            and sub.id in assigned
            and _is_bounded_chain(assigned[sub.id], assigned, depth + 1)
        ):
            return True
    return False


def _returned_collection(handler: FunctionNode, ctx: FileContext) -> ast.expr | None:
    """The `return` value that is a whole query result, also inside a comprehension or a
    `jsonify(...)`/`{"items": ...}` wrapper. Purely structural, so kept in the function's
    shared index: the collector of collection functions and API001 ask about the same ones."""
    index = ctx.function_index(handler)
    return index.memo(
        "api.returned_collection", lambda: _find_returned_collection(handler, index, ctx)
    )


# Every whole query `_is_query_result` recognises is a call spelled `fetchall`, `all` or
# `list`, in the function's own lines: a function whose text has neither `all` nor `list`
# returns none (see `function_text`).
_COLLECTION_WORDS = ("all", "list")


def _find_returned_collection(
    handler: FunctionNode, index: FunctionIndex, ctx: FileContext
) -> ast.expr | None:
    text = function_text(handler, ctx)
    if text is not None and not any(word in text for word in _COLLECTION_WORDS):
        return None
    returns = [ret for ret in index.returns if ret.value is not None]
    if not returns:
        return None
    assigned = _assigned(index)
    filled: set[str] | None = None  # read only when a bare name is returned
    for ret in returns:
        value = ret.value
        assert value is not None
        for sub in _returned_parts(value):
            if _is_query_result(sub, assigned):
                return sub
            if isinstance(sub, ast.Name):
                if filled is None:
                    filled = _names_filled_from_queries(index, assigned)
                if sub.id in filled:
                    return sub
    return None


def _names_filled_from_queries(index: FunctionIndex, assigned: dict[str, ast.expr]) -> set[str]:
    """`out = []; for row in Model.query.all(): out.append(...)`: `out` holds the whole query."""
    filled: set[str] = set()
    for node in index.loops:
        if not _is_query_result(node.iter, assigned):
            continue
        for inner in walk_local(node.body):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Attribute)
                and inner.func.attr in ("append", "extend")
                and isinstance(inner.func.value, ast.Name)
            ):
                filled.add(inner.func.value.id)
    return filled


_AGGREGATES = frozenset({"len", "sum", "any", "all", "max", "min", "bool", "int", "str", "float"})
# Server-rendered pages: a template listing rows is not an API collection.
_TEMPLATES = frozenset({"render_template", "render", "TemplateResponse", "render_to_response"})


def _returned_parts(value: ast.expr) -> list[ast.expr]:
    """The sub-expressions whose items end up in the response: not those only counted or
    indexed (`len(q.all())`, `q.all()[0]`), nor the targets of a lambda."""
    out: list[ast.expr] = []
    stack: list[ast.AST] = [value]
    pop, push, AST, expr = stack.pop, stack.append, ast.AST, ast.expr
    while stack:
        node = pop()
        kind = type(node)
        if kind is ast.Call:
            func = node.func  # type: ignore[attr-defined]
            name = func.id if isinstance(func, ast.Name) else ""
            called = func.attr if isinstance(func, ast.Attribute) else name
            if name in _AGGREGATES or called in _TEMPLATES:
                continue
        elif kind is ast.Subscript:
            if not isinstance(node.slice, ast.Slice):  # type: ignore[attr-defined]
                continue
        elif kind is ast.Lambda:
            continue
        if isinstance(node, expr):
            out.append(node)
        # `ast.iter_child_nodes(node)`, in its order, less the `Load`/`Store` markers (no
        # children, never an expression) and without its generators
        fields = CHILD_FIELDS.get(kind)
        if fields is None:
            fields = child_fields(kind)
        for field in fields:
            child = getattr(node, field, None)
            if type(child) is list:
                for item in child:
                    if isinstance(item, AST):
                        push(item)
            elif isinstance(child, AST):
                push(child)
    return out


# -- how a handler pages -----------------------------------------------------------------------


def _mentions_pagination(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        name = ""
        if isinstance(sub, ast.Name):
            name = sub.id
        elif isinstance(sub, ast.Attribute):
            name = sub.attr
        lowered = name.lower()
        if "pagin" in lowered or lowered == "page" or lowered.endswith(("page", "params")):
            return True
    return False


def _local_definitions(ctx: FileContext) -> dict[str, ast.AST]:
    tree = ctx.tree
    if tree is None:
        return {}
    return {
        node.name: node
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
    }


def _defines_pagination(definition: ast.AST) -> bool:
    """A dependency function or a parameter model with pagination fields."""
    if isinstance(definition, ast.FunctionDef | ast.AsyncFunctionDef):
        return any(p.lower() in PAGINATION_PARAMS for p in parameter_names(definition))
    if isinstance(definition, ast.ClassDef):
        for stmt in definition.body:
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.target.id.lower() in PAGINATION_PARAMS
            ):
                return True
            if (
                isinstance(stmt, ast.FunctionDef)
                and stmt.name == "__init__"
                and _defines_pagination(stmt)
            ):
                return True
    return False


def _annotations_and_defaults(handler: FunctionNode) -> list[ast.expr]:
    args = handler.args
    out: list[ast.expr] = [a.annotation for a in (*args.args, *args.kwonlyargs) if a.annotation]
    out += [d for d in (*args.defaults, *args.kw_defaults) if d is not None]
    return out


def _looks_up_listed_ids(handler: FunctionNode, ctx: FileContext) -> bool:
    """`ids: list[str] = Query(...)`: the route returns the items the client named, as many
    as it asked for (dispatch's `GET /services/externalids`)."""
    for param in handler_params(handler):
        if not any(name == "Query" for name, _ in param.param_functions(ctx.imports)):
            continue
        annotation = param.annotated_type()
        if isinstance(annotation, ast.Subscript):
            base = annotation.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name in ("list", "List", "Sequence", "set", "Set"):
                return True
    return False


def _takes_pagination(handler: FunctionNode, ctx: FileContext) -> bool:
    names = [p.lower() for p in parameter_names(handler)]
    if any(n in PAGINATION_PARAMS or "page" in n or "cursor" in n for n in names):
        return True
    if handler.args.kwarg is not None:
        return True  # `**params`: anything may come in
    definitions = _local_definitions(ctx)
    for expr in _annotations_and_defaults(handler):
        if _mentions_pagination(expr):
            return True
        for sub in ast.walk(expr):
            if (
                isinstance(sub, ast.Name)
                and sub.id in definitions
                and _defines_pagination(definitions[sub.id])
            ):
                return True
            qualified = ctx.imports.qualname(sub) if isinstance(sub, ast.expr) else None
            if qualified and qualified.startswith("fastapi_pagination"):
                return True
    return _pages_in_body(handler, ctx)


# A view named for one of these builds a report, an export or statistics: a document or an
# aggregate of every row, by design.
_DOCUMENT_WORDS = frozenset({"report", "export", "statistics", "stats"})


# Collections that hang off one parent and stay small by nature: a challenge's tags, a case's
# participants (bench/ecosystem, issue #15) - unlike a project's bills or an article's comments.
_SMALL_CHILDREN = frozenset(
    {"tags", "topics", "labels", "categories", "participants", "roles", "permissions", "hints"}
)
# Decorators that keep a view to administrators: its client is the admin UI.
_ADMIN_ONLY = frozenset(
    {"admins_only", "admin_only", "admin_required", "staff_member_required", "superuser_required"}
)
_PATH_PARAM = re.compile(r"[{<][^}>]{1,100}[}>]")


def _one_parents_small_children(handler: FunctionNode, path: str | None) -> bool:
    """One parent's children, small by construction (issue #15, measured on CTFd and
    dispatch): a path that names a small-by-nature collection under a parameter
    (`/{case_id}/participants`), or an admin-only view of the rows of the one parent its
    `..._id` parameter names (CTFd's `ChallengeFiles.get(challenge_id)`)."""
    if path:
        parts = path.strip("/").split("/")
        after = [i for i, part in enumerate(parts) if _PATH_PARAM.fullmatch(part)]
        if after and _SMALL_CHILDREN & set(parts[after[0] + 1 :]):
            return True
    decorators = {(d.func if isinstance(d, ast.Call) else d) for d in handler.decorator_list}
    admin = any(
        (d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", "")) in _ADMIN_ONLY
        for d in decorators
    )
    return admin and any(arg.arg.endswith("_id") for arg in handler.args.args)


_ONE_ROW = frozenset({"first", "last", "get", "count", "exists", "aggregate", "earliest", "latest"})


def _user_scoped(func: FunctionNode, ctx: FileContext) -> bool:
    """The page lists the requesting user's own records (`filter(user=request.user)`,
    `users_assigned=request.user.id`): what grows with use. Measured on real server-rendered
    applications (bench/ecosystem), the other whole-queryset pages were reference and
    configuration tables (`Tool_Type.objects.all()`) and one parent's settings, small by
    construction: 2 of 23 were real problems, both lists of the user's own records."""
    reduced: set[int] = set()  # `filter(user=request.user).first()`: one row, not a list
    calls = ctx.function_index(func).calls
    for node in calls:
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in _ONE_ROW
        ):
            chain: ast.expr = node.func.value
            while isinstance(chain, ast.Call) and isinstance(chain.func, ast.Attribute):
                reduced.add(id(chain))
                chain = chain.func.value
    for node in calls:
        if not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in ("filter", "exclude") or id(node) in reduced:
            continue
        for value in [*node.args, *(kw.value for kw in node.keywords)]:
            for sub in ast.walk(value):
                if (
                    isinstance(sub, ast.Attribute)
                    and sub.attr == "user"
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id in ("request", "req")
                ):
                    return True
    return False


def _page_helper(name: str, call: ast.Call) -> bool:
    """`get_page_items(request, findings, 25)`: a project's own paging helper - `page` in its
    name, and a page size among its arguments."""
    return "page" in words(name) and any(
        isinstance(a, ast.Constant) and type(a.value) is int and a.value > 1 for a in call.args
    )


def _pages_in_body(handler: FunctionNode, ctx: FileContext) -> bool:
    """Flask and friends read paging from the query string or call a paginator:
    `request.args.get("page")`, `query.paginate(...)`, `paginate(...)`,
    `get_page_items(request, qs, 25)`."""
    for node in ctx.function_index(handler).nodes:
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if "paginat" in name.lower() or _page_helper(name, node):
                return True
            if name in ("get", "getlist", "get_argument", "get_query_argument") and node.args:
                key = string_value(node.args[0])
                if key is not None and key.lower() in PAGINATION_PARAMS:
                    return True
        elif isinstance(node, ast.Subscript):
            key = string_value(node.slice)
            if key is not None and key.lower() in PAGINATION_PARAMS:
                return True
        elif isinstance(node, ast.Name) and "paginat" in node.id.lower():
            return True
    return False


def _assigned(index: FunctionIndex) -> dict[str, ast.expr]:
    """Name -> the value of its last `name = value` in the function (read-only, shared)."""
    return index.memo(
        "api.assigned",
        lambda: {name: stmts[-1].value for name, stmts in index.single_assignments.items()},
    )


def _handler_assignments(handler: FunctionNode, ctx: FileContext) -> dict[str, ast.expr]:
    return _assigned(ctx.function_index(handler))


def _returns_bounded(handler: FunctionNode, ctx: FileContext) -> bool:
    """Some `return` hands back a query that is already limited (`.limit(10).all()`)."""
    index = ctx.function_index(handler)
    return index.memo(
        "api.returns_bounded",
        lambda: any(
            ret.value is not None and _is_bounded_chain(ret.value, _assigned(index))
            for ret in index.returns
        ),
    )


_DATA_WORDS = ("db", "session", "conn", "repo", "database", "collection", "uow", "cursor")
_DATA_TYPES = ("Session", "Database", "Repository", "Connection", "Collection", "Engine")


def _touches_data(handler: FunctionNode, ctx: FileContext) -> bool:
    """The handler reads a data store: it takes a db/session/repository, or queries one in
    its body. A route typed `list[...]` that only returns an in-memory or configuration list
    (available models, enum values) is not what pagination is about."""
    args = handler.args
    for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
        name = arg.arg.lower()
        if any(word in name for word in _DATA_WORDS):
            return True
        if arg.annotation is not None and any(
            word in ast.unparse(arg.annotation) for word in _DATA_TYPES
        ):
            return True
    for node in ctx.function_index(handler).nodes:
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _QUERY_METHODS | {"fetchall"}:
                return True
            if isinstance(func, ast.Name) and func.id == "select":
                return True
        elif isinstance(node, ast.Attribute) and node.attr in ("objects", "query"):
            return True
    return False


def _returns_collection(handler: FunctionNode, route: Route | None, ctx: FileContext) -> bool:
    if _returns_bounded(handler, ctx):
        return False
    if _returned_collection(handler, ctx) is not None:
        return True
    declared = handler.returns
    if route is not None and route.call is not None:
        response_model = keyword_value(route.call, "response_model")
        if response_model is not None:
            declared = response_model
    return _is_list_type(declared, ctx) and _touches_data(handler, ctx)


def _scoped_to_parent(node: ast.ClassDef) -> bool:
    """A nested view: it lists what belongs to one parent named in its URL (its queryset reads
    `self.kwargs["project_pk"]`, or a base class is a `Nested...ViewSet`). Paging switched off
    there is a choice about a small, bounded list (an environment's webhooks or API keys, a
    project's integrations), measured on real applications (bench/ecosystem)."""
    for base in node.bases:
        name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
        if isinstance(base, ast.Subscript):
            value = base.value
            name = value.attr if isinstance(value, ast.Attribute) else getattr(value, "id", "")
        if name.startswith("Nested"):
            return True
    return any(
        isinstance(sub, ast.Attribute)
        and sub.attr == "kwargs"
        and isinstance(sub.value, ast.Name)
        and sub.value.id == "self"
        for sub in ast.walk(node)
    )


class MissingPagination(Rule):
    """Flags GET endpoints that return a whole collection and take no pagination parameter:

    - FastAPI routes (app or `APIRouter`) and Flask routes (app or blueprint) that return a
      whole query (`.all()`, `.fetchall()`, `scalars(...).all()`, `list(<query>)`), or whose
      `response_model` or return annotation is `list[...]`/`List[...]` while the handler reads
      a data store (takes a db/session/repository, or queries in its body: an in-memory or
      configuration list is left alone); and Flask `MethodView.get` methods that return a
      whole query;
    - Django REST Framework `ListAPIView`, `ListCreateAPIView`, `ModelViewSet`,
      `ReadOnlyModelViewSet` (and `ListModelMixin`) subclasses - named by their URL when a
      router registration (`router.register("articles", ArticleViewSet)`) or a URLconf
      route (`Tags.as_view()`) of the project serves them - with no `pagination_class`
      (views that write their own `list`/`get` are left alone), and those that set
      `pagination_class = None` over a queryset nothing bounds: paging explicitly off is still
      unbounded, and the message says so;
    - routes whose response model wraps a list (`class TagsInList(BaseModel): tags:
      list[str]`, at most beside counters) while the handler reads a data store - the model of
      the same module, or one imported from a module of the project (in a single-file run,
      where it cannot be seen, nothing is reported); flask-restx/flask-restful `Resource.get`;
    - Django and DRF function views (`def items(request)`, `@api_view`) that put a whole
      queryset (`Model.objects.all()/filter()`, iterated, listed or serialised with
      `many=True`) into a `JsonResponse`/`Response` - also through a same-module helper they
      return - reported only when a URLconf of the project routes them, and named by their
      URL; views that `render(...)` a whole queryset into a page are reported as info, and so
      are Django `ListView`s without `paginate_by` (bases that other classes of the module
      extend are left to those);
    - aiohttp handlers (`async def students(request)`) that return or render what a function
      of another module returns, when a route table of the project registers them for GET
      (`app.router.add_get/add_route("GET", ...)`, `web.get(...)`) and that function returns a
      whole query (`fetchall()`, `.all()`): one level through the project's facts, named by
      the registered URL; pages are reported as info.

    Paging is recognised from parameters (`limit`/`offset`, `skip`, `page`/`size`/`per_page`,
    `cursor`, ...), fastapi-pagination (`Page`, `Params`, `paginate`), a same-module dependency
    or parameter model with such fields, and, for Flask, `request.args.get("page")` or
    `.paginate(...)` in the body. A query already bounded (`.limit(n)`, `[:n]`) is not flagged.

    DRF views are paginated globally by `REST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"]` in the
    settings. When bastion checks a whole project it keeps a DRF finding only if it saw a Django
    settings module (one that sets `INSTALLED_APPS` or `REST_FRAMEWORK`) and none of the
    settings modules sets `DEFAULT_PAGINATION_CLASS`; when it checks single files, where the
    settings cannot be seen, DRF findings are dropped rather than guessed.

    Left alone, as measured on real applications (bench/ecosystem): nested views that switch
    paging off (a `Nested...ViewSet` base, or a queryset that reads `self.kwargs`: one
    parent's webhooks, keys or integrations); views paged by the project's own helper
    (`get_page_items(request, qs, 25)`); views named for a report, an export or statistics
    (`product_report`, `export_templates`, `ChallengeSolveStatistics`, or under a
    `statistics/` package), which cover every row by design; routes that look up the ids the
    client lists (`ids: list[str] = Query(...)`); and server-rendered pages other than lists
    of the requesting user's own records (`filter(user=request.user)`) - the others were
    reference and configuration tables, small by construction (2 of 23 such pages were real
    problems); one parent's children of a small-by-nature kind (`/{case_id}/participants`,
    tags, topics, labels, categories, roles, permissions, hints) and admin-only views of the
    rows of the one parent their `..._id` parameter names (CTFd's `ChallengeFiles`). Other
    lists of one parent's children cannot be told apart from growing ones (a project's bills,
    an article's comments) and are still reported.

    Severity: info (it was a warning). Measured on 15 application repositories
    (bench/ecosystem), 4 of the 5 findings left after narrowing are right (80%): the one
    wrong is a DRF viewset with `pagination_class = None` over the requesting user's
    projects, which issue #16 asks to keep reporting (explicitly off is still unbounded).
    Below the warning bar: treat a finding as a question (how large can this list grow?)."""

    id = "API001"
    needs = frozenset(  # the facts its review reads
        {
            "web",
            "django_settings",
            "django_urlconf",
            "api_list_models",
            "api001_drf_views",
            "api001_collection_functions",
            "api001_aiohttp_views",
            "api001_list_models",
            "api001_django_views",
        }
    )
    name = "missing-pagination"
    # info, not warning: below the warning bar even after narrowing (see the docstring)
    severity = Severity.INFO
    precision = "medium"
    precision_measured = (
        "4 of 5 judged findings right (80%) on 15 application repositories, bench/ecosystem "
        "(52 of the 61 findings of its widening judged, most of them gone after narrowing), too "
        "few findings to be sure of the band; info since then (it was a warning)"
    )
    summary = "GET endpoint returns a whole collection without pagination"
    why = (
        "A list endpoint that returns every row works in development and falls over in "
        "production: as the table grows, each call loads it all into memory, serialises it and "
        "ships it, and one client can take the service down. Paginate every collection from the "
        "start (limit/offset, page/size or cursors) - adding it later breaks the clients."
    )
    hint = (
        "Take `limit`/`offset` (or `page`/`size`, or a cursor) with a default and a maximum, "
        "e.g. `limit: int = Query(50, ge=1, le=100)`, and apply them to the query."
    )
    requires = (
        "get",
        "route",
        "request",
        "ListView",
        "ListAPIView",
        "ListCreateAPIView",
        "ModelViewSet",
        "ListModelMixin",
    )
    bad = [
        "from fastapi import APIRouter\n\nrouter = APIRouter(prefix='/api')\n\n"
        "@router.get('/users', response_model=list[User])\n"
        "def list_users(db: Session = Depends(get_db)):\n    return db.query(User).all()\n",
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/orders')\n"
        "async def orders(session: AsyncSession = Depends(get_session)) -> list[Order]:\n"
        "    result = await session.scalars(select(Order))\n    return result.all()\n",
        "from flask import Blueprint, jsonify\n\nbp = Blueprint('users', __name__)\n\n"
        "@bp.route('/users')\ndef users():\n"
        "    return jsonify([u.to_dict() for u in User.query.all()])\n",
        "from flask.views import MethodView\n\nclass Users(MethodView):\n"
        "    def get(self):\n        return [u.to_dict() for u in User.query.all()]\n",
        "from rest_framework import viewsets\n\nclass UserViewSet(viewsets.ModelViewSet):\n"
        "    queryset = User.objects.all()\n    serializer_class = UserSerializer\n",
    ]
    good = [
        "from fastapi import FastAPI, Query\n\napp = FastAPI()\n\n"
        "@app.get('/users', response_model=list[User])\n"
        "def users(limit: int = Query(50, le=100), offset: int = 0):\n"
        "    return db.query(User).offset(offset).limit(limit).all()\n",
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/users/{user_id}')\n"
        "def user(user_id: int) -> User:\n    return db.get(User, user_id)\n",
        "from fastapi import FastAPI\nfrom fastapi_pagination import Page, paginate\n\n"
        "app = FastAPI()\n\n@app.get('/users', response_model=Page[User])\n"
        "def users():\n    return paginate(db.query(User).all())\n",
        "from flask import Flask, request\n\napp = Flask(__name__)\n\n@app.route('/users')\n"
        "def users():\n    page = request.args.get('page', 1, type=int)\n"
        "    return User.query.paginate(page=page, per_page=20).items\n",
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.post('/users/bulk')\n"
        "def create(users: list[User]) -> list[User]:\n    return db.query(User).all()\n",
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/top')\n"
        "def top() -> list[User]:\n    return db.query(User).limit(10).all()\n",
        "from rest_framework import generics\n\nclass Users(generics.ListAPIView):\n"
        "    queryset = User.objects.all()\n    pagination_class = StandardPagination\n",
        # one parent's small-by-nature children, and an admin view of one parent's rows
        # (dispatch, CTFd: issue #15)
        """
        from fastapi import APIRouter

        router = APIRouter()

        @router.get("/{case_id}/participants/minimal", response_model=list[Participant])
        def participants(case_id: int):
            return db.query(Participant).filter_by(case_id=case_id).all()
        """,
        """
        from flask_restx import Resource

        class ChallengeFiles(Resource):
            @admins_only
            def get(self, challenge_id):
                return [f.to_dict() for f in Files.query.filter_by(challenge_id=challenge_id).all()]
        """,
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._answered: FunctionNode | None = None  # the handler already decided by a route

    def _check(self, handler: FunctionNode, route: Route | None) -> bool:
        if not _returns_collection(handler, route, self.ctx):
            return False
        return not _takes_pagination(handler, self.ctx)

    def visit_route(self, handler: FunctionNode, route: Route) -> None:
        if handler is self._answered or "GET" not in route.methods:
            return  # one finding per handler, at its first GET route that returns a list
        if _looks_up_listed_ids(handler, self.ctx) or _one_parents_small_children(
            handler, route.path
        ):
            return
        if self._check(handler, route):
            self.report(route.node, f"`GET {route.path or '/'}` returns a list without pagination")
            self._answered = handler
        elif self._list_model_candidate(handler, route):
            self._answered = handler

    def visit_FunctionDef(self, node: FunctionNode) -> None:
        """Views that are not decorator routes (their routes went to `visit_route` first)."""
        if node is self._answered:
            return
        # Django and aiohttp views are module-level functions: the routes only matter there
        if (
            isinstance(self.ctx.parent, ast.Module)
            and not routes_of(node, self.ctx)
            and (self._django_view(node) or self._aiohttp_view(node))
        ):
            return
        if node.name == "get":
            view = method_view_of(node, self.ctx)
            if (
                view is not None
                and not _DOCUMENT_WORDS & {*words(view.name), *self.ctx.path.split("/")[:-1]}
                and not _one_parents_small_children(node, None)
                and _returned_collection(node, self.ctx) is not None
                and not _takes_pagination(node, self.ctx)
            ):
                self.report(node, f"`{view.name}.get` returns a whole query without pagination")

    visit_AsyncFunctionDef = visit_FunctionDef

    def _list_model_candidate(self, node: FunctionNode, route: Route) -> bool:
        """`response_model=TagsInList` where `TagsInList` wraps a list: decided here for a
        model of this module, in `review` (from the `api_list_models` facts) for an imported
        one - in single-file runs, where the model cannot be seen, nothing is reported."""
        declared = keyword_value(route.call, "response_model") if route.call else None
        declared = declared if declared is not None else node.returns
        if not isinstance(declared, ast.Name) or not _touches_data(node, self.ctx):
            return False
        if _returns_bounded(node, self.ctx) or _takes_pagination(node, self.ctx):
            return False
        local = _local_definitions(self.ctx).get(declared.id)
        qualified = self.ctx.imports.imported_qualname(declared)
        if isinstance(local, ast.ClassDef):
            if not wraps_list(local):
                return False
        elif qualified is None or "." not in qualified:
            return False
        else:
            self.ctx.facts.setdefault(LIST_MODEL_CANDIDATES, []).append(
                {"line": getattr(route.node, "lineno", node.lineno), "model": qualified}
            )
        self.report(
            route.node,
            f"`GET {route.path or '/'}` returns a list (in `{declared.id}`) without pagination",
        )
        return True

    def _django_view(self, node: FunctionNode) -> bool:
        """A Django/DRF function view that serialises or renders a whole queryset."""
        methods = django_view_methods(node, self.ctx)
        if methods is None or "GET" not in methods or self.ctx.is_test_file:
            return False
        if _DOCUMENT_WORDS & set(words(node.name)):
            return False  # `product_report`, `export_templates`: everything, by design
        found = view_collection(node, _local_definitions(self.ctx))
        if found is None or _takes_pagination(node, self.ctx):
            return False
        if found.helper is not None and _pages_in_body(found.helper, self.ctx):
            return False
        if found.html and not _user_scoped(found.helper or node, self.ctx):
            return False
        self.ctx.facts.setdefault(DJANGO_VIEW_CANDIDATES, []).append(
            {"line": node.lineno, "function": node.name}
        )
        if found.html:
            self.report_at(
                node.lineno,
                node.col_offset + 1,
                f"`{node.name}` (Django view) renders a whole queryset into a page without "
                "pagination",
                severity=Severity.INFO,
                hint="Page the list with `django.core.paginator.Paginator` (or a `ListView` "
                "with `paginate_by`).",
            )
        else:
            self.report_at(
                node.lineno,
                node.col_offset + 1,
                f"`{node.name}` (Django view) returns a whole queryset without pagination",
            )
        return True

    def _django_list_view(self, node: ast.ClassDef) -> None:
        """A Django `ListView` without `paginate_by` renders every object of its queryset
        into the page (info). Base classes other classes of the module extend are left to
        their subclasses, which may set `paginate_by`."""
        if self.ctx.is_test_file or self.ctx.tree is None:
            return
        names = {
            t.id
            for stmt in node.body
            for t in (
                stmt.targets
                if isinstance(stmt, ast.Assign)
                else [stmt.target]
                if isinstance(stmt, ast.AnnAssign)
                else []
            )
            if isinstance(t, ast.Name)
        }
        methods = {s.name for s in node.body if isinstance(s, ast.FunctionDef)}
        if names & {"paginate_by", "paginator_class"} or methods & {"get_paginate_by", "get"}:
            return
        for stmt in node.body:
            value = stmt.value if isinstance(stmt, ast.Assign) else None
            if value is not None and _is_bounded_chain(value):
                return  # `queryset = Post.objects.all()[:10]`
        extended = any(
            isinstance(other, ast.ClassDef)
            and any(isinstance(b, ast.Name) and b.id == node.name for b in other.bases)
            for other in self.ctx.tree.body
        )
        if extended:
            return
        self.report_at(
            node.lineno,
            node.col_offset + 1,
            f"`{node.name}` (ListView) renders its whole queryset into a page: no `paginate_by`",
            severity=Severity.INFO,
            hint="Set `paginate_by = 50` on the view (the template then gets `page_obj`).",
        )

    def _aiohttp_view(self, node: FunctionNode) -> bool:
        """An aiohttp handler (`async def students(request)` in a module importing aiohttp)
        whose response holds what a function of another module returns
        (`await Student.get_all(conn)`): a candidate that `review` keeps only when a route
        table of the project registers it for GET and that function returns a whole query."""
        if not isinstance(node, ast.AsyncFunctionDef) or not isinstance(
            self.ctx.parent, ast.Module
        ):
            return False
        params = node.args.posonlyargs or node.args.args
        if not params or params[0].arg != "request":
            return False
        if not self.ctx.imports.is_imported("aiohttp") or self.ctx.is_test_file:
            return False
        if _takes_pagination(node, self.ctx):
            return False
        calls = _external_calls_returned(node, self.ctx)
        if not calls:
            return False
        self.ctx.facts.setdefault(AIOHTTP_VIEW_CANDIDATES, []).append(
            {"line": node.lineno, "function": node.name, "calls": calls}
        )
        page = any(
            "template" in ast.unparse(d).lower() for d in node.decorator_list
        ) or "render_template" in ast.unparse(node)
        self.report_at(
            node.lineno,
            node.col_offset + 1,
            f"`{node.name}` (aiohttp view) "
            + ("renders a whole collection into a page" if page else "returns a whole collection")
            + " without pagination",
            severity=Severity.INFO if page else None,
        )
        return True

    def _paging_switched_off(self, node: ast.ClassDef, kind: str) -> None:
        """`pagination_class = None` on a list view over a queryset nothing bounds: the
        global default paginator no longer applies."""
        for stmt in node.body:
            bounded_method = (
                isinstance(stmt, ast.FunctionDef)
                and stmt.name == "get_queryset"
                and any(
                    isinstance(r, ast.Return) and r.value is not None and _is_bounded_chain(r.value)
                    for r in walk_local(stmt.body)
                )
            )
            bounded_queryset = (
                isinstance(stmt, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "queryset" for t in stmt.targets)
                and _is_bounded_chain(stmt.value)
            )
            if bounded_method or bounded_queryset:
                return
        if _scoped_to_parent(node):
            return
        self.report(
            node,
            f"`{node.name}` ({kind.rpartition('.')[2]}) lists without pagination: "
            "`pagination_class = None` switches it off explicitly",
            hint="Give the view a paginator class (with a `max_page_size`), or bound the "
            "queryset if the list is small by design (`queryset = Tag.objects.all()[:100]`).",
        )

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        # the cheap name test first: most classes have no base named like a list view
        imports = self.ctx.imports
        if not any(may_name(base, _LIST_VIEW_NAMES, imports) for base in node.bases):
            return
        bases = base_names(node, self.ctx)
        kind = next((b for b in bases if b in DRF_LIST_VIEWS), None)
        if kind is None:
            if any(b in _DJANGO_LIST_VIEWS for b in bases):
                self._django_list_view(node)
            return
        defined = set()
        for stmt in node.body:
            if isinstance(stmt, ast.Assign):
                defined |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                defined.add(stmt.target.id)
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                defined.add(stmt.name)
        # a view that writes its own `list`/`get` decides its response itself
        if defined & {"list", "get", "paginate_queryset", "paginator"}:
            return
        if "pagination_class" in defined:
            if _assigned_none(node, "pagination_class"):
                self._paging_switched_off(node, kind)
            return
        self.ctx.facts.setdefault(DRF_CANDIDATES, []).append({"line": node.lineno})
        self.report(
            node,
            f"`{node.name}` ({kind.rpartition('.')[2]}) lists without pagination: no "
            "`pagination_class`",
            hint=(
                "Set `pagination_class` on the view, or `DEFAULT_PAGINATION_CLASS` (with a "
                "`PAGE_SIZE`) in `REST_FRAMEWORK` settings."
            ),
        )

    @classmethod
    def review(cls, findings: list[Finding], project: ProjectContext) -> list[Finding]:
        """Drop DRF findings unless the project's settings were seen and page nothing; name
        routes by their full path when the prefixes added in other modules are known."""
        candidates = {(path, fact["line"]) for path, fact in project.facts(DRF_CANDIDATES)}
        if candidates:
            settings = project.facts(DJANGO_SETTINGS_FACTS)
            paged = any(fact.get("default_pagination") for _, fact in settings)
            if not settings or paged:
                findings = [
                    f for f in findings if f.rule != cls.id or (f.path, f.line) not in candidates
                ]
        findings = _confirm_list_models(cls.id, findings, project)
        findings = _confirm_aiohttp_views(cls.id, findings, project)
        findings = _name_drf_views(cls.id, findings, project)
        findings = _name_django_views(cls.id, findings, project)
        mine = {(f.path, f.line) for f in findings if f.rule == cls.id}
        if not mine:
            return findings
        full: dict[tuple[str, int], set[str | None]] = {}
        for route in WebProject.from_facts(project.facts(WEB_FACTS)).resolved_routes():
            if (route.path, route.line) in mine:
                full.setdefault((route.path, route.line), set()).add(route.full_path)
        out: list[Finding] = []
        for finding in findings:
            paths = full.get((finding.path, finding.line), set())
            match = _ROUTE_IN_MESSAGE.match(finding.message)
            if finding.rule == cls.id and match and len(paths) == 1 and None not in paths:
                (path,) = paths
                message = f"`GET {path}`" + finding.message[match.end() :]
                finding = replace(finding, message=message)
            out.append(finding)
        return out


_ROUTE_IN_MESSAGE = re.compile(r"`GET [^`]*`")
_DJANGO_LIST_VIEWS = frozenset(
    {"django.views.generic.ListView", "django.views.generic.list.ListView"}
)
_LIST_VIEW_NAMES = last_parts({*DRF_LIST_VIEWS, *_DJANGO_LIST_VIEWS})


AIOHTTP_VIEW_CANDIDATES = "api001_aiohttp_views"
COLLECTION_FUNCTIONS = "api001_collection_functions"
AIOHTTP_ROUTES = "api001_aiohttp_routes"
_AIOHTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head"})
# the attributes `CollectionFunctionFacts.visit_Call` reads: `router.register`,
# `app.router.add_route` / `add_get`..., `web.get`...
_REGISTRATION_NAMES = frozenset(
    {"register", "add_route", *_AIOHTTP_VERBS, *(f"add_{verb}" for verb in _AIOHTTP_VERBS)}
)


def _external_calls_returned(node: FunctionNode, ctx: FileContext) -> list[str]:
    """Dotted names of imported functions whose awaited result the handler returns (in a
    dict, a `json_response(...)`, a template context): `sqli.dao.student.Student.get_all`."""
    assigned = _handler_assignments(node, ctx)
    names: set[str] = set()
    for ret in ctx.function_index(node).returns:
        if ret.value is not None:
            names |= {n.id for n in ast.walk(ret.value) if isinstance(n, ast.Name)}
    calls: list[str] = []
    for name in sorted(names):
        value = assigned.get(name)
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.Call):
            dotted = ctx.imports.imported_qualname(value.func) or ""
            if "." in dotted:
                calls.append(dotted)
    return calls


class CollectionFunctionFacts(FactCollector):
    """Functions and methods that return a whole query (`return [S.from_raw(r) for r in await
    cur.fetchall()]`), and aiohttp route registrations (`app.router.add_route("GET", path,
    views.students)`, `add_get`, `web.get(...)`): API001 joins them for aiohttp views."""

    key = COLLECTION_FUNCTIONS
    requires = ("fetchall", ".all()", "add_route", "add_get", "web.get", "register")
    call_names = _REGISTRATION_NAMES  # visit_Call's only calls (see may_name)

    def visit_Module(self, node: ast.Module) -> None:
        text = self.ctx.source.text
        if ".all()" not in text and "fetchall" not in text:
            return  # no whole query here (the other `requires` words are for visit_Call)
        module, _ = module_name_of(self.ctx.path)
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self._function(stmt, f"{module}.{stmt.name}")
            elif isinstance(stmt, ast.ClassDef):
                for item in stmt.body:
                    if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                        self._function(item, f"{module}.{stmt.name}.{item.name}")

    def _function(self, func: FunctionNode, qualname: str) -> None:
        if _returned_collection(func, self.ctx) is not None and not _returns_bounded(
            func, self.ctx
        ):
            self.add(kind="collection", qualname=qualname)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        if func.attr == "register" and isinstance(func.value, ast.Name) and len(node.args) >= 2:
            # DRF's own routers only: a nested router's URLs also hold its parent's prefix
            if self.ctx.imports.instance_of(func.value) in _DRF_ROUTERS:
                self._drf_register(node, func.value.id)
            return
        method: str | None = None
        path = handler = None
        if func.attr == "add_route" and len(node.args) >= 3:
            method = string_value(node.args[0])
            path, handler = node.args[1], node.args[2]
        elif func.attr.startswith("add_") and func.attr[4:] in _AIOHTTP_VERBS:
            method = func.attr[4:].upper()
            if len(node.args) >= 2:
                path, handler = node.args[0], node.args[1]
        elif (
            func.attr in _AIOHTTP_VERBS
            and self.ctx.imports.qualname(func.value) in ("aiohttp.web", "web")
            and len(node.args) >= 2
        ):
            method, path, handler = func.attr.upper(), node.args[0], node.args[1]
        if method is None or path is None or handler is None:
            return
        route = string_value(path)
        target = self.ctx.imports.qualname(handler) if isinstance(handler, ast.expr) else None
        if route is None or not target:
            return
        self.add(kind="route", method=method.upper(), path=route, handler=self._absolute(target))

    def _drf_register(self, node: ast.Call, router: str) -> None:
        """`router.register(r"articles", ArticleViewSet)`: where a DRF viewset is served."""
        prefix = string_value(node.args[0])
        target = self.ctx.imports.qualname(node.args[1])
        if prefix is None or not target:
            return
        self.add(kind="drf_register", router=router, prefix=prefix, viewset=self._absolute(target))

    def _absolute(self, target: str) -> str:
        """`ArticleViewSet` (local), `.views.ArticleViewSet` (relative) -> a dotted name from
        the project's root, like the module names of `module_name_of`."""
        module, package = module_name_of(self.ctx.path)
        if "." not in target:
            return f"{module}.{target}"
        if not target.startswith("."):
            return target
        level = len(target) - len(target.lstrip("."))
        parts = module.split(".") if module else []
        base = parts if package else parts[:-1]
        base = base[: len(base) - (level - 1)] if level > 1 else base
        return ".".join([*base, target.lstrip(".")])


def _name_drf_views(rule: str, findings: list[Finding], project: ProjectContext) -> list[Finding]:
    """`ArticleViewSet` (ModelViewSet) -> `GET /api/articles/` (ArticleViewSet, ModelViewSet)
    when exactly one router registration or URLconf route (`TagList.as_view()`) of the
    project serves it."""
    registrations = [
        (path, fact)
        for path, fact in project.facts(COLLECTION_FUNCTIONS)
        if fact.get("kind") == "drf_register"
    ]
    urlconfs = project.facts(URLCONF_FACTS)
    if not registrations and not urlconfs:
        return findings
    out: list[Finding] = []
    for finding in findings:
        match = _DRF_HEAD.match(finding.message) if finding.rule == rule else None
        if match is not None:
            name = match.group(1)
            view = f"{module_name_of(finding.path)[0]}.{name}"
            urls = set(view_urls(urlconfs, finding.path, name))
            for path, fact in registrations:
                if _dotted_match(view, str(fact["viewset"])):
                    router, prefix = str(fact["router"]), str(fact["prefix"])
                    urls.update(router_urls(urlconfs, path, router, prefix))
            if len(urls) == 1:
                head = f"`GET {urls.pop()}` ({name}, {match.group(2)})"
                finding = replace(finding, message=head + finding.message[match.end() :])
        out.append(finding)
    return out


_DRF_ROUTERS = frozenset(
    {"rest_framework.routers.DefaultRouter", "rest_framework.routers.SimpleRouter"}
)
_DRF_HEAD = re.compile(r"`(\w+)` \((\w+)\)(?= lists without pagination)")


def _dotted_match(full: str, reference: str) -> bool:
    """`dvpwa.sqli.views.students` answers `sqli.views.students` (a project checked from
    above its import root), and the other way round."""
    return full == reference or full.endswith("." + reference) or reference.endswith("." + full)


def _confirm_aiohttp_views(
    rule: str, findings: list[Finding], project: ProjectContext
) -> list[Finding]:
    candidates = project.facts(AIOHTTP_VIEW_CANDIDATES)
    if not candidates:
        return findings
    facts = [fact for _, fact in project.facts(COLLECTION_FUNCTIONS)]
    collections = [str(f["qualname"]) for f in facts if f.get("kind") == "collection"]
    routes = [f for f in facts if f.get("kind") == "route" and f.get("method") in ("GET", "*")]
    keep: dict[tuple[str, int], list[str]] = {}
    for path, fact in candidates:
        view = f"{module_name_of(path)[0]}.{fact['function']}"
        urls = sorted({str(r["path"]) for r in routes if _dotted_match(view, str(r["handler"]))})
        whole = any(
            _dotted_match(function, str(call))
            for call in fact.get("calls", [])
            for function in collections
        )
        if urls and whole:
            keep[(path, int(fact["line"]))] = urls
    candidate_lines = {(path, int(fact["line"])) for path, fact in candidates}
    out: list[Finding] = []
    for finding in findings:
        key = (finding.path, finding.line)
        if finding.rule == rule and key in candidate_lines:
            if key not in keep:
                continue
            urls = keep[key]
            if len(urls) == 1:
                function = finding.message.split("`")[1]
                prefix = f"`{function}` (aiohttp view)"
                if finding.message.startswith(prefix):
                    message = f"`GET {urls[0]}` ({function})" + finding.message[len(prefix) :]
                    finding = replace(finding, message=message)
        out.append(finding)
    return out


def _assigned_none(node: ast.ClassDef, name: str) -> bool:
    return any(
        isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == name for t in stmt.targets)
        and isinstance(stmt.value, ast.Constant)
        and stmt.value.value is None
        for stmt in node.body
    )


def _confirm_list_models(
    rule: str, findings: list[Finding], project: ProjectContext
) -> list[Finding]:
    """Keep a route reported for an imported response model only when that model is seen to
    wrap a list (`api_list_models` facts of its module)."""
    candidates = project.facts(LIST_MODEL_CANDIDATES)
    if not candidates:
        return findings
    models: dict[str, set[str]] = {}
    for path, fact in project.facts(LIST_MODEL_FACTS):
        models.setdefault(path, set()).add(str(fact.get("name")))
    paths = sorted(models)
    drop: set[tuple[str, int]] = set()
    for path, fact in candidates:
        module, _, name = str(fact["model"]).rpartition(".")
        files = resolve_module(paths, module)
        if len(files) != 1 or name not in models[files[0]]:
            drop.add((path, int(fact["line"])))
    return [f for f in findings if f.rule != rule or (f.path, f.line) not in drop]


def _name_django_views(
    rule: str, findings: list[Finding], project: ProjectContext
) -> list[Finding]:
    """`checks` (Django view) -> `GET /api/v3/checks/` when the URLconfs route it once; a
    function the URLconfs route nowhere (a helper taking `request`, or a project whose
    URLconfs bastion cannot read) is not reported."""
    candidates = {
        (path, int(fact["line"])): str(fact["function"])
        for path, fact in project.facts(DJANGO_VIEW_CANDIDATES)
    }
    if not candidates:
        return findings
    urlconfs = project.facts(URLCONF_FACTS)
    out: list[Finding] = []
    for finding in findings:
        function = candidates.get((finding.path, finding.line))
        prefix = f"`{function}` (Django view)"
        if finding.rule == rule and function and finding.message.startswith(prefix):
            urls = view_urls(urlconfs, finding.path, function)
            if not urls:
                continue  # routed nowhere we can see: a helper, or a table we cannot read
            if len(urls) == 1:
                message = f"`GET {urls[0]}` ({function})" + finding.message[len(prefix) :]
                finding = replace(finding, message=message)
        out.append(finding)
    return out


DRF_CANDIDATES = "api001_drf_views"


def _has_upper_bound(expr: ast.expr, ctx: FileContext) -> bool:
    """`Query(50, le=100)`, `Annotated[int, Query(le=100)]`, `conint(le=100)`, `Le(100)`,
    `Literal[10, 20]`."""
    for sub in ast.walk(expr):
        if isinstance(sub, ast.Call):
            if any(kw.arg in _BOUND_KEYWORDS for kw in sub.keywords):
                return True
            name = ctx.imports.qualname(sub.func) or ""
            if name.rpartition(".")[2] in ("Le", "Lt", "Interval"):
                return True
        if isinstance(sub, ast.Subscript):
            name = ctx.imports.qualname(sub.value) or ""
            if name.rpartition(".")[2] == "Literal":
                return True
    return False


def _is_int_like(annotation: ast.expr | None, default: ast.expr | None) -> bool:
    if annotation is None:
        if isinstance(default, ast.Constant):
            return isinstance(default.value, int) and not isinstance(default.value, bool)
        return isinstance(default, ast.Call)  # `limit=Query(50)`
    text = ast.unparse(annotation)
    return "int" in text


def _clamped_in_body(handler: FunctionNode, name: str, ctx: FileContext) -> bool:
    """`min(limit, 100)`, `if limit > 100: ...`, `limit = clamp(limit, ...)`,
    `.paginate(..., max_per_page=100)`. Lower bounds (`max(limit, 1)`, `if limit < 1:`) are
    not ceilings."""
    for node in ctx.function_index(handler).nodes:
        if isinstance(node, ast.Call):
            if any(isinstance(a, ast.Name) and a.id == name for a in node.args):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                lowered = called.lower()
                if (
                    called == "min"
                    or any(w in lowered for w in ("clamp", "clip"))
                    or lowered.startswith("cap")
                    or lowered.endswith("_cap")
                ):
                    return True
            if any(kw.arg and kw.arg.startswith("max_") for kw in node.keywords):
                return True
        elif isinstance(node, ast.Compare) and _compares_to_ceiling(node, name):
            return True
    return False


_ORDERINGS = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _compares_to_ceiling(node: ast.Compare, name: str) -> bool:
    """`limit > 100`, `limit <= MAX_LIMIT`, `1 <= limit <= 100`; not `limit < 1`."""
    operands = [node.left, *node.comparators]
    for index, op in enumerate(node.ops):
        if not isinstance(op, _ORDERINGS):
            continue
        left, right = operands[index], operands[index + 1]
        for mine, other in ((left, right), (right, left)):
            if isinstance(mine, ast.Name) and mine.id == name and not _is_floor(other):
                return True
    return False


def _reads_size_itself(cls: ast.ClassDef) -> bool:
    """The paginator reads the requested size in its own `get_limit`/`get_page_size` (netbox's
    `NetBoxPagination` caps it at `MAX_PAGE_SIZE` there): DRF's ceiling attribute is unused."""
    return any(
        isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef)
        and stmt.name in ("get_limit", "get_page_size")
        for stmt in cls.body
    )


def _is_floor(node: ast.expr) -> bool:
    """0 or 1: what a lower-bound check compares with."""
    return isinstance(node, ast.Constant) and node.value in (0, 1) and node.value is not True


class UnboundedPageSize(Rule):
    """Flags page-size parameters a client can set as high as it likes:

    - a FastAPI route parameter named `limit`, `size`, `per_page`, `page_size`, ... with no
      upper bound: no `le=`/`lt=` in `Query(...)`, `Annotated[int, Query(le=...)]`,
      `Field(le=...)`, `conint(le=...)`, no `Literal[...]`, and no clamp in the body
      (`min(limit, 100)`, `if limit > 100:`);
    - a Flask route reading such a value from `request.args` without a clamp or a paginator
      maximum (`max_per_page=`);
    - a DRF `PageNumberPagination` subclass that sets `page_size_query_param` without
      `max_page_size`, a `LimitOffsetPagination` subclass without `max_limit`, and the stock
      `LimitOffsetPagination` used as is (`pagination_class = LimitOffsetPagination`, or as
      `DEFAULT_PAGINATION_CLASS` in the `REST_FRAMEWORK` settings).

    A paginator that reads the size itself (overrides `get_limit` / `get_page_size`) is left
    alone: its own method is where the cap lives."""

    id = "API002"
    name = "unbounded-page-size"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "4 of 4 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    summary = "Page-size parameter without an upper bound"
    why = (
        "Pagination only protects the service if the page size has a ceiling: with "
        "`?limit=1000000` a client gets the whole table in one call, the same memory and "
        "latency blow-up as no pagination at all."
    )
    hint = (
        "Cap it where it is declared, e.g. `limit: int = Query(50, ge=1, le=100)`, or clamp "
        "it (`limit = min(limit, 100)`); for DRF set `max_page_size`/`max_limit`."
    )
    requires = ("limit", "size", "page", "take", "max_results", "Pagination")
    bad = [
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/users')\n"
        "def users(skip: int = 0, limit: int = 100):\n"
        "    return db.query(User).offset(skip).limit(limit).all()\n",
        "from fastapi import APIRouter, Query\n\nrouter = APIRouter()\n\n@router.get('/items')\n"
        "async def items(page: int = 1, size: int = Query(20, ge=1)):\n    return []\n",
        "from flask import Flask, request\n\napp = Flask(__name__)\n\n@app.route('/users')\n"
        "def users():\n    per_page = request.args.get('per_page', 20, type=int)\n"
        "    return User.query.limit(per_page).all()\n",
        "from rest_framework.pagination import PageNumberPagination\n\n"
        "class Pages(PageNumberPagination):\n    page_size = 50\n"
        "    page_size_query_param = 'page_size'\n",
        "from rest_framework.pagination import LimitOffsetPagination\n\n"
        "class Pages(LimitOffsetPagination):\n    default_limit = 50\n",
        Example(
            'REST_FRAMEWORK = {\n    "DEFAULT_PAGINATION_CLASS": '
            '"rest_framework.pagination.LimitOffsetPagination",\n    "PAGE_SIZE": 20,\n}\n',
            path="settings.py",
        ),
    ]
    good = [
        Example(
            'REST_FRAMEWORK = {\n    "DEFAULT_PAGINATION_CLASS": '
            '"rest_framework.pagination.PageNumberPagination",\n    "PAGE_SIZE": 20,\n}\n',
            path="settings.py",
        ),
        "from fastapi import FastAPI, Query\n\napp = FastAPI()\n\n@app.get('/users')\n"
        "def users(skip: int = 0, limit: int = Query(100, le=500)):\n    return []\n",
        "from typing import Annotated\nfrom fastapi import FastAPI, Query\n\napp = FastAPI()\n\n"
        "@app.get('/users')\ndef users(limit: Annotated[int, Query(ge=1, le=100)] = 50):\n"
        "    return []\n",
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/users')\n"
        "def users(limit: int = 50):\n    limit = min(limit, 100)\n    return []\n",
        "from flask import Flask, request\n\napp = Flask(__name__)\n\n@app.route('/users')\n"
        "def users():\n    per_page = min(request.args.get('per_page', 20, type=int), 100)\n"
        "    return []\n",
        "from rest_framework.pagination import PageNumberPagination\n\n"
        "class Pages(PageNumberPagination):\n    page_size = 50\n"
        "    page_size_query_param = 'page_size'\n    max_page_size = 100\n",
        # a font size, not a page size: not a route
        "def render(size: int = 12):\n    return size\n",
    ]

    def visit_route(self, handler: FunctionNode, route: Route) -> None:
        if route.index:
            return  # the parameters are the handler's: checked once, with its first route
        if route.framework == "fastapi":
            self._check_parameters(handler, route)
        elif route.framework == "flask":
            self._check_flask(handler, route)

    def _check_parameters(self, node: FunctionNode, route: Route) -> None:
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
        defaults += list(args.defaults)
        pairs = list(zip(positional, defaults, strict=True))
        pairs += list(zip(args.kwonlyargs, args.kw_defaults, strict=True))
        for arg, default in pairs:
            if arg.arg.lower() not in SIZE_PARAMS:
                continue
            if arg.arg.lower() in AMBIGUOUS_SIZE_PARAMS and not _pages(node, route, self.ctx):
                continue  # `size=128` of a thumbnail is not a page size
            if not _is_int_like(arg.annotation, default):
                continue
            if arg.annotation is not None and _has_upper_bound(arg.annotation, self.ctx):
                continue
            if default is not None and _has_upper_bound(default, self.ctx):
                continue
            if _clamped_in_body(node, arg.arg, self.ctx):
                continue
            self.report(
                arg,
                f"`{arg.arg}` of `{route.describe()}` has no upper bound: a client can ask "
                "for every row at once",
            )

    def _check_flask(self, node: FunctionNode, route: Route) -> None:
        for stmt in self.ctx.function_index(node).statements:
            if not isinstance(stmt, ast.Assign) or len(stmt.targets) != 1:
                continue
            target = stmt.targets[0]
            if not isinstance(target, ast.Name):
                continue
            read = _query_arg_read(stmt.value, self.ctx)
            if read is None or read.lower() not in SIZE_PARAMS:
                continue
            if read.lower() in AMBIGUOUS_SIZE_PARAMS and not _pages(node, route, self.ctx):
                continue
            if _clamped_in_body(node, target.id, self.ctx):
                continue
            self.report(
                stmt.value,
                f"`{read}` of `{route.describe()}` is read from the query string with no upper "
                "bound",
            )

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for stmt in node.body:
            # a view paginated by the stock `LimitOffsetPagination` (its `max_limit` is None)
            if (
                isinstance(stmt, ast.Assign)
                and any(
                    isinstance(t, ast.Name) and t.id == "pagination_class" for t in stmt.targets
                )
                and self.ctx.imports.qualname(stmt.value) == _LIMIT_OFFSET
            ):
                self.report(
                    stmt.value,
                    f"`{node.name}` uses `LimitOffsetPagination` as is: no `max_limit`",
                    hint=_LIMIT_OFFSET_HINT,
                )
        imports = self.ctx.imports
        if not any(may_name(base, _DRF_PAGINATION_NAMES, imports) for base in node.bases):
            return  # (the cheap name test before resolving the bases)
        for base in base_names(node, self.ctx):
            if base not in _DRF_PAGINATION:
                continue
            switch, ceiling = _DRF_PAGINATION[base]
            defined = {
                t.id
                for stmt in node.body
                if isinstance(stmt, ast.Assign)
                for t in stmt.targets
                if isinstance(t, ast.Name)
            }
            if switch and switch not in defined:
                return  # clients cannot choose the page size
            if ceiling in defined or _reads_size_itself(node):
                return
            self.report(
                node,
                f"`{node.name}` lets clients choose the page size without `{ceiling}`",
                hint=f"Set `{ceiling} = 100` (or your own ceiling) on `{node.name}`.",
            )
            return

    def visit_Dict(self, node: ast.Dict) -> None:
        """`REST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "...LimitOffsetPagination"}`."""
        for key, value in zip(node.keys, node.values, strict=True):
            if (
                key is not None
                and string_value(key) == "DEFAULT_PAGINATION_CLASS"
                and string_value(value) == _LIMIT_OFFSET
            ):
                self.report(
                    value,
                    "`DEFAULT_PAGINATION_CLASS` is `LimitOffsetPagination` as is: no "
                    "`max_limit`, so every list endpoint takes any `?limit=`",
                    hint=_LIMIT_OFFSET_HINT,
                )


_LIMIT_OFFSET = "rest_framework.pagination.LimitOffsetPagination"
_LIMIT_OFFSET_HINT = (
    "Subclass it with a ceiling (`class Pages(LimitOffsetPagination): max_limit = 100`) and use "
    "that class instead."
)


def _pages(node: FunctionNode, route: Route, ctx: FileContext) -> bool:
    """The handler pages through something: another paging parameter (or query-string key)
    beside the size, or it returns a collection."""
    if any(p.lower() in _PAGE_COMPANIONS for p in parameter_names(node)):
        return True
    if _reads_companion_key(node, ctx):
        return True
    return _returns_collection(node, route, ctx)


def _reads_companion_key(node: FunctionNode, ctx: FileContext) -> bool:
    """A call whose first argument is another paging key: `request.args.get("page")`."""
    for sub in ctx.function_index(node).calls:
        if sub.args:
            key = string_value(sub.args[0])
            if key is not None and key.lower() in _PAGE_COMPANIONS:
                return True
    return False


def _query_arg_read(value: ast.expr, ctx: FileContext) -> str | None:
    """`request.args.get("per_page", ...)`, `int(request.args["limit"])` -> the key."""
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id == "int"
        and value.args
    ):
        value = value.args[0]
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr in ("get", "getlist")
        and value.args
    ):
        source = ctx.imports.qualname(value.func.value) or ""
        if source.endswith(("request.args", "request.values")):
            return string_value(value.args[0])
    if isinstance(value, ast.Subscript):
        source = ctx.imports.qualname(value.value) or ""
        if source.endswith("request.args"):
            return string_value(value.slice)
    return None
