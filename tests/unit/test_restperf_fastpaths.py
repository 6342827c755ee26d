"""The fast paths of the organisation, logging, errors, testing and workflow rules (issue #17)
give what the slow paths they replace gave: each shortcut is compared with the code it stands
for, on generated programs and on the shapes that could make them differ."""

from __future__ import annotations

import ast
from pathlib import Path, PurePosixPath

import hypothesmith
from bastion.rules.errors.traceback import _handler_body
from bastion.rules.workflow.facts import _assigns_tablename
from hypothesis import given
from hypothesis import strategies as st

from bastion.analysis.posix_paths import path_parts
from bastion.config import Config
from bastion.discovery import SourceFile
from bastion.engine import FileAnalyzer, FileResult
from bastion.findings import Finding
from bastion.function_index import walk_breadth


@given(st.text(alphabet="ab./_", max_size=12))
def test_path_parts_are_pure_posix_path_parts(path: str) -> None:
    # `.`, empty parts, a leading `//`, a trailing `/`: the split falls back where they differ
    assert path_parts(path) == PurePosixPath(path).parts


def test_path_parts_of_discovered_paths() -> None:
    for path in ("app/models.py", "/abs/app/migrations/0001.py", "a//b.py", "./x/y.py", "/"):
        assert path_parts(path) == PurePosixPath(path).parts


WALK_SHAPES = """
def test_x(self, fixture):
    x: int = 1
    y = [a for a in range(3)]
    def helper():
        yield assert_ok(x)
    with pytest.raises(ValueError):
        f(*args, **kwargs)[0].attr = lambda q: (q := 2)
    match y:
        case [1, *rest] if rest:
            assert rest
    try:
        pass
    except* ValueError as e:
        raise
"""


@given(hypothesmith.from_grammar())
def test_test002_walk_is_ast_walk_without_context_markers(code: str) -> None:
    """`walk_breadth` (TEST002's walk) keeps `ast.walk`'s breadth-first order: which helper
    TEST002 follows first, and how deep, depends on it."""
    for source in (code, WALK_SHAPES):
        tree = ast.parse(source)
        expected = [n for n in ast.walk(tree) if not isinstance(n, ast.expr_context)]
        assert list(walk_breadth(tree)) == expected


def _findings(code: str, rule: str, path: str = "app/models.py") -> list[Finding]:
    analyzer = FileAnalyzer(Config(root=Path("."), select=(rule,)))
    result = FileResult()
    analyzer.analyze_bytes(SourceFile(path, Path(path), "python"), code.encode(), result)
    return sorted(result.findings, key=lambda f: (f.line, f.column, f.message))


def test_org004_classes_still_reported_where_the_fast_path_lets_them_through() -> None:
    """The class check asks `_silenced` only when a class has something to report: an inner
    `Config`, a `@validator`-like decorator (also aliased), a `x.BaseSettings` base."""
    code = (
        "import pydantic\nfrom pydantic import BaseModel, validator as check\n\n"
        "class Settings(pydantic.BaseSettings):\n    url: str\n\n"
        "class User(BaseModel):\n    name: str\n\n"
        "    @check('name')\n    def lower(cls, v):\n        return v.lower()\n\n"
        "    class Config:\n        orm_mode = True\n\n"
        "if pydantic.VERSION.startswith('1'):\n"
        "    class Old(BaseModel):\n        @check('x')\n        def f(cls, v):\n"
        "            return v\n"
    )
    found = [f.line for f in _findings(code, "ORG004")]
    # the base, the aliased decorator, the inner Config; nothing under the version check
    assert found == [4, 10, 14]


def test_org004_models_need_pydantic_or_sqlmodel_in_the_text() -> None:
    """Model classes are collected only where the text says `pydantic` or `sqlmodel`; a model
    built on a SQLModel base is still one."""
    code = (
        "from sqlmodel import SQLModel\n\nclass Hero(SQLModel):\n    name: str\n\n"
        "def show(h: Hero):\n    return h.dict()\n"
    )
    assert [f.line for f in _findings(code, "ORG004")] == [7]


def test_codefacts_tablename_check_matches_the_class_body() -> None:
    tree = ast.parse(
        "class A:\n    __tablename__ = 'a'\n\nclass B:\n    x = __tablename__ = 'b'\n\n"
        "class C:\n    self.__tablename__ = 'c'\n    __tablename__: str\n"
    )
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    slow = [
        any(
            isinstance(s, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__tablename__" for t in s.targets)
            for s in cls.body
        )
        for cls in classes
    ]
    assert [_assigns_tablename(cls) for cls in classes] == slow == [True, True, False]


def test_err006_unnamed_handler_message_keeps_the_caught_type() -> None:
    """The handler's type is unparsed only once there is a finding, and then as before."""
    code = (
        "try:\n    f()\nexcept (KeyError, IndexError, SomeVeryLongModuleName.DoesNotExist):\n"
        "    raise NotFound('x')\n    raise Other('y')\n"
    )
    messages = [f.message for f in _findings(code, "ERR006")]
    assert messages == [
        "`raise NotFound(...)` inside `except (KeyError, IndexError, Some...:` without `from`",
        "`raise Other(...)` inside `except (KeyError, IndexError, Some...:` without `from`",
    ]


def test_org006_defaults_after_the_type_filter() -> None:
    """Only list/dict/set displays, comprehensions and calls can be mutable: the rest are
    skipped before pairing; calls are resolved only when their last name can match."""
    code = (
        "import collections as c\nfrom collections import defaultdict as dd\n\n"
        "def f(a=None, b=(), *, k=c.OrderedDict(), m=dd(list), q=Query([]), s={1}):\n"
        "    pass\n\nlam = lambda x=[i for i in y]: x\n"
    )
    found = [(f.line, f.column) for f in _findings(code, "ORG006")]
    assert found == [(4, 26), (4, 45), (4, 70), (7, 16)]  # k, m, s and the lambda


def _handler_body_reference(handler: ast.ExceptHandler) -> list[ast.AST]:
    """ERR005's walk of a handler as it was: a generator over `node._fields`."""
    scopes = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    skip = (*scopes, ast.ExceptHandler)
    stack: list[ast.AST] = [s for s in reversed(handler.body) if not isinstance(s, scopes)]
    out: list[ast.AST] = []
    while stack:
        node = stack.pop()
        out.append(node)
        for field in node._fields:
            if field == "ctx":
                continue
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(c for c in value if isinstance(c, ast.AST) and not isinstance(c, skip))
            elif isinstance(value, ast.AST) and not isinstance(value, skip):
                stack.append(value)
    return out


HANDLER_SHAPES = """
try:
    f()
except Exception as e:
    logger.error("x %s", e, extra={"a": [i for i in y]})
    def later():
        logger.error("no")
    try:
        g()
    except ValueError:
        logger.error("inner")
    match e:
        case KeyError():
            raise HTTPException(500) from None
"""


@given(hypothesmith.from_grammar())
def test_err005_handler_walk_is_the_old_walk(code: str) -> None:
    for source in (code, HANDLER_SHAPES):
        for handler in ast.walk(ast.parse(source)):
            if isinstance(handler, ast.ExceptHandler):
                assert _handler_body(handler) == _handler_body_reference(handler)


def test_org004_parameter_annotations_by_kind() -> None:
    """Bare names take a shortcut past the union helpers, constants are skipped: a model named
    bare or in a union is known, a string annotation, a dict-like or an unknown class is not."""
    code = (
        "from fastapi import FastAPI\nfrom typing import Optional\n"
        "from pydantic import BaseModel\nfrom app.schemas import Item\n\napp = FastAPI()\n\n"
        "class User(BaseModel):\n    name: str\n\n"
        "def a(u: User, s: 'User', d: dict, o: Optional[User], i: Item, x: Other):\n"
        "    return u.dict(), s.dict(), d.copy(), o.json(), i.dict(), x.dict()\n\n"
        "@app.post('/x')\nasync def create(body: Payload, n: None = None):\n"
        "    return body.dict(), n.dict()\n"
    )
    found = [(f.line, f.message.split(" instance")[0]) for f in _findings(code, "ORG004")]
    assert found == [
        (12, "`.dict()` on `User`"),
        (12, "`.json()` on `User`"),
        (12, "`.dict()` on `Item`"),
        (16, "`.dict()` on `Payload`"),
    ]


def _code_facts(code: str, path: str) -> list[dict[str, object]]:
    analyzer = FileAnalyzer(Config(root=Path("."), select=("PROD007",)))  # reads "code" facts
    result = FileResult()
    analyzer.analyze_bytes(SourceFile(path, Path(path), "python"), code.encode(), result)
    assert result.facts is not None
    return result.facts.facts.get("code", [])


def test_codefacts_models_through_the_base_name_filter() -> None:
    """Bases are resolved only when their last name can be one looked for: aliased and
    dotted spellings still count, other bases never did."""
    django = (
        "from django.db import models as m\nfrom django.db.models import Model as Base\n\n"
        "class A(m.Model):\n    pass\n\nclass B(Base, Mixin):\n    pass\n\n"
        "class C(Other):\n    pass\n"
    )
    facts = _code_facts(django, "shop/models.py")
    assert [f["line"] for f in facts if f["type"] == "django_model"] == [4, 7]
    sqla = (
        "from sqlalchemy.orm import DeclarativeBase as DB\n\nclass Base(DB):\n    pass\n\n"
        "class User(Base, Mixin):\n    __tablename__ = 'users'\n"
    )
    assert [f for f in _code_facts(sqla, "app/models.py") if f["type"] == "sqla_model"] == [
        {"type": "sqla_model", "line": 6}
    ]
    sqlmodel = "import sqlmodel\n\nclass Hero(sqlmodel.SQLModel, table=True):\n    id: int\n"
    assert {"type": "sqla_model", "line": 3} in _code_facts(sqlmodel, "app/db.py")
