"""Hardcoded secrets found by *where* a literal goes rather than by what it looks like.

`bastion.secret_formats` decides from a name and a value (`SECRET_KEY = "k7#q9!..."`): a
value must look like a secret, so `app.secret_key = "change-me"` or `jwt.encode(p, "secret")`
pass. Here the position decides:

- key sinks: the key argument of `jwt.encode`/`jwt.decode` (PyJWT, python-jose), `Fernet(...)`,
  `hmac.new(...)`, itsdangerous signers/serializers; `app.secret_key = ...`,
  `app.config["SECRET_KEY"] = ...` (any `*SECRET*KEY*` config key); `SECRET_KEY = ...` at the
  top of a deployment settings module or in a non-dev `*Config` class. Whatever the literal,
  it is *the* key - a placeholder (`"change-me"`) in deployed code is a key everyone knows;
- credentials compared with a literal: `if password == "hunter2":`;
- short literal passwords in credential positions: `connect(..., password="jack")`,
  `{"password": "12345"}`.

Only empty values and templates (`"${SECRET}"`, `"<key>"`, `"{{ key }}"`) are left alone, as
are test files. Callers redact `SinkSecret.secret` from every output and never put it in a
message.
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass

from bastion.analysis.django import is_deployment_settings, is_dev_name
from bastion.analysis.fastpath import may_name
from bastion.analysis.nodes import argument, held_name, string_value
from bastion.context import FileContext
from bastion.secret_formats import is_placeholder

# qualified call -> (argument position, keyword, what the key is for)
_KEY_SINKS: dict[str, tuple[int, str, str]] = {
    "jwt.encode": (1, "key", "JWT signing key"),
    "jwt.decode": (1, "key", "JWT signing key"),
    "jwt.api_jwt.encode": (1, "key", "JWT signing key"),
    "jwt.api_jwt.decode": (1, "key", "JWT signing key"),
    "jose.jwt.encode": (1, "key", "JWT signing key"),
    "jose.jwt.decode": (1, "key", "JWT signing key"),
    "cryptography.fernet.Fernet": (0, "key", "encryption key"),
    "hmac.new": (0, "key", "HMAC key"),
    "hmac.digest": (0, "key", "HMAC key"),
    "itsdangerous.URLSafeTimedSerializer": (0, "secret_key", "signing key"),
    "itsdangerous.URLSafeSerializer": (0, "secret_key", "signing key"),
    "itsdangerous.TimedSerializer": (0, "secret_key", "signing key"),
    "itsdangerous.Serializer": (0, "secret_key", "signing key"),
    "itsdangerous.Signer": (0, "secret_key", "signing key"),
    "itsdangerous.TimestampSigner": (0, "secret_key", "signing key"),
    "itsdangerous.serializer.Serializer": (0, "secret_key", "signing key"),
    "itsdangerous.url_safe.URLSafeTimedSerializer": (0, "secret_key", "signing key"),
}
KEY_SINK_NAMES = frozenset(name.rpartition(".")[2] for name in _KEY_SINKS)

# each opener looks at most 256 characters for its closer (docs/regex-audit.md: unbounded,
# `{{{{...` with no `}}` rescanned the rest of the value from every `{{`)
_TEMPLATE = re.compile(
    r"\$\{[^}]{0,256}\}|\{\{.{0,256}?\}\}|^<[^<>]+>$|^%\([^)]*\)s$|^\{[A-Za-z_]*\}$"
)
_SECRET_KEY_NAME = re.compile(r"secret[\W_]?key|key[\W_]?secret|secret[\W_]?cookie", re.I)
# Names of a password held in a variable, attribute or key: `password`, `passwd`, `pwd`,
# `_pass`, `admin_password`, `PassWord` - not `password_hash`, `password_field`, `pass_count`.
_PASSWORD_NAME = re.compile(r"(?:^|_)(?:pass(?:word|wd|phrase)?|pwd)$", re.I)
# Tokens and keys compared with a literal: the literal must look like one (8+ characters, no
# spaces, not a plain word), since `if token == "Bearer":` compares a scheme.
_TOKEN_NAME = re.compile(r"(?:^|_)(?:token|api_?key|secret|access_key)$", re.I)
_NOT_CREDENTIAL_VALUES = frozenset(
    {"none", "null", "nil", "true", "false", "undefined", "unknown", "n/a", "na", "*"}
)
_FORM_WORDS = ("field", "input", "widget", "label", "placeholder", "column", "header")


@dataclass(frozen=True)
class SinkSecret:
    node: ast.expr  # the literal to report (and to redact)
    secret: str
    description: str  # "JWT signing key", "password"
    where: str  # "passed to `jwt.encode()`": never the value


def _literal(node: ast.expr | None) -> str | None:
    """A non-empty str/bytes literal that is not a template."""
    if not isinstance(node, ast.Constant) or not isinstance(node.value, str | bytes):
        return None
    value = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
    stripped = value.strip()
    if not stripped or _TEMPLATE.search(stripped):
        return None
    return value


def _skipped(ctx: FileContext) -> bool:
    """Test files hold fixtures; documentation examples show placeholders on purpose."""
    return ctx.is_test_file or _in_docs(ctx.path)


@functools.lru_cache(maxsize=4096)
def _in_docs(path: str) -> bool:  # asked for every call and dict of a file: once per path
    parts = path.lower().split("/")
    return any(p in ("docs", "doc", "examples", "example", "samples") for p in parts[:-1])


def call_sinks(call: ast.Call, ctx: FileContext) -> list[SinkSecret]:
    """Literal keys handed to a key sink, and short literal passwords passed as
    `password=`/`passwd=`/`pwd=`."""
    if _skipped(ctx):
        return []
    out: list[SinkSecret] = []
    sink = None
    if may_name(call.func, KEY_SINK_NAMES, ctx.imports):  # most calls: no sink to resolve
        qualified = ctx.imports.imported_qualname(call.func) or ""
        sink = _KEY_SINKS.get(qualified)
    if sink is not None:
        position, keyword, description = sink
        key = argument(call, position, keyword)
        value = _literal(key)
        if key is not None and value is not None:
            name = qualified.rpartition(".")[2]
            out.append(SinkSecret(key, value, f"{description}", f"passed to `{name}()`"))
        return out
    credentials = [
        kw
        for kw in call.keywords
        if kw.arg is not None and kw.arg.lower() in ("password", "passwd", "pwd")
    ]
    if not credentials:  # most calls: no need to spell out the callee
        return out
    func_name = ast.unparse(call.func).lower()
    if any(word in func_name for word in _FORM_WORDS):
        return out
    for kw in credentials:
        if kw.arg is not None:
            value = _literal(kw.value)
            if value is not None and _is_password_literal(value) and not is_placeholder(value):
                out.append(SinkSecret(kw.value, value, "password", f"passed as `{kw.arg}=`"))
    return out


def dict_sinks(node: ast.Dict, ctx: FileContext) -> list[SinkSecret]:
    """`{"password": "12345"}` outside tests."""
    if _skipped(ctx):
        return []
    out: list[SinkSecret] = []
    for key, value in zip(node.keys, node.values, strict=True):
        name = string_value(key) if key is not None else None
        if name is None or name.lower() not in ("password", "passwd", "pwd"):
            continue
        literal = _literal(value)
        if literal is not None and _is_password_literal(literal) and not is_placeholder(literal):
            out.append(SinkSecret(value, literal, "password", f'under the key "{name}"'))
    return out


def _is_password_literal(value: str) -> bool:
    """A value that is a password rather than a label or a marker: at least 3 characters, no
    spaces, not `None`/`null`, not a capitalised word (`"Password"` is a label), not an
    upper-case word (`"LDAP"`, `"SSO"`: a marker)."""
    stripped = value.strip()
    if len(stripped) < 3 or " " in stripped or stripped.lower() in _NOT_CREDENTIAL_VALUES:
        return False
    if len(set(stripped)) <= 2:
        return False  # `"******"`, `"xxxx"`: a mask or a filler
    if stripped.lower() in ("password", "passwd", "pwd", "new-password", "current-password"):
        return False  # a label or an autocomplete hint
    if stripped.isalpha() and stripped.isupper():
        return False  # `user.password == "LDAP"`: a marker for accounts without a password
    return not (stripped[:1].isupper() and stripped[1:].islower() and stripped.isalpha())


def assign_sinks(node: ast.Assign, ctx: FileContext) -> list[SinkSecret]:
    """`app.secret_key = "..."`, `app.config["SECRET_KEY"] = "..."`, and `SECRET_KEY = "..."` in
    a deployment settings module or a non-dev `*Config` class."""
    if _skipped(ctx):
        return []
    value = _literal(node.value)
    if value is None:
        return []
    out: list[SinkSecret] = []
    for target in node.targets:
        where = _key_target(target, ctx)
        if where is not None:
            out.append(SinkSecret(node.value, value, "secret key", where))
    return out


def _key_target(target: ast.expr, ctx: FileContext) -> str | None:
    if isinstance(target, ast.Attribute) and target.attr == "secret_key":
        return f"assigned to `{ast.unparse(target)}`"
    if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute):
        key = string_value(target.slice)
        if target.value.attr == "config" and key and _SECRET_KEY_NAME.search(key):
            return f'assigned to config key "{key}"'
        return None
    if not isinstance(target, ast.Name) or not _SECRET_KEY_NAME.search(target.id):
        return None
    if target.id.lower().endswith(("_name", "_header", "_file", "_path", "_env", "_var")):
        return None
    cls = ctx.enclosing_class()
    if cls is not None:
        if cls.name.endswith("Config") and not is_dev_name(cls.name) and ctx.parent is cls:
            return f"assigned to `{cls.name}.{target.id}`"
        return None
    if isinstance(ctx.parent, ast.Module) and is_deployment_settings(ctx):
        return f"assigned to `{target.id}` in a deployment settings module"
    return None


def compare_sinks(node: ast.Compare, ctx: FileContext) -> list[SinkSecret]:
    """`password == "hunter2"`, `"s3cret" != token`: the credential is in the code."""
    if _skipped(ctx) or len(node.ops) != 1 or not isinstance(node.ops[0], ast.Eq | ast.NotEq):
        return []
    left, right = node.left, node.comparators[0]
    for named, other in ((left, right), (right, left)):
        value = _literal(other)
        name = _held_name(named)
        if value is None or name is None:
            continue
        if _PASSWORD_NAME.search(name.strip("_")) and _is_password_literal(value):
            return [SinkSecret(other, value, "password", f"compared with `{name}`")]
        if _TOKEN_NAME.search(name.strip("_")) and _is_token_literal(value):
            return [SinkSecret(other, value, "token", f"compared with `{name}`")]
    return []


def _is_token_literal(value: str) -> bool:
    stripped = value.strip()
    if len(stripped) < 8 or any(c.isspace() for c in stripped):
        return False
    return not (stripped.isalpha() and (stripped.islower() or stripped.istitle()))


def _held_name(node: ast.expr) -> str | None:
    """The password-like name of a variable, attribute or string subscript."""
    name = held_name(node)
    if name is None:
        return None
    bare = name.strip("_")
    return name if _PASSWORD_NAME.search(bare) or _TOKEN_NAME.search(bare) else None
