"""TEST002: test functions that assert nothing."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable

from bastion.findings import Severity
from bastion.function_index import walk_breadth
from bastion.rule import Example, Rule

# call names (last dotted part, leading underscores dropped) that check something
_CHECK_PREFIXES = (
    "assert",
    "check",
    "verify",
    "expect",
    "ensure",
    "validate",
    "should",
    "must",
    "fail",
    "raises",
    "warns",
    "deprecated_call",
    "compare",
    "snapshot",
    "match_snapshot",
    "approve",
    "skip",
    "xfail",
    "importorskip",
)
# sqlalchemy/nose-style helpers: `eq_(a, b)`, `is_(a, b)`, `in_(x, y)`
_SHORT_CHECKS = frozenset(
    {"eq_", "ne_", "is_", "is_not", "is_not_", "in_", "not_in", "not_in_", "le_", "lt_"}
    | {"ge_", "gt_", "is_true", "is_false", "is_none", "is_instance_of", "ok_", "raises_"}
)
# fixtures that assert by themselves (pytest-regressions, syrupy/snapshottest, benchmarks)
_ASSERTING_FIXTURES = frozenset(
    {
        "snapshot",
        "snapshot_json",
        "data_regression",
        "file_regression",
        "num_regression",
        "image_regression",
        "dataframe_regression",
        "ndarrays_regression",
        "benchmark",
        "aio_benchmark",
        "approvals",
        "verify",
    }
)
# decorators that make a test deliberately assertion-free or generate the checks
_EXEMPT_DECORATORS = ("given", "skip", "xfail", "expectedFailure", "todo", "fixture")
_HELPER_MODULE_WORDS = ("test", "helper", "conftest", "fixture", "assert", "util", "support")


def _is_test_module(path: str) -> bool:
    name = path.rpartition("/")[2]
    if name == "conftest.py":
        return False
    return name.startswith("test") or name.endswith(("_test.py", "tests.py"))


def _call_name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _is_check_name(name: str) -> bool:
    if name in _SHORT_CHECKS:
        return True
    bare = name.lstrip("_").lower()
    return bare.startswith(_CHECK_PREFIXES) or "assert" in bare


def _passes_self(call: ast.Call) -> bool:
    values = [*call.args, *(kw.value for kw in call.keywords)]
    return any(isinstance(v, ast.Name) and v.id == "self" for v in values)


FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _yields(func: FunctionNode) -> bool:
    """A generator test (`yield`, nested functions included): pytest does not run it."""
    return any(isinstance(n, ast.Yield | ast.YieldFrom) for n in walk_breadth(func))


# A test whose name or comments say that not raising is the point (measured on real
# applications, bench/ecosystem: `test_..._does_not_crash`, `# Should not raise.`,
# `# when & then  # no errors should be raised`, `test_it_handles_empty_list`,
# `test_compact_on_missing_table_is_noop`, `test_ignore_cache_key_warning`).
_NO_RAISE_NAME = re.compile(
    r"(?:not|no|without|doesnt|dont|never)_(?:raise|raises|crash|crashes|error|errors|fail"
    r"|fails|exception|exceptions)|(?:^|_)(?:pass|passes|accepts|acceptance|valid|tolerates|ignore|ignores|handles"
    r"|survives|noop|no_op)(?:_|$)|runs_without|runs_successfully"
)
_NO_RAISE_TEXT = re.compile(
    r"(?:not|n't|never)\s+(?:be\s+)?(?:raise|raised|crash|fail)|no\s+(?:errors?|exceptions?)\b"
    r"|without\s+(?:an?\s+)?(?:error|exception|crash)"
    r"|runs?\s+successfully",
    re.IGNORECASE,
)


def _disabled(func: FunctionNode) -> bool:
    """The body is a bare `return` (after a docstring): an inherited test switched off by
    overriding it, not one that forgot to assert (`def test_x(): pass` still is)."""
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    returns = [s for s in body if isinstance(s, ast.Return) and s.value is None]
    return bool(returns) and all(
        isinstance(s, ast.Pass)
        or (isinstance(s, ast.Return) and s.value is None)
        or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        for s in body
    )


def _says_does_not_raise(func: FunctionNode, line: Callable[[int], str]) -> bool:
    """The test's name, docstring or comments say it checks that the code does not raise."""
    if _NO_RAISE_NAME.search(func.name.lower()):
        return True
    docstring = ast.get_docstring(func) or ""
    if _NO_RAISE_TEXT.search(docstring):
        return True
    end = func.end_lineno or func.lineno
    comments = (line(n).partition("#")[2] for n in range(func.lineno, end + 1))
    return any(_NO_RAISE_TEXT.search(c) for c in comments if c)


class TestWithoutAssert(Rule):
    """Flags test functions (`test*` functions at module level, or methods of `Test*` classes
    and of classes with a base such as `unittest.TestCase`) in test modules (`test_*.py`,
    `*_test.py`, `tests.py` under `test-paths`) that contain no check at all.

    A check is any of: an `assert` statement; a `raise`; a call whose name starts with
    `assert`/`check`/`verify`/`expect`/`ensure`/`validate`/`fail`/`raises`/`warns`/`skip`
    (`self.assertEqual`, `mock.assert_called_once_with`, `pytest.raises`, `pytest.fail`,
    `check_response(...)`, `expect(page)...`) or contains `assert`; nose/sqlalchemy style
    `eq_()`/`is_()`/`in_()`; a call to a helper defined in the same module or class that
    itself checks something (followed three calls deep); a call to a helper imported from a
    test-support module (`tests.helpers`, `conftest`, relative imports); a `self.helper()` not
    defined in the class (inherited from a base test class, so unknown); a call to a fixture
    parameter (`def test_x(round_trip): round_trip(...)`: a helper fixture, unknown); a call
    that is handed the test case itself (`Checker(test=self)`: it can call `self.assert*`).

    Not flagged: deliberate "does not raise" tests, whose name (`..._does_not_crash`,
    `..._runs_without_error`, `test_it_handles_empty_list`, `..._accepts_...`), docstring or
    comments (`# Should not raise.`, `# no errors should be raised`) say so; inherited tests
    switched off by an override whose body is a bare `return`; pytest fixtures named
    `test_*`; tests using a
    fixture that asserts by itself (`snapshot`, `data_regression`,
    `benchmark`...), hypothesis `@given` tests (running without error is the property), tests
    marked skip/xfail, generator tests (`yield`), and `test*` functions outside test modules."""

    id = "TEST002"
    name = "test-without-assert"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "24 of 24 judged findings right (100%) on 15 application repositories, bench/ecosystem "
        "(the two judged wrong before, tests named for not raising, are no longer reported)"
    )
    summary = "Test function with no assertion"
    why = (
        "A test without an assertion passes whenever the code does not raise: it checks "
        "nothing about the result, so a wrong status code, an empty response or a broken "
        "calculation all go green. It inflates coverage while giving false confidence."
    )
    hint = (
        "Assert on the outcome (`assert response.status_code == 201`, "
        "`assert user.email == ...`), or use `pytest.raises(...)` when the point is the error."
    )
    requires = ("test",)
    bad = [
        Example(
            "def test_create_user(client):\n    client.post('/users', json={'name': 'a'})\n",
            path="tests/test_users.py",
        ),
        Example(
            "import unittest\n\nclass UserTests(unittest.TestCase):\n"
            "    def test_save(self):\n        user = User('a')\n        user.save()\n",
            path="tests/test_models.py",
        ),
        Example(
            "async def test_list_orders(client):\n    response = await client.get('/orders')\n"
            "    print(response.json())\n",
            path="tests/api/test_orders.py",
        ),
        Example(
            "def _build(x):\n    return x * 2\n\ndef test_build():\n    _build(3)\n",
            path="test_build.py",
        ),
    ]
    good = [
        # the name says not raising is the point (paperless-ngx, saleor: issue #15)
        Example(
            "def test_compact_on_missing_table_is_noop(store):\n    store.compact()\n",
            path="tests/test_store.py",
        ),
        Example(
            "def test_ignore_cache_key_warning():\n    cache.set('a b', 1)\n",
            path="tests/test_cache.py",
        ),
        Example(
            "def test_create_user(client):\n    r = client.post('/users', json={'name': 'a'})\n"
            "    assert r.status_code == 201\n",
            path="tests/test_users.py",
        ),
        Example(
            "import pytest\n\ndef test_rejects_negative():\n    with pytest.raises(ValueError):\n"
            "        parse(-1)\n",
            path="tests/test_parse.py",
        ),
        Example(
            "import unittest\n\nclass UserTests(unittest.TestCase):\n"
            "    def test_save(self):\n        self.assertTrue(User('a').save())\n",
            path="tests/test_models.py",
        ),
        Example(
            "def check_ok(r):\n    assert r.status_code == 200\n\n"
            "def test_home(client):\n    check_ok(client.get('/'))\n",
            path="tests/test_home.py",
        ),
        Example(
            "def test_notify(mailer):\n    notify(mailer)\n    mailer.send.assert_called_once()\n",
            path="tests/test_notify.py",
        ),
        Example(
            "from hypothesis import given, strategies as st\n\n@given(st.text())\n"
            "def test_parse_never_crashes(s):\n    parse(s)\n",
            path="tests/test_fuzz.py",
        ),
        Example(
            "def test_render(snapshot):\n    snapshot.assert_match(render())\n\n"
            "def test_export(data_regression):\n    data_regression.check(export())\n",
            path="tests/test_render.py",
        ),
        Example("def test_client():\n    client.get('/')\n", path="app/client_test_utils.py"),
        Example(
            "def test_literal(literal_round_trip):\n    literal_round_trip(int, [5], [5])\n",
            path="tests/test_types.py",
        ),
    ]

    def visit_Module(self, node: ast.Module) -> None:
        self._active = self.ctx.is_test_file and _is_test_module(self.ctx.path)
        self._module_defs: dict[str, FunctionNode] = {}
        if not self._active:
            return
        for stmt in node.body:
            if isinstance(stmt, FunctionNode):
                self._module_defs[stmt.name] = stmt

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._check(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._check(node)

    def _check(self, node: FunctionNode) -> None:
        if not self._active or not node.name.startswith("test"):
            return
        parent = self.ctx.parent
        cls: ast.ClassDef | None = None
        if isinstance(parent, ast.ClassDef):
            if not (parent.name.startswith("Test") or parent.bases):
                return
            if any(isinstance(n, FunctionNode) for n in self.ctx.stack):
                return  # a class defined inside a test: not collected
            cls = parent
        elif not isinstance(parent, ast.Module):
            return
        # every question below is a pure yes/no: the cheap ones and the one most tests answer
        # early (an `assert` near the top) first, the walks of the whole test last
        if self._exempt(node) or _disabled(node):
            return  # `def test_x(self): return`: an inherited test switched off
        methods = {s.name: s for s in (cls.body if cls else []) if isinstance(s, FunctionNode)}
        if self._checks(node, methods, depth=0, seen=set()):
            return
        if _yields(node) or _says_does_not_raise(node, self.ctx.source.line):
            return
        self.report(
            node, f"test `{node.name}` asserts nothing: it passes whenever the code does not raise"
        )

    def _exempt(self, node: FunctionNode) -> bool:
        params = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
        if params & _ASSERTING_FIXTURES:
            return True
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qualified = self.ctx.imports.qualname(target) or ast.unparse(target)
            if any(word in qualified for word in _EXEMPT_DECORATORS):
                return True
        return False

    def _checks(
        self,
        func: FunctionNode,
        methods: dict[str, FunctionNode],
        depth: int,
        seen: set[str],
    ) -> bool:
        """Whether `func` (its body, nested functions included) checks anything."""
        imports = self.ctx.imports
        params = {a.arg for a in (*func.args.posonlyargs, *func.args.args, *func.args.kwonlyargs)}
        for node in walk_breadth(func):
            if isinstance(node, ast.Assert | ast.Raise):
                return True
            if not isinstance(node, ast.Call):
                continue
            if _passes_self(node):
                return True  # `Visitor(test=self)`: the callee can assert through the TestCase
            name = _call_name(node.func)
            if not name:
                continue
            if _is_check_name(name):
                return True
            helper: FunctionNode | None = None
            receiver = node.func.value if isinstance(node.func, ast.Attribute) else None
            if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
                helper = methods.get(name)
                if helper is None:
                    return True  # inherited from a base test class: unknown, assume it checks
            elif isinstance(node.func, ast.Name):
                if name in params:
                    return True  # a fixture that is a helper (`literal_round_trip(...)`)
                helper = self._module_defs.get(name)
                if helper is None and name in imports.aliases:
                    source = imports.aliases[name]
                    if source.startswith(".") or any(
                        w in source.lower() for w in _HELPER_MODULE_WORDS
                    ):
                        return True  # a test-support helper we cannot see
            if helper is not None and helper is not func and name not in seen and depth < 3:
                seen.add(name)
                if self._checks(helper, methods, depth + 1, seen):
                    return True
        return False
