"""SEC019: the `random` module used to make secrets."""

from __future__ import annotations

import ast
import itertools
from typing import Any

from bastion.analysis.fastpath import may_name
from bastion.analysis.fixes import ast_path_at, binds_other
from bastion.analysis.nodes import target_names
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule
from bastion.secret_formats import name_words

# `random` functions with a `secrets` twin taking the same arguments
_SIMPLE = {"choice": "choice", "getrandbits": "randbits", "randbytes": "token_bytes"}
_IMPORT = (("secrets", None),)


def _int_literal(node: ast.expr) -> int | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_literal(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _sum_fits(path: list[ast.AST]) -> bool:
    """`randbelow(n) + a` may replace the call without parentheses: its value is used whole
    (an argument, an assignment, a return, an f-string field, an element)."""
    call, parent = path[-1], path[-2]
    if isinstance(parent, ast.Call):
        return call in parent.args
    return isinstance(
        parent,
        ast.keyword
        | ast.Assign
        | ast.AnnAssign
        | ast.Return
        | ast.FormattedValue
        | ast.List
        | ast.Tuple
        | ast.Set
        | ast.Expr,
    )


# Functions of `random` that pick or produce values a token can be made of.
_PICKERS = frozenset(
    {
        "choice",
        "choices",
        "sample",
        "randint",
        "randrange",
        "getrandbits",
        "randbytes",
        "shuffle",
    }
)
# Float producers: only when the result is stored under a secret's name (a `refresh_token`
# method may well sleep `random.uniform(0, 1)` seconds as jitter).
_FLOATS = frozenset({"random", "uniform"})
_RANDOM_NAMES = _PICKERS | _FLOATS

_SENSITIVE_WORDS = frozenset(
    {
        "token",
        "tokens",
        "password",
        "passwords",
        "passwd",
        "pwd",
        "passphrase",
        "passcode",
        "secret",
        "secrets",
        "otp",
        "totp",
        "hotp",
        "nonce",
        "salt",
        "pin",
        "csrf",
        "xsrf",
        "verifier",
        "apikey",
        "credential",
        "credentials",
    }
)
_SENSITIVE_PAIRS = frozenset(
    {
        ("api", "key"),
        ("secret", "key"),
        ("private", "key"),
        ("signing", "key"),
        ("access", "key"),
        ("encryption", "key"),
        ("session", "key"),
        ("session", "id"),
        ("session", "ids"),
        ("reset", "code"),
        ("reset", "key"),
        ("verification", "code"),
        ("verify", "code"),
        ("confirmation", "code"),
        ("confirm", "code"),
        ("activation", "code"),
        ("activation", "key"),
        ("auth", "code"),
        ("login", "code"),
        ("sms", "code"),
        ("mfa", "code"),
        ("invite", "code"),
        ("invitation", "code"),
        ("one", "time"),
        ("recovery", "code"),
        ("recovery", "codes"),
        ("backup", "codes"),
    }
)


# A function named for one of these makes something that is not a secret, whatever its
# local variables are called (`_make_boundary(): token = random.randrange(...)`).
_NOT_SECRET_CONTEXT = frozenset(
    {
        "boundary",
        "filename",
        "tmp",
        "temp",
        "tempfile",
        "jitter",
        "delay",
        "backoff",
        "sleep",
        "color",
        "colour",
        "port",
        "shuffle",
        "demo",
        "example",
        "fake",
        "mock",
        "sample",
        "seed",
    }
)


def is_sensitive_name(name: str) -> bool:
    """`reset_token`, `generate_password`, `make_otp`, `api_key`, `verification_code`..."""
    words = name_words(name)
    if set(words) & _SENSITIVE_WORDS:
        return True
    return any(pair in _SENSITIVE_PAIRS for pair in itertools.pairwise(words))


class InsecureRandomness(Rule):
    """Flags `random.*` (the Mersenne Twister: predictable) used to make a token, password,
    key, OTP, nonce, salt or session id:

    - `random.choice/choices/sample/randint/randrange/getrandbits/randbytes/shuffle` whose
      result is stored under such a name (`token = ...`, `user.password = ...`,
      `{"otp": ...}`, `create(api_key=...)`) or computed inside a function named for one
      (`def generate_reset_token():`, `def make_password():`);
    - `random.random()`/`random.uniform()` only when stored under such a name.

    Not flagged: `random.SystemRandom()` (backed by `os.urandom`), seeded `random.Random(...)`
    instances, calls inside functions named for something public (`_make_boundary`,
    `temp_filename`, `jitter`, `backoff`, `fake_*`), `random.*` for shuffling, sampling,
    jitter and backoff (`delay = random.uniform(0, 1)`) or anything not named for a secret,
    and test files (test data is not a secret)."""

    id = "SEC019"
    name = "insecure-randomness"
    aliases = ("S311",)  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B311",)  # bandit test ids honoured in `# nosec`
    severity = Severity.WARNING
    summary = "`random` module used to generate tokens, passwords, keys or OTPs"
    why = (
        "`random` is a Mersenne Twister: fast and statistically fine, but after observing "
        "about 624 outputs anyone can compute every past and future value. A reset token, "
        "session id, API key or OTP made with it can be predicted from other tokens the "
        "attacker requested. The `secrets` module draws from the operating system's CSPRNG."
    )
    hint = (
        "Use `secrets`: `secrets.token_urlsafe(32)` for tokens, `secrets.choice(alphabet)` "
        "for passwords, `secrets.randbelow(10**6)` for numeric codes."
    )
    cwe = (330, 338)
    requires = ("random",)
    call_names = _RANDOM_NAMES  # visit_Call's only calls (see may_name)
    # unsafe: the values change (and a seeded `random` no longer replays them); the mapping
    # itself is exact - `secrets.choice`, `secrets.randbits`, `secrets.token_bytes`,
    # `secrets.randbelow(n)` for `randrange(n)` and `randint(a, b)` with literal bounds, else
    # the same method on `secrets.SystemRandom()` (the OS generator behind `secrets`)
    fix_safety = FixSafety.UNSAFE
    fix_safety_note = (
        "`random` -> `secrets`/`SystemRandom` makes the values unpredictable and unseedable: a "
        "test or a reproducible run that seeded `random` gets different values."
    )
    fix_node = "Call"
    bad = [
        Example(
            "import random, string\n\n"
            "token = ''.join(random.choices(string.ascii_letters + string.digits, k=32))\n",
            fixed="import string\n"
            "import secrets\n"
            "\n"
            "token = ''.join(secrets.SystemRandom().choices(string.ascii_letters + "
            "string.digits, k=32))\n",
        ),
        Example(
            "import random\n\ndef generate_otp():\n    return f'{random.randint(0, 999999):06d}'\n",
            fixed="import secrets\n"
            "\n"
            "def generate_otp():\n"
            "    return f'{secrets.randbelow(1000000):06d}'\n",
        ),
        Example(
            "from random import choice\n\ndef reset(user):\n"
            "    user.reset_code = ''.join(choice('0123456789') for _ in range(6))\n",
            fixed="import secrets\n"
            "\n"
            "def reset(user):\n"
            "    user.reset_code = ''.join(secrets.choice('0123456789') for _ in "
            "range(6))\n",
        ),
        Example(
            "import random\n\ndef create_user(name):\n"
            "    return User(name=name, password=str(random.getrandbits(64)))\n",
            fixed="import secrets\n"
            "\n"
            "def create_user(name):\n"
            "    return User(name=name, password=str(secrets.randbits(64)))\n",
        ),
        Example(
            "import random\n\ndef make_pin():\n    return 2 * random.randint(1000, 9999)\n",
            fixed="import secrets\n"
            "\n"
            "def make_pin():\n"
            "    return 2 * (secrets.randbelow(9000) + 1000)\n",
        ),
    ]
    good = [
        "import secrets\n\ntoken = secrets.token_urlsafe(32)\n",
        "import random\n\ndelay = backoff * random.uniform(0.5, 1.5)\n",
        "import random\n\ndef refresh_token(self):\n    time.sleep(random.random())\n"
        "    return self._refresh()\n",
        "import random\n\nrandom.shuffle(questions)\nwinner = random.choice(entries)\n",
        "import random\n\ndef make_boundary():\n    token = random.randrange(sys.maxsize)\n"
        "    return f'==={token}==='\n",
        "import random\n\ndef make_token():\n"
        "    return ''.join(random.SystemRandom().choice(ALPHABET) for _ in range(32))\n",
        Example(
            "import random\n\ndef test_login():\n    password = str(random.randint(0, 10**9))\n",
            path="tests/test_auth.py",
        ),
    ]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not may_name(func, _RANDOM_NAMES, self.ctx.imports):
            return
        qualified = self.ctx.imports.qualname(func) or ""
        module, _, function = qualified.rpartition(".")
        if module != "random" or (function not in _PICKERS and function not in _FLOATS):
            return
        if self.ctx.is_test_file or self._not_secret_context():
            return
        name = self._sink_name()
        via = name is not None
        if name is None and function in _PICKERS:
            name = self._function_name()
        if name is None:
            return
        where = f"`{name}`" if via else f"the value of `{name}()`"
        self.report(
            node,
            f"`random.{function}()` is predictable; used to make {where}",
            # `import secrets` must not clash with another `secrets` of the module
            fixable=not binds_other(self.ctx.tree, "secrets", "secrets"),
        )

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        import libcst as cst

        path = ast_path_at(self.ctx, finding.line, finding.column - 1, (ast.Call,))
        if path is None or not isinstance(node, cst.Call):
            return None
        call = path[-1]
        assert isinstance(call, ast.Call)
        function = (self.ctx.imports.qualname(call.func) or "").rpartition(".")[2]
        plain = not call.keywords and not any(isinstance(a, ast.Starred) for a in call.args)
        simple = _SIMPLE.get(function)
        if simple is not None and plain:
            new = node.with_changes(func=cst.parse_expression(f"secrets.{simple}"))
            return Fix(new, imports=_IMPORT)
        bounds = [_int_literal(a) for a in call.args]
        if function == "randrange" and plain and len(call.args) == 1:
            new = node.with_changes(func=cst.parse_expression("secrets.randbelow"))
            return Fix(new, imports=_IMPORT)
        if function == "randint" and plain and len(bounds) == 2:
            low, high = bounds
            if low is not None and high is not None and high >= low:
                text = f"secrets.randbelow({high - low + 1})"
                if low:
                    text += f" + {low}"
                    if not _sum_fits(path) and not node.lpar:
                        text = f"({text})"
                expression = cst.parse_expression(text)
                if node.lpar:
                    expression = expression.with_changes(lpar=node.lpar, rpar=node.rpar)
                return Fix(expression, imports=_IMPORT)
        method = cst.Attribute(
            value=cst.parse_expression("secrets.SystemRandom()"), attr=cst.Name(function)
        )
        return Fix(node.with_changes(func=method), imports=_IMPORT)

    def _sink_name(self) -> str | None:
        """The secret-like name the call's value is stored under or passed as, if any."""
        stack = self.ctx.stack
        for index in range(len(stack) - 1, -1, -1):
            node = stack[index]
            if isinstance(node, ast.keyword) and node.arg and is_sensitive_name(node.arg):
                return node.arg
            if isinstance(node, ast.Dict):
                child = stack[index + 1] if index + 1 < len(stack) else None
                for key, value in zip(node.keys, node.values, strict=True):
                    name = key.value if isinstance(key, ast.Constant) else None
                    if value is child and isinstance(name, str) and is_sensitive_name(name):
                        return name
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in target_names(target):
                        if is_sensitive_name(name):
                            return name
                return None
            if isinstance(node, ast.stmt):
                return None
        return None

    def _not_secret_context(self) -> bool:
        function = self.ctx.enclosing_function()
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        return bool(set(name_words(function.name)) & _NOT_SECRET_CONTEXT)

    def _function_name(self) -> str | None:
        function = self.ctx.enclosing_function()
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef) and is_sensitive_name(
            function.name
        ):
            return function.name
        return None
