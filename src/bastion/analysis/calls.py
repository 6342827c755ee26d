"""Recognising kinds of calls: logging, error reporting."""

from __future__ import annotations

import ast

from bastion.imports import ImportMap

LOG_METHODS = frozenset(
    {
        "debug",
        "info",
        "warning",
        "warn",
        "error",
        "exception",
        "critical",
        "fatal",
        "log",
        "trace",
        "success",
        "msg",
    }
)
_LOGGER_MODULES = ("logging", "structlog", "loguru", "twisted.logger", "celery.utils.log")
_ERROR_REPORTERS = frozenset(
    {
        "capture_exception",
        "capture_message",
        "captureException",
        "report_exc_info",
        "notify_exception",
        "print_exc",
        "print_exception",
        "format_exc",
        "warn",
    }
)


def receiver_name(func: ast.expr) -> str:
    """`self.logger.info` -> `logger`; `log.info` -> `log`; `logging.info` -> `logging`."""
    if isinstance(func, ast.Attribute):
        value = func.value
        if isinstance(value, ast.Name):
            return value.id
        if isinstance(value, ast.Attribute):
            return value.attr
        if isinstance(value, ast.Call):  # logging.getLogger(__name__).info(...)
            return receiver_name(value.func) if isinstance(value.func, ast.Attribute) else ""
    return ""


def is_logging_call(call: ast.Call, imports: ImportMap) -> bool:
    """A call on a logger: `logger.error(...)`, `logging.warning(...)`, `log.info(...)`,
    `self.log.exception(...)`, loguru's `logger.opt(...).error(...)`, structlog loggers."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
        return False
    qualified = imports.qualname(func) or ""
    if qualified.startswith(_LOGGER_MODULES):
        return True
    receiver = receiver_name(func).lower()
    return "log" in receiver


def is_error_report_call(call: ast.Call, imports: ImportMap) -> bool:
    """Sentry/rollbar/traceback/warnings calls that record an exception somewhere."""
    qualified = imports.qualname(call.func) or ""
    last = qualified.rpartition(".")[2]
    return last in _ERROR_REPORTERS or qualified.startswith(("sentry_sdk.", "rollbar."))
