"""PERF005: outgoing HTTP calls that can wait forever."""

from __future__ import annotations

import ast
from typing import Any

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.fixes import append_arg, keyword_arg
from bastion.analysis.nodes import has_kwargs_splat, keyword
from bastion.analysis.scripts import is_script_file
from bastion.context import FileContext
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule

_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
_REQUESTS_SESSIONS = frozenset(
    {"requests.Session", "requests.session", "requests.sessions.Session"}
)
_HTTPX_CLIENTS = frozenset({"httpx.Client", "httpx.AsyncClient"})
# what a call this rule looks at is named: a verb, httpx's `stream`, or a client class
_CALL_NAMES = _VERBS | {"stream"} | last_parts(_HTTPX_CLIENTS)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


class HttpCallWithoutTimeout(Rule):
    """Flags outgoing HTTP calls that may never time out:

    - `requests.get/post/put/patch/delete/head/options/request(...)` and the same methods on a
      `requests.Session()` object created in the function or module, without `timeout=` (or
      with `timeout=None`): requests has no default timeout and waits forever;
    - httpx calls and clients (`httpx.get(...)`, `httpx.Client(...)`, `httpx.AsyncClient(...)`,
      `client.get(...)`) with an explicit `timeout=None`, which switches off the timeout.

    httpx calls *without* `timeout=` are not flagged: httpx applies a 5-second default timeout
    to every request, so leaving it out is already bounded. Calls that pass `**kwargs` are not
    flagged (a timeout may be inside)."""

    id = "PERF005"
    name = "http-call-without-timeout"
    aliases = ("S113",)  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B113",)  # bandit test ids honoured in `# nosec`
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "20 of 20 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "HTTP call without a timeout"
    why = (
        "A request to an upstream service that stops answering waits forever without a "
        "timeout: the worker (or the event-loop task) handling it is stuck, requests pile up "
        "behind it, and one slow dependency takes the whole service down. requests has no "
        "default timeout at all; httpx has one, unless it is switched off with `timeout=None`."
    )
    hint = (
        "Pass an explicit timeout, e.g. `timeout=10` (or `httpx.Timeout(10.0, connect=5.0)`); "
        "the unsafe fix adds `timeout=10` (seconds): check that it suits the upstream."
    )
    fix_safety = FixSafety.UNSAFE  # a call that legitimately took longer than 10 s now fails
    fix_safety_note = (
        "Adding `timeout=10` makes a call that legitimately took longer than 10 seconds fail with"
        " a timeout error: pick the value for the upstream before applying."
    )
    fix_node = "Call"
    requires = ("requests", "httpx")
    call_names = _CALL_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        Example(
            "import requests\n\ndef fetch(url):\n    return requests.get(url).json()\n",
            fixed="import requests\n\ndef fetch(url):\n"
            "    return requests.get(url, timeout=10).json()\n",
        ),
        Example(
            "import requests as rq\n\ndef send(url, data):\n    rq.post(\n        url,\n"
            "        json=data,\n    )\n",
            fixed="import requests as rq\n\ndef send(url, data):\n    rq.post(\n        url,\n"
            "        json=data,\n        timeout=10,\n    )\n",
        ),
        Example(
            "import requests\n\ndef f(url):\n    s = requests.Session()\n    return s.get(url)\n",
            fixed="import requests\n\ndef f(url):\n    s = requests.Session()\n"
            "    return s.get(url, timeout=10)\n",
        ),
        Example(
            "import httpx\n\nclient = httpx.AsyncClient(timeout=None)\n",
            fixed="import httpx\n\nclient = httpx.AsyncClient(timeout=10)\n",
        ),
        Example(
            "import requests\n\ndef f(url):\n    return requests.get(url, timeout = None)\n",
            fixed="import requests\n\ndef f(url):\n    return requests.get(url, timeout = 10)\n",
        ),
    ]
    good = [
        "import requests\n\ndef fetch(url):\n    return requests.get(url, timeout=10).json()\n",
        "import httpx\n\nasync def fetch(url):\n    async with httpx.AsyncClient() as c:\n"
        "        return await c.get(url)\n",
        "import requests\n\ndef fetch(url, **kwargs):\n    return requests.get(url, **kwargs)\n",
        "def fetch(session, url):\n    return session.get(url)\n",
        "import httpx\n\nr = httpx.get('https://example.org', timeout=httpx.Timeout(5.0))\n",
    ]

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """Add `timeout=10`, or replace `timeout=None` by it."""
        import libcst as cst

        if not isinstance(node, cst.Call):
            return None
        ten = cst.Integer("10")
        for index, arg in enumerate(node.args):
            if arg.keyword is not None and arg.keyword.value == "timeout":
                if not (isinstance(arg.value, cst.Name) and arg.value.value == "None"):
                    return None
                args = list(node.args)
                args[index] = arg.with_changes(value=ten)
                return Fix(node.with_changes(args=args))
        if any(arg.star == "**" for arg in node.args):
            return None
        return Fix(append_arg(node, keyword_arg("timeout", ten)))

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # tests and scripts: a hung call stops one run, not a server (bench/ecosystem)
        self._skip = ctx.is_test_file or is_script_file(ctx)

    _requests: bool | None = None

    def _names_requests(self) -> bool:
        """The module's text names `requests`: every session below (`requests.Session()`...)
        is reached through that name (asked once per file)."""
        if self._requests is None:
            self._requests = "requests" in self.ctx.source.text
        return self._requests

    def _sessions_in(self, fn: ast.AST | None) -> frozenset[str]:
        """Names bound in the function to a new `requests` session (`s = requests.Session()`,
        `with requests.Session() as s`), from the shared per-function index."""
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            return frozenset()
        return self.ctx.function_index(fn).bound_to_calls(self.ctx.imports, _REQUESTS_SESSIONS)

    def visit_Call(self, node: ast.Call) -> None:
        if self._skip or not may_name(node.func, _CALL_NAMES, self.ctx.imports):
            return
        imports = self.ctx.imports
        name = imports.qualname(node.func) or ""
        module, _, verb = name.rpartition(".")
        timeout = keyword(node, "timeout")
        if module in ("requests", "requests.api") and verb in _VERBS:
            self._check_requests(node, f"`{name}()`", timeout)
            return
        if (module == "httpx" and verb in (*_VERBS, "stream")) or name in _HTTPX_CLIENTS:
            if timeout is not None and _is_none(timeout.value):
                self.report(
                    node,
                    f"`{name}(timeout=None)` switches off httpx's default timeout",
                    hint="Drop `timeout=None` (httpx then waits 5 s) or pass a finite timeout.",
                )
            return
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _VERBS and self._names_requests():
            receiver = func.value
            is_session = False
            if isinstance(receiver, ast.Name):
                is_session = receiver.id in self._sessions_in(self.ctx.enclosing_function()) or (
                    imports.instance_of(receiver) in _REQUESTS_SESSIONS
                )
            elif isinstance(receiver, ast.Call):
                is_session = imports.qualname(receiver.func) in _REQUESTS_SESSIONS
            if is_session:
                self._check_requests(node, f"`requests.Session.{func.attr}()`", timeout)

    def _check_requests(self, node: ast.Call, what: str, timeout: ast.keyword | None) -> None:
        if timeout is None:
            if has_kwargs_splat(node):
                return
            self.report(node, f"{what} without `timeout=` can wait forever")
        elif _is_none(timeout.value):
            self.report(node, f"{what} with `timeout=None` can wait forever")
