"""PERF001: blocking calls inside `async def`."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.function_facts import sessions
from bastion.analysis.orm import (
    DJANGO_QUERY_METHODS,
    SESSION_IO_METHODS,
    django_query,
    guessed_session_name,
    module_session_kind,
    uses_sqlalchemy,
)
from bastion.context import FileContext
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule

_HTTP_VERBS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
)
_CLIENT_METHODS = _HTTP_VERBS | {"send"}
_SYNC_CLIENTS = frozenset(
    {
        "requests.Session",
        "requests.session",
        "requests.sessions.Session",
        "httpx.Client",
        "urllib3.PoolManager",
    }
)
# the root of every name in `_SYNC_CLIENTS`
_CLIENT_ROOTS = frozenset(name.partition(".")[0] for name in _SYNC_CLIENTS)
_SUBPROCESS = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
        *(f"os.spawn{s}" for s in ("l", "le", "lp", "lpe", "v", "ve", "vp", "vpe")),
        *(f"os.{w}" for w in ("wait", "waitpid", "wait3", "wait4", "waitid")),
    }
)
# Whole-tree file operations: they read and write every byte.
_SHUTIL = frozenset(
    f"shutil.{f}"
    for f in (
        "rmtree",
        "copytree",
        "copyfile",
        "copyfileobj",
        "copy",
        "copy2",
        "move",
        "make_archive",
        "unpack_archive",
    )
)
# Opening an archive reads its index from disk; extracting writes every member.
_ARCHIVES = frozenset({"zipfile.ZipFile", "tarfile.open", "tarfile.TarFile"})
_PATH_IO = frozenset({"open", "read_text", "write_text", "read_bytes", "write_bytes"})
_PATH_STEPS = frozenset({"joinpath", "with_suffix", "with_name", "resolve", "absolute"})
_PATH_TYPES = frozenset({"pathlib.Path", "pathlib.PosixPath", "pathlib.PurePath", "Path"})
_DBAPI_CALLS = frozenset({"execute", "executemany", "executescript"})
# what every call `_classify` may flag is named (the last part of its dotted name)
_CALL_NAMES = (
    last_parts(_SUBPROCESS | _SHUTIL | _ARCHIVES | {"time.sleep", "urllib.request.urlopen", "open"})
    | _PATH_IO
    | _DBAPI_CALLS
    | {"connect"}
    | _HTTP_VERBS
    | _CLIENT_METHODS
    | SESSION_IO_METHODS
    | DJANGO_QUERY_METHODS
)
_FILE_IO = frozenset({"read", "readline", "readlines", "write", "writelines", "truncate"})
_DJANGO_EVALUATING = frozenset(
    {
        "get",
        "count",
        "exists",
        "first",
        "last",
        "get_or_create",
        "aggregate",
        "in_bulk",
        "earliest",
        "latest",
    }
)

HINT_HTTP = (
    "Use an async client (`async with httpx.AsyncClient() as client: await client.get(...)`), "
    "or run the call in a thread with `await asyncio.to_thread(...)`."
)
HINT_SLEEP = "Use `await asyncio.sleep(...)`."
HINT_SUBPROCESS = (
    "Use `await asyncio.create_subprocess_exec(...)` (or `anyio.run_process`), or "
    "`await asyncio.to_thread(subprocess.run, ...)`."
)
HINT_FILE = (
    "Read the file with `aiofiles`/`anyio.open_file` (`async with await anyio.open_file(p) as "
    "f: data = await f.read()`), or `await asyncio.to_thread(path.read_text)`."
)
HINT_DB = (
    "Use an `AsyncSession` (`create_async_engine` + `async_sessionmaker`) and `await` its "
    "calls, or make the handler a plain `def` so the framework runs it in a thread pool."
)
HINT_DJANGO = (
    "Use the async ORM methods (`await Model.objects.aget(...)`, `acount()`, `afirst()`) or "
    "wrap the query in `sync_to_async`."
)


def _all_statements(fn: ast.AsyncFunctionDef) -> Iterator[ast.stmt]:
    """Every statement under `fn`, nested functions and classes included (what `ast.walk`
    would meet, without walking any expression: no statement is inside one)."""
    stack: list[ast.stmt] = list(fn.body)
    while stack:
        stmt = stack.pop()
        yield stmt
        for name in stmt._fields:
            value = getattr(stmt, name, None)
            if type(value) is list:
                for child in value:
                    if isinstance(child, ast.stmt):
                        stack.append(child)
                    elif isinstance(child, ast.ExceptHandler | ast.match_case):
                        stack.extend(child.body)


def _fn_name(fn: ast.AST | None) -> str:
    return getattr(fn, "name", "<lambda>")


class BlockingCallInAsync(Rule):
    """Flags calls that block the thread inside an `async def` (not in a plain `def` or
    `lambda` nested in it, which may run in a thread):

    - HTTP: `requests.get/post/...`, `httpx.get/post/...` (the module functions are sync),
      `urllib.request.urlopen`, and calls on a sync client object created in the function or
      module (`requests.Session()`, `httpx.Client()`) or a parameter annotated with one
      (`session: requests.Session`);
    - `time.sleep` (any alias: `from time import sleep as nap`);
    - `subprocess.run/call/check_call/check_output/Popen/getoutput`, `os.system`, `os.popen`,
      `os.spawn*`, `os.wait*`;
    - the builtin `open()` when the file is read or written in place (`open(p).read()`,
      `with open(p) as f: f.read()`, `json.load(f)`, `for line in f`) - not when the handle is
      only passed to `asyncio.to_thread(f.read)`; `Path.open/read_text/write_text/read_bytes/
      write_bytes` on a known `pathlib.Path` (`Path(...)`, a parameter annotated `Path`, and
      `/`, `.parent` of one, and what `.joinpath()` returns on any receiver); `shutil` copies,
      moves, archives and `rmtree`;
      `zipfile.ZipFile(...)`, `tarfile.open(...)`;
    - `sqlite3.connect()` and `execute`/`executemany`/`executescript` on a connection or
      cursor of it opened in the function;
    - sync SQLAlchemy sessions and connections: I/O methods (`query`, `execute`, `scalars`,
      `get`, `commit`, `rollback`, `flush`, `refresh`...) on a name annotated `Session` /
      `Connection` (including a sync `Session` injected with `Depends`), created from a sync
      `sessionmaker`/`Session(engine)`/`engine.connect()`, or a module-level `scoped_session`;
      `.query(...)` (which `AsyncSession` does not have) on a `session`/`db` variable;
    - Django ORM calls that run a query (`Model.objects.get/count/first/...`) without
      `await` (Django raises `SynchronousOnlyOperation` there).

    Not flagged: `os.remove`/`os.unlink` of one file (a single quick syscall: an error for it
    would fail CI on a negligible wait), awaited calls, calls on an `AsyncSession`/
    `AsyncClient`, calls inside nested plain functions or lambdas
    (`asyncio.to_thread(lambda: ...)`), and test files."""

    id = "PERF001"
    name = "blocking-call-in-async"
    aliases = (
        "ASYNC210",
        "ASYNC220",
        "ASYNC221",
        "ASYNC222",
        "ASYNC230",
        "ASYNC251",
    )  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.ERROR
    precision = "very-high"
    precision_measured = (
        "16 of 16 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem (shutil/zipfile/Path.open file work and subprocess waits in async "
        "handlers)"
    )
    summary = "Blocking I/O call inside `async def`"
    why = (
        "An `async def` handler runs on the event loop thread. A blocking call there - a sync "
        "HTTP request, `time.sleep`, a subprocess, a file read, a sync database query - stops "
        "the whole loop: every other request served by that worker waits until it returns, so "
        "one slow upstream call turns into latency for everyone."
    )
    hint = "Use the async equivalent, or run the blocking call with `await asyncio.to_thread(...)`."
    fix_safety = FixSafety.UNSAFE  # the `time.sleep` case only; other findings are not fixable
    fix_safety_note = (
        "`time.sleep(n)` -> `await asyncio.sleep(n)` lets other tasks run during the wait and "
        "makes the wait a cancellation point: code that relied on holding the event loop (no "
        "other coroutine running meanwhile) or on not being cancelled there behaves differently. "
        "Applied only with `--unsafe-fixes`."
    )
    requires = ("async",)
    call_names = _CALL_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "import requests\n\nasync def fetch(url):\n"
        "    return requests.get(url, timeout=5).json()\n",
        Example(
            "from time import sleep\n\nasync def poll():\n    sleep(1)\n",
            fixed="import asyncio\n\nasync def poll():\n    await asyncio.sleep(1)\n",
        ),
        Example(
            "import time\n\nasync def backoff(attempt):\n    time.sleep(2 ** attempt)  # wait\n",
            fixed="import asyncio\n"
            "\n"
            "async def backoff(attempt):\n"
            "    await asyncio.sleep(2 ** attempt)  # wait\n",
        ),
        "import subprocess\n\nasync def build():\n    subprocess.run(['make'], check=True)\n",
        "async def load(path):\n    with open(path) as f:\n        return f.read()\n",
        "from fastapi import Depends\nfrom sqlalchemy.orm import Session\n\n"
        "async def items(db: Session = Depends(get_db)):\n    return db.query(Item).all()\n",
        "import httpx\n\nasync def f(url):\n    with httpx.Client() as client:\n"
        "        return client.get(url)\n",
        "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker(bind=engine)\n\n"
        "async def save(item):\n    db = SessionLocal()\n    db.add(item)\n    db.commit()\n",
    ]
    good = [
        "import httpx\n\nasync def fetch(url):\n    async with httpx.AsyncClient() as c:\n"
        "        return await c.get(url)\n",
        "import asyncio, time\n\nasync def poll():\n    await asyncio.sleep(1)\n\n"
        "def sync_poll():\n    time.sleep(1)\n",
        "import asyncio, requests\n\nasync def fetch(url):\n"
        "    return await asyncio.to_thread(lambda: requests.get(url, timeout=5))\n",
        "from sqlalchemy.ext.asyncio import AsyncSession\n\n"
        "async def items(db: AsyncSession):\n    result = await db.execute(q)\n"
        "    await db.commit()\n",
        "import time\n\nasync def outer():\n    def work():\n        time.sleep(1)\n"
        "    return work\n",
        "import aiofiles\n\nasync def load(p):\n    async with aiofiles.open(p) as f:\n"
        "        return await f.read()\n",
        "import asyncio\n\nasync def load(p):\n    with open(p, 'rb') as f:\n"
        "        return await asyncio.to_thread(f.read)\n",
    ]

    fix_node = "Call"

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """`time.sleep(x)` (any alias) -> `await asyncio.sleep(x)`; only findings marked
        fixable (the sleep case) reach here."""
        import libcst as cst

        if not isinstance(node, cst.Call) or any(a.keyword or a.star for a in node.args):
            return None
        new = cst.Await(
            expression=cst.Call(func=cst.parse_expression("asyncio.sleep"), args=node.args),
            lpar=node.lpar,
            rpar=node.rpar,
        )
        return Fix(new, imports=(("asyncio", None),))

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._skip = ctx.is_test_file
        self._clients: dict[int, set[str]] = {}

    def _clients_of(self, fn: ast.AsyncFunctionDef) -> set[str]:
        key = id(fn)
        if key not in self._clients:
            clients: set[str] = set()
            # every client class is reached through one of these names: without them in the
            # module's text, no walk can find one
            text = self.ctx.source.text
            named = any(root in text for root in _CLIENT_ROOTS)
            pairs: list[tuple[ast.expr, ast.expr | None]] = []
            # assignments and `with` items are in statements: nested functions' included
            for node in _all_statements(fn) if named else ():
                if isinstance(node, ast.Assign) and len(node.targets) == 1:
                    pairs.append((node.value, node.targets[0]))
                elif isinstance(node, ast.With | ast.AsyncWith):
                    pairs += [(item.context_expr, item.optional_vars) for item in node.items]
            for value, target in pairs:
                if (
                    isinstance(value, ast.Call)
                    and isinstance(target, ast.Name)
                    and self.ctx.imports.qualname(value.func) in _SYNC_CLIENTS
                ):
                    clients.add(target.id)
            # parameters annotated with a sync client type (`session: requests.Session`)
            args = fn.args
            for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs) if named else ():
                if arg.annotation is not None and (
                    self.ctx.imports.qualname(arg.annotation) in _SYNC_CLIENTS
                ):
                    clients.add(arg.arg)
            self._clients[key] = clients
        return self._clients[key]

    def _reads_or_writes(self, node: ast.Call, fn: ast.AsyncFunctionDef) -> bool:
        """`open(p).read()`, or a file opened with `with open(p) as f` / `f = open(p)` whose
        handle is read or written in place (`f.read()`, `json.load(f)`, `for line in f`).
        A handle only handed to `asyncio.to_thread(f.read)` is not."""
        parent = self.ctx.parent
        if isinstance(parent, ast.Attribute) and parent.attr in _FILE_IO:
            return True
        handle: str | None = None
        if isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
            handle = parent.optional_vars.id
        elif (
            isinstance(parent, ast.Assign)
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
        ):
            handle = parent.targets[0].id
        if handle is None:
            return False
        for sub in self.ctx.function_index(fn).nodes:
            if isinstance(sub, ast.Call):
                func = sub.func
                if (
                    isinstance(func, ast.Attribute)
                    and func.attr in _FILE_IO
                    and isinstance(func.value, ast.Name)
                    and func.value.id == handle
                ):
                    return True
                passed = [*sub.args, *(kw.value for kw in sub.keywords)]
                if any(isinstance(a, ast.Name) and a.id == handle for a in passed):
                    callee = self.ctx.imports.qualname(sub.func) or ""
                    if not callee.startswith(("asyncio.", "anyio.", "trio.")) and not (
                        callee.endswith("run_in_executor")
                    ):
                        return True
            elif (
                isinstance(sub, ast.For | ast.comprehension)
                and isinstance(sub.iter, ast.Name)
                and sub.iter.id == handle
            ):
                return True
        return False

    def _path_or_dbapi(self, node: ast.Call, fn: ast.AsyncFunctionDef) -> tuple[str, str] | None:
        """`path.read_text()` / `path.open()` on a `pathlib.Path`, and `cur.execute(...)` on a
        cursor or connection of `sqlite3` opened in the function."""
        func = node.func
        if not isinstance(func, ast.Attribute):
            return None
        if func.attr in _PATH_IO and _is_path(func.value, fn, self.ctx):
            return f"file I/O with `Path.{func.attr}()`", HINT_FILE
        if (
            func.attr in _DBAPI_CALLS
            and isinstance(func.value, ast.Name)
            and func.value.id in _sqlite_handles(fn, self.ctx)
        ):
            return f"sync database call `{_dotted(func)}()` (sqlite3)", HINT_DB_API
        return None

    def _is_sync_client(self, node: ast.expr, clients: set[str]) -> bool:
        imports = self.ctx.imports
        if isinstance(node, ast.Name):
            return node.id in clients or imports.instance_of(node) in _SYNC_CLIENTS
        if isinstance(node, ast.Call):
            return imports.qualname(node.func) in _SYNC_CLIENTS
        return False

    def visit_Call(self, node: ast.Call) -> None:
        if self._skip or not may_name(node.func, _CALL_NAMES, self.ctx.imports):
            return
        fn = self.ctx.enclosing_function()
        if not isinstance(fn, ast.AsyncFunctionDef) or isinstance(self.ctx.parent, ast.Await):
            return
        found = self._classify(node, fn)
        if found is None:
            return
        where = f"inside `async def {_fn_name(fn)}`"
        what, hint = found
        self.report(
            node,
            f"{what} blocks the event loop {where}",
            hint=hint,
            fixable=hint == HINT_SLEEP,
        )

    def _classify(self, node: ast.Call, fn: ast.AsyncFunctionDef) -> tuple[str, str] | None:
        imports = self.ctx.imports
        name = imports.qualname(node.func) or ""
        if name == "time.sleep":
            return "`time.sleep()`", HINT_SLEEP
        if name in _SUBPROCESS:
            return f"`{name}()`", HINT_SUBPROCESS
        if name == "urllib.request.urlopen":
            return "`urllib.request.urlopen()`", HINT_HTTP
        if name in _SHUTIL or name in _ARCHIVES:
            return f"file I/O with `{name}()`", HINT_FILE
        if name == "sqlite3.connect":
            return "sync database call `sqlite3.connect()`", HINT_DB_API
        found = self._path_or_dbapi(node, fn)
        if found is not None:
            return found
        module, _, verb = name.rpartition(".")
        if module in ("requests", "requests.api", "httpx") and verb in _HTTP_VERBS:
            return f"sync HTTP call `{name}()`", HINT_HTTP
        if name == "open":
            if self._reads_or_writes(node, fn):
                return "file I/O with `open()`", HINT_FILE
            return None
        func = node.func
        if not isinstance(func, ast.Attribute):
            return None
        # the function's sessions and clients matter only to these methods (and take a walk)
        if func.attr in _CLIENT_METHODS or func.attr in SESSION_IO_METHODS:
            # a function's clients and sessions are looked up for a bare name only
            bare = type(func.value) is ast.Name
            if func.attr in _CLIENT_METHODS and self._is_sync_client(
                func.value, self._clients_of(fn) if bare else set()
            ):
                return f"sync HTTP client call `.{func.attr}()`", HINT_HTTP
            if func.attr in SESSION_IO_METHODS:
                receiver = func.value
                kind = None
                if isinstance(receiver, ast.Name):
                    kind = sessions(fn, self.ctx).get(receiver.id) or module_session_kind(
                        receiver, imports
                    )
                if kind == "sync":
                    return f"sync database call `{_dotted(func)}()`", HINT_DB
                if (
                    kind is None
                    and func.attr == "query"
                    and guessed_session_name(receiver)
                    and uses_sqlalchemy(imports)
                ):
                    return f"sync database call `{_dotted(func)}()`", HINT_DB
        method = django_query(node)
        if method in _DJANGO_EVALUATING:
            return f"sync Django ORM query `{_dotted(func)}()`", HINT_DJANGO
        return None


HINT_DB_API = (
    "Use an async driver (`aiosqlite`, `asyncpg`, `aiomysql`) or run the query in a thread "
    "with `await asyncio.to_thread(...)`."
)


def _is_path(node: ast.expr, fn: ast.AsyncFunctionDef, ctx: FileContext, depth: int = 0) -> bool:
    """A `pathlib.Path`: `Path(...)`, a parameter annotated `Path`, a name assigned a path in
    the function, and what `/`, `.joinpath()`, `.parent`, `.with_suffix()` make of one."""
    if depth > 4:
        return False
    if isinstance(node, ast.Call):
        if ctx.imports.qualname(node.func) in _PATH_TYPES:
            return True
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "joinpath":
            # only paths have `.joinpath()` (pathlib, zipfile.Path, importlib's Traversable):
            # whatever the receiver is (`temp_path` from a context manager), the result is one
            return True
        return (
            isinstance(func, ast.Attribute)
            and func.attr in _PATH_STEPS
            and _is_path(func.value, fn, ctx, depth + 1)
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return _is_path(node.left, fn, ctx, depth + 1)
    if isinstance(node, ast.Attribute) and node.attr == "parent":
        return _is_path(node.value, fn, ctx, depth + 1)
    if isinstance(node, ast.Name):
        args = fn.args
        for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            if arg.arg == node.id:
                return arg.annotation is not None and (
                    ctx.imports.qualname(arg.annotation) in _PATH_TYPES
                )
        assigned = ctx.function_index(fn).single_assignments.get(node.id)
        if assigned:  # the first `name = ...` of the function decides
            return _is_path(assigned[0].value, fn, ctx, depth + 1)
    return False


def _sqlite_handles(fn: ast.AsyncFunctionDef, ctx: FileContext) -> set[str]:
    """Names bound in `fn` to `sqlite3.connect(...)` and to `.cursor()` of one."""
    handles: set[str] = set()
    for stmt in ctx.function_index(fn).statements:
        if not (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Call)
        ):
            continue
        func = stmt.value.func
        if ctx.imports.qualname(func) == "sqlite3.connect" or (
            isinstance(func, ast.Attribute)
            and func.attr == "cursor"
            and isinstance(func.value, ast.Name)
            and func.value.id in handles
        ):
            handles.add(stmt.targets[0].id)
    return handles


def _dotted(node: ast.expr) -> str:
    try:
        text = ast.unparse(node)
    except (ValueError, RecursionError):  # pragma: no cover - defensive
        return "..."
    return text if len(text) <= 60 else text[:57] + "..."
