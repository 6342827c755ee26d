"""Recognising hardcoded secrets: known credential formats, secret-like names, placeholders.

Pure functions over strings, shared by every rule that looks for secrets (SEC001 in Python,
`.env`, TOML/YAML/INI files; Dockerfile `ENV`/`ARG` and compose `environment:`). The two
questions a rule asks are:

- `known_format(value)`: does this text contain a credential whose *shape* gives it away
  (an AWS access key id, a GitHub/Slack/Stripe/Google token, a PEM private key, a JWT, a URL
  with an inline password)? Whatever the name it is stored under.
- `secret_for(name, value)`: is this (name, value) binding a hardcoded secret - a known format,
  or a secret-like name (`SECRET_KEY`, `db_password`, `api_key`, `client_secret`...) bound to a
  literal that is not a placeholder (`changeme`, `<token>`, `${VAR}`, `{{ secret }}`, `xxx`,
  `your-key-here`, empty, too short...)?

Both return a `SecretMatch` (or None) that carries the exact text to redact: a rule passes
`match.redact` to `report(..., redact=...)` and never puts the value in a message.

For `KEY=value` settings of any file kind (`.env`, Dockerfile `ENV`/`ARG`, compose
`environment:`, TOML/YAML/INI), `setting_secret(name, value, test_file=..., template=...)`
applies SEC001's whole policy in one call (test files keep only service-issued formats;
template files such as `.env.example` only known formats), so that every file kind decides
alike; `message(match, where)` words the finding:

    match = setting_secret(key, value, test_file=ctx.is_test_file)
    if match is not None:
        self.report_at(line, column, message(match, f"in `{key}`"), redact=match.redact)

    >>> m = secret_for("GITHUB_TOKEN", "ghp_" + "a1B2" * 9)
    >>> m.description
    'GitHub token'
    >>> secret_for("password_label", "Password") is None
    True
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

# -- known credential formats ---------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialFormat:
    """One credential shape. Every pattern here runs in linear time on any input (see
    docs/regex-audit.md): bounded or unambiguous quantifiers only, and where a regex cannot
    say it linearly (a PEM key's body) a small scanner (`scan`) does the matching."""

    name: str  # for messages: "AWS access key id"
    pattern: re.Pattern[str]  # for `scan` formats: where a candidate starts
    # Formats issued by a service (they grant access wherever they appear, even in a test
    # file) vs. formats that tests routinely generate for themselves (JWTs, PEM keys).
    issued: bool = True
    group: int = 0  # the regex group holding the secret itself
    scan: Callable[[str], Iterator[str]] | None = None

    def find(self, value: str) -> Iterator[str]:
        """Each text of this format in `value`, left to right, without overlaps."""
        if self.scan is not None:
            yield from self.scan(value)
            return
        for found in self.pattern.finditer(value):
            yield found.group(self.group)


def _re(pattern: str, flags: int = 0) -> re.Pattern[str]:
    return re.compile(pattern, flags)


# A PEM private key: the BEGIN line, then (after a line break, real or written `\\n`) any
# header lines (`Proc-Type: 4,ENCRYPTED`, `DEK-Info: ...`), then a line that starts with 40
# base64 characters, then anything up to the END line. One regex with a lazy loop of header
# lines backtracked exponentially on `BEGIN ... a a a a !` (issue #14); the scanner below
# looks at each character a bounded number of times.
_PEM_BEGIN = _re(r"-----BEGIN (?:[A-Z0-9]{1,40} ){0,2}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = _re(r"-----END (?:[A-Z0-9]{1,40} ){0,2}PRIVATE KEY(?: BLOCK)?-----")
# the longest run of header-line characters and line breaks (`\\n` written out included):
# one character per step, two alternatives that cannot both match, never backtracks
_PEM_LEAD = _re(r"(?:[A-Za-z0-9+/=:,\- \s]|\\n)*")
# a line break followed by 40 base64 characters: where the key body starts
_PEM_BODY = _re(r"(?:\\n|\s)[A-Za-z0-9+/=]{40}")


def _private_keys(value: str) -> Iterator[str]:
    """Each `-----BEGIN ... PRIVATE KEY----- <body> -----END ... PRIVATE KEY-----` in `value`
    whose body has a 40-character base64 line (what the former single regex matched)."""
    position = 0
    while True:
        begin = _PEM_BEGIN.search(value, position)
        if begin is None:
            return
        start = begin.end()
        if not (value[start : start + 1].isspace() or value.startswith("\\n", start)):
            position = start
            continue
        lead = _PEM_LEAD.match(value, start)
        assert lead is not None  # the pattern matches the empty string
        body = _PEM_BODY.search(value, start, lead.end())
        if body is None:
            # any later BEGIN inside this run has the same run end, hence no body either
            position = max(lead.end(), start)
            continue
        end = _PEM_END.search(value, body.end())
        if end is None:
            return  # no END after this body: none after any later BEGIN either
        yield value[begin.start() : end.end()]
        position = end.end()


FORMATS: tuple[CredentialFormat, ...] = (
    CredentialFormat(
        "AWS access key id", _re(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
    ),
    CredentialFormat(
        "GitHub token", _re(r"(?<![A-Za-z0-9_])gh[pousr]_[A-Za-z0-9]{36,255}(?![A-Za-z0-9])")
    ),
    CredentialFormat(
        "GitHub fine-grained token",
        _re(r"(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9])"),
    ),
    CredentialFormat(
        "Slack token", _re(r"(?<![A-Za-z0-9])xox[bpars]-[0-9]{6,}-[A-Za-z0-9-]{8,}(?![A-Za-z0-9])")
    ),
    CredentialFormat(
        "Slack webhook URL",
        _re(r"https://hooks\.slack\.com/services/T[A-Z0-9]{6,}/B[A-Z0-9]{6,}/[A-Za-z0-9]{20,}"),
    ),
    CredentialFormat(
        "Stripe live key", _re(r"(?<![A-Za-z0-9])(?:sk|rk)_live_[A-Za-z0-9]{20,}(?![A-Za-z0-9])")
    ),
    CredentialFormat(
        "Google API key", _re(r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_\-]{35}(?![A-Za-z0-9_\-])")
    ),
    CredentialFormat(
        "private key",
        # the header alone is a constant every crypto library holds: require a key body
        _PEM_BEGIN,
        issued=False,
        scan=_private_keys,
    ),
    CredentialFormat(
        "JSON Web Token",
        _re(
            r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}"
            r"\.[A-Za-z0-9_\-]{16,}(?![A-Za-z0-9_\-])"
        ),
        issued=False,
    ),
)

# One cheap search before the precise patterns: every format holds one of these.
_TRIGGER = _re(
    r"AKIA|ASIA|gh[pousr]_|github_pat_|xox[bpars]-|hooks\.slack|_live_|AIza|PRIVATE KEY|eyJ|://"
)

# The texts of `_TRIGGER` each format (in `FORMATS` order) cannot match without: a text that
# holds none of a format's is not searched with its pattern (most triggered texts are URLs in
# docstrings, which only `dsn_password` reads). Plain substrings, searched only once
# `_TRIGGER` has matched.
_FORMAT_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("AKIA", "ASIA"),
    ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ("github_pat_",),
    ("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"),
    ("hooks.slack",),
    ("_live_",),
    ("AIza",),
    ("PRIVATE KEY",),
    ("eyJ",),
)

# `scheme://user:password@host`: the password is the secret.
_DSN = _re(r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,30}://([^\s:/@'\"]*):([^\s@/'\"]+)@[^\s/@'\"]+")

# Hints that a credential-looking text is documentation: AWS's own example key ends in
# EXAMPLE, and people write `ghp_XXXX...` or `sk_live_...` with obvious filler.
_FORMAT_FILLER = _re(
    r"example|sample|x{6,}|0{8,}|1234567890|abcdef|your|dummy|fake"
    r"|SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",  # the signature of jwt.io's sample token
    re.I,
)


@dataclass(frozen=True)
class SecretMatch:
    description: str  # what was found, for the message: "AWS access key id", "password"
    secret: str  # the sensitive text itself: never shown
    by_format: bool  # True when the shape of the value gave it away
    issued: bool = True  # see CredentialFormat.issued; False for URL passwords, JWTs, PEM keys

    @property
    def redact(self) -> tuple[str, ...]:
        """Every text a reporter must mask: the secret, and each of its lines (a multi-line
        key is shown line by line in code frames)."""
        parts = [self.secret]
        if "\n" in self.secret or "\\n" in self.secret:
            for line in re.split(r"\n|\\n", self.secret):
                line = line.strip()
                if len(line) >= 8 and not line.startswith("-----"):
                    parts.append(line)
        return tuple(dict.fromkeys(parts))


def known_format(value: str) -> SecretMatch | None:
    """The first known credential format found in `value` (anywhere in it), else None.

    Documentation fillers (`AKIAIOSFODNN7EXAMPLE`, `ghp_xxxxxxxx...`) and URLs whose password
    is a placeholder (`postgres://user:${DB_PASSWORD}@db`) do not count."""
    if len(value) < 16 or not _TRIGGER.search(value):
        return None
    for fmt, trigger in zip(FORMATS, _FORMAT_TRIGGERS, strict=True):
        if not any(text in value for text in trigger):
            continue  # cannot hold this format
        for text in fmt.find(value):
            if _FORMAT_FILLER.search(text) or _low_variety(text):
                continue
            return SecretMatch(fmt.name, text, by_format=True, issued=fmt.issued)
    return dsn_password(value)


def dsn_password(value: str) -> SecretMatch | None:
    """A URL with an inline password that is not a placeholder (nor the user name again)."""
    if "://" not in value or "@" not in value:
        return None
    for found in _DSN.finditer(value):
        user, password = found.group(1), found.group(2)
        if password == user or is_placeholder(password) or password.lower() in _DEFAULT_PASSWORDS:
            continue
        if len(password) < 4:
            continue
        return SecretMatch("password in a connection URL", password, by_format=True, issued=False)
    return None


def _low_variety(text: str) -> bool:
    """`AKIAAAAAAAAAAAAAAAAA`: too few distinct characters to be issued by anyone."""
    body = text[4:] if len(text) > 8 else text
    return len(set(body)) < min(10, max(6, len(body) // 6))


# -- secret-like names ----------------------------------------------------------------------------

# Words that make a name a secret's name on their own ("strong"), and those that only do when
# the value also looks random ("weak": `token` is also a lexer token, `auth` a scheme name).
_STRONG_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "apikey",
        "privatekey",
        "secretkey",
        "clientsecret",
        "accesskey",
        "signingkey",
        "encryptionkey",
        "masterkey",
    }
)
_WEAK_WORDS = frozenset(
    {
        "token",
        "accesstoken",
        "authtoken",
        "refreshtoken",
        "bearertoken",
        "apitoken",
        "credentials",
        "credential",
        "creds",
        "pass",
        "auth",
        "authkey",
        "webhooksecret",
    }
)
# Two-word spellings joined before lookup: `api_key` -> "apikey", `client_secret`, ...
_PAIRS = frozenset(
    {
        ("api", "key"),
        ("private", "key"),
        ("secret", "key"),
        ("client", "secret"),
        ("access", "key"),
        ("signing", "key"),
        ("encryption", "key"),
        ("master", "key"),
        ("access", "token"),
        ("auth", "token"),
        ("refresh", "token"),
        ("bearer", "token"),
        ("api", "token"),
        ("auth", "key"),
        ("webhook", "secret"),
    }
)
# A name whose last word is one of these names *something about* a secret, not the secret:
# `PASSWORD_FIELD`, `password_label`, `token_url`, `SECRET_KEY_FILE`, `password_hash`.
_DESCRIPTORS = frozenset(
    {
        "field",
        "fields",
        "label",
        "name",
        "names",
        "prompt",
        "placeholder",
        "url",
        "uri",
        "urls",
        "endpoint",
        "path",
        "file",
        "filename",
        "dir",
        "header",
        "headers",
        "type",
        "types",
        "length",
        "len",
        "size",
        "min",
        "max",
        "pattern",
        "regex",
        "re",
        "message",
        "msg",
        "error",
        "errors",
        "help",
        "text",
        "title",
        "template",
        "format",
        "fmt",
        "id",
        "ids",
        "env",
        "var",
        "variable",
        "setting",
        "key",  # `password_key`: the key a password is stored under
        "hash",
        "hashed",
        "digest",
        "hasher",
        "hashers",
        "algorithm",
        "algorithms",
        "alg",
        "scheme",
        "prefix",
        "suffix",
        "namespace",
        "ns",
        "context",
        "salt",
        "separator",
        "sep",
        "class",
        "classes",
        "backend",
        "backends",
        "validator",
        "validators",
        "policy",
        "mode",
        "method",
        "kind",
        "param",
        "parameter",
        "column",
        "attr",
        "attribute",
        "cookie",
        "location",
        "char",
        "chars",
        "charset",
        "expiry",
        "expires",
        "expiration",
        "ttl",
        "timeout",
        "age",
        "lifetime",
        "count",
        "index",
        "required",
        "enabled",
        "reset",
        "changed",
        "change",
        "confirm",
        "confirmation",
        "verification",
        "form",
        "widget",
        "input",
        "view",
        "route",
        "status",
        "state",
        "store",
        "storage",
        "source",
        "provider",
        "manager",
        "generator",
        "factory",
        "handler",
        "callback",
        "encoder",
        "decoder",
        "serializer",
        "description",
        "doc",
        "usage",
        "example",
        "sample",
        "test",
        "tests",
        "version",
        "command",
        "cmd",
        "option",
        "options",
        "flag",
        "arg",
        "argname",
        "keyword",
        "kwarg",
    }
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT = re.compile(r"[^A-Za-z0-9]+")


def name_words(name: str) -> list[str]:
    """`DB_PASSWORD` -> [db, password]; `clientSecret` -> [client, secret]; `x-api-key` ->
    [x, api, key]."""
    words: list[str] = []
    for part in _SPLIT.split(name):
        words.extend(w.lower() for w in _CAMEL.split(part) if w)
    return words


def _secret_word_strength(name: str) -> str | None:
    """ "strong", "weak" or None for a name, from its words."""
    words = name_words(name)
    if not words:
        return None
    if words[-1] in _DESCRIPTORS and not _ends_with_pair(words):
        return None
    joined = set(words)
    for first, second in itertools.pairwise(words):
        if (first, second) in _PAIRS:
            joined.add(first + second)
    if joined & _STRONG_WORDS:
        return "strong"
    if joined & _WEAK_WORDS:
        return "weak"
    return None


def _mentions_secret(text: str) -> bool:
    words = name_words(text)
    joined = set(words) | {a + b for a, b in itertools.pairwise(words) if (a, b) in _PAIRS}
    return bool(joined & (_STRONG_WORDS | _WEAK_WORDS))


def _ends_with_pair(words: list[str]) -> bool:
    return len(words) >= 2 and (words[-2], words[-1]) in _PAIRS


def is_secret_name(name: str) -> bool:
    """True for names that hold a secret: `SECRET_KEY`, `db_password`, `api_key`, `token`,
    `clientSecret`, `AWS_SECRET_ACCESS_KEY`... and False for names about one:
    `PASSWORD_FIELD`, `password_label`, `token_url`, `password_hash`."""
    return _secret_word_strength(name) is not None


# -- placeholders ---------------------------------------------------------------------------------

_DEFAULT_PASSWORDS = frozenset(
    {
        "password",
        "passwd",
        "pass",
        "secret",
        "postgres",
        "postgresql",
        "mysql",
        "root",
        "admin",
        "guest",
        "user",
        "username",
        "test",
        "testing",
        "example",
        "default",
        "none",
        "null",
        "redis",
        "rabbitmq",
        "mongo",
        "toor",
        "tiger",  # scott/tiger: Oracle's (and SQLAlchemy's docs') demo account
        "scott",
    }
)
_PLACEHOLDER_WORDS = re.compile(
    r"change[\W_]?(?:me|it|this)|replace[\W_]?(?:me|this)|set[\W_]?me|placeholder|dummy|example|sample|"
    r"insecure|not[\W_]?(?:a[\W_]?)?secret|notsecret|unsafe|fake|mock|\btest|test\b|testing|"
    r"redacted|your[\W_]|[\W_]here$|^my[\W_]|todo|fixme|tbd|"
    r"\bdev\b|development|\blocal\b|default|secret[\W_]?key[\W_]?here|xxx|\*\*\*|\.\.\.",
    re.I,
)
# Each opener (`${`, `{{`, `%(`...) scans at most 256 characters for its closer: unbounded,
# `${${${...` without a `}` rescanned the rest of the text from every opener (quadratic).
_TEMPLATE = re.compile(
    r"\$\{[^}]{0,256}\}|\$\([^)]{0,256}\)|\{\{.{0,256}?\}\}|\{%.{0,256}?%\}|<[^<>]+>|"
    r"%\([^)]{0,256}\)[sdr]|%[sdr]\b|"
    r"\{[A-Za-z_0-9.\[\]]*(?:![rsa])?(?::[^{}]*)?\}|^\$[A-Za-z_][A-Za-z0-9_]*$|^@[A-Za-z_]+@$"
)
_HASHED = re.compile(
    r"^(?:pbkdf2_sha\d+|argon2|bcrypt|bcrypt_sha256|scrypt|sha1|md5|crypt|unsalted_\w+)\$"
    r"|^\$(?:2[abxy]?|argon2i?d?|5|6|pbkdf2[-\w]*|scrypt)\$"
)


def is_placeholder(value: str) -> bool:
    """True for values that are obviously not a real secret: empty or very short, a template
    (`${VAR}`, `{{ secret }}`, `<token>`, `%(password)s`, `{password}`), filler (`xxx`, `***`,
    `...`, one repeated character) or a word that says so (`changeme`, `your-api-key-here`,
    `dummy`, `example`, `test`, `insecure`, `dev`)."""
    stripped = value.strip()
    if len(stripped) < 4:
        return True
    if len(set(stripped.lower())) <= 2:
        return True
    if _TEMPLATE.search(stripped):
        return True
    return bool(_PLACEHOLDER_WORDS.search(stripped))


def is_password_hash(value: str) -> bool:
    """A stored password hash (Django's `pbkdf2_sha256$...`, `$2b$...` bcrypt, `$argon2id$`):
    a fixture, not a credential."""
    return bool(_HASHED.match(value.strip()))


# -- (name, value) --------------------------------------------------------------------------------

_IDENTIFIER_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:[.:][A-Za-z_][A-Za-z0-9_]*)+$")
_LETTERS_ONLY = re.compile(r"^[A-Za-z_\-]+$")
# Words joined by `_`, `-`, `.` (`_auth_user_backend`, `X-Auth-Token`). Written as the words
# themselves (`[A-Za-z][a-z]*` repeated) it backtracked exponentially on `aaaa...a!`; any run of
# letters is a run of such words, so this is the same language with one way to match it.
_JOINED_WORDS = re.compile(r"^[_\-]*[A-Za-z](?:[A-Za-z_\-.]*[A-Za-z])?[_\-]*$")
_WORDISH = re.compile(r"^[A-Za-z][a-z]*(?:[ _\-][A-Za-z][a-z]*)*[:?]?$")


def shannon_entropy(value: str) -> float:
    """Bits per character."""
    if not value:
        return 0.0
    counts: dict[str, int] = {}
    for char in value:
        counts[char] = counts.get(char, 0) + 1
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def looks_random(value: str) -> bool:
    """A machine-made string: long enough, several character classes, high entropy, no
    spaces. What a `token`/`credentials` value must look like before its name alone counts."""
    if len(value) < 16 or any(c.isspace() for c in value):
        return False
    if _JOINED_WORDS.match(value) or _IDENTIFIER_PATH.match(value):
        return False  # `_auth_user_backend`, `X-Auth-Token`, `myapp.tokens.Generator`
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
        )
    )
    return classes >= 2 and shannon_entropy(value) >= 3.5


def _plausible_secret_value(name: str, value: str, strength: str) -> bool:
    stripped = value.strip()
    if is_placeholder(stripped) or is_password_hash(stripped):
        return False
    if any(c.isspace() for c in stripped):
        return False  # a label, a prompt, a sentence: `Enter your password`
    if "://" in stripped or stripped.startswith(("/", "./", "~/", "http")):
        return False  # a URL or a path (inline passwords are `dsn_password`'s)
    if _IDENTIFIER_PATH.match(stripped):
        return False  # `myapp.auth.TokenBackend`, `env:SECRET`
    if _WORDISH.match(stripped) and stripped.lower().replace("-", "_") in _LABEL_VALUES:
        return False  # `PASSWORD_FIELD = "password"`
    if stripped.lower() in _DEFAULT_PASSWORDS:
        return False
    if name_words(stripped) == name_words(name):
        return False  # `apiKey = "apiKey"`: an enum member or a label
    if _LETTERS_ONLY.match(stripped) and _mentions_secret(stripped):
        return False  # `{"password": "PasswordInput"}`, `"new-password"`: about a secret
    if strength == "weak":
        return looks_random(stripped)
    return len(stripped) >= 6


_LABEL_VALUES = frozenset(
    {
        "password",
        "password:",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "secret_key",
        "api_key",
        "apikey",
        "token",
        "access_token",
        "refresh_token",
        "auth_token",
        "client_secret",
        "private_key",
        "credentials",
        "new_password",
        "old_password",
        "password1",
        "password2",
        "current_password",
        "confirm_password",
        "passphrase",
    }
)


_DJANGO_INSECURE = "django-insecure-"


def secret_for(name: str, value: str, *, names_only: bool = False) -> SecretMatch | None:
    """Is binding `value` to `name` a hardcoded secret?

    - a value in a known credential format always is (`known_format`), whatever the name -
      unless `names_only`;
    - otherwise the name must be secret-like (`is_secret_name`) and the value a plausible
      secret: not a placeholder, a password hash, a label, a URL or a dotted path, at least 6
      characters - and, for weaker names (`token`, `auth`, `credentials`), random-looking.
    """
    if not names_only:
        found = known_format(value)
        if found is not None:
            return found
    strength = _secret_word_strength(name)
    if strength is None:
        return None
    if value.startswith(_DJANGO_INSECURE) and looks_random(value[len(_DJANGO_INSECURE) :]):
        # `startproject` writes a real random key behind this prefix; it is used wherever the
        # settings file is, production included (`check --deploy` warns about it)
        return SecretMatch("secret key", value.strip(), by_format=False)
    if not _plausible_secret_value(name, value, strength):
        return None
    words = name_words(name)
    return SecretMatch(_describe(words), value.strip(), by_format=False)


def _describe(words: list[str]) -> str:
    joined = "_".join(words)
    for label, keys in (
        ("private key", ("private_key", "privatekey")),
        ("client secret", ("client_secret",)),
        ("API key", ("api_key", "apikey")),
        ("access key", ("access_key",)),
        ("secret key", ("secret_key", "secretkey", "signing_key", "encryption_key")),
        ("password", ("password", "passwd", "pwd", "pass", "passphrase")),
        ("token", ("token",)),
        ("credentials", ("credential", "creds")),
    ):
        if any(k in joined for k in keys):
            return label
    return "secret"


# -- policy shared by every file kind -------------------------------------------------------------

_TEMPLATE_MARKERS = ("example", "sample", "template", "dist", "default", "defaults", "tpl")


def is_template_file(filename: str) -> bool:
    """`.env.example`, `.env.sample`, `env.template`, `example.env`, `.env.dist`: files that
    document variables with placeholder values."""
    parts = filename.lower().replace("-", ".").replace("_", ".").split(".")
    return any(marker in parts for marker in _TEMPLATE_MARKERS)


def reportable(match: SecretMatch, *, test_file: bool) -> bool:
    """In test files only credentials issued by a service count: a test password or a JWT the
    test signs itself is a fixture, an AWS/GitHub/Slack/Stripe/Google key is a leak anywhere."""
    return not test_file or (match.by_format and match.issued)


def setting_secret(
    name: str, value: str, *, test_file: bool = False, template: bool = False
) -> SecretMatch | None:
    """SEC001's decision for one `name = value` setting (a `.env` line, Dockerfile `ENV`/`ARG`,
    a compose `environment:` entry, a TOML/YAML/INI key): a known format, or a secret-like
    name with a plausible literal; only known formats in template files; see `reportable`
    for test files."""
    if not value:
        return None
    match = known_format(value) if template else secret_for(name, value)
    if match is None or not reportable(match, test_file=test_file):
        return None
    return match


def message(match: SecretMatch, where: str) -> str:
    """`hardcoded password in `DB_PASSWORD``: names the kind and the place, never the value."""
    return f"hardcoded {match.description} {where}"


# hosts of a database on the developer's own machine
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0"})
_DATABASE_WORDS = ("DATABASE", "DB_", "POSTGRES", "MYSQL", "MARIADB", "PG")


def points_at_local_database(pairs: list[tuple[str, str]]) -> bool:
    """An env file whose database host is the developer's own machine
    (`DATABASE_HOSTNAME=localhost`, `DB_HOST=127.0.0.1`): the settings of a local setup, whose
    other values are development values too (issue #15: dispatch's `data/.env` next to its
    sample-data dump)."""
    for key, value in pairs:
        upper = key.upper()
        if (
            upper.startswith(_DATABASE_WORDS)
            and ("HOST" in upper or "SERVER" in upper)
            and value.strip().lower() in _LOCAL_HOSTS
        ):
            return True
    return False


def password_is_user_name(name: str, value: str, pairs: list[tuple[str, str]]) -> bool:
    """`POSTGRES_PASSWORD: mealie` next to `POSTGRES_USER: mealie`: the bootstrap default of
    a local database container (or of a settings class that the environment overrides), a
    credential that names itself rather than a secret (issue #15: mealie)."""
    if not any(w in name.upper() for w in ("PASSWORD", "PASS", "PWD")) or not value:
        return False
    return any("USER" in key.upper() and other == value for key, other in pairs)
