"""LOG006: a stream handler added next to `logging.basicConfig()`."""

from __future__ import annotations

import ast

from bastion.analysis.nodes import keyword_value
from bastion.findings import Severity
from bastion.rule import Rule

_STREAM_HANDLERS = frozenset(
    {
        "logging.StreamHandler",
        "rich.logging.RichHandler",
        "colorlog.StreamHandler",
        "colorlog.ColoredHandler",
    }
)


class DuplicateLogHandlers(Rule):
    """Flags `logger.addHandler(StreamHandler(...))` (or a handler variable created from
    `logging.StreamHandler`/`RichHandler`) in a module that also calls `logging.basicConfig()`
    with its default console handler, when the logger is not made to stop propagating
    (`logger.propagate = False` in the same module): records reach both handlers and every
    line is printed twice.

    Not flagged: `basicConfig(filename=...)` or `basicConfig(handlers=[...])` without a stream
    handler, file/syslog/queue handlers, loggers with `propagate = False`, and modules that do
    not call `basicConfig` (the two halves in different modules are not followed)."""

    id = "LOG006"
    name = "duplicate-log-handlers"
    severity = Severity.INFO
    summary = "Stream handler added to a logger that also propagates to a `basicConfig` root"
    why = (
        "`logging.basicConfig()` puts a console handler on the root logger; a logger that gets "
        "its own `StreamHandler` still propagates its records to the root, so each record is "
        "written twice, often in two formats. Configure handlers in one place: either on the "
        "root (and let module loggers propagate) or on the logger with `propagate = False`."
    )
    hint = (
        "Drop the extra `addHandler(StreamHandler())` and configure formatting through "
        "`basicConfig(format=...)`/`dictConfig`, or set `logger.propagate = False`."
    )
    requires = ("basicConfig",)
    bad = [
        "import logging\n\nlogging.basicConfig(level=logging.INFO)\n"
        "logger = logging.getLogger(__name__)\nlogger.addHandler(logging.StreamHandler())\n",
        "import logging\n\nlogging.basicConfig()\nlogger = logging.getLogger('app')\n"
        "handler = logging.StreamHandler()\nhandler.setFormatter(JSONFormatter())\n"
        "logger.addHandler(handler)\n",
        "import logging\nfrom logging import StreamHandler\n\ndef setup():\n"
        "    logging.basicConfig(level='DEBUG')\n"
        "    logging.getLogger('svc').addHandler(StreamHandler())\n",
    ]
    good = [
        "import logging\n\nlogging.basicConfig(level=logging.INFO)\n"
        "logger = logging.getLogger(__name__)\n",
        "import logging\n\nlogging.basicConfig(level=logging.INFO)\n"
        "logger = logging.getLogger(__name__)\nlogger.propagate = False\n"
        "logger.addHandler(logging.StreamHandler())\n",
        "import logging\n\nlogging.basicConfig(filename='app.log')\n"
        "logger = logging.getLogger(__name__)\nlogger.addHandler(logging.StreamHandler())\n",
        "import logging\n\nlogger = logging.getLogger(__name__)\n"
        "logger.addHandler(logging.StreamHandler())\n",
        "import logging\n\nlogging.basicConfig()\nlogger = logging.getLogger(__name__)\n"
        "logger.addHandler(logging.FileHandler('audit.log'))\n",
    ]

    def visit_Module(self, node: ast.Module) -> None:
        self._basic_config = False
        self._stream_vars: set[str] = set()
        self._no_propagate: set[str] = set()
        self._added: list[tuple[ast.Call, str]] = []

    def _is_stream_handler(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Call):
            return self.ctx.imports.qualname(node.func) in _STREAM_HANDLERS
        return isinstance(node, ast.Name) and node.id in self._stream_vars

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name) and self._is_stream_handler(node.value):
                self._stream_vars.add(target.id)
            if (
                isinstance(target, ast.Attribute)
                and target.attr == "propagate"
                and isinstance(node.value, ast.Constant)
                and node.value.value is False
            ):
                self._no_propagate.add(ast.unparse(target.value))

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if self.ctx.imports.qualname(func) == "logging.basicConfig":
            if keyword_value(node, "filename") is not None:
                return
            handlers = keyword_value(node, "handlers")
            if handlers is not None and not (
                isinstance(handlers, ast.List | ast.Tuple)
                and any(self._is_stream_handler(h) for h in handlers.elts)
            ):
                return
            self._basic_config = True
        elif (
            isinstance(func, ast.Attribute)
            and func.attr == "addHandler"
            and len(node.args) == 1
            and self._is_stream_handler(node.args[0])
        ):
            self._added.append((node, ast.unparse(func.value)))

    def finish(self) -> None:
        if not self._basic_config:
            return
        for call, logger in self._added:
            if logger in self._no_propagate:
                continue
            self.report(
                call,
                f"`{logger}` gets its own stream handler and also propagates to the root "
                "handler that `logging.basicConfig()` installs: every record is printed twice",
            )
