"""PERF003: a database query per loop iteration (N+1)."""

from __future__ import annotations

import ast
from collections.abc import Collection

from bastion.analysis.function_facts import sessions
from bastion.analysis.one_off import is_command, is_one_off
from bastion.analysis.orm import (
    CONNECTION_QUERY_METHODS,
    DJANGO_QUERY_METHODS,
    FLASK_QUERY_METHODS,
    SESSION_QUERY_METHODS,
    django_query,
    enclosing_loop,
    flask_query,
    guessed_session_name,
    is_django_manager,
    is_flask_query_property,
    module_session_kind,
)
from bastion.context import FileContext
from bastion.file_roles import is_migration
from bastion.findings import Severity
from bastion.rule import Rule

# Methods trusted on a variable that is only *named* like a session (`db`, `session`).
_GUESSED_METHODS = frozenset({"query", "execute", "scalars", "scalar", "exec"})
# Every method `_is_query` may accept: a call to anything else is not looked at further.
_QUERY_METHODS = (
    DJANGO_QUERY_METHODS | FLASK_QUERY_METHODS | SESSION_QUERY_METHODS | CONNECTION_QUERY_METHODS
)


_BATCH_WORDS = ("bucket", "batch", "chunk", "segment", "page", "partition", "slice", "window")
_BULK_CALLS = frozenset({"in_", "any_", "notin_", "not_in", "tuple_"})


_REPEAT_WORDS = ("attempt", "retry", "retries", "tries", "poll", "loop_count", "iteration")
_ENDLESS = frozenset({"itertools.count", "itertools.repeat", "itertools.cycle"})
# schema and administration statements, one per object by nature (CTFd kills each idle
# connection with `KILL {id}`)
_DDL = (
    "drop ",
    "create ",
    "alter ",
    "truncate ",
    "vacuum",
    "analyze",
    "grant ",
    "lock ",
    "set ",
    "kill ",
)


def _is_repeat_loop(loop: ast.AST, rule: Rule) -> bool:
    """Not a loop over rows: a retry loop (`for _ in range(3)`, `for attempt in retrying():`)
    or an endless service loop (`for n in itertools.count():`)."""
    if not isinstance(loop, ast.For | ast.AsyncFor):
        return False
    endless = isinstance(loop.iter, ast.Call) and (
        rule.ctx.imports.qualname(loop.iter.func) in _ENDLESS
    )
    if endless:
        return True
    root = loop.iter
    while isinstance(root, ast.Attribute | ast.Call | ast.Subscript):
        root = root.func if isinstance(root, ast.Call) else root.value
    if isinstance(root, ast.Name) and root.id.isupper() and len(root.id) > 1:
        return True  # a module constant: a fixed, small set of passes
    iterable = loop.iter
    if isinstance(iterable, ast.Attribute) and iterable.attr.isupper() and len(iterable.attr) > 1:
        return True  # a setting (`settings.REMOTE_AUTH_DEFAULT_GROUPS`): a configured handful
    if isinstance(iterable, ast.Name) and _is_class_name(iterable.id):
        return True  # `for tag in GitHubTag:` iterates an enum class: its fixed members
    if _iterates_kwargs(iterable, rule):
        return True  # `for key, val in kwargs.items():` the call's keyword arguments
    target = loop.target
    if isinstance(target, ast.Name):
        name = target.id.lower()
        if any(w in name for w in ("query", "stmt", "statement", "sql")):
            return True  # running each of a list of statements
        return name.startswith("_") or any(w in name for w in _REPEAT_WORDS)
    return False


def _names_varying_in(loop: ast.AST) -> set[str]:
    """The loop's targets and the names assigned in its body: what may differ per pass."""
    if isinstance(loop, ast.For | ast.AsyncFor):
        roots: list[ast.AST] = [loop.target]
        roots += [
            t
            for stmt in loop.body
            for n in ast.walk(stmt)
            if isinstance(n, ast.Assign)
            for t in n.targets
        ]
    elif isinstance(loop, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        roots = [gen.target for gen in loop.generators]
    else:
        return set()
    return {n.id for root in roots for n in ast.walk(root) if isinstance(n, ast.Name)}


def _model_per_pass(call: ast.Call, loop: ast.AST) -> bool:
    """A loop over models or tables, one query each (`for Model in models:
    Model.objects.filter(...)`, `EventModel = apps.get_model(...)`, `session.query(model_class)`
    in `for model_class in self.model_classes`): a different table per pass, not a query per
    row (DefectDojo's history commands, dispatch's search, bench/ecosystem)."""
    varying = _names_varying_in(loop)
    if not varying:
        return False
    node: ast.expr = call
    while isinstance(node, ast.Call | ast.Attribute | ast.Subscript):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            first = node.args[0] if node.args else None
            if name in ("query", "select") and first is not None:
                # `query(model_class)`, `query(model_class.id.label("id"))`
                while isinstance(first, ast.Attribute | ast.Call):
                    first = first.func if isinstance(first, ast.Call) else first.value
                return isinstance(first, ast.Name) and first.id in varying
            node = func
        else:
            node = node.value
    # `Model.objects...` / `Model.query...`: the chain's root is the model
    return isinstance(node, ast.Name) and node.id in varying and node.id[:1].isupper()


def _iterates_kwargs(iterable: ast.expr, rule: Rule) -> bool:
    """`kwargs.items()` of the function's own `**kwargs` (mealie's model constructor): a
    handful of keyword arguments, not rows."""
    node = iterable.func if isinstance(iterable, ast.Call) else iterable
    if isinstance(node, ast.Attribute):
        node = node.value
    fn = rule.ctx.enclosing_function()
    kwarg = getattr(getattr(fn, "args", None), "kwarg", None)
    return isinstance(node, ast.Name) and kwarg is not None and node.id == kwarg.arg


def _is_class_name(name: str) -> bool:
    """`GitHubTag`, `Color`: CamelCase, the spelling of a class (an iterated class is an enum)."""
    return name[:1].isupper() and any(c.islower() for c in name) and "_" not in name


def _derived_names(loop: ast.For | ast.AsyncFor) -> set[str]:
    """The loop's targets and the names the body assigns from them (`kind = widget["type"]`)."""
    names = {n.id for n in ast.walk(loop.target) if isinstance(n, ast.Name)}
    assigns = [n for stmt in loop.body for n in ast.walk(stmt) if isinstance(n, ast.Assign)]
    for _ in range(2):  # two hops: `key = list(widget)[0]`, `kind = key.lower()`
        for node in assigns:
            if any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(node.value)):
                names |= {
                    n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)
                }
    return names


def _is_kind_constant(node: ast.expr) -> bool:
    """A literal (`"endpoint-list"`) or an enum member (`ScheduleDateField.ADDED`)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str | int) and not isinstance(node.value, bool)
    root = node
    while isinstance(root, ast.Attribute):
        root = root.value
    return node is not root and isinstance(root, ast.Name) and _is_class_name(root.id)


def _kind_tests(loop: ast.For | ast.AsyncFor, varying: set[str]) -> dict[str, set[str]]:
    """Per subject drawn from the loop's item, the constants the body compares it with
    (`if kind == "page-break"`, `match trigger.field: case Field.ADDED`)."""
    found: dict[str, set[str]] = {}

    def note(subject: ast.expr, constant: ast.expr) -> None:
        if any(isinstance(n, ast.Name) and n.id in varying for n in ast.walk(subject)):
            found.setdefault(ast.dump(subject), set()).add(ast.dump(constant))

    for stmt in loop.body:
        for node in ast.walk(stmt):
            if isinstance(node, ast.Compare) and len(node.ops) == 1:
                if isinstance(node.ops[0], ast.Eq) and _is_kind_constant(node.comparators[0]):
                    note(node.left, node.comparators[0])
            elif isinstance(node, ast.Call) and _isinstance_test(node) is not None:
                note(node.args[0], node.args[1])  # `isinstance(value, int)`: the item's type
            elif isinstance(node, ast.Match):
                for case in node.cases:
                    pattern = case.pattern
                    if isinstance(pattern, ast.MatchValue) and _is_kind_constant(pattern.value):
                        note(node.subject, pattern.value)
    return found


def _skips_other_kinds(
    loop: ast.For | ast.AsyncFor, varying: set[str], stack: list[ast.AST]
) -> bool:
    """`if f.action != SignalFilterAction.snooze: continue` ahead of the query, in a loop over
    an object's collection (dispatch's signal filters): the loop picks the configured items of
    one kind, in Python. A loop over a query's rows would say so in the query (`.filter(...)`),
    so a loop whose iterable is a query keeps its finding."""
    if _iterates_query(loop):
        return False
    for stmt in loop.body:
        if stmt in stack:
            return False
        test = stmt.test if isinstance(stmt, ast.If) else None
        if (
            isinstance(stmt, ast.If)
            and isinstance(stmt.body[0], ast.Continue)
            and isinstance(test, ast.Compare)
            and isinstance(test.ops[0], ast.NotEq)
            and isinstance(test.comparators[0], ast.Attribute)
            and _is_kind_constant(test.comparators[0])
            and any(isinstance(n, ast.Name) and n.id in varying for n in ast.walk(test.left))
        ):
            return True
    return False


_QUERY_WORDS = frozenset({"objects", "query", "all", "filter", "exclude", "scalars", "execute"})


def _iterates_query(loop: ast.For | ast.AsyncFor) -> bool:
    """The loop's iterable is a query (`Order.objects.filter(...)`, `db.query(X).all()`) or a
    name; a plain attribute (`signal.filters`) is an object's collection."""
    if isinstance(loop.iter, ast.Name):
        return True  # where the name comes from is not looked up: keep the finding
    return any(
        isinstance(node, ast.Attribute) and node.attr in _QUERY_WORDS
        for node in ast.walk(loop.iter)
    )


def _isinstance_test(node: ast.AST) -> ast.expr | None:
    """The subject of `isinstance(subject, SomeType)`, else `None`."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "isinstance"
        and len(node.args) == 2
        and isinstance(node.args[1], ast.Name)
    ):
        return node.args[0]
    return None


def _dispatches_on_kind(loop: ast.AST, stack: list[ast.AST]) -> bool:
    """The query sits in one branch of an `if`/`elif` chain or a `match` that tells the loop's
    items apart by kind - the same value compared with two or more constants (DefectDojo's
    report widgets: "endpoint-list", "finding-list"...; paperless' scheduled workflow triggers:
    `match trigger.schedule_date_field`; DefectDojo's importer options: `isinstance(value,
    list)` / `int`) - or behind a guard that skips the other kinds (`_skips_other_kinds`).
    Items of several kinds, each with its own query, are configuration (widgets, triggers,
    filters), not rows looked up one by one."""
    if not isinstance(loop, ast.For | ast.AsyncFor) or loop not in stack:
        return False
    varying = _derived_names(loop)
    if _skips_other_kinds(loop, varying, stack):
        return True
    kinds = {subject for subject, values in _kind_tests(loop, varying).items() if len(values) > 1}
    if not kinds:
        return False
    for node in stack[stack.index(loop) + 1 :]:
        subject: ast.expr | None = None
        if isinstance(node, ast.Match):
            subject = node.subject
        elif isinstance(node, ast.If):
            test = node.test
            subject = test.left if isinstance(test, ast.Compare) else _isinstance_test(test)
        if subject is not None and ast.dump(subject) in kinds:
            return True
    return False


def _split_text(loop: ast.AST, fn: ast.AST | None) -> bool:
    """`for raw in tag_texts.split(","):` - items split out of one text value (a field a
    person typed: tags of a barcode, a template's endpoint lines): a handful, not rows.
    A file's content (`upload.read().split()`, `.splitlines()`) is not: that is data."""
    if not isinstance(loop, ast.For | ast.AsyncFor):
        return False
    iterable: ast.expr = loop.iter
    if isinstance(iterable, ast.Name) and fn is not None:
        value = _last_assignment(iterable.id, fn, loop)
        if isinstance(value, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            value = value.generators[0].iter
        if value is None:
            return False
        iterable = value
    return (
        isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr == "split"
        and isinstance(iterable.func.value, ast.Name | ast.Attribute)
    )


def _last_assignment(name: str, fn: ast.AST, loop: ast.AST) -> ast.expr | None:
    """The value last assigned to `name` in the function above the loop (by line)."""
    line = getattr(loop, "lineno", 0)
    value: ast.expr | None = None
    best = 0
    for node in ast.walk(fn):
        if not isinstance(node, ast.Assign) or not best < node.lineno < line:
            continue
        if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            value, best = node.value, node.lineno
    return value


_LOCKS = frozenset({"select_for_update", "with_for_update"})
# what a comment says when the per-row statement is deliberate (saleor: "remove app by app to
# prevent timeouts"; flagsmith: "to avoid deadlock")
_DELIBERATE = ("timeout", "deadlock", "one by one", "one at a time", "on purpose", "deliberate")


def _says_deliberate(comment: str) -> bool:
    text = comment.lower()
    if any(word in text for word in _DELIBERATE):
        return True
    words = text.split()
    # "app by app", "row by row"
    return any(b == "by" and a == c for a, b, c in zip(words, words[1:], words[2:], strict=False))


def _locks_rows(stack: list[ast.AST]) -> bool:
    """The query's statement takes a row lock (`...filter(id=x).select_for_update().get()`):
    one lock per row, on purpose."""
    for ancestor in reversed(stack):
        if isinstance(ancestor, ast.stmt):
            return any(
                isinstance(n, ast.Attribute) and n.attr in _LOCKS for n in ast.walk(ancestor)
            )
    return False


def _memoised(stack: list[ast.AST], loop: ast.AST) -> bool:
    """`if key not in cache: cache[key] = Model.objects.filter(...)`: the query runs once per
    distinct key, not once per pass (netbox's event rules cache)."""
    inside = stack[stack.index(loop) + 1 :] if loop in stack else []
    for index, node in enumerate(inside):
        if not isinstance(node, ast.If) or index + 1 >= len(inside):
            continue
        test = node.test
        statement = inside[index + 1]
        if not (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.NotIn)
            and statement in node.body
            and isinstance(statement, ast.Assign)
        ):
            continue
        cache = ast.dump(test.comparators[0])
        for target in statement.targets:
            if isinstance(target, ast.Subscript) and ast.dump(target.value) == cache:
                return True
    return False


def _explained(loop: ast.AST, call: ast.Call, ctx: FileContext) -> bool:
    """A comment from just above the loop down to the query says the per-row statements are
    deliberate (timeouts, deadlocks, "app by app")."""
    first = max(1, getattr(loop, "lineno", call.lineno) - 3)
    for number in range(first, call.lineno + 1):
        text = ctx.source.line(number)
        if "#" in text and _says_deliberate(text.partition("#")[2]):
            return True
    return False


def _is_ddl(call: ast.Call) -> bool:
    """`session.execute(text(f"DROP TABLE {name}"))`: schema changes run one per object."""
    for node in ast.walk(call):
        text: str | None = None
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr) and node.values:
            first = node.values[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                text = first.value
        if text is not None and text.lstrip().lower().startswith(_DDL):
            return True
    return False


def _is_batch_loop(loop: ast.AST) -> bool:
    """`for batch in batched(ids, 500):` - one query per batch of rows, not per row."""
    if isinstance(loop, ast.For | ast.AsyncFor):
        parts: list[ast.AST] = [loop.target, loop.iter]
    elif isinstance(loop, ast.ListComp | ast.SetComp | ast.DictComp | ast.GeneratorExp):
        parts = [g for gen in loop.generators for g in (gen.target, gen.iter)]
    else:
        return False
    for part in parts:
        for node in ast.walk(part):
            word = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
            if isinstance(word, str) and any(w in word.lower() for w in _BATCH_WORDS):
                return True
    return False


def _is_bulk(call: ast.Call) -> bool:
    """A statement over many rows at once: `.where(X.id.in_(ids))`, `.values(rows)`,
    `execute(stmt, rows)` (executemany), `Model.objects.filter(pk__in=ids)`."""
    method = call.func.attr if isinstance(call.func, ast.Attribute) else ""
    executes = method in ("execute", "scalars", "scalar", "exec_driver_sql", "stream")
    if executes and len(call.args) >= 2 and not isinstance(call.args[1], ast.Dict):
        return True  # a parameter list: executemany
    for node in ast.walk(call):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in _BULK_CALLS:
                return True
            # `insert(X).values(rows)`; not Django's `.values("field")` (columns to read)
            values = name == "values" and node.args
            if values and not isinstance(node.args[0], ast.Dict | ast.Constant):
                return True
            if any(kw.arg and kw.arg.endswith("__in") for kw in node.keywords):
                return True
    return False


def _whole_chain(call: ast.Call, stack: list[ast.AST]) -> ast.Call:
    """The outermost call of the method chain `call` starts: for `db.query(Tag)` in
    `db.query(Tag).filter(Tag.name.in_(names)).all()`, the whole statement - where `.in_(...)`
    makes it a statement over many rows (dispatch's term and tag matching)."""
    outer: ast.AST = call
    last = call
    for ancestor in reversed(stack):
        if isinstance(ancestor, ast.Attribute) and ancestor.value is outer:
            outer = ancestor
        elif isinstance(ancestor, ast.Call) and ancestor.func is outer:
            outer = last = ancestor
        else:
            break
    return last


def _describe(call: ast.Call) -> str:
    func = call.func
    try:
        text = ast.unparse(func)
    except (ValueError, RecursionError):  # pragma: no cover - defensive
        text = "query"
    if len(text) > 50:
        text = text[:47] + "..."
    return f"`{text}(...)`"


class QueryInLoop(Rule):
    """Flags a database query run once per item of a `for` loop or comprehension (the N+1
    pattern):

    - SQLAlchemy: `query`, `execute`, `scalars`, `scalar`, `get`, `exec` (SQLModel), `stream`
      on a session or connection - a name annotated `Session`/`AsyncSession`/`Connection`,
      created in the function (`SessionLocal()`, `Session(engine)`, `engine.connect()`), a
      module-level `scoped_session`, or a variable conventionally named `session`/`db`
      (`self.session`, Flask-SQLAlchemy's `db.session`) in a module that imports SQLAlchemy;
    - Django: `Model.objects.get/filter/exclude/all/count/exists/first/...` in a module that
      imports Django;
    - Flask-SQLAlchemy: `Model.query.get/filter_by/filter/first/...` in a module that imports
      Flask or SQLAlchemy.

    Not flagged: the loop's own iterable (it runs once), loops over a literal list/tuple (a
    fixed number of passes), `while` loops and loops over batches (`for batch in batched(ids,
    500)`, names with batch/chunk/segment/page: one query per batch, not per row), statements
    over many rows (`.in_(ids)`, `.values(rows)`, `execute(stmt, rows)`, `filter(pk__in=ids)`,
    anywhere in the query's method chain), schema statements (`DROP TABLE ...`), retry and
    endless loops (`for _ in range(3)`, `for attempt in retrying()`, `for n in
    itertools.count()`), loops over module constants (`for key in CONFIG_KEYS`) or over a list
    of statements, queries in nested functions defined in the loop, files under `migrations/`
    (one-off data migrations), and test files.

    Also not flagged, after judging real findings (bench/ecosystem): loops over settings
    (`for name in settings.DEFAULT_GROUPS`) and enum classes (`for tag in GitHubTag`); a
    different model or table per pass (`for Model in models: Model.objects.count()`); row
    locks taken per row (`select_for_update()`); loops whose comment says the per-row
    statements are deliberate (timeouts, deadlocks, "app by app"); `KILL` statements; loops
    over the function's own `**kwargs`; a query cached per key (`if key not in cache:
    cache[key] = ...`); loops over items of several kinds, where the query sits in the branch
    of one kind (`if kind == "endpoint-list": ... elif kind == "finding-list": ...`, `match
    trigger.date_field: case Field.ADDED: ...`, `isinstance(value, list)` / `int`) or behind
    `if f.action != Action.SNOOZE: continue` in a loop over an object's collection that is not
    a query (report widgets, workflow triggers, signal filters: configuration, each a different
    query by design); loops over the parts of one text value (`for tag in text.split(",")`);
    loops over time buckets (`for bucket in series`); management commands and
    `cli` packages, data fix-ups and migration helpers outside `migrations/`, demo-data
    generators and test-support packages (`testing/`, `unittests/`)."""

    id = "PERF003"
    name = "query-in-loop"
    severity = Severity.INFO
    precision = "medium"
    precision_measured = (
        "56 of 68 judged findings right (82%) on 15 application repositories, "
        "bench/ecosystem. The wrong ones left are per-item work a reviewer accepts for other "
        "reasons: a network fetch or a file write per item dwarfs the query, a handful of "
        "items typed in a form, interleaved writes in maintenance code; the loop's shape does "
        "not tell them apart from a query per row. A polymorphic loop over rows (`if "
        "row.kind == 'a': ... elif row.kind == 'b': ...`) reads as items of several kinds and "
        "is not reported; default severity info (lowered from warning)"
    )
    summary = "Database query inside a loop (N+1 queries)"
    why = (
        "A query per loop item turns one request into N+1 round trips to the database. It is "
        "fast with ten rows in development and slow with ten thousand in production, and it "
        "holds a connection from the pool for the whole loop. One query that fetches every "
        "row at once (`WHERE id IN (...)`, a join, or eager loading) does the same work in one "
        "round trip."
    )
    hint = (
        "Fetch all rows before the loop in one query (`select(X).where(X.id.in_(ids))`, "
        "`Model.objects.filter(pk__in=ids)` / `in_bulk(ids)`), or eager-load the relation "
        "(`selectinload`, `select_related`/`prefetch_related`)."
    )
    requires = ("for",)
    call_names = _QUERY_METHODS  # visit_Call's only calls (see may_name)
    bad = [
        "from sqlalchemy.orm import Session\n\n"
        "def totals(db: Session, user_ids):\n    return [db.query(Order).filter(Order.user_id "
        "== uid).count() for uid in user_ids]\n",
        "from sqlalchemy import select\nfrom sqlalchemy.ext.asyncio import AsyncSession\n\n"
        "async def load(session: AsyncSession, ids):\n    out = []\n    for i in ids:\n"
        "        out.append(await session.scalar(select(User).where(User.id == i)))\n"
        "    return out\n",
        "from django.db import models\n\ndef names(orders):\n    for order in orders:\n"
        "        customer = Customer.objects.get(pk=order.customer_id)\n"
        "        print(customer.name)\n",
        "import sqlalchemy\n\ndef f(ids):\n    for i in ids:\n        db.execute(q, {'id': i})\n",
        "from flask import jsonify\n\ndef names(ids):\n"
        "    return jsonify([User.query.get(i).name for i in ids])\n",
    ]
    good = [
        "from sqlalchemy.orm import Session\n\ndef totals(db: Session, user_ids):\n"
        "    rows = db.query(Order).filter(Order.user_id.in_(user_ids)).all()\n"
        "    return {r.user_id: r for r in rows}\n",
        "from sqlalchemy.orm import Session\n\ndef f(db: Session):\n"
        "    for user in db.query(User).all():\n        print(user.name)\n",
        "from django.db import models\n\ndef names(ids):\n"
        "    customers = Customer.objects.in_bulk(ids)\n"
        "    for pk in ids:\n        print(customers[pk].name)\n",
        "from sqlalchemy.orm import Session\n\ndef purge(db: Session):\n"
        "    for model in (User, Order):\n        db.query(model).delete()\n",
        "import requests\n\ndef f(session, urls):\n    for u in urls:\n"
        "        session.get(u, timeout=5)\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # one-off data migrations: a query per row there costs nothing at request time
        # migrations (also Alembic/`db_migrations`) run once (bench/ecosystem)
        # and data fix-ups, demo-data generators, test-support modules (`one_off`)
        # commands (`one_off.is_command`) too: per-row queries there were judged noise
        # (`_skipped`: decided at the first query in a loop, as most modules have none)
        self._skip: bool | None = None
        # what `uses_sqlalchemy`, `uses_django` and `uses_flask_sqlalchemy` answer (module-level
        # imports), from one pass over the imports instead of six
        roots = {name.partition(".")[0] for name in ctx.imports.aliases.values()}
        self._sqlalchemy = not roots.isdisjoint(("sqlalchemy", "sqlmodel", "flask_sqlalchemy"))
        self._django = "django" in roots
        self._flask = not roots.isdisjoint(("flask_sqlalchemy", "flask", "sqlalchemy"))

    def _skipped(self) -> bool:
        if self._skip is None:
            path = self.ctx.path
            self._skip = (
                self.ctx.is_test_file or is_migration(path) or is_one_off(path) or is_command(path)
            )
        return self._skip

    def _local(self, fn: ast.AST | None) -> Collection[str]:
        """The function's database sessions (shared with PERF001 through the index)."""
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            return ()
        return sessions(fn, self.ctx).keys()

    def _may_be_query(self, func: ast.Attribute) -> bool:
        """What `_is_query` needs and can tell from the call's own shape: `False` means it
        would say `False`."""
        attr = func.attr
        receiver = func.value
        if self._django and attr in DJANGO_QUERY_METHODS and is_django_manager(receiver):
            return True
        if self._flask and attr in FLASK_QUERY_METHODS and is_flask_query_property(receiver):
            return True
        if attr not in SESSION_QUERY_METHODS and attr not in CONNECTION_QUERY_METHODS:
            return False
        return type(receiver) is ast.Name or (self._sqlalchemy and attr in _GUESSED_METHODS)

    def _is_query(self, node: ast.Call) -> bool:
        func = node.func
        if self._django and django_query(node) is not None:
            return True
        if self._flask and flask_query(node) is not None:
            return True
        if not isinstance(func, ast.Attribute):
            return False
        if func.attr not in SESSION_QUERY_METHODS and func.attr not in CONNECTION_QUERY_METHODS:
            return False
        receiver = func.value
        if isinstance(receiver, ast.Name):
            if receiver.id in self._local(self.ctx.enclosing_function()):
                return True
            if module_session_kind(receiver, self.ctx.imports) is not None:
                return True
        return self._sqlalchemy and func.attr in _GUESSED_METHODS and guessed_session_name(receiver)

    def visit_Call(self, node: ast.Call) -> None:
        # every query is a method call by one of a few names: the cheapest question first
        func = node.func
        if type(func) is not ast.Attribute or func.attr not in _QUERY_METHODS:
            return
        if not (self._sqlalchemy or self._django or self._flask):
            return
        if not self._may_be_query(func):
            return
        # most calls are in no loop at all: ask that before resolving the receiver
        loop = enclosing_loop(self.ctx.stack, node)
        if loop is None or self._skipped():
            return
        if not self._is_query(node) or _is_bulk(_whole_chain(node, self.ctx.stack)):
            return
        if _is_ddl(node):
            return
        if _is_batch_loop(loop) or _is_repeat_loop(loop, self) or _model_per_pass(node, loop):
            return
        if _locks_rows(self.ctx.stack) or _explained(loop, node, self.ctx):
            return
        if _memoised(self.ctx.stack, loop) or _dispatches_on_kind(loop, self.ctx.stack):
            return
        if _split_text(loop, self.ctx.enclosing_function()):
            return
        kind = "loop" if isinstance(loop, ast.For | ast.AsyncFor) else "comprehension"
        line = getattr(loop, "lineno", "?")
        self.report(
            node,
            f"{_describe(node)} runs a query on every pass of the {kind} at line {line}",
        )
