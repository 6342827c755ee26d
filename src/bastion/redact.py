"""One pass that masks secrets and one that makes control characters visible, for every byte
bastion writes.

A scanned tree is hostile input, and bastion's outputs (reports, `fix --diff`, SARIF fixes and
suppression justifications, the cache, shard files, baselines and fingerprints) are read by
people, terminals, CI logs and code hosts. Two things must never reach them:

- secrets - whichever rules ran. A rule that finds a secret asks for it to be masked
  (`Finding.redact`), but with SEC001 switched off, per-file-ignored or suppressed, nothing asks;
  so `redact(text)` masks every secret-looking value on its own: known credential formats
  (AWS, GitHub, Slack, Stripe, Google keys, JWTs, PEM private keys), URL passwords
  (`scheme://user:PASSWORD@host`), literals assigned to secret-like names (`DB_PASSWORD = "..."`,
  `"api_key": "..."`, `TOKEN=...`) and bare high-entropy base64 lines (a PEM body shown a line
  at a time). It reuses the detectors of `bastion.secret_formats`, so it masks what SEC001
  would report, with SEC001's mask (`mask_secret`): a line holds the same text whether a rule
  asked for the redaction or not, and a line without a secret comes back unchanged (its
  fingerprint, a hash of the masked line, does not move).
- terminal and log controls: ESC/CSI/OSC sequences recolour, retitle or rewrite a terminal, CR
  and LF forge lines (a fake `::error` annotation in a CI log), bidi overrides reorder what a
  reviewer reads. `visible(text)` spells each as `\\x1b`, `\\u202e`...; `json_text` does the
  same, losslessly, inside JSON documents.

Both are cheap on ordinary text: substring tests decide before any regular expression runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

# -- masking ------------------------------------------------------------------------------------

MASK = "****"
_MAX_PER_LINE = 16  # known-format secrets masked one by one; beyond that the line is hidden


def mask_secret(secret: str) -> str:
    """At most a 4-character prefix survives, and only for secrets long enough to stay secret."""
    prefix = secret[:4] if len(secret) >= 16 else ""
    return f"{prefix}{MASK}"


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """Replace each of the given secrets in `text` by its mask."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, mask_secret(secret))
    return text


# Every known format and URL password holds one of these (see `secrets._TRIGGER`); a cheap
# test before `known_format`'s regular expressions.
_FORMAT_HINTS = (
    "AKIA",
    "ASIA",
    "gh",
    "github_pat_",
    "xox",
    "hooks.slack",
    "_live_",
    "AIza",
    "PRIVATE KEY",
    "eyJ",
    "://",
)
# Words in a secret-like name (see `secrets.is_secret_name`), lower case.
_NAME_HINTS = ("pass", "pwd", "secret", "key", "token", "cred", "auth")

# A value: quoted (no space inside), or bare up to the next space, bracket or backslash.
_VALUE = (
    r"(?:(?P<q>[\"'])(?P<quoted>[^\"'\\\s]{1,400})(?P=q)"
    r"|(?P<bare>[^\s\"'`()\[\]{}\\]{1,400}))"
)
# `name = "value"`, `"name": "value"`, `name: value`, `NAME=value`, `--name=value`,
# `name: str = "value"`. Bounded repetitions and a start only at the beginning of a word keep
# it linear in the length of the line.
_ASSIGN = re.compile(
    r"(?<![\w.])(?P<name>[A-Za-z_][\w.\-]{0,80})[\"']?"
    r"(?:[ \t]{0,8}:[ \t]{0,8}[\w.\[\], |]{1,60}?)?"  # a type annotation
    r"[ \t]{0,8}[:=][ \t]{0,8}" + _VALUE
)
# Dockerfile's legacy `ENV NAME value` (no `=`)
_ENV_SPACE = re.compile(r"(?<![\w.])ENV[ \t]+(?P<name>[A-Za-z_][\w.\-]{0,80})[ \t]+" + _VALUE)
# `Authorization: Bearer <token>` (a JWT is a known format; this is any other random token)
_BEARER = re.compile(r"(?<![\w-])([Bb]earer|[Bb]asic)[ \t]{1,8}([A-Za-z0-9._~+/\-]{16,400}=*)")
# A line of a PEM body (in a string, a diff: quotes, `+`/`-` prefixes, `\n` escapes), or one
# of its `Proc-Type:`/`DEK-Info:` headers, or blank.
_PEM_BODY = re.compile(
    r"[ \t\"'+\-]{0,40}(?:[A-Za-z0-9+/=]{1,120}|[A-Za-z\-]{1,20}: [^\n]{0,120})?[ \t\"',\\n]{0,40}"
)
# A line that is one long base64 run (a PEM body line, a raw key): mixed case, digits, random.
_BASE64_LINE = re.compile(r"[ \t]*[\"']?([A-Za-z0-9+/]{40,}={0,2})[\"']?,?[ \t]*")


def redact(text: str) -> str:
    """`text` with every secret-looking value masked (see the module docstring); unchanged
    when it holds none."""
    if len(text) < 8:
        return text
    if "\n" in text or "\r" in text:
        return _redact_lines(text)
    return _redact_line(text)


def _redact_lines(text: str) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    in_key = False
    for line in lines:
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if "PRIVATE KEY" in body and "-----BEGIN" in body and "-----END" not in body:
            in_key = True
            out.append(line)
            continue
        if in_key:
            if "-----END" in body:
                in_key = False
                out.append(line)
                continue
            if _PEM_BODY.fullmatch(body):  # the short last line of a body too (indent kept)
                out.append(_mask_body_line(body) + ending)
                continue
            in_key = False  # a header alone (a constant in a crypto module), not a key
        out.append(_redact_line(body) + ending)
    return "".join(out)


def _mask_body_line(line: str) -> str:
    content = line.strip()
    if not content:
        return line
    start = line.index(content)
    return line[:start] + mask_secret(content) + line[start + len(content) :]


def _redact_line(line: str) -> str:
    if len(line) < 8:
        return line
    if any(hint in line for hint in _FORMAT_HINTS):
        line = _known_formats(line)
    if "=" in line or ":" in line:
        lower = line.lower()
        if any(hint in lower for hint in _NAME_HINTS):
            line = _ASSIGN.sub(_mask_assignment, line)
    if "ENV" in line:
        line = _ENV_SPACE.sub(_mask_assignment, line)
    if "earer " in line or "asic " in line:
        line = _BEARER.sub(_mask_bearer, line)
    if len(line) >= 40:
        line = _base64_line(line)
    return line


def _known_formats(text: str) -> str:
    from bastion.secret_formats import known_format

    for _ in range(_MAX_PER_LINE):
        match = known_format(text)
        if match is None:
            return text
        if not match.secret or match.secret not in text:
            break
        text = text.replace(match.secret, mask_secret(match.secret))
    else:
        if known_format(text) is None:
            return text
    return mask_secret(text)  # a text we could not mask piece by piece: hide all of it


def _mask_assignment(found: re.Match[str]) -> str:
    from bastion.secret_formats import is_secret_name, looks_random, secret_for

    name = found.group("name")
    lower = name.lower()
    if not any(hint in lower for hint in _NAME_HINTS) or not is_secret_name(name):
        return found.group(0)
    quoted = found.group("quoted")
    # a bare value runs to the next space (a password may hold `#`, `&`, `,`); a comma or a
    # semicolon at its end is code's (`f(password=pw, ...)`)
    value = quoted if quoted is not None else found.group("bare").rstrip(",;")
    if not value:
        return found.group(0)
    if secret_for(name, value, names_only=True) is None:
        return found.group(0)
    # unquoted, `password=new_password` is code (a variable), `PASSWORD=s3cr3t!` a setting
    if quoted is None and value.isidentifier() and not looks_random(value):
        return found.group(0)
    start = found.start("quoted" if quoted is not None else "bare")
    end = start + len(value)
    offset = found.start()
    whole = found.group(0)
    return whole[: start - offset] + mask_secret(value) + whole[end - offset :]


def _mask_bearer(found: re.Match[str]) -> str:
    from bastion.secret_formats import looks_random

    token = found.group(2)
    if not looks_random(token):
        return found.group(0)
    return f"{found.group(1)} {mask_secret(token)}"


def _base64_line(line: str) -> str:
    found = _BASE64_LINE.fullmatch(line)
    if found is None:
        return line
    token = found.group(1)
    if not (
        any(c.isupper() for c in token)
        and any(c.islower() for c in token)
        and any(c.isdigit() for c in token)
    ):
        return line
    from bastion.secret_formats import shannon_entropy

    if shannon_entropy(token) < 4.5:
        return line
    return line.replace(token, mask_secret(token))


def redact_data(value: Any) -> Any:
    """Every string in a JSON-like value (dicts, lists, strings; keys too) redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_data(v) for v in value]
    return value


# -- making controls visible ----------------------------------------------------------------------

# C0 controls but TAB, DEL, C1 controls, the bidi embeddings/overrides/isolates and marks, and
# the Unicode line and paragraph separators (newlines to some viewers).
_OTHERS = "\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[\x00-\x08\x0a-\x1f{_OTHERS}]")
# LF kept, and CR when it ends a line (CRLF files); a lone CR (which rewrites a line) is not
_CONTROL_KEEP_NEWLINES = re.compile(f"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f{_OTHERS}]")


def _spell(found: re.Match[str]) -> str:
    code = ord(found.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every control character spelled out (`\\x1b`, `\\r`, `\\u202e`): safe to
    print on a terminal or in a CI log. `keep_newlines` keeps LF and CRLF (multi-line output
    such as a diff); a lone CR is spelled out."""
    if text.isprintable():
        return text  # the common case: one C-level scan
    pattern = _CONTROL_KEEP_NEWLINES if keep_newlines else _CONTROL
    return pattern.sub(_spell, text)


def shown(text: str) -> str:
    """A line for a terminal or a log: secrets masked, controls visible."""
    return visible(redact(text))


# Inside a JSON document: what `json.dumps` leaves raw (ensure_ascii=False writes C1 controls,
# bidi characters and U+2028/2029 as they are) becomes a \\u escape - the same string to any
# JSON reader, inert on a terminal that shows the file.
_JSON_RAW = re.compile(f"[{_OTHERS}]")


def json_text(document: str) -> str:
    """A JSON text (from `json.dumps`) with the characters above escaped."""
    if document.isascii():
        return document
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", document)
