"""PERF002: independent awaits run one after the other."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from bastion.context import FileContext
from bastion.findings import Severity
from bastion.rule import Rule

# Words that mark an argument as a shared, stateful resource: two calls handed the same one
# are ordered (an `AsyncSession` or a connection must not be used concurrently).
_RESOURCE_WORDS = (
    "session",
    "db",
    "conn",
    "cursor",
    "lock",
    "tx",
    "transaction",
    "socket",
    "ws",
    "channel",
    "client",
    "request",
    "send",
    "receive",
    "stream",
    "redis",
    "cache",
    "pool",
    "uow",
    "repo",
    "repository",
    "dao",
    "crud",
    "store",
    "storage",
    "queue",
    "self",
    "cls",
)
_CONCURRENCY_MODULES = ("asyncio.", "anyio.", "trio.")
# Only calls named like reads are candidates: a read can move, a write may be ordered.
_READ_VERBS = (
    "get",
    "fetch",
    "load",
    "read",
    "list",
    "find",
    "retrieve",
    "query",
    "search",
    "lookup",
    "count",
    "download",
    "aget",
    "afetch",
)


@dataclass(frozen=True)
class _Await:
    stmt: ast.stmt
    target: str
    call: ast.Call
    key: str  # the object the call is made on (`client`, `self.repo`), or the function name
    names: frozenset[str]  # every name the call reads


def _dotted(node: ast.expr) -> str | None:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def _statement_lists(body: list[ast.stmt]) -> Iterator[list[ast.stmt]]:
    """Statement lists of a function's own scope where awaits run in plain sequence: not the
    bodies of `try` (ordered by the handler or `finally`) nor of `with`/`async with` (a lock,
    a transaction, a client that lives as long as the block)."""
    yield body
    for stmt in body:
        if isinstance(stmt, ast.If | ast.For | ast.AsyncFor | ast.While):
            yield from _statement_lists(stmt.body)
            yield from _statement_lists(stmt.orelse)
        elif isinstance(stmt, ast.Match):
            for case in stmt.cases:
                yield from _statement_lists(case.body)


def _as_await(stmt: ast.stmt) -> _Await | None:
    """`x = await call(...)` / `x: T = await call(...)` with a plain name target."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target, value = stmt.targets[0], stmt.value
    elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
        target, value = stmt.target, stmt.value
    else:
        return None
    if not isinstance(target, ast.Name) or not isinstance(value, ast.Await):
        return None
    call = value.value
    if not isinstance(call, ast.Call):
        return None
    func = _dotted(call.func)
    if func is None or func.startswith(_CONCURRENCY_MODULES):
        return None
    if not func.rpartition(".")[2].lstrip("_").lower().startswith(_READ_VERBS):
        return None  # writes and actions are usually ordered on purpose
    key = func.rpartition(".")[0] if isinstance(call.func, ast.Attribute) else func
    names = frozenset(n.id for n in ast.walk(call) if isinstance(n, ast.Name))
    return _Await(stmt, target.id, call, key, names)


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _is_resource(name: str) -> bool:
    lowered = name.lower()
    return any(
        lowered == word or lowered.startswith(word + "_") or lowered.endswith("_" + word)
        for word in _RESOURCE_WORDS
    )


def _shares_state(item: _Await) -> bool:
    """Calls that may share a session with any other call: on a class or module-level
    singleton (`Users.get_by_id`, `DB_CLIENT.search` - one object for the whole process), on a
    repository/session-like receiver, or handed a session-like argument (`db=db`)."""
    root = item.key.split(".")[0]
    if isinstance(item.call.func, ast.Attribute) and (root[:1].isupper() or _is_resource(root)):
        return True
    arguments = [*item.call.args, *(kw.value for kw in item.call.keywords)]
    names = {n.id for arg in arguments for n in ast.walk(arg) if isinstance(n, ast.Name)}
    keywords = {kw.arg for kw in item.call.keywords if kw.arg}
    return any(_is_resource(name) for name in names | keywords)


def _independent(later: _Await, group: list[_Await]) -> bool:
    for earlier in group:
        if earlier.target in later.names or later.target in earlier.names:
            return False  # data flows from one to the other (or a name is rebound)
        if earlier.target == later.target:
            return False
        if _related(earlier.key, later.key):
            return False  # same object (or same function): its state orders the calls
        shared = earlier.names & later.names
        if any(_is_resource(name) for name in shared):
            return False  # both use the same session/connection/client
        roots = {earlier.key.split(".")[0], later.key.split(".")[0]}
        if shared & roots:
            return False  # one call's receiver is handed to the other: one object, ordered
        root = earlier.key.split(".")[0]
        if root == later.key.split(".")[0] and "." in earlier.key + later.key:
            return False  # `self.users.get()` and `self.orders.get()`: one owner, shared state
    return True


def _func_text(call: ast.Call) -> str:
    text = _dotted(call.func) or "..."
    return f"`{text}()`"


class SequentialAwaits(Rule):
    """Flags two or more consecutive statements of the form `x = await f(...)` whose calls do
    not depend on each other and could run concurrently with `asyncio.gather` or a
    `TaskGroup`.

    This rule is deliberately narrow: a false "run these concurrently" is a bug waiting to
    happen. Two awaits are only considered independent when all of these hold:

    - both results are assigned to plain names (an `await f()` statement on its own is a side
      effect, and side effects are usually ordered on purpose), and both calls are named like
      reads (`get_*`, `fetch_*`, `load_*`, `read_*`, `list_*`, `find_*`, `query_*`,
      `search_*`, `count_*`...): a write followed by anything is left alone;
    - no name bound by one is read by the other (no data flow);
    - neither call is made on a class or module-level singleton (`Users.get_by_id`,
      `VECTOR_DB.search`), on a repository/session/client-like receiver, nor handed a
      session-like argument (`get_user(db, uid)`, `db=db`): such calls may share one
      `AsyncSession`, which must not be used concurrently;
    - they are not calls on the same object or on objects one inside the other (`db`,
      `self.repo`, `self`: an `AsyncSession`, a connection, a websocket or a lock serialises
      its callers), nor calls of the same function, nor do they both receive the same
      session/connection/client-like argument;
    - they are not inside a `try` (its handlers or `finally` order them), a `with`/`async
      with` block (a lock or a transaction), and are not `asyncio`/`anyio`/`trio` calls.

    Awaits that share hidden state (two module functions using the same global client) cannot
    be seen and may still be reported: suppress those with a reason."""

    id = "PERF002"
    name = "sequential-awaits"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "2 of 2 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    summary = "Independent awaits run one after the other"
    why = (
        "Each `await` waits for its call to finish before the next one starts, so three "
        "independent 100 ms calls to other services take 300 ms. Started together with "
        "`asyncio.gather` (or a `TaskGroup`) they take about 100 ms: the request's latency "
        "becomes the slowest call instead of the sum of them all."
    )
    hint = (
        "Run them concurrently: `user, posts = await asyncio.gather(fetch_user(uid), "
        "fetch_posts(uid))` (or `async with asyncio.TaskGroup() as tg: ...`)."
    )
    requires = ("await",)
    bad = [
        "async def page(uid):\n    user = await fetch_user(uid)\n"
        "    posts = await fetch_posts(uid)\n    return user, posts\n",
        "async def dashboard(uid):\n    profile = await users_api.get_profile(uid)\n"
        "    orders = await orders_api.list_orders(uid)\n"
        "    stats = await stats_api.get_summary(uid)\n    return profile, orders, stats\n",
        "async def both(a, b):\n    if a:\n        x = await fetch(a)\n"
        "        y = await load(b)\n        return x, y\n",
    ]
    good = [
        "async def page(uid):\n    user = await fetch_user(uid)\n"
        "    posts = await fetch_posts(user.id)\n",
        "async def two(session, uid):\n    user = await session.get(User, uid)\n"
        "    org = await session.get(Org, 1)\n",
        "async def read(ws):\n    first = await ws.receive_text()\n"
        "    second = await ws.receive_text()\n",
        "async def f(uid):\n    try:\n        a = await fetch_user(uid)\n"
        "        b = await fetch_posts(uid)\n    finally:\n        await close()\n",
        "async def f(db, uid):\n    a = await get_user(db, uid)\n"
        "    b = await get_orders(db, uid)\n",
        "async def f(lock):\n    async with lock:\n        a = await fetch_user(1)\n"
        "        b = await fetch_posts(1)\n",
        "async def f():\n    await create_user()\n    await send_welcome_email()\n",
        "async def f(order):\n    saved = await save_order(order)\n    rates = await get_rates()\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._skip = ctx.is_test_file

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        if self._skip:
            return
        for statements in _statement_lists(node.body):
            self._check_run(statements)

    def _check_run(self, statements: list[ast.stmt]) -> None:
        group: list[_Await] = []

        def flush() -> None:
            if len(group) >= 2:
                calls = ", ".join(_func_text(a.call) for a in group)
                self.report(
                    group[0].stmt,
                    f"{calls} are awaited one after the other but do not depend on each other",
                )
            group.clear()

        for stmt in statements:
            current = _as_await(stmt)
            if current is not None and _shares_state(current):
                current = None
            if current is None:
                flush()
                continue
            if group and not _independent(current, group):
                flush()
            group.append(current)
        flush()
