"""Tricky cases of SEC001, SEC012, SEC013, SEC017, SEC019, ERR005 and ERR006 beyond their
examples."""

from __future__ import annotations

from bastion.testing import findings_for

GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
JWT = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxMjM0NTY3ODkwIn0" + ".Qm9vT2JhcmJhenF1eHF1dXg"


def lines(code: str, rule: str, path: str = "app/example.py") -> list[int]:
    return [f.line for f in findings_for(code, rule, path)]


# -- SEC001 -------------------------------------------------------------------------------------


def test_sec001_test_files_keep_issued_formats_only() -> None:
    code = f'PASSWORD = "Tr0ub4dor&3"\nTOKEN = "{GITHUB}"\nJWT = "{JWT}"\n'
    assert lines(code, "SEC001") == [1, 2, 3]
    assert lines(code, "SEC001", "tests/test_api.py") == [2]


def test_sec001_docstring_examples_are_documentation() -> None:
    code = (
        'def connect():\n    """Connect, e.g. to postgresql://app:Wq7pLz93xKv@db/app."""\n'
        'URL = "postgresql://app:Wq7pLz93xKv@db/app"\n'
    )
    assert lines(code, "SEC001") == [3]


def test_sec001_env_defaults() -> None:
    code = (
        "import os\n"
        'A = os.getenv("SECRET_KEY", "local-dev-key")\n'
        'B = os.environ.get("API_KEY", "aZ3kQ9mL2pX7vB4nW8cR")\n'
        'C = os.environ.get("PAGE_SIZE", "aZ3kQ9mL2pX7vB4nW8cR")\n'
        f'D = os.getenv("ANYTHING", "{GITHUB}")\n'
        'E = os.environ["PASSWORD"]\n'
    )
    assert lines(code, "SEC001") == [3, 5]


def test_sec001_one_finding_per_literal() -> None:
    code = f'GITHUB_TOKEN = "{GITHUB}"\nclient(token="{GITHUB}")\n'
    found = findings_for(code, "SEC001", "app/x.py")
    assert [f.line for f in found] == [1, 2]
    assert "GitHub token" in found[0].message


def test_sec001_keyword_dict_and_attribute_targets() -> None:
    code = (
        'self.password = "Tr0ub4dor&3"\n'
        'config["db_password"] = "Tr0ub4dor&3"\n'
        'payload = dict(client_secret="9fK2mQ7xL0pW4vB8nZ3c")\n'
        'payload = {"password": password, "user": "bob"}\n'
        'form = {"password": "Password", "label": "Enter your password"}\n'
    )
    assert lines(code, "SEC001") == [1, 2, 3]


def test_sec001_env_template_files_only_report_formats() -> None:
    text = f"SECRET_KEY=Zq9rT4mL8vX2pKw7b\nGITHUB_TOKEN={GITHUB}\n"
    assert lines(text, "SEC001", ".env") == [1, 2]
    assert lines(text, "SEC001", ".env.example") == [2]
    assert lines(text, "SEC001", ".env.sample") == [2]
    assert lines(text, "SEC001", "deploy/.env.template") == [2]


def test_sec001_settings_files_in_tests_are_fixtures() -> None:
    text = "db:\n  password: Pr0d-Yaml-Passw0rd\n"
    assert lines(text, "SEC001", "config/app.yaml") == [2]
    assert lines(text, "SEC001", "tests/fixtures/app.yaml") == []


def test_sec001_bad_settings_file_is_a_parse_error_without_content() -> None:
    from bastion.testing import lint_source

    result = lint_source('password = "Sup3r-Secret-Value\n', "config/app.toml")
    assert [f.rule for f in result.findings] == ["BAS001"]
    assert "Sup3r-Secret-Value" not in result.findings[0].message


# -- SEC012 / SEC013 / SEC017 / SEC019 ----------------------------------------------------------


def test_sec012_needs_an_http_library() -> None:
    code = "def f(client):\n    return client.get(url, verify=False)\n"
    assert lines(code, "SEC012") == []
    assert lines("import httpx\n" + code, "SEC012") == [3]


def test_sec013_only_yaml_load_is_fixable() -> None:
    code = "import pickle, yaml\nyaml.load(s)\npickle.loads(s)\nyaml.load(s, yaml.Loader)\n"
    found = findings_for(code, "SEC013", "app/x.py")
    assert [(f.line, f.fixable) for f in found] == [(2, True), (3, False), (4, True)]


def test_sec013_eval_of_compiled_script_is_not_flagged() -> None:
    code = "with open(p) as f:\n    exec(compile(f.read(), p, 'exec'), ns)\neval(expr)\n"
    assert lines(code, "SEC013") == [3]


def test_sec017_names_bound_to_literals_only() -> None:
    code = (
        "import subprocess\n"
        "def a():\n    cmd = 'ls'\n    subprocess.run(cmd, shell=True)\n"
        "def b(user):\n    cmd = 'ls'\n    cmd = 'ls ' + user\n"
        "    subprocess.run(cmd, shell=True)\n"
        "def c(cmd):\n    subprocess.run(cmd, shell=True)\n"
        "def d(cmds):\n    for cmd in cmds:\n        subprocess.run(cmd, shell=True)\n"
    )
    assert lines(code, "SEC017") == [8, 10, 13]


def test_sec019_jitter_in_a_token_function_is_not_a_token() -> None:
    code = (
        "import random\n"
        "def refresh_token(self):\n"
        "    delay = random.uniform(0, 1)\n"
        "    nonce = random.random()\n"
        "    return ''.join(random.sample(ALPHABET, 16))\n"
    )
    assert lines(code, "SEC019") == [4, 5]


def test_sec019_seeded_and_system_random_are_not_module_random() -> None:
    code = (
        "import random\nrng = random.Random(42)\ntoken = rng.choice(ALPHABET)\n"
        "sr = random.SystemRandom()\npassword = sr.choice(ALPHABET)\n"
    )
    assert lines(code, "SEC019") == []


# -- ERR005 / ERR006 ----------------------------------------------------------------------------


def test_err005_traceback_recorded_by_another_call() -> None:
    code = (
        "try:\n    run()\nexcept OSError as e:\n    logger.error('%s', e)\n"
        "    logger.debug('details', exc_info=True)\n"
        "try:\n    run()\nexcept OSError as e:\n    logger.error('%s', e)\n"
        "    sentry_sdk.capture_exception(e)\n"
        "try:\n    run()\nexcept OSError as e:\n    logger.error('%s', e)\n"
    )
    assert lines(code, "ERR005") == [14]


def test_err006_nested_handler_owns_its_raise() -> None:
    code = (
        "try:\n    a()\nexcept KeyError as e:\n"
        "    try:\n        b()\n    except ValueError:\n        raise Other()\n"
        "    raise Missing()\n"
    )
    # line 7 belongs to the unnamed inner handler (flagged as such, without a fix); line 8 to
    # `except KeyError as e`
    assert sorted(lines(code, "ERR006")) == [7, 8]
    fixable = {f.line: f.fixable for f in findings_for(code, "ERR006")}
    assert fixable == {7: False, 8: True}


def test_err006_with_traceback_is_the_same_exception() -> None:
    code = "try:\n    a()\nexcept KeyError as e:\n    raise e.with_traceback(tb)\n"
    assert lines(code, "ERR006") == []


def test_sec001_tuple_unpacking() -> None:
    code = 'user, password = "bob", "Tr0ub4dor&3"\nname, label = "password", "Password"\n'
    assert lines(code, "SEC001") == [1]


def test_sec013_code_generation_is_not_input() -> None:
    code = (
        "def make(attr, expr):\n"
        "    code = 'def set(obj, v):\\n    obj.%s = v' % attr\n"
        "    exec(code, env)\n"
        "    value = f'{expr} + 1'\n"
        "    return eval(value)\n"
        "def run(code: types.CodeType):\n"
        "    exec(code, {})\n"
        "def calc(request):\n"
        "    return eval(request.args['expr'])\n"
    )
    assert lines(code, "SEC013") == [5, 9]


def test_sec001_openapi_examples_are_documentation() -> None:
    text = (
        "components:\n  schemas:\n    Token:\n      properties:\n        access_token:\n"
        f"          example: {JWT}\n"
        f"        refresh:\n          default: {JWT}\n"
    )
    assert lines(text, "SEC001", "openapi.yaml") == [8]


def test_sec001_reads_any_ini_file() -> None:
    text = "[alembic]\nsqlalchemy.url = postgresql://app:Wq7pLz93xKv@db/app\n"
    assert lines(text, "SEC001", "alembic.ini") == [2]
    placeholder = "[alembic]\nsqlalchemy.url = driver://user:pass@localhost/dbname\n"
    assert lines(placeholder, "SEC001", "alembic.ini") == []


def test_err005_command_line_modules_print_errors_for_users() -> None:
    code = "try:\n    run()\nexcept UsageError as e:\n    logger.error(e.args[0])\n    return 1\n"
    assert lines(code, "ERR005", "app/services/billing.py") == [4]
    assert lines(code, "ERR005", "app/cli.py") == []
    assert lines(code, "ERR005", "app/management/commands/sync.py") == []
