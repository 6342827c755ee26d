"""SEC007: SQL text built from non-literal values."""

from __future__ import annotations

import ast
import re

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.injection import (
    Scope,
    StringBuilding,
    building_label,
    describe,
    looks_like_sql,
)
from bastion.analysis.nodes import argument, keyword_value, string_value
from bastion.analysis.scripts import is_script_file
from bastion.context import FileContext
from bastion.file_roles import is_migration
from bastion.findings import Severity
from bastion.rule import Rule

_EXECUTE_METHODS = frozenset({"execute", "executemany", "executescript", "exec_driver_sql"})
_TEXT = frozenset(
    {
        "sqlalchemy.text",
        "sqlalchemy.sql.text",
        "sqlalchemy.sql.expression.text",
        "sqlalchemy.sql.elements.text",
        "sqlmodel.text",
    }
)
_RAW_SQL = frozenset({"django.db.models.RawSQL", "django.db.models.expressions.RawSQL"})
# The last part of those names (imports rename only the root of a dotted name).
_TEXT_NAMES = last_parts(_TEXT | _RAW_SQL)
# every method name `visit_Call` looks at
_SQL_METHODS = _EXECUTE_METHODS | {"raw", "extra"} | _TEXT_NAMES

# Text that ends right before a *value* (data) position of SQL: an operator, a keyword that
# takes an expression, inside a quoted literal. Identifiers (`FROM %s`, `"%s"`, `SELECT %s`)
# are not data positions.
_DATA_BEFORE = re.compile(
    r"(?:[=<>]|\b(?:i?like|where|and|or|not|between|having|then|else|when|by|is|limit|offset"
    r"|set|returning))\s*$",
    re.IGNORECASE,
)
_OPEN_LIST = re.compile(r"\b(?:values|in)\s*\(", re.IGNORECASE)


def in_data_position(before: str) -> bool:
    """Is a value placed after `before` (the literal SQL text preceding it) a data value?"""
    text = before.rstrip()
    if not text:
        return False  # template not known
    if text.endswith(("'", "'%")):
        return text.count("'") % 2 == 1  # inside a '...' literal
    if _DATA_BEFORE.search(text):
        return True
    if text.endswith(('"', '"%')) and _DATA_BEFORE.search(text.rstrip('"%').rstrip()):
        return True  # name = "...": a MySQL double-quoted string, not an identifier
    if text.endswith((",", "(")):
        opened = list(_OPEN_LIST.finditer(text))
        return bool(opened) and ")" not in text[opened[-1].end() :]
    return False


def _receiver_mentions(func: ast.expr, *words: str) -> bool:
    node = func.value if isinstance(func, ast.Attribute) else func
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Call):
            node = node.func
            continue
        if any(w in node.attr.lower() for w in words):
            return True
        node = node.value
    return isinstance(node, ast.Name) and any(w in node.id.lower() for w in words)


def _terminal_name(node: ast.expr) -> str | None:
    """`x` for `x`, `a.b.x` and `a.x(...)`."""
    if isinstance(node, ast.Call):
        node = node.func
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _class_literal(cls: ast.ClassDef, attr: str) -> bool:
    """The class body binds `attr` to a literal (`_threshold = 0.5`, `x: float = 0.5`)."""
    for stmt in cls.body:
        if isinstance(stmt, ast.Assign):
            names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
            value: ast.expr | None = stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            names, value = [stmt.target.id], stmt.value
        else:
            continue
        if attr in names and isinstance(value, ast.Constant):
            return True
    return False


# receivers whose attributes are SQL fragments of the database layer (`db.timestamp_now`)
_DIALECTS = frozenset({"db", "database", "dialect", "ops"})


def _binds_parameters(call: ast.Call) -> bool:
    """`execute(sql, params)` with parameters that are not an empty literal: the author
    binds the values, so what the text interpolates is structure (issue #15: a `WHERE`
    clause built by a helper that returns `(clause, params)`, a `SET` list of the model's
    own columns)."""
    params = argument(call, 1, "parameters")
    for name in ("params", "args", "parameters", "multiparams"):
        params = params or keyword_value(call, name)
    if params is None:
        return False
    if isinstance(params, ast.List | ast.Tuple | ast.Set):
        return bool(params.elts)
    if isinstance(params, ast.Dict):
        return bool(params.keys)
    return not (isinstance(params, ast.Constant) and params.value is None)


class SqlStringBuilding(Rule):
    """Flags SQL text built with an f-string, `%`, `.format()` or `+` from non-literal values
    that reaches `execute()`/`executemany()`/`executescript()`/`exec_driver_sql()` (cursors,
    connections, sessions), SQLAlchemy `text()`, Django `Manager.raw()`, `QuerySet.extra()`
    (`where=`, `select=`, `tables=`, `order_by=`) or `RawSQL()`. A variable passed to the sink
    is followed one assignment back in the same function (`sql = f"..."` or `sql += ...`).

    Only values in a *data* position count: after a comparison or `LIKE`, inside a quoted
    `'...'` literal, in `IN (...)`/`VALUES (...)`, after `WHERE`/`AND`/`OR`/`SET`/`BY`/
    `LIMIT`... Values placed where SQL expects an identifier or keyword (`FROM {table}`,
    `"%s"`, `SELECT %s()`, `CREATE DATABASE %s`) are how migrations, schema editors and ORM
    compilers build DDL, and are left alone, as are values formatted as numbers (`%d`,
    `{n:d}`) and templates whose text is not known here.

    Not flagged either (see `bastion.analysis.injection` for the exact list): constant SQL,
    parameterised queries (`execute(sql, params)` with a constant `sql`, `text("... :id")`
    with bound parameters), and SQL built only from literals - constants, ALL_CAPS names,
    numbers, placeholder lists (`", ".join(["%s"] * len(ids))`) and identifiers quoted by
    `connection.ops.quote_name()`/`qn()`, placeholder helpers and variables named for
    placeholders (`db.timestamp_placeholder("now")`, `placeholders = ", ".join(...)`) and
    `self.` attributes that the class body binds to a literal, `cls.` attributes (measured
    on real applications: these were the SQL-building noise). Also left alone (issue #15):
    `execute(sql, params)` with non-empty parameters (the values are bound; the text
    interpolates clauses and column lists the code built), attributes of the database layer
    (`db.timestamp_now`), and a value that an enclosing `if` checked to hold no quote. The
    message names the first value in a data position that is not one of those. This is how
    Django's own ORM compiler and schema editor build SQL, and they stay quiet. For the
    generic `execute`/`raw` method names the literal part of the text must also read as SQL
    (`SELECT`, `WHERE`, `INSERT INTO`...), so that an unrelated `.execute()` taking a message
    is not mistaken for a query. Test files
    are skipped: SQL built from test data is not an injection; so are migrations (Django,
    Alembic, `db_migrations/`) and scripts/command-line modules. Default severity `info`:
    on 15 real applications (bench/ecosystem) no finding was an injection - the values were
    identifiers and fragments from the code that the analysis cannot prove constant - so
    teams that want the gate can raise it (`[tool.bastion.severity]`)."""

    id = "SEC007"
    name = "sql-string-building"
    aliases = ("S608",)  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B608",)  # bandit test ids honoured in `# nosec`
    severity = Severity.INFO
    precision = "low"
    precision_measured = (
        "no finding left on 15 application repositories, bench/ecosystem (before: 0 of 7, "
        "structure from the code, now not reported); too few findings to measure a band, so it "
        "stays at the last measured one; default severity lowered from error to info for it"
    )
    cwe = (89,)
    summary = "SQL built with an f-string, `%`, `.format()` or `+` from non-literal values"
    why = (
        "Interpolating a value into SQL text lets that value change the query: a quote in a "
        "name closes the string and the rest runs as SQL (injection), and even trusted values "
        "break on quotes and defeat the database's statement cache. Drivers and ORMs bind "
        "parameters separately from the text, which is both safe and faster."
    )
    hint = (
        'Keep the SQL constant and pass values as parameters: `cursor.execute("... WHERE id = '
        '%s", [user_id])`, `text("... WHERE id = :id").bindparams(id=user_id)`, '
        '`Model.objects.raw("... %s", [value])`; quote identifiers with '
        "`connection.ops.quote_name()` or use the ORM/`sqlalchemy.select()`."
    )
    requires = ("execute", "text", "raw", "extra", "RawSQL", "exec_driver_sql")
    # visit_Call's only calls (see may_name): the methods below and `text`/`RawSQL`
    call_names = _SQL_METHODS
    bad = [
        "def find(cursor, name):\n"
        "    cursor.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\n",
        "from sqlalchemy import text\n\ndef find(session, uid):\n"
        '    return session.execute(text("SELECT * FROM users WHERE id = %s" % uid))\n',
        "def find(cursor, email):\n"
        '    sql = "SELECT id FROM users WHERE email = \'" + email + "\'"\n'
        "    cursor.execute(sql)\n",
        "def search(term):\n"
        "    return User.objects.raw(\"SELECT * FROM app_user WHERE name LIKE '{}'\""
        ".format(term))\n",
        "from django.db.models.expressions import RawSQL\n\ndef annotate(qs, owner):\n"
        "    return qs.annotate(n=RawSQL(f'SELECT count(*) FROM t WHERE owner = {owner}', []))\n",
        "def active(qs, status):\n    return qs.extra(where=[f\"status = '{status}'\"])\n",
    ]
    good = [
        'def find(cursor, name):\n    cursor.execute("SELECT * FROM users WHERE name = %s", '
        "[name])\n",
        "from sqlalchemy import text\n\ndef find(session, uid):\n"
        '    return session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": uid})\n',
        "def drop(connection, cursor, table):\n"
        '    cursor.execute("DROP TABLE %s" % connection.ops.quote_name(table))\n',
        "def fetch(cursor, ids):\n"
        '    placeholders = ", ".join(["%s"] * len(ids))\n'
        '    cursor.execute(f"SELECT * FROM t WHERE id IN ({placeholders})", ids)\n',
        'TABLE = "users"\n\ndef count(cursor):\n'
        '    cursor.execute(f"SELECT count(*) FROM {TABLE}")\n',
        "def run(job, name):\n    job.execute(f'notify {name}')\n",
        # issue #15, from paperless-ngx, lnbits, mealie, CTFd: structure from the code
        "def search(conn, filters):\n    where, params = build_where(filters)\n"
        '    sql = "SELECT id FROM t WHERE " + where\n    return conn.execute(sql, params)\n',
        "def purge(db):\n"
        '    return db.execute(f"DELETE FROM audit WHERE delete_at < {db.timestamp_now}")\n',
        "from sqlalchemy import text\n\nclass Search:\n    @classmethod\n"
        "    def run(cls, session):\n"
        '        session.execute(text(f"set threshold = {cls._threshold};"))\n',
        "def reset(engine, table):\n"
        "    if '\"' not in table and \"'\" not in table:\n"
        "        q = \"SELECT setval('{t}', 1) FROM t\".format(t=table)\n"
        "        engine.execute(q)\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.strings = StringBuilding(fragment_word="sql", position_filter=in_data_position)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        method = func.attr if type(func) is ast.Attribute else ""
        if method and method not in _SQL_METHODS:
            return  # most calls: a method by another name
        if self.ctx.is_test_file:
            return  # (migrations and scripts are asked for last: see `_check`)
        if method in _EXECUTE_METHODS:
            if _binds_parameters(node):
                return  # values are bound: what the text interpolates is its structure
            self._check(node, argument(node, 0, "statement") or keyword_value(node, "sql"))
            return
        if method == "raw":
            self._check(node, argument(node, 0, "raw_query"), sql_receiver=("objects",))
            return
        if method == "extra":
            self._check_extra(node)
            return
        if not may_name(func, _TEXT_NAMES, self.ctx.imports):
            return  # neither `text(...)` nor `RawSQL(...)`
        qualified = self.ctx.imports.imported_qualname(func) or ""
        if qualified in _TEXT:
            self._check(node, argument(node, 0, "text"), needs_sql=False)
        elif qualified in _RAW_SQL:
            self._check(node, argument(node, 0, "sql"), needs_sql=False)

    def _check(
        self,
        call: ast.Call,
        query: ast.expr | None,
        *,
        needs_sql: bool = True,
        sql_receiver: tuple[str, ...] = (),
    ) -> None:
        if query is None:
            return
        scope = self.strings.enter(self.ctx)
        found = self.strings.dynamic_building(query, scope, before=call.lineno)
        if found is None:
            return
        building, values = found
        values = [v for v in values if not self._code_fragment(v, scope)]
        if not values:
            return
        if needs_sql:
            receiver_ok = sql_receiver and _receiver_mentions(call.func, *sql_receiver)
            text = self.strings.literal_text(query, scope, call.lineno)
            if not receiver_ok and not looks_like_sql(text):
                return
        if self._skip_file():
            return  # asked only here: what a file is for costs more than most calls' answer
        sink = describe(call.func)
        if "(" in sink and isinstance(call.func, ast.Attribute):
            sink = "..." + call.func.attr  # a chained receiver: name the method only
        self.report(
            query,
            f"SQL built with {building_label(building)} from `{describe(values[0])}` "
            f"reaches `{sink}()`",
        )

    _skip: bool | None = None

    def _skip_file(self) -> bool:
        """Migrations (they run once, on the application's own rows) and scripts (their
        operator types the input): measured on real applications, none was an injection."""
        if self._skip is None:
            self._skip = is_migration(self.ctx.path) or is_script_file(self.ctx)
        return self._skip

    def _code_fragment(self, value: ast.expr, scope: Scope | None, depth: int = 0) -> bool:
        """SQL text that comes from the code, not from data (bench/ecosystem: most SQL-building
        noise on real applications): a placeholder helper's result or a variable named for
        placeholders (`db.timestamp_placeholder("now")`, `placeholders = ", ".join(...)`), or
        a class attribute bound to a literal in the class body (`cls._threshold = 0.5`)."""
        terminal = _terminal_name(value)
        if terminal is not None and "placeholder" in terminal.lower():
            return True
        if isinstance(value, ast.Attribute) and _terminal_name(value.value) in _DIALECTS:
            return True  # `db.timestamp_now`: the database layer's SQL for its dialect
        if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name):
            if value.value.id == "cls":
                return True  # a class attribute read in a classmethod: set by the code
            cls = self.ctx.enclosing_class()
            if value.value.id == "self" and cls is not None:
                return _class_literal(cls, value.attr)
        if isinstance(value, ast.Name) and self._quotes_rejected(value.id):
            return True
        if isinstance(value, ast.Name) and scope is not None and depth < 3:
            bound = self.strings.locals_of(scope).values(value.id)
            return bool(bound) and all(
                not aug and self._code_fragment(v, scope, depth + 1) for v, aug in bound
            )
        return False

    def _quotes_rejected(self, name: str) -> bool:
        """Inside `if '"' not in name and "'" not in name:` (issue #15: CTFd's table names):
        the value cannot leave the quoted identifier or literal it is placed in."""
        for parent in self.ctx.stack:
            if not isinstance(parent, ast.If):
                continue
            rejected = {
                string_value(sub.left)
                for sub in ast.walk(parent.test)
                if isinstance(sub, ast.Compare)
                and len(sub.ops) == 1
                and isinstance(sub.ops[0], ast.NotIn)
                and isinstance(sub.comparators[0], ast.Name)
                and sub.comparators[0].id == name
            }
            if "'" in rejected:
                return True
        return False

    def _check_extra(self, call: ast.Call) -> None:
        values: list[ast.expr] = []
        for key in ("where", "tables", "order_by"):
            value = keyword_value(call, key)
            if isinstance(value, ast.List | ast.Tuple):
                values.extend(value.elts)
        select = keyword_value(call, "select")
        if isinstance(select, ast.Dict):
            values.extend(select.values)
        for value in values:
            self._check(call, value, needs_sql=False)
