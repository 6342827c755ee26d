"""SEC012: TLS certificate verification turned off."""

from __future__ import annotations

import ast

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import is_false, keyword_value
from bastion.findings import Severity
from bastion.rule import Rule

_HTTP_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"}
)
# Clients and connectors whose constructor takes the switch.
_CLIENTS = frozenset(
    {
        "requests.Session",
        "requests.session",
        "requests.sessions.Session",
        "httpx.Client",
        "httpx.AsyncClient",
        "httpx.AsyncHTTPTransport",
        "httpx.HTTPTransport",
        "aiohttp.TCPConnector",
        "aiohttp.ClientSession",
        "aiohttp.connector.TCPConnector",
    }
)
_UNVERIFIED_CONTEXTS = frozenset({"ssl._create_unverified_context", "ssl._create_stdlib_context"})
_UNVERIFIED_NAMES = last_parts(_UNVERIFIED_CONTEXTS)
# the keywords `visit_Call` reads: a call passing none of them has nothing to flag
_SWITCH_KEYWORDS = frozenset({"cert_reqs", "verify", "ssl", "verify_ssl"})


class TlsVerifyDisabled(Rule):
    """Flags HTTP calls and clients that skip TLS certificate verification:

    - `verify=False` on `requests.*`/`httpx.*` functions, on `requests.Session`/`httpx.Client`/
      `httpx.AsyncClient` and transports, and on `.get/.post/.request/...` calls of an object in
      a module that imports requests or httpx (a session or client);
    - aiohttp's `ssl=False` / `verify_ssl=False` on `aiohttp.*`, `TCPConnector`,
      `ClientSession` and on request methods in a module that imports aiohttp;
    - urllib3's `PoolManager(cert_reqs="CERT_NONE")` (or `ssl.CERT_NONE`);
    - `session.verify = False` (requests), `ssl._create_unverified_context()`, and
      `ctx.verify_mode = ssl.CERT_NONE`.

    `verify_mode = ssl.CERT_NONE` raised to `CERT_REQUIRED` further down the same function
    is a mode the user picks (libpq's `sslmode=require` encrypts without verifying) and is
    not flagged (issue #15: fief). Only the literal `False` is flagged:
    `verify=settings.VERIFY_TLS` or `verify="/path/ca.pem"` (a custom CA bundle, the right way
    to trust an internal CA) are left alone."""

    id = "SEC012"
    name = "tls-verify-disabled"
    aliases = ("S323", "S501")  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B323", "B501")  # bandit test ids honoured in `# nosec`
    severity = Severity.ERROR
    precision = "very-high"
    precision_measured = (
        "1 of 1 judged findings right (100%) on 15 application repositories, bench/ecosystem, too "
        "few findings to be sure of the band (before: 1 of 2; a CERT_NONE mode raised to "
        "CERT_REQUIRED below is not reported)"
    )
    summary = "TLS certificate verification disabled (`verify=False`, `ssl=False`)"
    why = (
        "Without certificate verification, TLS still encrypts but no longer proves who is at "
        "the other end: anyone on the network path (a proxy, a compromised router, a "
        "malicious Wi-Fi) can impersonate the API and read or alter tokens, passwords and "
        "payloads. `verify=False` is usually added to get past a self-signed certificate in "
        "development and then ships to production."
    )
    hint = (
        "Keep verification on; to trust a private CA pass its bundle: "
        '`verify="/path/to/ca.pem"` (requests/httpx) or an `ssl.SSLContext` loaded with it.'
    )
    cwe = (295,)
    requires = ("verify", "ssl", "CERT_NONE")
    bad = [
        "import requests\n\nresp = requests.get(url, verify=False, timeout=5)\n",
        "import httpx\n\nclient = httpx.AsyncClient(verify=False)\n",
        "import requests\n\nsession = requests.Session()\nsession.verify = False\n",
        "import aiohttp\n\nconnector = aiohttp.TCPConnector(ssl=False)\n",
        "import requests\n\ndef fetch(session, url):\n"
        "    return session.post(url, json={}, verify=False, timeout=5)\n",
        "import ssl\n\nctx = ssl.create_default_context()\nctx.verify_mode = ssl.CERT_NONE\n",
        "import urllib3\n\nhttp = urllib3.PoolManager(cert_reqs='CERT_NONE')\n",
    ]
    good = [
        "import requests\n\nresp = requests.get(url, verify='/etc/ssl/internal-ca.pem')\n",
        "import httpx\n\nclient = httpx.Client(verify=settings.VERIFY_TLS)\n",
        "import jwt\n\nclaims = jwt.decode(token, key, verify=False)\n",
        "import aiohttp\n\nconnector = aiohttp.TCPConnector(ssl=ssl_context)\n",
        "session.verify = False\n",
        # issue #15 (fief): the weakest of the modes a user setting picks from
        "import ssl\n\ndef context(mode):\n    ctx = ssl.create_default_context()\n"
        "    ctx.check_hostname = False\n    ctx.verify_mode = ssl.CERT_NONE\n"
        "    if mode == 'verify-ca':\n        ctx.verify_mode = ssl.CERT_REQUIRED\n"
        "    return ctx\n",
    ]

    def visit_Call(self, node: ast.Call) -> None:
        if not may_name(node.func, _UNVERIFIED_NAMES, self.ctx.imports):
            # only `ssl._create_unverified_context()` is flagged whatever its arguments
            for kw in node.keywords:
                if kw.arg in _SWITCH_KEYWORDS:
                    break
            else:
                return
        imports = self.ctx.imports
        qualified = imports.qualname(node.func) or ""
        if qualified in _UNVERIFIED_CONTEXTS:
            self.report(node, f"`{qualified}()` makes a TLS context that accepts any certificate")
            return
        cert_reqs = keyword_value(node, "cert_reqs")
        if (
            cert_reqs is not None
            and qualified.startswith("urllib3.")
            and (
                (isinstance(cert_reqs, ast.Constant) and cert_reqs.value == "CERT_NONE")
                or imports.matches(cert_reqs, "ssl.CERT_NONE")
            )
        ):
            self.report(
                node, f"`{_short(qualified)}(cert_reqs=CERT_NONE)` turns off certificate checks"
            )
            return
        verify = keyword_value(node, "verify")
        if is_false(verify) and self._is_http(node, qualified, ("requests", "httpx")):
            self.report(node, f"`{_short(qualified)}(verify=False)` turns off certificate checks")
            return
        for switch in ("ssl", "verify_ssl"):
            value = keyword_value(node, switch)
            if is_false(value) and self._is_http(node, qualified, ("aiohttp",)):
                self.report(
                    node, f"`{_short(qualified)}({switch}=False)` turns off certificate checks"
                )
                return

    def _is_http(self, node: ast.Call, qualified: str, libraries: tuple[str, ...]) -> bool:
        if qualified.startswith(tuple(lib + "." for lib in libraries)):
            return True
        if qualified in _CLIENTS:
            return True
        func = node.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr in _HTTP_METHODS | {"ws_connect"}
            and any(self.ctx.imports.is_imported(lib) for lib in libraries)
        )

    def visit_Assign(self, node: ast.Assign) -> None:
        imports = self.ctx.imports
        for target in node.targets:
            if not isinstance(target, ast.Attribute):
                continue
            if (
                target.attr == "verify"
                and is_false(node.value)
                and (imports.is_imported("requests") or imports.is_imported("httpx"))
            ):
                self.report(node, "`.verify = False` turns off certificate checks for the session")
            elif (
                target.attr == "verify_mode"
                and imports.matches(node.value, "ssl.CERT_NONE")
                and not self._upgraded_later(node, target)
            ):
                self.report(node, "`verify_mode = ssl.CERT_NONE` accepts any certificate")

    def _upgraded_later(self, node: ast.Assign, target: ast.Attribute) -> bool:
        """`ctx.verify_mode = ssl.CERT_NONE` as the weakest of the modes a setting picks from,
        raised to `CERT_REQUIRED` further down the same function (issue #15: fief's libpq-style
        `sslmode`, where `require` means encrypt without verifying, by the user's choice)."""
        function = self.ctx.enclosing_function()
        if function is None:
            return False
        owner = ast.unparse(target.value)
        for sub in ast.walk(function):
            if (
                isinstance(sub, ast.Assign)
                and sub.lineno > node.lineno
                and any(
                    isinstance(t, ast.Attribute)
                    and t.attr == "verify_mode"
                    and ast.unparse(t.value) == owner
                    for t in sub.targets
                )
                and self.ctx.imports.matches(sub.value, "ssl.CERT_REQUIRED")
            ):
                return True
        return False


def _short(qualified: str) -> str:
    return qualified.rpartition(".")[2] if "." in qualified else qualified or "call"
