"""ORG001-ORG002: how request handlers get their database sessions."""

from __future__ import annotations

import ast

from bastion.analysis.orm import creation_kind
from bastion.analysis.web import HTTP_METHODS, is_route_handler
from bastion.context import FileContext
from bastion.findings import Severity
from bastion.rule import Rule

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
# `try ... except*` (3.11+) has a `finalbody` too
_TRY_TYPES: tuple[type[ast.AST], ...] = (ast.Try, getattr(ast, "TryStar", ast.Try))


def _call_text(call: ast.Call) -> str:
    try:
        text = ast.unparse(call.func)
    except (ValueError, RecursionError):  # pragma: no cover - defensive
        text = "..."
    return text if len(text) <= 50 else text[:47] + "..."


class SessionInHandler(Rule):
    """Flags a route handler (FastAPI/Starlette/Flask decorators, Flask `MethodView` methods)
    that creates its own database session or connection in its body: `SessionLocal()` (a
    `sessionmaker`/`async_sessionmaker` made in the module, or a name imported from the
    project spelled like a session factory: `SessionLocal`, `async_session`...),
    `Session(engine)`, `AsyncSession(engine)`, `engine.connect()`/`engine.begin()`, and DB-API
    connects (`psycopg2.connect`, `asyncpg.connect`, `sqlite3.connect`...).

    Not flagged: sessions received as parameters (`db: Session = Depends(get_db)`), sessions
    created in helper functions or in dependencies, and Flask-SQLAlchemy's `db.session` (a
    request-scoped session the extension manages)."""

    id = "ORG001"
    name = "session-in-handler"
    severity = Severity.WARNING
    summary = "Database session created inside a route handler"
    why = (
        "A handler that opens its own session mixes transport and data access, cannot be "
        "tested against a test database without patching, and is easy to get wrong: an "
        "exception before `close()` leaks the connection back to nowhere until the pool runs "
        "dry. A dependency (`Depends(get_db)`) creates, commits or rolls back, and closes the "
        "session in one place for every route, and tests swap it with `dependency_overrides`."
    )
    hint = (
        "Inject the session: `db: Annotated[Session, Depends(get_db)]`, with `get_db` a "
        "generator that yields the session inside `try/finally` (or `with`)."
    )
    requires = ("Session", "session", "connect", "engine")
    bad = [
        "from fastapi import FastAPI\nfrom sqlalchemy.orm import sessionmaker\n\napp = FastAPI()\n"
        "SessionLocal = sessionmaker(bind=engine)\n\n@app.get('/users')\ndef users():\n"
        "    db = SessionLocal()\n    return db.query(User).all()\n",
        "from fastapi import APIRouter\nfrom app.db import SessionLocal\n\nrouter = APIRouter()\n\n"
        "@router.post('/items')\nasync def create(item: Item):\n"
        "    async with SessionLocal() as s:\n"
        "        s.add(item)\n",
        "from flask import Flask\nimport psycopg2\n\napp = Flask(__name__)\n\n"
        "@app.route('/count')\ndef count():\n    conn = psycopg2.connect(DSN)\n"
        "    return str(conn.cursor().execute('select 1'))\n",
        "from fastapi import FastAPI\nfrom sqlalchemy.orm import Session\n\napp = FastAPI()\n\n"
        "@app.get('/x')\ndef x():\n    with Session(engine) as s:\n        return s.scalar(q)\n",
    ]
    good = [
        "from fastapi import Depends, FastAPI\nfrom sqlalchemy.orm import Session\n\n"
        "app = FastAPI()\n\n@app.get('/users')\ndef users(db: Session = Depends(get_db)):\n"
        "    return db.query(User).all()\n",
        "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker(bind=engine)\n\n"
        "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n"
        "    finally:\n        db.close()\n",
        "from flask import Flask\nfrom app.ext import db\n\napp = Flask(__name__)\n\n"
        "@app.route('/users')\ndef users():\n    return str(db.session.query(User).count())\n",
        "from fastapi import FastAPI\nfrom sqlalchemy.orm import sessionmaker\n\napp = FastAPI()\n"
        "SessionLocal = sessionmaker(bind=engine)\n\ndef job():\n    db = SessionLocal()\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._skip = ctx.is_test_file

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if self._skip:
            return
        # a route needs a decorator, a `MethodView` handler an HTTP method's name: most
        # functions have neither, and are no handler without asking
        if not node.decorator_list and node.name not in HTTP_METHODS:
            return
        if not is_route_handler(node, self.ctx):
            return
        for sub in self.ctx.function_index(node).calls:
            if creation_kind(sub, self.ctx) is not None:
                self.report(
                    sub,
                    f"route handler `{node.name}` creates its own database session with "
                    f"`{_call_text(sub)}()`",
                )


def _names_in(nodes: list[ast.stmt]) -> set[str]:
    return {n.id for stmt in nodes for n in ast.walk(stmt) if isinstance(n, ast.Name)}


class DependencyWithoutCleanup(Rule):
    """Flags a generator function (a FastAPI dependency, a `@contextmanager`/
    `@asynccontextmanager`, or any generator) that yields a database session or connection it
    created (`db = SessionLocal(); yield db`, `yield SessionLocal()`) where nothing closes it
    when the consumer raises: the `yield` is neither inside a `with`/`async with` block nor
    inside a `try` whose `finally` refers to the session (or calls anything, e.g.
    `SessionLocal.remove()`).

    Not flagged: `with Session(engine) as s: yield s`, `async with SessionLocal() as s: yield
    s`, `try: yield db` / `finally: db.close()`, and generators that yield a session they were
    given as a parameter (the caller owns it)."""

    id = "ORG002"
    name = "dependency-without-cleanup"
    severity = Severity.ERROR
    summary = "Generator dependency yields a session without `try/finally` or `with`"
    why = (
        "When the request handler raises, FastAPI (like `contextlib.contextmanager`) throws "
        "the exception into the generator at the `yield`: code written after the `yield` "
        "never runs. Without `finally` or a `with` block, every failing request leaks its "
        "session and its pooled connection - after a burst of errors the pool is exhausted "
        "and the whole service hangs waiting for a connection."
    )
    hint = (
        "Close it whatever happens: `with SessionLocal() as db: yield db` (`async with` for "
        "`AsyncSession`), or `db = SessionLocal()` / `try: yield db` / `finally: db.close()`."
    )
    requires = ("yield",)
    bad = [
        "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker(bind=engine)\n\n"
        "def get_db():\n    db = SessionLocal()\n    yield db\n    db.close()\n",
        "from sqlalchemy.ext.asyncio import async_sessionmaker\n"
        "SessionLocal = async_sessionmaker(engine)\n\n"
        "async def get_session():\n    yield SessionLocal()\n",
        "from contextlib import contextmanager\nfrom sqlalchemy.orm import Session\n\n"
        "@contextmanager\ndef session_scope():\n    s = Session(engine)\n    try:\n"
        "        yield s\n        s.commit()\n    except Exception:\n        s.rollback()\n"
        "        raise\n    s.close()\n",
    ]
    good = [
        "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker(bind=engine)\n\n"
        "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n"
        "    finally:\n        db.close()\n",
        "from sqlalchemy.ext.asyncio import async_sessionmaker\n"
        "SessionLocal = async_sessionmaker(engine)\n\n"
        "async def get_session():\n    async with SessionLocal() as session:\n"
        "        yield session\n",
        "from sqlalchemy.orm import Session\n\ndef get_db():\n"
        "    with Session(engine) as s, s.begin():\n        yield s\n",
        "from sqlalchemy.orm import Session\n\ndef tx(db: Session):\n    yield db\n"
        "    db.commit()\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._skip = ctx.is_test_file
        self._created_cache: dict[int, set[str]] = {}

    def _created(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
        cached = self._created_cache.get(id(node))
        if cached is not None:
            return cached
        names: set[str] = set()
        for sub in self.ctx.function_index(node).statements:
            if (
                isinstance(sub, ast.Assign)
                and isinstance(sub.value, ast.Call)
                and creation_kind(sub.value, self.ctx) is not None
            ):
                names.update(t.id for t in sub.targets if isinstance(t, ast.Name))
        self._created_cache[id(node)] = names
        return names

    def visit_Yield(self, node: ast.Yield) -> None:
        if self._skip:
            return
        fn = self.ctx.enclosing_function()
        if not isinstance(fn, _FUNCTIONS):
            return
        value = node.value
        if isinstance(value, ast.Call) and creation_kind(value, self.ctx) is not None:
            what = f"`{_call_text(value)}()`"
            name = None
        elif isinstance(value, ast.Name) and value.id in self._created(fn):
            what = f"`{value.id}`"
            name = value.id
        else:
            return
        stack = self.ctx.stack
        ancestors = stack[len(stack) - stack[::-1].index(fn) :]
        if any(isinstance(a, ast.With | ast.AsyncWith) for a in ancestors):
            return
        if name is not None and self._closed_in_finally(name, ancestors):
            return
        self.report(
            node,
            f"`{fn.name}` yields {what} with no `finally`/`with` to close it when "
            "the request fails",
        )

    @staticmethod
    def _closed_in_finally(name: str, ancestors: list[ast.AST]) -> bool:
        for index, ancestor in enumerate(ancestors):
            if not isinstance(ancestor, _TRY_TYPES):
                continue
            final: list[ast.stmt] = getattr(ancestor, "finalbody", [])
            guarded: list[ast.stmt] = getattr(ancestor, "body", [])
            if not final:
                continue
            child = ancestors[index + 1] if index + 1 < len(ancestors) else None
            if child is not None and child not in guarded:
                continue  # the yield is in a handler/else/finally, not the guarded body
            if name in _names_in(final) or any(
                isinstance(n, ast.Call) for s in final for n in ast.walk(s)
            ):
                return True
        return False
