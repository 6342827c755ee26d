"""PERF006: database engines whose pool hands out dead connections."""

from __future__ import annotations

import ast

from bastion.analysis.fastpath import last_parts
from bastion.analysis.nodes import has_kwargs_splat, is_true, keyword_value
from bastion.analysis.orm import ENGINE_FACTORIES
from bastion.context import FileContext
from bastion.findings import Severity
from bastion.imports import ImportMap
from bastion.rule import Rule

_NETWORK_SCHEMES = (
    "postgresql",
    "postgres",
    "mysql",
    "mariadb",
    "oracle",
    "mssql",
    "cockroachdb",
    "redshift",
    "snowflake",
    "db2",
    "ibm_db",
)
_NO_POOL = frozenset(
    {
        "sqlalchemy.pool.NullPool",
        "sqlalchemy.pool.StaticPool",
        "sqlalchemy.NullPool",
        "sqlalchemy.StaticPool",
        "sqlalchemy.pool.impl.NullPool",
    }
)


_ENV_LOOKUPS = frozenset({"os.getenv", "os.environ.get", "os.environ.setdefault"})


def _url_prefix(node: ast.expr | None, imports: ImportMap | None = None) -> str | None:
    """The leading literal text of a URL: a string, an f-string's first literal part, or the
    default of an environment lookup (`os.getenv("DATABASE_URL", "postgresql://...")`)."""
    if (
        imports is not None
        and isinstance(node, ast.Call)
        and imports.qualname(node.func) in _ENV_LOOKUPS
        and len(node.args) >= 2
    ):
        return _url_prefix(node.args[1])
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def _scheme(text: str) -> str:
    return text.split(":", 1)[0].split("+", 1)[0].lower() if ":" in text else ""


class EngineWithoutPoolPrePing(Rule):
    """Flags `create_engine(...)` / `create_async_engine(...)` (SQLAlchemy, SQLModel) for a
    network database without `pool_pre_ping=True`.

    The database is known to be a network one when the URL is a literal (or an f-string, or a
    name assigned such a literal in the same function or module, or an `os.getenv(...)` whose
    default is such a literal) whose scheme is PostgreSQL,
    MySQL/MariaDB, Oracle, SQL Server, CockroachDB..., or when the call sizes a connection pool
    (`pool_size=`/`max_overflow=`). Not flagged: SQLite, URLs read from settings or the
    environment with no pool options (the database is unknown), `poolclass=NullPool`/
    `StaticPool` (no pool to go stale), and calls passing `**kwargs`."""

    id = "PERF006"
    name = "engine-without-pool-pre-ping"
    severity = Severity.INFO
    summary = "Network database engine without `pool_pre_ping=True`"
    why = (
        "A connection pool keeps connections open between requests. When the database "
        "restarts, fails over, or a proxy or firewall drops idle connections, the pool still "
        "hands those dead connections out and the next request fails with 'server closed the "
        "connection unexpectedly'. `pool_pre_ping=True` checks each connection as it is taken "
        "from the pool and replaces it transparently if it is gone."
    )
    hint = (
        "Pass `pool_pre_ping=True` (and consider `pool_recycle=` below the server's idle timeout)."
    )
    requires = ("create_engine", "create_async_engine")
    call_names = last_parts(ENGINE_FACTORIES)  # visit_Call's only calls (see may_name)
    bad = [
        "from sqlalchemy import create_engine\n\n"
        "engine = create_engine('postgresql+psycopg://app@db/app')\n",
        "from sqlalchemy.ext.asyncio import create_async_engine\n\n"
        "DATABASE_URL = 'postgresql+asyncpg://app@db/app'\n"
        "engine = create_async_engine(DATABASE_URL, pool_size=20)\n",
        "import sqlalchemy as sa\n\nengine = sa.create_engine(settings.DB_URL, pool_size=10, "
        "max_overflow=5)\n",
        "from sqlmodel import create_engine\n\n"
        "engine = create_engine(f'mysql+pymysql://app@{host}/app')\n",
        "import os\nfrom sqlalchemy import create_engine\n\n"
        "URL = os.getenv('DATABASE_URL', 'postgresql://app@localhost/app')\n"
        "engine = create_engine(URL)\n",
    ]
    good = [
        "from sqlalchemy import create_engine\n\n"
        "engine = create_engine('postgresql+psycopg://app@db/app', pool_pre_ping=True)\n",
        "from sqlalchemy import create_engine\n\nengine = create_engine('sqlite:///./app.db')\n",
        "from sqlalchemy import create_engine\n\nengine = create_engine(settings.DATABASE_URL)\n",
        "import os\nfrom sqlalchemy import create_engine\n\n"
        "engine = create_engine(os.getenv('DATABASE_URL', 'sqlite:///./app.db'))\n",
        "from sqlalchemy import create_engine\nfrom sqlalchemy.pool import NullPool\n\n"
        "engine = create_engine('postgresql://app@db/app', poolclass=NullPool)\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._skip = ctx.is_test_file

    def _resolve(self, node: ast.expr | None) -> ast.expr | None:
        """A name assigned a string in the enclosing function or at module level."""
        if not isinstance(node, ast.Name):
            return node
        fn = self.ctx.enclosing_function()
        scopes: list[list[ast.expr]] = []
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            index = self.ctx.function_index(fn)
            scopes.append([a.value for a in index.assignments.get(node.id, ())])
        if self.ctx.tree is not None:
            # module level: its own statements only (not those nested in `if`/`try`)
            scopes.append(
                [
                    stmt.value
                    for stmt in self.ctx.tree.body
                    if isinstance(stmt, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == node.id for t in stmt.targets)
                ]
            )
        for values in scopes:
            if len(values) == 1:
                return values[0]
            if values:
                return None
        return None

    def visit_Call(self, node: ast.Call) -> None:
        if self._skip:
            return
        name = self.ctx.imports.qualname(node.func)
        if name not in ENGINE_FACTORIES:
            return
        if is_true(keyword_value(node, "pool_pre_ping")) or has_kwargs_splat(node):
            return
        if keyword_value(node, "pool_pre_ping") is not None:
            return  # set from a variable/setting: not ours to judge
        poolclass = keyword_value(node, "poolclass")
        if poolclass is not None and self.ctx.imports.qualname(poolclass) in _NO_POOL:
            return
        url = node.args[0] if node.args else keyword_value(node, "url")
        prefix = _url_prefix(self._resolve(url), self.ctx.imports)
        short = name.rpartition(".")[2]
        if prefix is not None:
            scheme = _scheme(prefix)
            if scheme not in _NETWORK_SCHEMES:
                return
            self.report(node, f"`{short}()` for a {scheme} database without `pool_pre_ping=True`")
            return
        if keyword_value(node, "pool_size") is not None or (
            keyword_value(node, "max_overflow") is not None
        ):
            self.report(node, f"pooled `{short}()` without `pool_pre_ping=True`")
