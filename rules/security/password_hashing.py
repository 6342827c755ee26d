"""SEC006: passwords stored with fast or broken hashes."""

from __future__ import annotations

import ast
import re

from bastion.analysis.django import is_deployment_settings, is_overridden, top_level_settings
from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.injection import LocalAssignments, Scope
from bastion.analysis.nodes import (
    argument,
    held_name,
    keyword_value,
    string_elements,
    string_value,
)
from bastion.context import FileContext
from bastion.findings import Severity
from bastion.rule import Example, Rule

_FAST_HASHES = frozenset({"md5", "sha1", "sha224", "sha256", "sha384", "sha512"})
_WEAK_PASSLIB = frozenset(
    {
        "md5_crypt",
        "apr_md5_crypt",
        "sun_md5_crypt",
        "des_crypt",
        "bsdi_crypt",
        "bigcrypt",
        "crypt16",
        "plaintext",
        "ldap_plaintext",
        "ldap_md5",
        "ldap_sha1",
        "ldap_salted_md5",
        "ldap_salted_sha1",
        "hex_md5",
        "hex_sha1",
        "hex_sha256",
        "hex_sha512",
        "mysql323",
        "mysql41",
        "postgres_md5",
        "oracle10",
        "lmhash",
        "nthash",
        "django_salted_md5",
        "django_salted_sha1",
        "django_des_crypt",
    }
)
_CRYPT_CONTEXT = frozenset({"passlib.context.CryptContext", "passlib.apps.CryptContext"})
# what a call looked at below ends with: a context, a passlib hasher's method, a hashlib
# constructor, or a hash object's `update`
_CALL_NAMES = (
    last_parts(_CRYPT_CONTEXT) | _FAST_HASHES | {"hash", "encrypt", "using", "new", "update"}
)
_WEAK_DJANGO_HASHERS = ("MD5PasswordHasher", "SHA1PasswordHasher")
_SLOW_HASHERS = (
    "PBKDF2PasswordHasher",
    "PBKDF2SHA1PasswordHasher",
    "BCryptPasswordHasher",
    "BCryptSHA256PasswordHasher",
    "Argon2PasswordHasher",
    "ScryptPasswordHasher",
)
_PASSWORD_WORDS = ("password", "passwd", "passphrase", "pwd")
_NOT_A_PASSWORD = ("token", "reset", "hash", "digest")
_SPLIT = re.compile(r"[^a-z0-9]+")


def _is_password_name(name: str) -> bool:
    lower = name.lower()
    words = [w for w in _SPLIT.split(lower) if w]
    if any(w in lower for w in _NOT_A_PASSWORD):
        return False
    return any(w in lower for w in _PASSWORD_WORDS) or any(w in ("pw", "pass") for w in words)


def _password_value(node: ast.expr) -> str | None:
    """The password-like name used in an expression (`password`, `user.password`,
    `form["password"]`), if any."""
    for sub in ast.walk(node):
        name = held_name(sub)
        if name and _is_password_name(name):
            return name
    return None


class WeakPasswordHash(Rule):
    """Flags passwords hashed with a fast or broken algorithm:

    * `hashlib.md5/sha1/sha224/sha256/sha384/sha512(...)` or `hashlib.new("md5", ...)` (and
      `.update(...)` on such a hash object) applied to a password-like value - a name,
      attribute, key or `.get("...")` called `password`, `passwd`, `pwd`, `passphrase`, `pw`
      (a variable is followed one assignment back). Hashes of file contents, cache keys,
      reset *tokens* or existing hashes are not passwords and are left alone;
    * passlib `CryptContext(schemes=[...])` whose default scheme is weak (`md5_crypt`,
      `des_crypt`, `plaintext`, `ldap_*`, `hex_*`...) or that accepts a weak scheme without
      marking it `deprecated` (`deprecated="auto"` keeps old hashes verifiable and upgrades
      them: not flagged); `passlib.hash.md5_crypt.hash(...)` and friends;
    * Django `PASSWORD_HASHERS` led by an MD5 or SHA1 hasher in a deployment settings
      module (test settings commonly use MD5 for speed: not flagged).

    A fast hash inside a subclass of Django's slow hashers (`PBKDF2PasswordHasher`, bcrypt,
    Argon2, scrypt) is a pre-hash that the key stretching still goes through, and is not
    flagged (issue #15: saleor's hasher for passwords migrated from Symfony).

    Test files are skipped."""

    id = "SEC006"
    name = "weak-password-hash"
    aliases = ("S303", "S324")  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B303", "B324")  # bandit test ids honoured in `# nosec`
    severity = Severity.ERROR
    precision = "low"
    precision_measured = (
        "no finding left on 15 application repositories, bench/ecosystem (before: 0 of 2, a "
        "pre-hash inside a PBKDF2 hasher, now not reported); too few findings to measure a band, "
        "so it stays at the last measured one"
    )
    cwe = (916, 328)
    summary = "Password hashed with a fast or broken algorithm (MD5, SHA-1, SHA-256, crypt)"
    why = (
        "General-purpose hashes are built to be fast: a GPU tries billions of MD5 or SHA-256 "
        "guesses per second, so a leaked table of such hashes is a leaked table of passwords. "
        "Password hashing needs a slow, salted, memory-hard function (Argon2id, scrypt, "
        "bcrypt, PBKDF2 with many iterations)."
    )
    hint = (
        "Use a password hasher: `argon2.PasswordHasher().hash(pw)` (argon2-cffi), "
        "`bcrypt.hashpw(pw, bcrypt.gensalt())`, pwdlib, or Django's default "
        "PBKDF2/Argon2 hashers; keep weak schemes only as `deprecated` for migration."
    )
    requires = ("hashlib", "CryptContext", "passlib", "PASSWORD_HASHERS")
    call_names = _CALL_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "import hashlib\n\ndef store(user, password):\n"
        "    user.pw_hash = hashlib.md5(password.encode()).hexdigest()\n",
        "import hashlib\n\ndef check(user, form):\n"
        '    digest = hashlib.sha256((SALT + form["password"]).encode()).hexdigest()\n'
        "    return digest == user.pw_hash\n",
        "from passlib.context import CryptContext\n\n"
        'pwd_context = CryptContext(schemes=["md5_crypt"])\n',
        Example(
            'INSTALLED_APPS = ["django.contrib.auth"]\n'
            'PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]\n',
            path="mysite/settings.py",
        ),
    ]
    good = [
        "import hashlib\n\ndef etag(content):\n    return hashlib.md5(content).hexdigest()\n",
        "import hashlib\n\ndef store(token):\n"
        "    return hashlib.sha256(reset_token.encode()).hexdigest()\n",
        "from passlib.context import CryptContext\n\n"
        'ctx = CryptContext(schemes=["argon2", "md5_crypt"], deprecated="auto")\n',
        Example(
            'INSTALLED_APPS = ["django.contrib.auth"]\n'
            'PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]\n',
            path="mysite/settings/test.py",
        ),
        "def store(password):\n    return md5(password)\n",
        # issue #15 (saleor): a pre-hash inside a PBKDF2 hasher, stretched afterwards
        "import hashlib\nfrom django.contrib.auth.hashers import PBKDF2PasswordHasher\n\n"
        "class LegacyHasher(PBKDF2PasswordHasher):\n"
        "    def encode(self, password, salt, iterations=None):\n"
        "        digest = hashlib.sha512(password.encode()).hexdigest()\n"
        "        return super().encode(digest, salt, iterations)\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._scopes: dict[int, LocalAssignments] = {}

    def visit_Module(self, node: ast.Module) -> None:
        if self.ctx.is_test_file or not is_deployment_settings(self.ctx):
            return
        for setting in top_level_settings(node):
            if is_overridden(node, setting):
                continue
            if setting.name != "PASSWORD_HASHERS":
                continue
            hashers = setting.value
            if isinstance(hashers, ast.List | ast.Tuple) and hashers.elts:
                first = string_value(hashers.elts[0]) or ""
                if first.endswith(_WEAK_DJANGO_HASHERS):
                    self.report(
                        hashers.elts[0],
                        f"PASSWORD_HASHERS is led by `{first.rpartition('.')[2]}`: new "
                        "passwords are stored with a fast hash",
                    )

    def visit_Call(self, node: ast.Call) -> None:
        if self.ctx.is_test_file or not may_name(node.func, _CALL_NAMES, self.ctx.imports):
            return
        qualified = self.ctx.imports.imported_qualname(node.func) or ""
        if qualified in _CRYPT_CONTEXT:
            self._check_context(node)
            return
        if qualified.startswith("passlib.hash."):
            scheme, _, method = qualified[len("passlib.hash.") :].partition(".")
            if scheme in _WEAK_PASSLIB and method in ("hash", "encrypt", "using"):
                self.report(node, f"password hashed with passlib's weak `{scheme}` scheme")
            return
        algorithm = self._fast_hash(node, qualified)
        if algorithm is not None:
            data = argument(node, 1 if qualified == "hashlib.new" else 0, "data")
            self._check_data(node, data, algorithm)
            return
        func = node.func
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "update"
            and isinstance(func.value, ast.Name)
            and node.args
        ):
            scope = self.ctx.enclosing_function() or self.ctx.tree
            if scope is None:
                return
            for value, _aug in self._locals(scope).values(func.value.id, node.lineno):
                if isinstance(value, ast.Call):
                    made_by = self.ctx.imports.imported_qualname(value.func) or ""
                    algorithm = self._fast_hash(value, made_by)
                    if algorithm is not None:
                        self._check_data(node, node.args[0], algorithm)
                        return

    def _locals(self, scope: Scope) -> LocalAssignments:
        found = self._scopes.get(id(scope))
        if found is None:
            found = self._scopes[id(scope)] = LocalAssignments.of(scope)
        return found

    def _fast_hash(self, call: ast.Call, qualified: str) -> str | None:
        if qualified == "hashlib.new":
            name = (string_value(argument(call, 0, "name")) or "").lower()
            return name if name in _FAST_HASHES else None
        module, _, name = qualified.rpartition(".")
        if module == "hashlib" and name in _FAST_HASHES:
            return name
        return None

    def _check_data(self, call: ast.Call, data: ast.expr | None, algorithm: str) -> None:
        if data is None:
            return
        found = _password_value(data)
        if found is None and isinstance(data, ast.Name):
            scope = self.ctx.enclosing_function() or self.ctx.tree
            if scope is not None:
                for value, _aug in self._locals(scope).values(data.id, call.lineno):
                    found = found or _password_value(value)
        if found is not None and not self._inside_slow_hasher():
            self.report(
                call,
                f"password `{found}` hashed with {algorithm.upper()}, a fast hash that is "
                "cheap to brute-force",
            )

    def _inside_slow_hasher(self) -> bool:
        """In a subclass of one of Django's slow password hashers (`PBKDF2PasswordHasher`,
        bcrypt, Argon2, scrypt), a fast hash is a pre-hash step whose result the key
        stretching still goes through (issue #15: saleor's hasher for passwords migrated
        from Symfony)."""
        cls = self.ctx.enclosing_class()
        if cls is None:
            return False
        for base in cls.bases:
            name = self.ctx.imports.imported_qualname(base) or ""
            if name.startswith("django.contrib.auth.hashers.") and name.endswith(_SLOW_HASHERS):
                return True
        return False

    def _check_context(self, call: ast.Call) -> None:
        schemes = string_elements(argument(call, 0, "schemes"))
        if not schemes:
            return
        default = string_value(keyword_value(call, "default")) or schemes[0]
        deprecated_node = keyword_value(call, "deprecated")
        deprecated = string_elements(deprecated_node) or []
        if deprecated == ["auto"]:
            deprecated = [s for s in schemes if s != default]
        if default in _WEAK_PASSLIB:
            self.report(call, f"CryptContext hashes new passwords with the weak `{default}`")
            return
        if deprecated_node is not None and not deprecated:
            return  # computed list: not known here
        weak = [s for s in schemes if s in _WEAK_PASSLIB and s not in deprecated]
        if weak:
            self.report(
                call,
                f"CryptContext accepts the weak `{weak[0]}` scheme without deprecating it",
            )
