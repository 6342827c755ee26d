"""Recognising ORM and database objects: SQLAlchemy 1.x/2.0 sessions (sync and async),
engines and connections, DB-API connections, and Django model managers.

What is known is only what the module shows: a name is a session when it was annotated as one
(`db: Session`, `db: Annotated[AsyncSession, Depends(get_db)]`), created as one in the function
(`db = SessionLocal()`, `with Session(engine) as db`, `async with engine.begin() as conn`), or
created at module level by a known factory (`SessionLocal = sessionmaker(...)`,
`db_session = scoped_session(...)`). Rules that may guess from conventional names
(`session`, `db`) ask for it explicitly with `guess=True`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Literal

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import local_statements, walk_local
from bastion.context import FileContext
from bastion.imports import ImportMap

Kind = Literal["sync", "async"]

SYNC_SESSION_TYPES = frozenset(
    {
        "sqlalchemy.orm.Session",
        "sqlalchemy.orm.session.Session",
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
        "sqlmodel.Session",
        "sqlmodel.orm.session.Session",
    }
)
ASYNC_SESSION_TYPES = frozenset(
    {
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
        "sqlalchemy.ext.asyncio.async_scoped_session",
        "sqlmodel.ext.asyncio.session.AsyncSession",
    }
)
SYNC_CONNECTION_TYPES = frozenset(
    {"sqlalchemy.Connection", "sqlalchemy.engine.Connection", "sqlalchemy.engine.base.Connection"}
)
ASYNC_CONNECTION_TYPES = frozenset(
    {"sqlalchemy.ext.asyncio.AsyncConnection", "sqlalchemy.ext.asyncio.engine.AsyncConnection"}
)
SYNC_SESSIONMAKERS = frozenset(
    {"sqlalchemy.orm.sessionmaker", "sqlalchemy.orm.session.sessionmaker"}
)
ASYNC_SESSIONMAKERS = frozenset(
    {
        "sqlalchemy.ext.asyncio.async_sessionmaker",
        "sqlalchemy.ext.asyncio.session.async_sessionmaker",
    }
)
SYNC_ENGINE_FACTORIES = frozenset(
    {"sqlalchemy.create_engine", "sqlalchemy.engine.create_engine", "sqlmodel.create_engine"}
)
ASYNC_ENGINE_FACTORIES = frozenset(
    {
        "sqlalchemy.ext.asyncio.create_async_engine",
        "sqlalchemy.ext.asyncio.engine.create_async_engine",
    }
)
ENGINE_FACTORIES = SYNC_ENGINE_FACTORIES | ASYNC_ENGINE_FACTORIES
SYNC_DBAPI_CONNECT = frozenset(
    {
        "psycopg2.connect",
        "psycopg.connect",
        "psycopg.Connection.connect",
        "pymysql.connect",
        "MySQLdb.connect",
        "sqlite3.connect",
        "cx_Oracle.connect",
        "oracledb.connect",
    }
)
ASYNC_DBAPI_CONNECT = frozenset(
    {
        "asyncpg.connect",
        "asyncpg.create_pool",
        "aiosqlite.connect",
        "aiomysql.connect",
        "psycopg.AsyncConnection.connect",
    }
)
SELECT_FUNCTIONS = frozenset(
    {"sqlalchemy.select", "sqlalchemy.sql.select", "sqlalchemy.future.select", "sqlmodel.select"}
)
# Session methods that talk to the database.
SESSION_QUERY_METHODS = frozenset(
    {"query", "execute", "scalars", "scalar", "get", "exec", "stream", "stream_scalars"}
)
SESSION_IO_METHODS = SESSION_QUERY_METHODS | {"commit", "rollback", "flush", "refresh", "merge"}
CONNECTION_QUERY_METHODS = frozenset({"execute", "exec_driver_sql", "scalar", "scalars"})
# Manager/QuerySet methods that build or run a query (`Model.objects.<m>(...)`).
DJANGO_QUERY_METHODS = frozenset(
    {
        "get",
        "filter",
        "exclude",
        "all",
        "count",
        "exists",
        "first",
        "last",
        "get_or_create",
        "aggregate",
        "values",
        "values_list",
        "in_bulk",
        "earliest",
        "latest",
        "select_related",
        "prefetch_related",
        "only",
        "defer",
        "annotate",
        "order_by",
        "raw",
        "aget",
        "afirst",
        "alast",
        "acount",
        "aexists",
        "aget_or_create",
    }
)
EAGER_LOADERS = frozenset(
    {
        "joinedload",
        "selectinload",
        "subqueryload",
        "immediateload",
        "contains_eager",
        "defaultload",
        "raiseload",
        "noload",
        "lazyload",
        "select_related",
        "prefetch_related",
    }
)
# Conventional names of session variables: used only where a rule asks to guess.
_GUESSED_SESSION_NAMES = frozenset(
    {"session", "db", "db_session", "dbsession", "sess", "async_session", "db_sess"}
)
# Conventional names of session factories imported from the project's own modules
# (`from app.db import SessionLocal`), where the factory itself cannot be seen.
_FACTORY_NAME = re.compile(
    r"^(Async)?Session(Local|Maker|Factory)?$|^(async_)?session(_local|_maker|_factory)$|"
    r"^async_session$|^(Async)?(Scoped)?SessionLocal$"
)
_ENGINE_NAME = re.compile(r"^(async_|db_)?engine$")


def uses_sqlalchemy(imports: ImportMap) -> bool:
    return any(imports.is_imported(m) for m in ("sqlalchemy", "sqlmodel", "flask_sqlalchemy"))


def uses_django(imports: ImportMap) -> bool:
    return imports.is_imported("django")


def _unwrap_annotation(node: ast.expr | None, imports: ImportMap) -> list[ast.expr]:
    """The types an annotation may stand for: `Annotated[X, ...]` -> X, `Optional[X]`,
    `X | None` -> X."""
    if node is None:
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            parsed = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return []
        return _unwrap_annotation(parsed, imports)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _unwrap_annotation(node.left, imports) + _unwrap_annotation(node.right, imports)
    if isinstance(node, ast.Subscript):
        outer = (imports.qualname(node.value) or "").rpartition(".")[2]
        if outer == "Annotated" and isinstance(node.slice, ast.Tuple) and node.slice.elts:
            return _unwrap_annotation(node.slice.elts[0], imports)
        if outer in ("Optional", "Union"):
            inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            return [t for e in inner for t in _unwrap_annotation(e, imports)]
        return []
    return [node]


def type_aliases(tree: ast.Module | None) -> dict[str, ast.expr]:
    """Module-level type aliases: `SessionDep = Annotated[AsyncSession, Depends(get_db)]`."""
    aliases: dict[str, ast.expr] = {}
    if tree is None:
        return aliases
    for stmt in tree.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Subscript | ast.Name | ast.Attribute)
        ):
            aliases[stmt.targets[0].id] = stmt.value
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
            and "TypeAlias"
            in (getattr(stmt.annotation, "id", ""), getattr(stmt.annotation, "attr", ""))
        ):
            aliases[stmt.target.id] = stmt.value
    return aliases


def annotation_kind(
    node: ast.expr | None, imports: ImportMap, aliases: dict[str, ast.expr] | None = None
) -> Kind | None:
    """The kind ("sync"/"async") of SQLAlchemy session or connection an annotation names,
    also through a module-level alias such as `SessionDep = Annotated[AsyncSession, ...]`."""
    for t in _unwrap_annotation(node, imports):
        if aliases and isinstance(t, ast.Name) and t.id in aliases:
            rest = {k: v for k, v in aliases.items() if k != t.id}
            return annotation_kind(aliases[t.id], imports, rest)
        name = imports.qualname(t)
        if name in SYNC_SESSION_TYPES or name in SYNC_CONNECTION_TYPES:
            return "sync"
        if name in ASYNC_SESSION_TYPES or name in ASYNC_CONNECTION_TYPES:
            return "async"
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _maker_kind(qualified: str | None, call: ast.Call | None, imports: ImportMap) -> Kind | None:
    """The kind of session a factory object makes when called."""
    if qualified in ASYNC_SESSIONMAKERS:
        return "async"
    if qualified in SYNC_SESSIONMAKERS and call is not None:
        class_ = _keyword(call, "class_")
        if class_ is not None and imports.qualname(class_) in ASYNC_SESSION_TYPES:
            return "async"
        return "sync"
    return None


def creation_kind(call: ast.Call, ctx: FileContext, *, guess_factories: bool = True) -> Kind | None:
    """ "sync"/"async" when `call` creates a DB session or connection: `Session(engine)`,
    `AsyncSession(engine)`, `SessionLocal()` (a module-level `sessionmaker`), `engine.connect()`
    / `engine.begin()` (a module-level engine), `psycopg2.connect(...)`, `asyncpg.connect(...)`.
    With `guess_factories`, a bare call of a name imported from elsewhere and spelled like a
    session factory (`SessionLocal()`, `async_session()`) counts too."""
    imports = ctx.imports
    func = call.func
    name = imports.qualname(func)
    if name in SYNC_SESSION_TYPES and name not in (
        "sqlalchemy.orm.scoped_session",
        "sqlalchemy.orm.scoping.scoped_session",
    ):
        return "sync"
    if name in (
        "sqlalchemy.ext.asyncio.AsyncSession",
        "sqlalchemy.ext.asyncio.session.AsyncSession",
    ):
        return "async"
    if name in ("sqlmodel.ext.asyncio.session.AsyncSession",):
        return "async"
    if name in SYNC_DBAPI_CONNECT:
        return "sync"
    if name in ASYNC_DBAPI_CONNECT:
        return "async"
    if isinstance(func, ast.Name):
        kind = _maker_kind(imports.instance_of(func), imports.instance_call(func), imports)
        if kind is not None:
            return kind
        if guess_factories and func.id in imports.aliases and _FACTORY_NAME.match(func.id):
            origin = imports.aliases[func.id]
            if not origin.startswith(("sqlalchemy", "sqlmodel")):
                return "async" if "async" in func.id.lower() else "sync"
        return None
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        receiver = func.value
        factory = imports.instance_of(receiver)
        if func.attr in ("connect", "begin"):
            if factory in SYNC_ENGINE_FACTORIES:
                return "sync"
            if factory in ASYNC_ENGINE_FACTORIES:
                return "async"
        if func.attr == "begin":  # `SessionLocal.begin()`: a session in a transaction
            kind = _maker_kind(factory, imports.instance_call(receiver), imports)
            if kind is not None:
                return kind
        if (
            guess_factories
            and func.attr in ("connect", "begin")
            and _ENGINE_NAME.match(receiver.id)
            and receiver.id in imports.aliases
            and not imports.aliases[receiver.id].startswith(("sqlalchemy", "sqlmodel"))
            and uses_sqlalchemy(imports)
        ):
            return "async" if "async" in receiver.id.lower() else "sync"
    return None


def _with_items(node: ast.AST) -> list[ast.withitem]:
    if isinstance(node, ast.With | ast.AsyncWith):
        return list(node.items)
    return []


_ALIAS_CACHE: dict[int, tuple[ast.Module, dict[str, ast.expr]]] = {}


def _aliases_of(ctx: FileContext) -> dict[str, ast.expr]:
    tree = ctx.tree
    if tree is None:
        return {}
    cached = _ALIAS_CACHE.get(id(tree))
    if cached is not None and cached[0] is tree:
        return cached[1]
    _ALIAS_CACHE.clear()  # one file at a time: keep only the current module's aliases
    aliases = type_aliases(tree)
    _ALIAS_CACHE[id(tree)] = (tree, aliases)
    return aliases


_DEPENDS = frozenset(
    {"fastapi.Depends", "fastapi.params.Depends", "fastapi.param_functions.Depends"}
)


def _depends_target(node: ast.expr | None, imports: ImportMap) -> str | None:
    """`Depends(get_db)` (or `Annotated[X, Depends(get_db)]`): the dependency's local name."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
        for element in node.slice.elts[1:]:
            found = _depends_target(element, imports)
            if found is not None:
                return found
        return None
    if (
        isinstance(node, ast.Call)
        and imports.qualname(node.func) in _DEPENDS
        and node.args
        and isinstance(node.args[0], ast.Name)
    ):
        return node.args[0].id
    return None


def dependency_kind(name: str, ctx: FileContext) -> Kind | None:
    """The kind of session a dependency defined in this module provides: a generator that
    yields a session it creates (`db = SessionLocal(); yield db`, `with Session(engine) as s:
    yield s`) or a function that returns one."""
    if ctx.tree is None:
        return None
    for stmt in ctx.tree.body:
        if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) or stmt.name != name:
            continue
        made: dict[str, Kind] = {}
        for statement in local_statements(stmt.body):
            if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Call):
                kind = creation_kind(statement.value, ctx)
                if kind is not None:
                    made.update({t.id: kind for t in statement.targets if isinstance(t, ast.Name)})
            for item in _with_items(statement):
                if isinstance(item.context_expr, ast.Call) and isinstance(
                    item.optional_vars, ast.Name
                ):
                    kind = creation_kind(item.context_expr, ctx)
                    if kind is not None:
                        made[item.optional_vars.id] = kind
        for node in walk_local(stmt.body):
            value = node.value if isinstance(node, ast.Yield | ast.Return) else None
            if isinstance(value, ast.Name) and value.id in made:
                return made[value.id]
            if isinstance(value, ast.Call):
                kind = creation_kind(value, ctx)
                if kind is not None:
                    return kind
    return None


def local_sessions(
    func: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, ctx: FileContext
) -> dict[str, Kind]:
    """Names in a function's own scope known to hold a DB session or connection."""
    found: dict[str, Kind] = {}
    imports = ctx.imports
    args = func.args
    aliases = _aliases_of(ctx)
    positional = [*args.posonlyargs, *args.args]
    defaults: dict[str, ast.expr | None] = dict(
        zip(
            [a.arg for a in positional[len(positional) - len(args.defaults) :]],
            args.defaults,
            strict=True,
        )
    )
    defaults.update(zip([a.arg for a in args.kwonlyargs], args.kw_defaults, strict=True))
    for arg in (*positional, *args.kwonlyargs):
        kind = annotation_kind(arg.annotation, imports, aliases)
        if kind is None:
            # `db=Depends(get_db)` / `Annotated[..., Depends(get_db)]` with `get_db` here
            dependency = _depends_target(defaults.get(arg.arg), imports) or _depends_target(
                arg.annotation, imports
            )
            if dependency is not None:
                kind = dependency_kind(dependency, ctx)
        if kind is not None:
            found[arg.arg] = kind
    if isinstance(func, ast.Lambda):
        return found
    # assignments and `with` blocks: statements (the function's shared index holds them)
    for node in ctx.function_index(func).statements:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Call):
            kind = creation_kind(node.value, ctx)
            if isinstance(node, ast.AnnAssign):
                kind = kind or annotation_kind(node.annotation, imports, aliases)
                targets: list[ast.expr] = [node.target]
            else:
                targets = node.targets
            if kind is not None:
                for t in targets:
                    if isinstance(t, ast.Name):
                        found[t.id] = kind
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            kind = annotation_kind(node.annotation, imports, aliases)
            if kind is not None:
                found[node.target.id] = kind
        for item in _with_items(node):
            if isinstance(item.context_expr, ast.Call) and isinstance(item.optional_vars, ast.Name):
                kind = creation_kind(item.context_expr, ctx)
                if kind is not None:
                    found[item.optional_vars.id] = kind
    return found


def module_session_kind(node: ast.expr, imports: ImportMap) -> Kind | None:
    """A module-level session object: `db_session = scoped_session(sessionmaker(...))`."""
    factory = imports.instance_of(node)
    if factory in ("sqlalchemy.orm.scoped_session", "sqlalchemy.orm.scoping.scoped_session"):
        return "sync"
    if factory == "sqlalchemy.ext.asyncio.async_scoped_session":
        return "async"
    return None


def receiver_key(node: ast.expr) -> str | None:
    """The variable a method is called on: `db` for `db.query`, `self.session` for
    `self.session.execute`, `db.session` for Flask-SQLAlchemy's `db.session.query`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def guessed_session_name(node: ast.expr) -> bool:
    """`session`, `db`, `self.session`, `self.db`, `db.session` (Flask-SQLAlchemy)."""
    if isinstance(node, ast.Name):
        return node.id in _GUESSED_SESSION_NAMES
    if isinstance(node, ast.Attribute):
        return node.attr in _GUESSED_SESSION_NAMES and isinstance(node.value, ast.Name)
    return False


def is_django_manager(node: ast.expr) -> bool:
    """`Model.objects` / `models.Model.objects` (a class attribute named `objects`)."""
    if not (isinstance(node, ast.Attribute) and node.attr == "objects"):
        return False
    owner = node.value
    last = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
    return bool(last) and last[0].isupper()


def django_query(call: ast.Call) -> str | None:
    """`Model.objects.<method>(...)` for a query method: the method name."""
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in DJANGO_QUERY_METHODS
        and is_django_manager(func.value)
    ):
        return func.attr
    return None


FLASK_QUERY_METHODS = frozenset(
    {
        "get",
        "filter",
        "filter_by",
        "all",
        "first",
        "one",
        "one_or_none",
        "count",
        "get_or_404",
        "first_or_404",
        "paginate",
        "order_by",
        "join",
        "options",
    }
)


def is_flask_query_property(node: ast.expr) -> bool:
    """Flask-SQLAlchemy's legacy `Model.query` (a class attribute named `query`)."""
    if not (isinstance(node, ast.Attribute) and node.attr == "query"):
        return False
    owner = node.value
    return isinstance(owner, ast.Name) and owner.id[:1].isupper()


def flask_query(call: ast.Call) -> str | None:
    """`Model.query.<method>(...)` (Flask-SQLAlchemy): the method name."""
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and func.attr in FLASK_QUERY_METHODS
        and is_flask_query_property(func.value)
    ):
        return func.attr
    return None


def uses_flask_sqlalchemy(imports: ImportMap) -> bool:
    return any(imports.is_imported(m) for m in ("flask_sqlalchemy", "flask", "sqlalchemy"))


def is_select_call(call: ast.Call, imports: ImportMap) -> bool:
    return imports.qualname(call.func) in SELECT_FUNCTIONS


def calls_in(node: ast.AST) -> Iterator[ast.Call]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            yield sub


def call_method(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


def _is_literal_collection(node: ast.expr) -> bool:
    return isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict)


def enclosing_loop(stack: list[ast.AST], node: ast.AST) -> ast.AST | None:
    """The `for` loop or comprehension whose body runs `node` once per item, within the same
    function. The loop's own iterable (and a comprehension's first `in` clause) runs once and
    does not count, nor do loops over a literal list/tuple (a fixed, small number of passes),
    nor `while` loops (usually batching: one query per batch, not per row)."""
    path = [*stack, node]
    for index in range(len(path) - 2, -1, -1):
        ancestor, child = path[index], path[index + 1]
        if isinstance(ancestor, _SCOPES):
            return None
        if isinstance(ancestor, ast.For | ast.AsyncFor):
            if child in ancestor.body and not _is_literal_collection(ancestor.iter):
                return ancestor
        elif isinstance(ancestor, _COMPREHENSIONS):
            generators = ancestor.generators
            if isinstance(child, ast.comprehension):
                first = child is generators[0]
                grandchild = path[index + 2] if index + 2 < len(path) else None
                if first and grandchild is child.iter:
                    continue  # the first iterable is evaluated once
                if grandchild is child.target:
                    continue
                if first and _is_literal_collection(child.iter):
                    continue
                return ancestor
            if not _is_literal_collection(generators[0].iter):
                return ancestor  # the element expression
    return None


# -- models and relationships ------------------------------------------------------------------
SQLALCHEMY_RELATIONSHIPS = frozenset(
    {
        "sqlalchemy.orm.relationship",
        "sqlalchemy.orm.relation",
        "sqlalchemy.orm.relationships.relationship",
        "sqlmodel.Relationship",
    }
)
DJANGO_RELATIONS = {
    "django.db.models.ForeignKey": "fk",
    "django.db.models.OneToOneField": "o2o",
    "django.db.models.ManyToManyField": "m2m",
    "django.db.models.fields.related.ForeignKey": "fk",
    "django.db.models.fields.related.OneToOneField": "o2o",
    "django.db.models.fields.related.ManyToManyField": "m2m",
}


# the last parts of the relationship constructors `model_relationships` resolves
_RELATION_NAMES = last_parts({*SQLALCHEMY_RELATIONSHIPS, *DJANGO_RELATIONS})


def _lazy_option(call: ast.Call) -> str | None:
    value = _keyword(call, "lazy")
    if value is None:
        kwargs = _keyword(call, "sa_relationship_kwargs")
        if isinstance(kwargs, ast.Dict):
            for k, v in zip(kwargs.keys, kwargs.values, strict=True):
                if isinstance(k, ast.Constant) and k.value == "lazy":
                    value = v
    if value is None:
        return "select"
    if isinstance(value, ast.Constant):
        return str(value.value)
    return None  # computed: unknown


def _class_ref_name(node: ast.expr | None, owner: str) -> str | None:
    """The bare class name a relation points at: `User`, `"User"`, `"auth.User"`, `"self"`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value.rpartition(".")[2]
        return owner if text == "self" else text or None
    return None


def _is_flask_relationship(func: ast.expr, imports: ImportMap) -> bool:
    """Flask-SQLAlchemy's `db.relationship(...)`, `db` being a `SQLAlchemy()` made here or
    imported from the project (`from app.extensions import db`)."""
    if not (
        isinstance(func, ast.Attribute)
        and func.attr in ("relationship", "relation")
        and isinstance(func.value, ast.Name)
    ):
        return False
    receiver = func.value
    if imports.instance_of(receiver) in ("flask_sqlalchemy.SQLAlchemy",):
        return True
    origin = imports.aliases.get(receiver.id, "")
    return origin.rpartition(".")[2] == receiver.id and not origin.startswith("sqlalchemy")


OBJECT = "object"  # reading the attribute loads the related row(s)
MANAGER = "manager"  # a Django related manager: the query runs when it is evaluated


def model_relationships(
    cls: ast.ClassDef, imports: ImportMap
) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """({lazy relationship attribute declared on `cls`: OBJECT|MANAGER}, {bare class name of
    another model: {reverse accessor `cls` adds to it: OBJECT|MANAGER}} - Django's
    `related_name`/`<model>_set`)."""
    own: dict[str, str] = {}
    reverse: dict[str, dict[str, str]] = {}
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            target, value = stmt.target, stmt.value
        else:
            continue
        if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
            continue
        # the cheap name test before resolving through the imports (`fastpath.may_name`)
        name = (
            imports.qualname(value.func) if may_name(value.func, _RELATION_NAMES, imports) else None
        )
        if name in SQLALCHEMY_RELATIONSHIPS or _is_flask_relationship(value.func, imports):
            lazy = _lazy_option(value)
            if lazy in ("select", "True"):  # the default: one SELECT per object on first read
                own[target.id] = OBJECT
            continue
        relation = DJANGO_RELATIONS.get(name or "")
        if relation is None:
            continue
        own[target.id] = MANAGER if relation == "m2m" else OBJECT
        to = value.args[0] if value.args else _keyword(value, "to")
        target_model = _class_ref_name(to, cls.name)
        related = _keyword(value, "related_name")
        if target_model is None:
            continue
        kind = OBJECT if relation == "o2o" else MANAGER
        if isinstance(related, ast.Constant) and isinstance(related.value, str):
            if not related.value.endswith("+") and "%" not in related.value:
                reverse.setdefault(target_model, {})[related.value] = kind
        elif related is None:
            default = cls.name.lower() if relation == "o2o" else cls.name.lower() + "_set"
            reverse.setdefault(target_model, {})[default] = kind
    return own, reverse


def absolute_qualname(node: ast.expr, ctx: FileContext) -> str | None:
    """A class reference as a module path: imported names through the imports (relative ones
    resolved against this module's package), local names prefixed with this module."""
    name = ctx.imports.qualname(node)
    if name is None:
        return None
    root = name.partition(".")[0]
    if not name.startswith(".") and root not in ctx.imports.aliases:
        return f"{ctx.module_name}.{name}" if ctx.module_name else name
    if name.startswith("."):
        level = len(name) - len(name.lstrip("."))
        parts = ctx.module_name.split(".") if ctx.module_name else []
        if ctx.filename != "__init__.py":
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)]
        rest = name[level:]
        return ".".join([*parts, rest]) if parts else rest
    return name
