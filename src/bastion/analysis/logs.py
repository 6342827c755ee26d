"""Logging calls in detail: which library a logger belongs to, where its message is, how that
message was built, and which values look like secrets.

`bastion.analysis.calls.is_logging_call` answers "is this a log call at all" generously (any
receiver whose name contains `log`); the rules of the LOG area need more: the library (stdlib
`logging`, structlog and loguru treat the first argument differently) and a stricter receiver
match, so that `catalog.info(...)` or `blog.error(...)` are never taken for loggers.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from bastion.analysis.calls import LOG_METHODS
from bastion.imports import ImportMap

STDLIB = "stdlib"
STRUCTLOG = "structlog"
LOGURU = "loguru"

# factories whose result is a logger of that library
_FACTORIES = {
    "logging.getLogger": STDLIB,
    "logging.getLoggerClass": STDLIB,
    "logging.LoggerAdapter": STDLIB,
    "logging.Logger": STDLIB,
    "celery.utils.log.get_task_logger": STDLIB,
    "celery.utils.log.get_logger": STDLIB,
    "structlog.get_logger": STRUCTLOG,
    "structlog.getLogger": STRUCTLOG,
    "structlog.wrap_logger": STRUCTLOG,
    "structlog.stdlib.get_logger": STRUCTLOG,
    "structlog.get_context": STRUCTLOG,
}
# `logger.bind(...)`, `logger.opt(...)`, `logger.new(...)`: same logger, more context
_CHAINING = frozenset({"bind", "opt", "new", "patch", "contextualize", "getChild", "unbind"})
# keyword arguments that stdlib logging calls accept and that are not values being logged
STDLIB_KEYWORDS = frozenset({"exc_info", "stack_info", "stacklevel", "extra"})

_LOGGER_NAME = re.compile(r"(^|_)(log|logger|logging|logs)\d*($|_)|logger$", re.IGNORECASE)


def looks_like_logger_name(name: str) -> bool:
    """`logger`, `log`, `_log`, `LOGGER`, `access_log`, `app_logger`; not `catalog`, `blog`."""
    return bool(_LOGGER_NAME.search(name))


def _receiver_library(node: ast.expr, imports: ImportMap, depth: int = 0) -> str | None:
    """The library of the logger object `node` (the part before `.info`), None when it does
    not look like a logger."""
    if depth > 5:
        return None
    qualified = imports.qualname(node) or ""
    if qualified == "loguru.logger" or qualified.startswith("loguru.logger."):
        return LOGURU
    if qualified == "logging" or qualified.startswith("logging.root"):
        return STDLIB  # `logging.info(...)` logs on the root logger
    if qualified == "structlog":
        return STRUCTLOG  # `structlog.get_logger` handled below; bare module has no .info
    factory = imports.instance_of(node)
    if factory in _FACTORIES:
        return _FACTORIES[factory]
    if isinstance(node, ast.Call):
        called = imports.qualname(node.func) or ""
        if called in _FACTORIES:
            return _FACTORIES[called]
        if isinstance(node.func, ast.Attribute) and node.func.attr in _CHAINING:
            return _receiver_library(node.func.value, imports, depth + 1)
        return None
    name = ""
    if isinstance(node, ast.Name):
        name = node.id
    elif isinstance(node, ast.Attribute):
        name = node.attr
    if not name or not looks_like_logger_name(name):
        return None
    # a logger of unknown origin (`self.logger`, a parameter): guess from the module's imports
    uses_structlog = imports.is_imported("structlog")
    uses_loguru = imports.is_imported("loguru")
    uses_logging = imports.is_imported("logging")
    if uses_loguru and not uses_structlog and not uses_logging:
        return LOGURU
    if uses_structlog and not uses_loguru and not uses_logging:
        return STRUCTLOG
    return STDLIB


def log_call_library(call: ast.Call, imports: ImportMap) -> str | None:
    """`"stdlib"`, `"structlog"` or `"loguru"` for a call that logs a message
    (`logger.info(...)`, `logging.warning(...)`, `log.bind(x=1).error(...)`), else None."""
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
        return None
    if func.attr == "msg" or func.attr == "success" or func.attr == "trace":
        # structlog's `msg`, loguru's `success`/`trace`: only on loggers of those libraries
        library = _receiver_library(func.value, imports)
        return library if library in (STRUCTLOG, LOGURU) else None
    return _receiver_library(func.value, imports)


def message_argument(call: ast.Call, library: str) -> ast.expr | None:
    """The message (stdlib), event name (structlog) or format string (loguru) of a log call."""
    func = call.func
    position = 1 if isinstance(func, ast.Attribute) and func.attr == "log" else 0
    if any(isinstance(a, ast.Starred) for a in call.args[: position + 1]):
        return None
    if position < len(call.args):
        return call.args[position]
    for kw in call.keywords:
        if kw.arg in ("msg", "event", "message", "__message"):
            return kw.value
    return None


def value_arguments(call: ast.Call, library: str) -> list[ast.expr]:
    """The positional values passed after the message."""
    func = call.func
    position = 1 if isinstance(func, ast.Attribute) and func.attr == "log" else 0
    return [a for a in call.args[position + 1 :] if not isinstance(a, ast.Starred)]


# -- how a message string was built --------------------------------------------------------------


@dataclass(frozen=True)
class Formatting:
    kind: str  # "f-string" | "%" | "format" | "+"
    label: str  # for messages: "an f-string", "`%` formatting", ...
    node: ast.expr


def _is_str_literal(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr
    )


def _is_constant(node: ast.expr) -> bool:
    """A constant, or a choice between constants (`"a" if x else "b"`): formatting it gives a
    handful of fixed messages, not one per value."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.IfExp):
        return _is_constant(node.body) and _is_constant(node.orelse)
    if isinstance(node, ast.JoinedStr):
        return all(
            not isinstance(v, ast.FormattedValue) or _is_constant(v.value) for v in node.values
        )
    if isinstance(node, ast.Tuple):
        return all(_is_constant(e) for e in node.elts)
    return False


def _concat_operands(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*_concat_operands(node.left), *_concat_operands(node.right)]
    return [node]


def eager_formatting(node: ast.expr | None) -> Formatting | None:
    """How `node` builds a string from values before the call runs, if it does:
    an f-string with placeholders, `"..." % args`, `"...".format(...)`, or `+` concatenation
    that involves a string literal. Constants only (`"a" + "b"`) are not formatting."""
    if node is None:
        return None
    if isinstance(node, ast.JoinedStr):
        if not _is_constant(node):
            return Formatting("f-string", "an f-string", node)
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        if _is_str_literal(node.left) and not (
            _is_constant(node.left) and _is_constant(node.right)
        ):
            return Formatting("%", "`%` formatting", node)
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and _is_str_literal(node.func.value)
        and (node.args or node.keywords)
    ):
        return Formatting("format", "`.format()`", node)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        operands = _concat_operands(node)
        if any(_is_str_literal(o) for o in operands) and not all(_is_constant(o) for o in operands):
            return Formatting("+", "`+` concatenation", node)
    return None


def formatted_values(node: ast.expr) -> list[ast.expr]:
    """The values that an eagerly built message interpolates."""
    fmt = eager_formatting(node)
    if fmt is None:
        return []
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        right = node.right
        if isinstance(right, ast.Tuple):
            return list(right.elts)
        if isinstance(right, ast.Dict):
            return [v for v in right.values if v is not None]
        return [right]
    if isinstance(node, ast.Call):
        return [*node.args, *(kw.value for kw in node.keywords)]
    out: list[ast.expr] = []
    for operand in _concat_operands(node):
        if isinstance(operand, ast.JoinedStr):
            out.extend(v.value for v in operand.values if isinstance(v, ast.FormattedValue))
        elif not isinstance(operand, ast.Constant):
            out.append(operand)
    return out


# -- secrets --------------------------------------------------------------------------------------

_SENSITIVE_WORDS = frozenset(
    {"password", "passwd", "passphrase", "secret", "token", "authorization", "apikey"}
)
_SENSITIVE_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("access", "key"),
        ("signing", "key"),
        ("auth", "header"),
        ("client", "secret"),
    }
)
# `next_token`, `page_token`: pagination cursors; `has_password`: a flag; `num_token`: a count
_HARMLESS_BEFORE = frozenset(
    {
        "next",
        "page",
        "continuation",
        "sync",
        "cancel",
        "cancellation",
        "has",
        "is",
        "num",
        "n",
        "count",
        "max",
        "min",
        "len",
        "use",
        "uses",
        "require",
        "requires",
        "lexer",
        "parse",
        "bos",
        "eos",
        "pad",
        "unk",
    }
)
_WORD_SPLIT = re.compile(r"[^a-zA-Z0-9]+|(?<=[a-z0-9])(?=[A-Z])")


def identifier_words(name: str) -> list[str]:
    """`clientSecret` -> ["client", "secret"]; `API_KEY` -> ["api", "key"]."""
    return [w.lower() for w in _WORD_SPLIT.split(name) if w]


def is_sensitive_name(name: str) -> bool:
    """A name whose value is a credential: ends in password/secret/token/authorization, or
    api key / private key / secret key / client secret. `password_hash_algorithm`,
    `token_type`, `has_password`, `next_page_token` are not."""
    words = identifier_words(name)
    if not words:
        return False
    last = words[-1]
    before = words[-2] if len(words) > 1 else ""
    if last in _SENSITIVE_WORDS:
        return before not in _HARMLESS_BEFORE
    return (before, last) in _SENSITIVE_PAIRS


_TRANSPARENT_CALLS = frozenset({"str", "repr", "format", "bytes"})


def sensitive_value(node: ast.expr) -> str | None:
    """A short description of `node` when it is a credential by its name (`user.password`,
    `token`, `request.headers["Authorization"]`, `headers.get("authorization")`), else None.
    Constants and derived values (`len(password)`, `mask(token)`) are never sensitive."""
    if isinstance(node, ast.Name):
        return node.id if is_sensitive_name(node.id) else None
    if isinstance(node, ast.Attribute):
        if is_sensitive_name(node.attr):
            return _describe(node)
        if node.attr == "headers" and _is_request(node.value):
            return _describe(node)  # every header, Authorization included
        return None
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return _describe(node) if is_sensitive_name(key.value) else None
        return None
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id in _TRANSPARENT_CALLS and node.args:
            return sensitive_value(node.args[0])
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "get"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and is_sensitive_name(node.args[0].value)
        ):
            return _describe(node)
    if isinstance(node, ast.JoinedStr):
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                found = sensitive_value(value.value)
                if found:
                    return found
    return None


def _is_request(node: ast.expr) -> bool:
    name = node.id if isinstance(node, ast.Name) else getattr(node, "attr", "")
    return name in ("request", "req", "http_request")


def _describe(node: ast.expr) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 60 else text[:57] + "..."
