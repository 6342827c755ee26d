"""LOG002-LOG003: what goes into a log call."""

from __future__ import annotations

import ast
import re
from typing import Any

from bastion.analysis.calls import LOG_METHODS
from bastion.analysis.logs import (
    LOGURU,
    STDLIB,
    STDLIB_KEYWORDS,
    STRUCTLOG,
    eager_formatting,
    formatted_values,
    is_sensitive_name,
    log_call_library,
    message_argument,
    sensitive_value,
    value_arguments,
)
from bastion.analysis.scripts import is_script_file
from bastion.context import FileContext
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule

_HINTS = {
    STDLIB: (
        "Pass the values as arguments and let logging format them only when the record is "
        'emitted: `logger.info("user %s logged in", user_id)`.'
    ),
    STRUCTLOG: (
        "Use a constant event name and pass the values as key-value pairs: "
        '`log.info("user_logged_in", user_id=user_id)`.'
    ),
    LOGURU: (
        'Use loguru\'s lazy `{}` placeholders: `logger.info("user {} logged in", user_id)` '
        '(or bind the values: `logger.bind(user_id=user_id).info("user logged in")`).'
    ),
}


class LogEagerFormatting(Rule):
    """Flags log calls whose message is formatted before the call: an f-string with
    placeholders, `"..." % args`, `"...".format(...)`, or `+` concatenation involving a string
    literal. Recognises stdlib `logging` loggers (`logging.getLogger(...)`, `logging.info`,
    `self.logger`, `log`), structlog loggers (`structlog.get_logger()`, `.bind(...)`) and
    loguru's `logger` (including `logger.opt(...)`/`.bind(...)`).

    The message and the hint follow the library: stdlib loggers take `%s` arguments, structlog
    wants a constant event name with key-value pairs, loguru formats `{}` placeholders lazily.
    Not flagged: constant messages, f-strings without placeholders (or that only choose
    between constants), `+` that builds a template whose values are still passed lazily
    (`"%s: " + template, name`), `msg % args` where the
    format is a variable (unknown), and non-logger receivers (`catalog.info(...)`).

    Tests, scripts and CLI modules are skipped: their log lines feed no aggregator. The
    severity is `info`: measured on real applications (bench/ecosystem) most findings were
    f-strings in info/debug lines that teams write on purpose; precision low.

    Fix safety: the rewrite to lazy `%s` arguments is safe for stdlib loggers only; findings on
    structlog and loguru calls are not marked fixable."""

    id = "LOG002"
    name = "log-eager-formatting"
    aliases = ("G001", "G002", "G003", "G004")  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.INFO
    precision = "medium"
    precision_measured = (
        "18 of 21 judged findings right (86%) on 15 application repositories, "
        "bench/ecosystem; default severity lowered from warning to info for it"
    )
    summary = "Log message formatted eagerly (f-string, `%`, `.format()`, `+`)"
    why = (
        "A message formatted before the call costs the formatting even when the level is "
        "disabled, and every record gets a different message text, so log aggregators (Sentry, "
        "Datadog, ELK) cannot group identical events. With lazy arguments the template stays "
        "constant, the values are kept as separate fields, and nothing is formatted for "
        "records that are filtered out. Values baked into the text are also lost as "
        "fields: they cannot be searched, indexed or redacted separately."
    )
    hint = _HINTS[STDLIB]
    fix_safety = FixSafety.SAFE
    fix_safety_note = (
        "The message logging emits is the same text: `{x}` becomes `%s` (`str(x)`), `{x!r}` `%r`,"
        " literal `%` is doubled, and the values are still evaluated at the call. What moves is "
        "the `str()` conversion: it now happens when a handler formats the record (and not at all"
        " for a disabled level), so an object mutated between the call and a queued handler's "
        "formatting shows its later state. Calls the fix cannot convert exactly (format specs, "
        "`{x=}` with a spec, `*args`) are reported without a fix."
    )
    requires = ("log",)
    # a log call is `<receiver>.<level>(...)` or a bare level imported from `logging`
    call_names = LOG_METHODS
    bad = [
        Example(
            "import logging\nlogger = logging.getLogger(__name__)\n\ndef login(user):\n"
            "    logger.info(f'user {user.id} logged in')\n",
            fixed="import logging\nlogger = logging.getLogger(__name__)\n\ndef login(user):\n"
            "    logger.info('user %s logged in', user.id)\n",
        ),
        Example(
            "import logging\n\ndef charge(order):\n"
            "    logging.warning('payment for %s failed' % order.id)\n",
            fixed="import logging\n\ndef charge(order):\n"
            "    logging.warning('payment for %s failed', order.id)\n",
        ),
        Example(
            "import logging\nlog = logging.getLogger('shop')\n\ndef ship(order):\n"
            "    log.error('shipping {} failed'.format(order.id))\n",
            fixed="import logging\nlog = logging.getLogger('shop')\n\ndef ship(order):\n"
            "    log.error('shipping %s failed', order.id)\n",
        ),
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef login(user):\n"
        "    logger.info('user logged in: ' + str(user.id))\n",
        "import structlog\nlog = structlog.get_logger()\n\ndef login(user):\n"
        "    log.info(f'user {user.id} logged in')\n",
        "from loguru import logger\n\ndef login(user):\n"
        "    logger.opt(lazy=True).info(f'user {user.id} logged in')\n",
        "import logging\n\nclass Worker:\n    def run(self, job):\n"
        "        self.logger.log(logging.INFO, f'running {job}')\n",
    ]
    good = [
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef login(user):\n"
        "    logger.info('user %s logged in', user.id)\n",
        "import structlog\nlog = structlog.get_logger()\n\ndef login(user):\n"
        "    log.info('user_logged_in', user_id=user.id)\n",
        "from loguru import logger\n\ndef login(user):\n"
        "    logger.info('user {} logged in', user.id)\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef f():\n"
        "    logger.info(f'static text')\n    logger.info('a' + 'b')\n",
        "def f(catalog, item):\n    catalog.info(f'item {item}')\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef f(fmt, args):\n"
        "    logger.info(fmt % args)\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef f(template, *args):\n"
        "    logger.info('%s: ' + template, 'pool', *args)\n",
    ]

    _script: bool | None = None  # tests and scripts: their logs feed no aggregator

    def visit_Call(self, node: ast.Call) -> None:
        library = log_call_library(node, self.ctx.imports)
        bare = library is None and _bare_logging_call(node, self.ctx)
        if bare:
            library = STDLIB  # `from logging import error` ... `error(f"...")`
        if library is None:
            return
        if self._script is None:
            self._script = is_script_file(self.ctx)
        if self._script:
            return
        message = message_argument(node, library)
        fmt = eager_formatting(message)
        if fmt is None:
            return
        if fmt.kind == "+" and value_arguments(node, library):
            return  # `"%s: " + template, *args`: builds the template, the values stay lazy
        if library == STRUCTLOG:
            text = f"structlog event name built with {fmt.label}: use a constant event name"
        elif library == LOGURU:
            text = f"loguru message built eagerly with {fmt.label}"
        else:
            text = f"log message built eagerly with {fmt.label}"
        mechanical = (
            library == STDLIB
            and not bare
            and _mechanical(fmt.node)
            and not value_arguments(node, library)
            and _single_literal(self.ctx.source.lines, fmt.node)
        )
        self.report(node, text, hint=_HINTS[library], fixable=mechanical)

    fix_node = "Call"

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        from bastion.analysis.fixes import lazy_log_call

        rewritten = lazy_log_call(node)
        return Fix(rewritten) if rewritten is not None else None


_BARE_LOGGING = frozenset(
    f"logging.{level}" for level in ("debug", "info", "warning", "error", "exception", "critical")
)


def _bare_logging_call(node: ast.Call, ctx: FileContext) -> bool:
    """`error(...)` where `error` was imported from `logging`."""
    return isinstance(node.func, ast.Name) and ctx.imports.imported_qualname(node.func) in (
        _BARE_LOGGING
    )


def _single_literal(lines: list[str], node: ast.expr) -> bool:
    """False for implicitly concatenated literals (`f"a {x}" "b"`), which the fix leaves
    alone: `ast` merges them into one node, the source has several string tokens."""
    import io
    import tokenize

    first, last = node.lineno, node.end_lineno or node.lineno
    chunk = [line.encode("utf-8") for line in lines[first - 1 : last]]
    if not chunk:
        return False
    end = node.end_col_offset if node.end_col_offset is not None else len(chunk[-1])
    chunk[-1] = chunk[-1][:end]
    chunk[0] = chunk[0][node.col_offset :]
    segment = b"\n".join(chunk).decode("utf-8", "replace")
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(segment).readline))
    except (tokenize.TokenError, SyntaxError):
        return False
    if isinstance(node, ast.JoinedStr):
        return _top_level_literals(tokens) == 1
    return True


def _top_level_literals(tokens: list[Any]) -> int:
    """How many string literals the tokens hold side by side. Before 3.12 an f-string is one
    STRING token; from 3.12 it is FSTRING_START ... FSTRING_END, with the strings of its
    replacement fields as tokens inside (3.14 adds TSTRING_* for t-strings): only literals
    outside every f-string count, whatever the tokenizer."""
    import tokenize

    starts = {getattr(tokenize, n, None) for n in ("FSTRING_START", "TSTRING_START")} - {None}
    ends = {getattr(tokenize, n, None) for n in ("FSTRING_END", "TSTRING_END")} - {None}
    depth = count = 0
    for token in tokens:
        if token.type in starts:
            count += depth == 0
            depth += 1
        elif token.type in ends:
            depth -= 1
        elif token.type == tokenize.STRING and depth == 0:
            count += 1
    return count


def _mechanical(message: ast.expr) -> bool:
    """Whether the fix can turn this message into a template plus arguments without guessing
    (mirrors `bastion.analysis.fixes`): plain f-string fields, `%` with a tuple or a single
    placeholder, `.format()` with plain positional fields."""
    if isinstance(message, ast.JoinedStr):
        return all(
            v.format_spec is None and v.conversion in (-1, 115, 114, 97)
            for v in message.values
            if isinstance(v, ast.FormattedValue)
        )
    if isinstance(message, ast.BinOp) and isinstance(message.op, ast.Mod):
        left = message.left
        if not (isinstance(left, ast.Constant) and isinstance(left.value, str)):
            return False
        count = left.value.replace("%%", "").count("%")
        if "%(" in left.value:
            return False
        if isinstance(message.right, ast.Tuple):
            return len(message.right.elts) == count and not any(
                isinstance(e, ast.Starred) for e in message.right.elts
            )
        return count == 1 and not isinstance(message.right, ast.Dict)
    if isinstance(message, ast.Call):
        return not message.keywords and not any(isinstance(a, ast.Starred) for a in message.args)
    if isinstance(message, ast.BinOp) and isinstance(message.op, ast.Add):
        return not any(isinstance(n, ast.JoinedStr) for n in ast.walk(message))
    return False


# Owners whose `.token` is a credential; on other objects (`order.token`, `checkout.token`,
# `transaction_item.token` in Saleor) `token` is a public identifier (bench/ecosystem).
_CREDENTIAL_OWNERS = frozenset(
    {"auth", "user", "session", "access", "refresh", "oauth", "jwt", "api", "request"}
    | {"response", "resp", "credentials", "creds", "bearer", "client", "login", "invite"}
    | {"reset", "csrf", "settings", "config", "device", "push", "account", "key", "secret"}
)


def _identifier_token(found: str) -> bool:
    """`<domain object>.token`: the public identifier of an order, checkout or transaction."""
    parts = found.split(".")
    if len(parts) < 2 or parts[-1] != "token":
        return False
    owner = set(re.findall(r"[a-z]+", parts[-2].lower()))
    return bool(owner) and not owner & _CREDENTIAL_OWNERS


# One-time bootstrap secrets that the operator must read from the console to claim a fresh
# install (lnbits' `settings.first_install_token`, a Jenkins-style initial admin password):
# logging them once at start-up is how they are delivered (bench/ecosystem).
_BOOTSTRAP_WORDS = frozenset({"install", "bootstrap", "initial", "setup", "onetime"})


def _bootstrap_secret(found: str) -> bool:
    """`settings.first_install_token`, `bootstrap_password`: the name (its last part) says
    the secret exists to be handed to the operator once."""
    words = set(
        re.findall(r"[a-z]+", found.rpartition(".")[2].lower().replace("one_time", "onetime"))
    )
    return bool(words & _BOOTSTRAP_WORDS)


class SensitiveDataLogged(Rule):
    """Flags log calls that pass a credential: a value whose name says it is a password,
    secret, token, API key, private key or authorization header (`password`, `user.password`,
    `access_token`, `request.headers["Authorization"]`, `headers.get("authorization")`,
    the whole `request.headers`), whether as a `%s` argument, interpolated into the message,
    as a structlog/loguru keyword, or in `extra={...}` (also flagged: a sensitive *key* in
    `extra` or a keyword named like a secret).

    Not flagged: the `.token` attribute of a domain object that is not about authentication
    (`order.token`, `checkout.token`, `transaction_item.token`: Saleor's public identifiers,
    measured on real applications), one-time bootstrap secrets whose name says they are
    handed to the operator at start-up (`settings.first_install_token`,
    `initial_admin_password`, `bootstrap_token`), constants, values derived from a secret
    (`len(password)`, `mask(token)`, `hash_token(token)`), names that only mention a secret
    (`token_type`, `password_changed`, `has_password`, `next_page_token`), and the words in
    the message text itself."""

    id = "LOG003"
    name = "sensitive-data-logged"
    severity = Severity.INFO
    precision = "medium"
    precision_measured = (
        "7 of 8 judged findings right (88%) on 15 application repositories, "
        "bench/ecosystem; default severity lowered from error to warning, then to info for it "
        "(the one left wrong logs a key that is public by design, which only the project knows)"
    )
    summary = "Password, token, secret or authorization value written to the logs"
    why = (
        "Logs are copied to aggregators, backups and third-party services, kept for months and "
        "read by far more people than the database: a credential written there has leaked. "
        "Rotating it is the only fix once it is out, so never log the value - log an id, a "
        "fingerprint or a masked form instead."
    )
    hint = (
        "Log an identifier or a masked form instead of the secret (e.g. `user_id`, or "
        "`token[:4] + '...'`), or drop the value."
    )
    cwe = (532,)
    requires = ("log",)
    # a log call is `<receiver>.<level>(...)` or a bare level imported from `logging`
    call_names = LOG_METHODS
    bad = [
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef login(username, password):\n"
        "    logger.info('login %s with %s', username, password)\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef refresh(resp):\n"
        "    logger.debug(f'got token {resp.access_token}')\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef handle(request):\n"
        "    logger.info('request', extra={'auth': request.headers['Authorization']})\n",
        "import structlog\nlog = structlog.get_logger()\n\ndef signup(user, password):\n"
        "    log.info('signup', email=user.email, password=password)\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef handle(request):\n"
        "    logger.debug('headers: %s', request.headers)\n",
    ]
    good = [
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef login(username, password):\n"
        "    logger.info('login attempt for %s', username)\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef refresh(resp):\n"
        "    logger.debug('token refreshed, type %s', resp.token_type)\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef check(password):\n"
        "    logger.info('password length %d', len(password))\n",
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef reset(user):\n"
        "    logger.info('password reset for %s', user.id, extra={'password_changed': True})\n",
        "def f(catalog, password):\n    catalog.info(password)\n",
    ]

    def visit_Call(self, node: ast.Call) -> None:
        library = log_call_library(node, self.ctx.imports)
        bare = library is None and _bare_logging_call(node, self.ctx)
        if bare:
            library = STDLIB  # `from logging import error` ... `error(f"...")`
        if library is None:
            return
        candidates: list[ast.expr] = []
        message = message_argument(node, library)
        if message is not None:
            candidates.extend(formatted_values(message))
            if not isinstance(message, ast.Constant):
                candidates.append(message)
        candidates.extend(value_arguments(node, library))
        for kw in node.keywords:
            if kw.arg == "extra" and isinstance(kw.value, ast.Dict):
                for key, value in zip(kw.value.keys, kw.value.values, strict=True):
                    key_name = key.value if isinstance(key, ast.Constant) else None
                    if (
                        isinstance(key_name, str)
                        and is_sensitive_name(key_name)
                        and not isinstance(value, ast.Constant)
                    ):
                        self._report(node, f"`extra[{key_name!r}]`")
                        return
                    candidates.append(value)
            elif kw.arg is not None and kw.arg not in STDLIB_KEYWORDS and kw.value is not message:
                if (
                    library != STDLIB
                    and is_sensitive_name(kw.arg)
                    and not isinstance(kw.value, ast.Constant)
                ):
                    self._report(node, f"keyword `{kw.arg}=`")
                    return
                candidates.append(kw.value)
        for candidate in candidates:
            found = sensitive_value(candidate)
            if found and not _identifier_token(found) and not _bootstrap_secret(found):
                note = (
                    " (every header, Authorization included)" if found.endswith("headers") else ""
                )
                self._report(node, f"`{found}`{note}")
                return

    def _report(self, node: ast.Call, what: str) -> None:
        self.report(node, f"log call writes {what}, which looks like a credential, to the logs")
