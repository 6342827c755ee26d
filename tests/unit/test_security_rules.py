"""Tricky cases of the security rules SEC004-SEC018 beyond their own examples."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bastion.analysis.django import is_dev_name, is_dev_settings_path, is_settings_module
from bastion.analysis.injection import interpolations, string_constant
from bastion.config import load_config
from bastion.engine import run
from bastion.testing import findings_for


def lines(code: str, rule: str, path: str = "app/example.py") -> list[int]:
    return [f.line for f in findings_for(code, rule, path)]


# -- Django settings recognition -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "code", "expected"),
    [
        ("mysite/settings.py", "X = 1\n", True),
        ("config/settings/production.py", "X = 1\n", True),
        ("config/conf.py", "INSTALLED_APPS = []\n", True),
        ("config/conf.py", "SECRET_KEY = 'x'\nDATABASES = {}\n", True),
        ("config/conf.py", "SECRET_KEY = 'x'\n", False),
        ("django/conf/global_settings.py", "INSTALLED_APPS = []\n", False),
        ("app/views.py", "def f():\n    INSTALLED_APPS = []\n", False),
    ],
)
def test_settings_module(path: str, code: str, expected: bool) -> None:
    assert is_settings_module(path, ast.parse(code)) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("mysite/settings/dev.py", True),
        ("mysite/local_settings.py", True),
        ("mysite/settings_test.py", True),
        ("mysite/settings/development.py", True),
        ("mysite/settings/production.py", False),
        ("mysite/settings.py", False),
        ("devices/settings.py", False),  # only whole words count
    ],
)
def test_dev_settings_path(path: str, expected: bool) -> None:
    assert is_dev_settings_path(path) is expected


def test_dev_class_names() -> None:
    assert is_dev_name("TestingConfig") and is_dev_name("DevConfig")
    assert not is_dev_name("ProductionConfig") and not is_dev_name("DeviceConfig")


# -- where values sit in the built string ---------------------------------------------------


def placed(code: str) -> list[tuple[str, str]]:
    node = ast.parse(code, mode="eval").body
    found = interpolations(node, string_constant) or []
    return [(before, ast.unparse(value)) for before, value in found]


def test_interpolation_positions() -> None:
    assert placed("f'SELECT * FROM {t} WHERE id = {i}'") == [
        ("SELECT * FROM ", "t"),
        ("SELECT * FROM \x00 WHERE id = ", "i"),
    ]
    # numbers formatted with %d / {:d} cannot carry text
    assert placed("'LIMIT %d OFFSET %s' % (a, b)") == [("LIMIT %d OFFSET ", "b")]
    assert placed("'x = {:d} and y = {name}'.format(n, name=v)") == [("x = \x00 and y = ", "v")]
    assert placed("'%(a)s = %(b)s' % {'a': x, 'b': y}") == [("", "x"), ("%(a)s = ", "y")]
    assert placed("'WHERE a = ' + x + ' AND b = ' + y") == [
        ("WHERE a = ", "x"),
        ("WHERE a = \x00 AND b = ", "y"),
    ]


# -- SEC007 ----------------------------------------------------------------------------------

SQL_BAD = [
    # augmented building, one assignment back
    "def f(cur, name):\n    sql = 'SELECT * FROM t WHERE 1=1'\n"
    "    sql += \" AND name = '%s'\" % name\n    cur.execute(sql)\n",
    # a where-clause fragment appended
    "def f(cur, where):\n    cur.execute('SELECT * FROM t WHERE ' + where)\n",
    # request data (upper-case attributes are not constants)
    "def f(cur, request):\n    cur.execute('SELECT * FROM t WHERE id = %s' % request.GET['id'])\n",
    # through an import alias
    "from sqlalchemy import text as T\n\ndef f(s, n):\n"
    "    s.execute(T(f'DELETE FROM t WHERE n = {n}'))\n",
    # a MySQL double-quoted string after an operator
    "def f(cur, n):\n    cur.execute('SELECT * FROM t WHERE name = \"%s\"' % n)\n",
    # a module-level template
    "QUERY = \"SELECT * FROM t WHERE name = '%s'\"\n\ndef f(cur, n):\n    cur.execute(QUERY % n)\n",
    # user-chosen sort column
    "def f(cur, sort):\n    cur.execute(f'SELECT * FROM t ORDER BY {sort}')\n",
]

SQL_GOOD = [
    # identifiers: how schema editors and migrations build DDL
    'def f(cur, t, c):\n    cur.execute(\'SELECT "%s" FROM "%s"\' % (c, t))\n',
    "def f(cur, table):\n    cur.execute(f'DROP TABLE {table}')\n",
    "def f(cur, cols, table):\n    cur.execute('SELECT %s FROM %s' % (cols, table))\n",
    # a compiled fragment from the ORM
    "def f(cur, q):\n    sql, params = q.as_sql()\n"
    "    cur.execute('SELECT * FROM (%s) sub' % sql, params)\n",
    # numbers
    "def f(cur, n):\n    cur.execute('SELECT * FROM t LIMIT %d' % n)\n",
    "def f(cur, n):\n    cur.execute(f'SELECT * FROM t LIMIT {int(n)}')\n",
    # a quoted value from a closure
    "def outer(cur, qn, v):\n    value = qn(v)\n    def inner():\n"
    "        cur.execute(f'SELECT * FROM t WHERE a = {value}')\n    return inner\n",
    # not SQL at all
    "def f(task, who):\n    task.execute(f'greet {who}')\n",
    # `text` that is not SQLAlchemy's
    "def f(s, n):\n    return text(f'DELETE FROM t WHERE n = {n}')\n",
]


@pytest.mark.parametrize("code", SQL_BAD)
def test_sql_flagged(code: str) -> None:
    assert lines(code, "SEC007"), code


@pytest.mark.parametrize("code", SQL_GOOD)
def test_sql_not_flagged(code: str) -> None:
    assert not lines(code, "SEC007"), code


def test_sql_in_test_files_is_not_flagged() -> None:
    code = "def test_x(cur, n):\n    cur.execute(f'SELECT * FROM t WHERE n = {n}')\n"
    assert lines(code, "SEC007", "app/views.py")
    assert not lines(code, "SEC007", "tests/test_views.py")


# -- SEC004 / SEC005 -------------------------------------------------------------------------


def test_jwt_names_resolved_through_imports() -> None:
    code = "from jwt import decode as d\n\ndef f(t):\n    return d(t, KEY)\n"
    assert lines(code, "SEC005") == [4]
    code = "from jose import jwt\n\ndef f(t):\n    return jwt.decode(t, KEY, ['HS256'])\n"
    assert not lines(code, "SEC005")  # algorithms given positionally
    code = "import jwt\n\ndef f(t):\n    return jwt.decode(t, KEY, algorithms=None)\n"
    assert lines(code, "SEC005") == [4]


def test_jwt_payload_with_unknown_keys_is_not_flagged() -> None:
    code = (
        "import jwt\n\ndef f(c):\n    p = {'sub': 1}\n    p.update(c)\n"
        "    return jwt.encode(p, K)\n"
    )
    assert not lines(code, "SEC004")
    code = "import jwt\n\ndef f(u):\n    return jwt.encode(dict(sub=u, exp=T), K)\n"
    assert not lines(code, "SEC004")


# -- SEC006 / SEC008 / SEC015 / SEC018 ------------------------------------------------------


def test_hash_object_update_with_password() -> None:
    code = "import hashlib\n\ndef f(pw):\n    h = hashlib.sha1()\n    h.update(pw)\n"
    assert lines(code, "SEC006") == [5]
    code = "import hashlib\n\ndef f(data):\n    h = hashlib.sha1()\n    h.update(data)\n"
    assert not lines(code, "SEC006")


def test_flask_app_made_by_a_factory() -> None:
    code = (
        "from flask import Flask\nfrom app import create_app\n\n"
        "app = create_app()\napp.run(debug=True)\n"
    )
    assert lines(code, "SEC008") == [5]
    # an app factory is recognised by its name even where Flask is not imported (issue #16:
    # connexion and Flask factories); another object's `run(debug=True)` is not an app's
    code = "from app import create_app\n\napp = create_app()\napp.run(debug=True)\n"
    assert lines(code, "SEC008") == [4]
    code = "from tools import make_parser\n\np = make_parser()\np.run(debug=True)\n"
    assert not lines(code, "SEC008")


def test_dev_files_may_enable_debug() -> None:
    code = "from flask import Flask\n\napp = Flask(__name__)\napp.run(debug=True)\n"
    assert not lines(code, "SEC008", "scripts/run_dev.py")


def test_csrf_exempt_view_factory() -> None:
    code = (
        "from django.views.decorators.csrf import csrf_exempt\n\n"
        "class API:\n    @classmethod\n    def as_view(cls):\n"
        "        view = super().as_view()\n        return csrf_exempt(view)\n"
    )
    assert not lines(code, "SEC015")


def test_cookie_flags_given_positionally() -> None:
    code = (
        "from flask import Response\n\ndef f(r: Response, v):\n"
        "    r.set_cookie('k', v, None, None, '/', None, True, True)\n"
    )
    assert not lines(code, "SEC018")
    code = (
        "from flask import Response\n\ndef f(r: Response, v):\n    r.set_cookie('k', v, **OPTS)\n"
    )
    assert not lines(code, "SEC018")


def test_csrf_cookie_only_needs_secure() -> None:
    code = (
        "from starlette.responses import Response\n\ndef f(r: Response, v):\n"
        "    r.set_cookie('XSRF-TOKEN', v, secure=True)\n    r.set_cookie('csrftoken', v)\n"
    )
    found = findings_for(code, "SEC018")
    assert [(f.line, f.message) for f in found] == [(5, "`set_cookie(...)` without `secure=True`")]


def test_html_fragment_variables() -> None:
    built_here = (
        "from django.utils.safestring import mark_safe\n\ndef f(paths):\n"
        "    html = ''.join([f'<div>{p}</div>' for p in paths])\n"
        "    return mark_safe(f'<div>{html}</div>')\n"
    )
    assert lines(built_here, "SEC014") == [5]
    rendered = (
        "from django.utils.safestring import mark_safe\n\ndef f(widget, extra_html):\n"
        "    input_html = widget.render()\n"
        "    return mark_safe(f'{input_html}{extra_html}')\n"
    )
    assert not lines(rendered, "SEC014")


def test_xss_header_descriptions_are_not_values() -> None:
    code = 'DOCS = {"X-XSS-Protection": "legacy filter, send 0"}\n'
    assert not lines(code, "SEC011")
    code = 'def f(r):\n    r.headers.set("X-XSS-Protection", "1; report=/csp")\n'
    assert lines(code, "SEC011") == [2]


def test_settings_overridden_per_environment() -> None:
    code = (
        "import os\nINSTALLED_APPS = []\nDEBUG = True\n"
        "if os.environ.get('PRODUCTION'):\n    DEBUG = False\n"
    )
    assert not lines(code, "SEC008", "mysite/settings.py")
    code = (
        "import os\nINSTALLED_APPS = []\nDEBUG = True\nif os.environ.get('X'):\n    DEBUG = True\n"
    )
    assert lines(code, "SEC008", "mysite/settings.py") == [3]


def test_uwsgi_ini_with_value_less_flags_parses() -> None:
    # issue #15 (healthchecks docker/uwsgi.ini): `master`, `strict` are flags, not errors
    from bastion.kinds.ini import parse_ini

    doc = parse_ini("[uwsgi]\nstrict\nmaster\nhttp-socket = :8000\nendif =\n")
    assert doc.sections["uwsgi"]["master"] == ""
    assert doc.sections["uwsgi"]["http-socket"] == ":8000"
    assert [v.path for v in doc.values] == [("uwsgi", "http-socket"), ("uwsgi", "endif")]


# -- issue #15: the real false-positive shapes of bench/ecosystem ------------------------------


def _project(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, str, int, str]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\nversion = "0"\n\n[tool.bastion]\nselect = ["ALL"]\n',
        encoding="utf-8",
    )
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    result = run([tmp_path], load_config([tmp_path]))
    assert not result.internal_errors
    return [(f.rule, f.path, f.line, f.severity.name.lower()) for f in result.findings]


_BASE = (
    'INSTALLED_APPS = ["django.contrib.auth"]\n'
    'SECRET_KEY = "c6u0-9c!7nilj_ysatsda0(f@e_2mws2f!6m0n^o*4#*q"\n'
    "DEBUG = True\n"
)
_PRODUCTION = (
    "import os\nfrom .base import *\n\nDEBUG = False\n"
    'if "DJANGO_SECRET_KEY" in os.environ:\n    SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]\n'
    "else:\n    SECRET_KEY = make_key()\n"
)


def test_base_settings_replaced_by_production_module(tmp_path: Path) -> None:
    # bakerydemo: settings/base.py holds a dev key and DEBUG = True; production.py sets both
    found = _project(
        tmp_path, {"site/settings/base.py": _BASE, "site/settings/production.py": _PRODUCTION}
    )
    assert not [f for f in found if f[0] in ("SEC001", "SEC008")]


def test_base_settings_without_production_override_are_reported(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "site/settings/base.py": _BASE,
            "site/settings/production.py": "from .base import *\nALLOWED_HOSTS = ['x']\n",
        },
    )
    rules = sorted(f[0] for f in found if f[0] in ("SEC001", "SEC008"))
    assert rules == ["SEC001", "SEC008"]


def test_env_file_of_a_local_setup(tmp_path: Path) -> None:
    # dispatch's data/.env: database on localhost, next to a sample-data dump
    env = (
        "DATABASE_HOSTNAME=localhost\nDATABASE_CREDENTIALS=dispatch:dispatch\n"
        "DISPATCH_ENCRYPTION_KEY=NJHDWDJ3PbHT8h\n"
    )
    local = _project(tmp_path / "local", {"data/.env": env})
    assert not [f for f in local if f[0].startswith("SEC")]
    deployed = env.replace("localhost", "db.internal")
    found = _project(tmp_path / "other", {"data/.env": deployed})
    assert {"SEC001", "SEC016"} <= {f[0] for f in found}


def test_password_equal_to_the_user_name() -> None:
    # mealie: a settings class's local-container default, overridden by the environment
    code = (
        "class PostgresProvider(BaseSettings):\n"
        '    POSTGRES_USER: str = "mealie"\n    POSTGRES_PASSWORD: str = "mealie"\n'
    )
    assert not lines(code, "SEC001")
    code = code.replace('PASSWORD: str = "mealie"', 'PASSWORD: str = "Xk9#mealie-prod"')
    assert lines(code, "SEC001") == [3]


def test_compose_password_equal_to_the_user_name() -> None:
    compose = (
        "services:\n  app:\n    image: app:dev\n    environment:\n"
        "      POSTGRES_USER: mealie\n      POSTGRES_PASSWORD: mealie\n"
    )
    assert not lines(compose, "SEC001", "docker/docker-compose.yml")
    assert lines(
        compose.replace("PASSWORD: mealie", "PASSWORD: Xk9mealieprod"),
        "SEC001",
        "docker/docker-compose.yml",
    ) == [6]


def test_flask_debug_server_in_a_dev_entry_point_is_info() -> None:
    code = (
        "from flask import Flask\n\napp = Flask(__name__)\n\n"
        "def main():\n    app.run(host='0.0.0.0', debug=True)\n\n"
        "if __name__ == '__main__':\n    main()\n"
    )
    found = findings_for(code, "SEC008", "ihatemoney/run.py")
    assert [(f.line, f.severity.name.lower()) for f in found] == [(6, "info")]
    assert "development entry point" in found[0].message
    # an app module that starts the debugger on import is still an error
    code = "from flask import Flask\n\napp = Flask(__name__)\napp.run(debug=True)\n"
    found = findings_for(code, "SEC008", "app/web.py")
    assert [(f.line, f.severity.name.lower()) for f in found] == [(4, "error")]


def test_csrf_exempt_session_view_reading_the_body_is_reported() -> None:
    exempt = "from django.views.decorators.csrf import csrf_exempt\n\n"
    assert lines(
        exempt + "@csrf_exempt\ndef transfer(request):\n    pay(request.POST)\n", "SEC015"
    ) == [3]
    # healthchecks' API: `@authorize` checks an API key; the ping takes its UUID in the URL
    assert not lines(
        exempt + "@csrf_exempt\n@authorize\ndef pause(request, code):\n    ...\n", "SEC015"
    )
    assert not lines(exempt + "@csrf_exempt\ndef ping(request, code):\n    ...\n", "SEC015")
    # a GET-only view: `if request.method != "GET": return 405` first
    assert not lines(
        exempt + "@csrf_exempt\ndef index(request):\n    if request.method != 'GET':\n"
        "        return HttpResponse(status=405)\n    return render(request, 'i.html')\n",
        "SEC015",
    )
    # a method check that still lets POST through is no read-only view
    assert lines(
        exempt + "@csrf_exempt\ndef index(request):\n    if request.method != 'POST':\n"
        "        return HttpResponse(status=405)\n    save(request.POST)\n",
        "SEC015",
    ) == [3]


def test_shell_command_from_settings_through_locals() -> None:
    # lnbits' admin backup: pg_dump with the configured database, several locals deep
    code = (
        "from subprocess import Popen\nfrom urllib.parse import urlparse\n\n"
        "async def backup():\n    db_url = settings.lnbits_database_url\n"
        "    out = f'{settings.lnbits_data_folder}/db.dmp'\n"
        "    if db_url:\n        p = urlparse(db_url)\n"
        "        command = (\n            f'pg_dump --host={p.hostname} '\n"
        "            f\"--dbname={p.path.replace('/', '')} --file={out}\"\n        )\n"
        "        Popen(command, shell=True).wait()\n"
    )
    assert not lines(code, "SEC017")
    # the same command with a file name from the caller is still a finding
    assert lines(
        code.replace("async def backup():", "async def backup(out):").replace(
            "    out = f'{settings.lnbits_data_folder}/db.dmp'\n", ""
        ),
        "SEC017",
    ) == [12]


def test_sql_execute_with_bound_parameters_and_structure() -> None:
    # paperless-ngx: a WHERE clause built by a helper that returns (clause, params)
    code = (
        "def search(conn, filters):\n    where, params = build_where(filters)\n"
        "    sql = 'SELECT id FROM t WHERE ' + where\n    return conn.execute(sql, params)\n"
    )
    assert not lines(code, "SEC007")
    # an empty parameter list binds nothing
    code = (
        "def find(cursor, name):\n    cursor.execute(f\"SELECT * FROM u WHERE n = '{name}'\", [])\n"
    )
    assert lines(code, "SEC007") == [2]


def test_jwt_unverified_decode_read_for_more_than_routing() -> None:
    code = (
        "import jwt\n\ndef is_saleor_token(token):\n"
        '    payload = jwt.decode(token, options={"verify_signature": False})\n'
        "    owner = payload.get(JWT_OWNER_FIELD)\n    return owner == 'saleor'\n"
    )
    assert not lines(code, "SEC005")
    code = code.replace("return owner == 'saleor'", "return payload['permissions']")
    assert lines(code, "SEC005") == [4]


def test_shell_commands_in_a_command_line_script_are_not_findings() -> None:
    # dispatch's utils/github_utils.py: a click tool for maintainers
    code = (
        "import subprocess\n\nimport click\n\n@click.group()\ndef cli():\n    pass\n\n"
        "def run_command(command):\n"
        "    return subprocess.Popen(command, shell=True).communicate()\n"
    )
    assert not lines(code, "SEC017", "utils/github_utils.py")
    # the same helper in the application is still reported
    code = code.replace("import click\n\n@click.group()\ndef cli():\n    pass\n\n", "")
    assert lines(code, "SEC017", "app/tasks.py") == [4]


def test_ini_continuation_of_a_value_less_option_is_a_parse_error() -> None:
    from bastion.kinds.common import DocumentError
    from bastion.kinds.ini import parse_ini

    with pytest.raises(DocumentError):
        parse_ini("[project]\nFROM build AS x\n  api:\n")
