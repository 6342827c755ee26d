"""Tricky cases of the LOG, TEST002 and ORG003-ORG006 rules beyond their own examples."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from bastion.analysis.logs import (
    LOGURU,
    STDLIB,
    STRUCTLOG,
    eager_formatting,
    is_sensitive_name,
    log_call_library,
    looks_like_logger_name,
)
from bastion.analysis.pydantic import declared_pydantic_major
from bastion.config import ConfigError
from bastion.imports import ImportMap
from bastion.selection import parse_table
from bastion.testing import findings_for, lint_source


def _rules(code: str, rule: str, path: str = "app/module.py") -> list[int]:
    return [f.line for f in findings_for(code, rule, path)]


# -- analysis/logs.py -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "password",
        "user_password",
        "hashed_password",
        "access_token",
        "clientSecret",
        "API_KEY",
        "SECRET_KEY",
        "authorization",
        "private_key",
        "csrf_token",
        "refreshToken",
    ],
)
def test_sensitive_names(name: str) -> None:
    assert is_sensitive_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "token_type",
        "password_changed",
        "has_password",
        "next_page_token",
        "num_tokens",
        "secret_name",
        "tokens_used",
        "key",
        "passwords_match",
        "max_token",
        "author",
    ],
)
def test_not_sensitive_names(name: str) -> None:
    assert not is_sensitive_name(name)


@pytest.mark.parametrize("name", ["log", "logger", "_log", "LOGGER", "access_log", "app_logger"])
def test_logger_names(name: str) -> None:
    assert looks_like_logger_name(name)


@pytest.mark.parametrize("name", ["catalog", "blog", "dialog", "changelog", "login", "logout"])
def test_not_logger_names(name: str) -> None:
    assert not looks_like_logger_name(name)


def _library(code: str) -> str | None:
    tree = ast.parse(code)
    imports = ImportMap("m")
    imports.collect_top_level(tree)
    call = tree.body[-1].value  # type: ignore[attr-defined]
    assert isinstance(call, ast.Call)
    return log_call_library(call, imports)


@pytest.mark.parametrize(
    ("code", "library"),
    [
        ("import logging\nlogging.getLogger(__name__).info('x')", STDLIB),
        ("import logging\nlogging.warning('x')", STDLIB),
        ("import structlog\nlog = structlog.get_logger()\nlog.bind(a=1).info('x')", STRUCTLOG),
        ("import structlog\nself.logger.info('x')", STRUCTLOG),
        ("from loguru import logger\nlogger.opt(depth=1).success('x')", LOGURU),
        ("import logging\ncatalog.info('x')", None),
        ("import logging\nlogger.success('x')", None),
        (
            "from celery.utils.log import get_task_logger\nl = get_task_logger(__name__)\n"
            "l.info('x')",
            STDLIB,
        ),
    ],
)
def test_log_call_library(code: str, library: str | None) -> None:
    assert _library(code) == library


@pytest.mark.parametrize(
    ("expr", "kind"),
    [
        ("f'a {b}'", "f-string"),
        ("f'a'", None),
        ('f\'{"x" if y else "z"} done\'', None),
        ("'a %s' % b", "%"),
        ("'a %s' % ('b',)", None),
        ("fmt % args", None),
        ("'a {}'.format(b)", "format"),
        ("'a' + b", "+"),
        ("'a' + 'b'", None),
        ("a + b", None),
    ],
)
def test_eager_formatting(expr: str, kind: str | None) -> None:
    node = ast.parse(expr, mode="eval").body
    found = eager_formatting(node)
    assert (found.kind if found else None) == kind


# -- LOG rules ----------------------------------------------------------------------------------


def test_log001_respects_noqa_and_main_functions() -> None:
    code = (
        "def report(x):\n    print(x)  # noqa: T201\n\n"
        "def run():\n    print('running')\n\n"
        "def helper():\n    print('not an entry point')\n\n"
        "if __name__ == '__main__':\n    run()\n"
    )
    assert _rules(code, "LOG001") == [8]


def test_log001_skips_notebook_exports_and_test_support() -> None:
    assert _rules("# %%\nprint(1)\n", "LOG001") == []
    assert _rules("print(1)\n", "LOG001", "mylib/testing/fixtures.py") == []


def test_log001_script_paths_option(tmp_path: Path) -> None:
    config = parse_table({"script-paths": ["ops/"]}, root=tmp_path)
    code = "print('hi')\n"
    assert lint_source(code, "ops/job.py", config=config).findings == []
    found = lint_source(code, "scripts/job.py", config=config).findings
    assert [f.rule for f in found] == ["LOG001"]  # the option replaces the defaults


def test_script_paths_must_be_strings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="script-paths"):
        parse_table({"script-paths": [1]}, root=tmp_path)


def test_log002_library_semantics() -> None:
    code = (
        "from loguru import logger\n"
        "logger.info('user {} in', uid)\n"  # lazy loguru: fine
        "logger.info('user %s in' % uid)\n"  # eager
        "logger.info(f'user {uid}')\n"  # eager
    )
    assert _rules(code, "LOG002") == [3, 4]
    structlog_code = (
        "import structlog\nlog = structlog.get_logger()\n"
        "log.info('user %s in', uid)\n"  # positional args formatter: lazy
        "log.info('login_' + kind)\n"  # event name built eagerly
    )
    found = findings_for(structlog_code, "LOG002")
    assert [f.line for f in found] == [4]
    assert "structlog event name" in found[0].message and not found[0].fixable


def test_log002_level_argument_of_log() -> None:
    code = "import logging\nlogger = logging.getLogger()\nlogger.log(logging.INFO, f'x {y}')\n"
    assert _rules(code, "LOG002") == [3]


def test_log003_extra_and_derived_values() -> None:
    code = (
        "import logging\nlogger = logging.getLogger(__name__)\n"
        "logger.info('x', extra={'password': pw})\n"  # 3: sensitive key
        "logger.info('x', extra={'user': u, 'auth': headers.get('Authorization')})\n"  # 4
        "logger.info('len %d', len(password))\n"
        "logger.info('masked %s', mask(token))\n"
        "logger.info('x', extra={'password': '***'})\n"
        "logger.info('page %s', next_page_token)\n"
        "logger.info('%s', request.headers['authorization'])\n"  # 9
    )
    assert _rules(code, "LOG003") == [3, 4, 9]


def test_log005_aliases() -> None:
    code = (
        "import datetime as dt\nfrom datetime import datetime as DT\n"
        "a = dt.datetime.utcnow()\nb = DT.utcfromtimestamp(0)\nc = dt.datetime.now(dt.UTC)\n"
    )
    assert _rules(code, "LOG005") == [3, 4]


def test_log006_only_with_basic_config_in_same_module() -> None:
    code = (
        "import logging\nfrom rich.logging import RichHandler\n"
        "logging.basicConfig(handlers=[RichHandler()])\n"
        "log = logging.getLogger('x')\nlog.addHandler(RichHandler())\n"
    )
    assert _rules(code, "LOG006") == [5]


# -- TEST002 ------------------------------------------------------------------------------------


def test_test002_helpers() -> None:
    code = (
        "from tests.helpers import expect_ok\nfrom app.client import call\n\n"
        "def _build():\n    return 1\n\n"
        "def _deep():\n    _deeper()\n\n"
        "def _deeper():\n    assert True\n\n"
        "def test_imported_helper():\n    expect_ok(call())\n\n"  # 13: ok
        "def test_app_call():\n    call()\n\n"  # 16: flagged
        "def test_deep():\n    _deep()\n\n"  # 19: ok
        "def test_empty():\n    pass\n\n"  # 22: flagged
        "def test_build():\n    _build()\n"  # 25: flagged
    )
    assert _rules(code, "TEST002", "tests/test_helpers.py") == [16, 22, 25]


def test_test002_methods() -> None:
    code = (
        "import unittest\n\n"
        "class ApiTests(unittest.TestCase):\n"
        "    def _get(self):\n        return self.client.get('/')\n\n"
        "    def test_inherited_helper(self):\n        self.check_status(200)\n\n"  # ok
        "    def test_local_helper(self):\n        self._get()\n\n"  # 10: flagged
        "    def test_subtest(self):\n        with self.assertRaises(KeyError):\n"
        "            {}['x']\n\n"
        "class Helper:\n    def test_like(self):\n        pass\n"  # not a test class
    )
    assert _rules(code, "TEST002", "tests/test_api.py") == [10]


def test_test002_only_in_test_modules() -> None:
    code = "def test_x():\n    pass\n"
    assert _rules(code, "TEST002", "tests/conftest.py") == []
    assert _rules(code, "TEST002", "tests/helpers.py") == []
    assert _rules(code, "TEST002", "app/test_module.py") == [1]


# -- ORG rules ----------------------------------------------------------------------------------


def test_org003_settings_modules_option(tmp_path: Path) -> None:
    config = parse_table(
        {"rules": {"ORG003": {"settings-modules": ["app/core/env.py"]}}}, root=tmp_path
    )
    code = "import os\nX = os.getenv('X')\n"
    assert lint_source(code, "app/core/env.py", config=config).findings == []
    assert [f.rule for f in lint_source(code, "app/settings.py", config=config).findings] == [
        "ORG003"
    ]


def test_org003_pydantic_v1_settings_class_counts() -> None:
    code = (
        "import os\nfrom pydantic import BaseSettings\n\n"
        "class S(BaseSettings):\n    x: str = os.getenv('X', '')\n"
    )
    assert _rules(code, "ORG003", "app/conf_model.py") == []


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("files", "major"),
    [
        ({"pyproject.toml": '[project]\nname="a"\ndependencies=["pydantic>=1.8,<2"]\n'}, 1),
        ({"pyproject.toml": '[project]\nname="a"\ndependencies=["pydantic>=1.8"]\n'}, 2),
        ({"pyproject.toml": '[project]\nname="a"\ndependencies=["pydantic"]\n'}, 2),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npydantic = "^1.10"\n'}, 1),
        ({"pyproject.toml": '[tool.poetry.dependencies]\npydantic = {version = "^2.4"}\n'}, 2),
        ({"requirements.txt": "fastapi==0.95.0\npydantic==1.10.7  # pinned\n"}, 1),
        ({"requirements/base.txt": "pydantic[email]~=2.5\n"}, 2),
        (
            {
                "pyproject.toml": '[project]\nname="a"\ndependencies=["pydantic"]\n',
                "uv.lock": '[[package]]\nname = "pydantic"\nversion = "1.10.13"\n',
            },
            1,
        ),
        ({"pyproject.toml": '[project]\nname="a"\ndependencies=["fastapi"]\n'}, None),
        ({"pyproject.toml": "not toml ["}, None),
    ],
)
def test_declared_pydantic_major(tmp_path: Path, files: dict[str, str], major: int | None) -> None:
    assert declared_pydantic_major(_project(tmp_path, files)) == major


def test_org004_precision_on_dict_and_json() -> None:
    code = (
        "from pydantic import BaseModel\n\n"
        "class Item(BaseModel):\n    name: str\n\n"
        "def f(item: Item, other, payload: dict, maybe: Item | None):\n"
        "    a = item.dict()\n"  # 7
        "    b = other.dict()\n"
        "    c = payload.copy()\n"
        "    d = Item(name='x').json()\n"  # not tracked: chained on a call
        "    built = Item(name='x')\n"
        "    e = built.json()\n"  # 12
        "    g = maybe.copy()\n"  # 13
        "    h = response.json()\n"
    )
    assert _rules(code, "ORG004") == [7, 12, 13]


def test_org004_version_guards_and_v1_shim() -> None:
    code = (
        "import pydantic\nfrom pydantic import BaseModel\n"
        "PYDANTIC_V2 = pydantic.VERSION.startswith('2')\n\n"
        "class M(BaseModel):\n    x: int\n\n"
        "def dump(m: M):\n"
        "    if PYDANTIC_V2:\n        return m.model_dump()\n"
        "    else:\n        return m.dict()\n"
    )
    assert _rules(code, "ORG004") == []


def test_org005_requires_a_fastapi_receiver() -> None:
    code = (
        "from fastapi import FastAPI\nfrom somewhere import bus\n\n"
        "class App:\n    def setup(self):\n        self.add_event_handler('startup', go)\n\n"
        "@bus.on_event('startup')\ndef go():\n    pass\n"
    )
    assert _rules(code, "ORG005") == []


def test_org006_kw_only_and_posonly() -> None:
    code = "def f(a=[], /, b={}, *, c=set(), d=None, e=()):\n    pass\n"
    found = findings_for(code, "ORG006")
    assert [f.message.split("`")[1] for f in found] == ["a", "b", "c"]


def test_log003_shapes_seen_in_real_code() -> None:
    code = (
        "import logging\nfrom flask import current_app as app\n"
        "logger = logging.getLogger(__name__)\n\n"
        "def check(token, header, provider, data):\n"
        "    logger.debug(f'validating {token[:12]}...')\n"  # masked prefix: fine
        "    logger.debug(f'jwt header: {header}')\n"
        "    logger.debug(f'expired: {token}')\n"  # 8
        "    app.logger.debug(f'bearer: {token}')\n"  # 9
        "    logger.debug(f'login failed for {provider.name}')\n"
        "    logger.warning('token response: %s', data)\n"
    )
    assert _rules(code, "LOG003") == [8, 9]


MY_RULES = ["LOG001", "LOG002", "LOG003", "LOG005", "LOG006", "TEST002"]
MY_RULES += ["ORG003", "ORG004", "ORG005", "ORG006"]


@pytest.mark.parametrize("path", ["app/module.py", "tests/test_module.py"])
def test_rules_survive_generated_code(path: str) -> None:
    from hypothesis import given, settings
    from hypothesmith import from_grammar

    # generating programs is slow: a short run in CI, the full profile with HYPOTHESIS_PROFILE
    examples = settings().max_examples if os.environ.get("HYPOTHESIS_PROFILE") else 15

    @settings(max_examples=examples)
    @given(from_grammar())
    def check(code: str) -> None:
        result = lint_source(code, path, select=MY_RULES)
        assert not result.internal_errors, result.internal_errors

    check()
