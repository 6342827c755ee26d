"""SEC008-SEC009: debug mode and host checks switched off in code meant for deployment."""

from __future__ import annotations

import ast
import re

from bastion.analysis.django import (
    is_deployment_settings,
    is_dev_settings_path,
    is_overridden,
    production_overrides,
    top_level_settings,
)
from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import (
    argument,
    has_kwargs_splat,
    is_true,
    keyword_value,
    string_elements,
    string_value,
)
from bastion.analysis.scripts import is_script_file
from bastion.analysis.web import FASTAPI_APPS, FLASK_APPS
from bastion.findings import Severity
from bastion.rule import Example, Rule

_FLASK_MODULES = ("flask", "quart")
_APP_OR_METHOD_NAMES = last_parts(FASTAPI_APPS | {"run", "update", "Application"})


def _uses_flask(rule: Rule, receiver: ast.expr) -> bool:
    """Is `receiver` (the `app` of `app.run`/`app.debug`/`app.config`) a Flask app? Yes when
    created by `Flask(...)` here, or, when created elsewhere (`create_app()`, a parameter),
    when the module imports Flask."""
    imports = rule.ctx.imports
    factory = imports.instance_of(receiver)
    if factory in FLASK_APPS:
        return True
    if factory in FASTAPI_APPS:
        return False
    # an app built by a factory (`app = create_app()`) or imported from the app's module
    if factory is not None and _APP_FACTORY.search(factory.rpartition(".")[2]):
        return True
    imported = imports.imported_qualname(receiver) or ""
    if "." in imported and imported.rpartition(".")[2] in ("app", "application"):
        return True
    return any(imports.is_imported(m) for m in _FLASK_MODULES)


_APP_FACTORY = re.compile(r"^(?:create|make|build|get|init)_?app(?:lication)?$", re.I)
_AIOHTTP_APPS = frozenset({"aiohttp.web.Application", "aiohttp.web_app.Application"})


def _config_receiver(node: ast.expr) -> ast.expr | None:
    """`app` for `app.config`, else None."""
    if isinstance(node, ast.Attribute) and node.attr == "config":
        return node.value
    return None


def _is_loopback(host: ast.expr | None) -> bool:
    """No `host` (Flask's default is 127.0.0.1), or a literal loopback address or name."""
    if host is None:
        return True
    text = string_value(host)
    if text is None:
        return False  # read at run time: it may be 0.0.0.0
    return text == "localhost" or text == "::1" or text.startswith("127.")


class DebugEnabled(Rule):
    """Flags debug mode switched on in code that may be deployed: `app.run(debug=True)` on a
    Flask app (also one built by a `create_app()`-style factory or imported as `app`),
    `FastAPI(debug=True)` / `Starlette(debug=True)` / aiohttp `web.Application(debug=True)`,
    Flask `app.debug = True`, `app.config["DEBUG"] = True`, `app.config.update(DEBUG=True)`,
    and Django `DEBUG = True` at the top level of a settings module.

    Not flagged: files named for development, local use or tests (`settings/dev.py`,
    `local_settings.py`, `run_dev.py`), test files, `DEBUG = True` nested under an `if`
    (already environment-dependent) or replaced by another value under a top-level `if`/`try`,
    and values read from the environment. `DEBUG = True` in the shared base module of a
    `settings/` package is not flagged when the production module next to it
    (`production.py`, `prod.py`) sets `DEBUG` again (issue #15: bakerydemo).

    `app.run(debug=True)` in a development entry point (under `if __name__ == "__main__":`,
    in a `main()`/`run*()` function, or in a command-line script) is how developers start
    Flask's development server, which a deployment under a WSGI server never runs. There it
    is reported (at `info`) only when the server listens beyond this machine (`host="0.0.0.0"`,
    another address, or a host bastion cannot read): then anyone on the network reaches the
    debugger (issue #15: ihatemoney's run.py). Bound to loopback (no `host`, `127.0.0.1`,
    `localhost`) it is not reported (CTFd's serve.py and wsgi.py): set the option
    `local-dev-servers = true` to report those too."""

    id = "SEC008"
    name = "debug-enabled"
    aliases = ("S201",)  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B201",)  # bandit test ids honoured in `# nosec`
    severity = Severity.ERROR
    precision = "low"
    precision_measured = (
        "0 of 3 judged findings right (0%) on 15 application repositories, bench/ecosystem, too "
        "few findings to be sure of the band: all three are `app.run(debug=True)` in development "
        "entry points, now reported at info (they are positives of the recall set); the base "
        "settings module replaced by production.py is no longer reported"
    )
    cwe = (489, 215)
    options = {"local-dev-servers": False}
    summary = "Debug mode enabled in code or settings meant for deployment"
    why = (
        "Debug mode shows tracebacks, settings and local variables to whoever triggers an "
        "error; Werkzeug's debugger even runs arbitrary Python typed into the error page, and "
        "Django's debug pages list settings and keep every SQL query in memory. None of it "
        "belongs on a server reachable by users."
    )
    hint = (
        "Read the flag from the environment and default it to off: "
        '`DEBUG = os.environ.get("DEBUG") == "1"`, `app.run(debug=settings.debug)`; keep '
        "`DEBUG = True` in a dev-only settings file."
    )
    requires = ("debug", "DEBUG")
    call_names = _APP_OR_METHOD_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "from flask import Flask\n\napp = Flask(__name__)\n\n"
        'if __name__ == "__main__":\n    app.run(host="0.0.0.0", debug=True)\n',
        "from fastapi import FastAPI\n\napp = FastAPI(debug=True)\n",
        'from flask import Flask\n\napp = Flask(__name__)\napp.config["DEBUG"] = True\n',
        Example(
            'SECRET_KEY = os.environ["SECRET_KEY"]\nDEBUG = True\n'
            'ALLOWED_HOSTS = ["shop.example"]\n',
            path="shop/settings.py",
        ),
        Example(
            "DEBUG = True\nDATABASES = {}\n",
            path="config/settings/production.py",
        ),
    ]
    good = [
        "from flask import Flask\n\napp = Flask(__name__)\n\n"
        'if __name__ == "__main__":\n    app.run(debug=os.environ.get("FLASK_DEBUG") == "1")\n',
        "from fastapi import FastAPI\n\napp = FastAPI(debug=False)\n",
        Example("DEBUG = True\nINSTALLED_APPS = []\n", path="config/settings/dev.py"),
        Example("DEBUG = True\nINSTALLED_APPS = []\n", path="mysite/local_settings.py"),
        "import argparse\n\nparser = argparse.ArgumentParser()\n"
        "parser.run(debug=True)\nDEBUG = True\n",
        # a development entry point bound to loopback (CTFd's serve.py, issue #15)
        "from flask import Flask\n\napp = Flask(__name__)\n\n"
        'if __name__ == "__main__":\n    app.run(debug=True, host="127.0.0.1", port=4000)\n',
        "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef main():\n"
        "    app.run(debug=True)\n",
    ]

    def _skip(self) -> bool:
        return self.ctx.is_test_file or is_dev_settings_path(self.ctx.path)

    def visit_Module(self, node: ast.Module) -> None:
        if self._skip() or not is_deployment_settings(self.ctx):
            return
        for setting in top_level_settings(node):
            if is_overridden(node, setting):
                continue
            if (
                setting.name == "DEBUG"
                and is_true(setting.value)
                and "DEBUG" not in production_overrides(self.ctx)
            ):
                self.report(setting.statement, "`DEBUG = True` in a deployment settings module")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not may_name(func, _APP_OR_METHOD_NAMES, self.ctx.imports):
            return  # neither `FastAPI(...)` nor `.run(...)`/`.update(...)`
        qualified = self.ctx.imports.imported_qualname(func)
        if qualified in FASTAPI_APPS or qualified in _AIOHTTP_APPS:
            if is_true(keyword_value(node, "debug")) and not self._skip():
                self.report(node, f"`{qualified.rpartition('.')[2]}(debug=True)`")
            return
        if not isinstance(func, ast.Attribute):
            return
        if func.attr == "run" and is_true(keyword_value(node, "debug")):
            if _uses_flask(self, func.value) and not self._skip():
                self._report_run(node)
            return
        receiver = _config_receiver(func.value)
        if func.attr == "update" and receiver is not None and _uses_flask(self, receiver):
            value = keyword_value(node, "DEBUG")
            if value is None and node.args and isinstance(node.args[0], ast.Dict):
                mapping = node.args[0]
                for key, item in zip(mapping.keys, mapping.values, strict=True):
                    if key is not None and string_value(key) == "DEBUG":
                        value = item
            if is_true(value) and not self._skip():
                self.report(node, "`app.config.update(DEBUG=True)`")

    def _report_run(self, node: ast.Call) -> None:
        """`app.run(debug=True)` is Flask's development server. In a development entry point
        (under `if __name__ == "__main__":`, in a `main()` or `run*()` function, or in a
        command-line script) it is how developers start the app, not how it is deployed: it
        matters when the debugger listens beyond this machine (issue #15: ihatemoney's run.py
        binds 0.0.0.0; CTFd's serve.py binds 127.0.0.1)."""
        if not self._dev_entry_point():
            self.report(node, "`app.run(debug=True)` starts the interactive debugger")
            return
        host = keyword_value(node, "host")
        local = _is_loopback(host)
        if local and not self.option("local-dev-servers"):
            return
        where = (
            "bound to this machine"
            if local
            else "listening beyond this machine (anyone on the network reaches it)"
        )
        self.report_at(
            node.lineno,
            node.col_offset + 1,
            "`app.run(debug=True)` in a development entry point, "
            f"{where}: Flask's development server with the interactive debugger, which runs "
            "any Python typed into an error page - bind it to 127.0.0.1 and never start the "
            "deployed app this way",
            end_line=node.end_lineno,
            end_column=(node.end_col_offset or 0) + 1,
            severity=Severity.INFO,
        )

    def _dev_entry_point(self) -> bool:
        if is_script_file(self.ctx):
            return True
        for parent in self.ctx.stack:
            if isinstance(parent, ast.If) and _is_main_guard(parent.test):
                return True
            if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef) and (
                parent.name == "main" or parent.name.startswith(("run", "dev"))
            ):
                return True
        return False

    def visit_Assign(self, node: ast.Assign) -> None:
        if not is_true(node.value):
            return
        for target in node.targets:
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "debug"
                and _uses_flask(self, target.value)
                and isinstance(target.value, ast.Name)
            ):
                if not self._skip():
                    self.report(node, f"`{target.value.id}.debug = True`")
            elif isinstance(target, ast.Subscript) and string_value(target.slice) == "DEBUG":
                receiver = _config_receiver(target.value)
                if receiver is not None and _uses_flask(self, receiver) and not self._skip():
                    self.report(node, '`app.config["DEBUG"] = True`')


def _is_main_guard(test: ast.expr) -> bool:
    """`__name__ == "__main__"`."""
    return (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and len(test.comparators) == 1
        and string_value(test.comparators[0]) == "__main__"
    )


_TRUSTED_HOST = frozenset(
    {
        "starlette.middleware.trustedhost.TrustedHostMiddleware",
        "fastapi.middleware.trustedhost.TrustedHostMiddleware",
    }
)
_MIDDLEWARE_WRAPPERS = frozenset(
    {"starlette.middleware.Middleware", "fastapi.middleware.Middleware"}
)
_MIDDLEWARE_NAMES = last_parts(_TRUSTED_HOST | _MIDDLEWARE_WRAPPERS | {"add_middleware"})


class AllowedHostsWildcard(Rule):
    """Flags host-header checks that accept any host: Starlette/FastAPI
    `TrustedHostMiddleware` with `allowed_hosts=["*"]` or with no `allowed_hosts` at all (its
    default is `["*"]`) - constructed directly, through `app.add_middleware(...)` or
    `Middleware(...)` - and Django `ALLOWED_HOSTS = ["*"]` at the top level of a deployment
    settings module (files named for dev/local/test and test files are skipped). Patterns like
    `"*.example.com"` are fine."""

    id = "SEC009"
    name = "allowed-hosts-wildcard"
    severity = Severity.WARNING
    cwe = (20,)
    summary = "Host header check that accepts any host (`*`)"
    why = (
        "Applications build absolute URLs (password-reset links, redirects, cache keys) from "
        "the `Host` header. Accepting any host lets an attacker send a request for "
        "`evil.example` and get a reset link pointing there, or poison a shared cache."
    )
    hint = (
        'List the real host names: `ALLOWED_HOSTS = ["api.example.com"]` / '
        '`TrustedHostMiddleware(allowed_hosts=["api.example.com", "*.example.com"])`, read '
        "from the environment per deployment."
    )
    requires = ("TrustedHostMiddleware", "ALLOWED_HOSTS", "trustedhost")
    call_names = _MIDDLEWARE_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "from fastapi import FastAPI\nfrom fastapi.middleware.trustedhost import "
        "TrustedHostMiddleware\n\napp = FastAPI()\n"
        'app.add_middleware(TrustedHostMiddleware, allowed_hosts=["*"])\n',
        "from starlette.middleware import Middleware\n"
        "from starlette.middleware.trustedhost import TrustedHostMiddleware\n\n"
        "middleware = [Middleware(TrustedHostMiddleware)]\n",
        Example(
            'INSTALLED_APPS = []\nALLOWED_HOSTS = ["*"]\n',
            path="project/settings/production.py",
        ),
    ]
    good = [
        "from fastapi import FastAPI\nfrom fastapi.middleware.trustedhost import "
        "TrustedHostMiddleware\n\napp = FastAPI()\n"
        "app.add_middleware(\n"
        '    TrustedHostMiddleware, allowed_hosts=["api.example.com", "*.example.com"]\n)\n',
        Example('INSTALLED_APPS = []\nALLOWED_HOSTS = ["*"]\n', path="project/settings/local.py"),
        Example('INSTALLED_APPS = []\nALLOWED_HOSTS = [".example.com"]\n', path="settings.py"),
        'ALLOWED_HOSTS = ["*"]\n',
    ]

    def visit_Module(self, node: ast.Module) -> None:
        if not is_deployment_settings(self.ctx):
            return
        for setting in top_level_settings(node):
            if is_overridden(node, setting):
                continue
            if setting.name == "ALLOWED_HOSTS" and "*" in (string_elements(setting.value) or []):
                self.report(setting.statement, '`ALLOWED_HOSTS = ["*"]` accepts any Host header')

    def visit_Call(self, node: ast.Call) -> None:
        if self.ctx.is_test_file:
            return
        if not may_name(node.func, _MIDDLEWARE_NAMES, self.ctx.imports):
            return
        imports = self.ctx.imports
        qualified = imports.imported_qualname(node.func)
        if qualified in _TRUSTED_HOST:
            self._check(node, argument(node, 1, "allowed_hosts"))
            return
        is_wrapper = qualified in _MIDDLEWARE_WRAPPERS or (
            isinstance(node.func, ast.Attribute) and node.func.attr == "add_middleware"
        )
        if is_wrapper and node.args:
            middleware = imports.imported_qualname(node.args[0])
            if middleware in _TRUSTED_HOST:
                self._check(node, keyword_value(node, "allowed_hosts"))

    def _check(self, call: ast.Call, hosts: ast.expr | None) -> None:
        if hosts is None:
            if not has_kwargs_splat(call):
                self.report(
                    call,
                    "TrustedHostMiddleware without `allowed_hosts` accepts any host "
                    '(the default is `["*"]`)',
                )
            return
        if "*" in (string_elements(hosts) or []):
            self.report(hosts, 'TrustedHostMiddleware with `allowed_hosts=["*"]` accepts any host')
