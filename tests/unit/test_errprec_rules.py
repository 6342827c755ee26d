"""Precision of the errors/logging/organisation rules on shapes seen in real applications
(issue #15, bench/ecosystem): each test is built from a false positive judged there."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.config import load_config
from bastion.engine import run
from bastion.testing import findings_for


def _lines(code: str, rule: str, path: str = "app/module.py") -> list[int]:
    return [f.line for f in findings_for(code, rule, path)]


# -- LOG001 ------------------------------------------------------------------------------------

# CTFd `export.py` / `ping.py`: programs at the repository root, run as `python export.py out`
_ROOT_EXPORT_SCRIPT = (
    "import sys\nfrom app import create_app\n\napp = create_app()\n"
    "with app.app_context():\n    print('exporting')\n"
    "    if len(sys.argv) > 1:\n        target = sys.argv[1]\n"
)
_ROOT_PING_SCRIPT = (
    "import time\nfrom app.config import Config\n\nif Config.DATABASE_URL.startswith('sqlite'):\n"
    "    exit(0)\nprint('waiting for the database')\ntime.sleep(1)\n"
)


def test_log001_skips_programs_that_read_argv_or_exit_at_top_level() -> None:
    assert _lines(_ROOT_EXPORT_SCRIPT, "LOG001", "export.py") == []
    assert _lines(_ROOT_PING_SCRIPT, "LOG001", "ping.py") == []
    from_import = "from sys import argv\nprint(argv[1])\n"
    assert _lines(from_import, "LOG001", "tool.py") == []


def test_log001_argv_inside_a_function_is_not_a_program() -> None:
    # a library helper that looks at sys.argv is still application code
    code = (
        "import sys\n\ndef running_tests():\n    return 'test' in sys.argv\n\n"
        "def create_user(data):\n    print('created')\n"
    )
    assert _lines(code, "LOG001") == [7]


def test_log001_skips_prints_under_a_verbosity_switch() -> None:
    # CTFd utils/exports: `set_import_status(value, skip_print=False)`
    code = (
        "def set_import_status(value, timeout=60, skip_print=False):\n"
        "    cache.set('import_status', value, timeout)\n"
        "    if not skip_print:\n        print(value)\n\n"
        "def sync(self, rows):\n    if self.verbose:\n        print(len(rows))\n"
    )
    assert _lines(code, "LOG001") == []


def test_log001_unrelated_conditions_are_still_flagged() -> None:
    # `fingerprint` and `blueprint` only contain the word: not a verbosity switch
    code = (
        "def check(fingerprint, blueprint):\n    if fingerprint:\n        print('fp')\n"
        "    if blueprint:\n        print('bp')\n"
    )
    assert _lines(code, "LOG001") == [3, 5]


# -- ORG003 ------------------------------------------------------------------------------------


def test_org003_skips_runtime_markers_and_settings_location() -> None:
    # CTFd wsgi.py, paperless-ngx views.py (about page), dispatch get_revision(), ihatemoney run.py
    code = (
        "import os\n\n"
        "if not os.getenv('FLASK_RUN_FROM_CLI'):\n    patch_all()\n\n"
        "def platform():\n"
        "    if os.environ.get('KUBERNETES_SERVICE_HOST'):\n        return 'kubernetes'\n"
        "    if os.environ.get('PNGX_CONTAINERIZED') == '1':\n        return 'docker'\n\n"
        "def get_revision():\n"
        "    if 'DISPATCH_BUILD' in os.environ:\n        return os.environ['DISPATCH_BUILD']\n\n"
        "def load_settings(app):\n"
        "    path = os.environ.get('IHATEMONEY_SETTINGS_FILE_PATH')\n"
        "    app.config.from_pyfile(path)\n"
    )
    assert _lines(code, "ORG003") == []


def test_org003_application_knobs_are_still_flagged() -> None:
    # redash query runners, mealie: configuration read far from the settings object
    code = (
        "import os\n\nSHOW_EXTRA = os.environ.get('ATHENA_SHOW_EXTRA_SETTINGS', 'true')\n"
        "MODEL = os.getenv('CRF_MODEL_PATH')\nCONFIG = os.getenv('ALEMBIC_CONFIG_FILE')\n"
        "BUILDER = os.getenv('BUILDER_NAME')\n"
    )
    assert _lines(code, "ORG003") == [3, 4, 5, 6]


def test_org003_skips_django_system_checks() -> None:
    # paperless-ngx src/paperless/checks.py
    code = (
        "import os\nfrom django.core.checks import Warning, register\n\n"
        "@register()\ndef check_deprecated_env(app_configs, **kwargs):\n"
        "    if os.environ.get('PAPERLESS_OCR_SKIP_ARCHIVE_FILE'):\n"
        "        return [Warning('no effect')]\n    return []\n\n"
        "def not_a_check():\n    return os.environ.get('PAPERLESS_OCR_MODE')\n"
    )
    assert _lines(code, "ORG003") == [11]


def test_org003_skips_reading_back_what_the_function_set() -> None:
    # redash query_runner/corporate_memory.py `_setup_environment`
    code = (
        "from os import environ\n\nclass Runner:\n    def _setup_environment(self):\n"
        "        for key in self.KEYS:\n            value = self.configuration.get(key)\n"
        "            if value is not None:\n                environ[key] = str(value)\n"
        "                logger.info('%s set to %s', key, environ[key])\n\n"
        "    def other(self, key):\n        name = key.upper()\n        return environ[name]\n"
    )
    assert _lines(code, "ORG003") == [13]


def test_org003_skips_programs_that_read_argv() -> None:
    code = "import os\nimport sys\n\nurl = os.environ['DATABASE_URL']\nrun(url, sys.argv[1:])\n"
    assert _lines(code, "ORG003", "ping.py") == []


# -- ERR007 ------------------------------------------------------------------------------------


def _project(tmp_path: Path, files: dict[str, str], select: str) -> set[tuple[str, int]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[tool.bastion]\n")
    for name, code in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(code)
    result = run([tmp_path], load_config([tmp_path], overrides={"select": [select]}))
    assert not result.internal_errors, result.internal_errors
    return {(f.path, f.line) for f in result.findings if f.rule == select}


_FASTAPI_APP = "from fastapi import FastAPI\n\napp = FastAPI()\n"


def test_err007_an_error_tracker_reports_unexpected_exceptions(tmp_path: Path) -> None:
    # fief/app.py: `sentry_sdk.init(...)` and `app.add_middleware(SentryAsgiMiddleware)`;
    # full-stack-fastapi-template backend/app/main.py: `sentry_sdk.init(dsn=...)` only
    middleware = (
        "from fastapi import FastAPI\n"
        "from sentry_sdk.integrations.asgi import SentryAsgiMiddleware\n\n"
        "app = FastAPI()\napp.add_middleware(SentryAsgiMiddleware)\n"
    )
    assert _project(tmp_path / "a", {"app/main.py": middleware}, "ERR007") == set()
    init = "import sentry_sdk\n\nif DSN:\n    sentry_sdk.init(dsn=str(DSN))\n"
    files = {"app/main.py": _FASTAPI_APP, "app/monitoring.py": init}
    assert _project(tmp_path / "b", files, "ERR007") == set()


def test_err007_a_tracker_only_in_tests_does_not_count(tmp_path: Path) -> None:
    files = {
        "app/main.py": _FASTAPI_APP,
        "tests/test_main.py": "import sentry_sdk\n\nsentry_sdk.init(dsn=None)\n",
        "app/errors.py": "def report(exc):\n    sentry.capture(exc)\n",  # not the SDK
    }
    assert _project(tmp_path, files, "ERR007") == {("app/main.py", 3)}


# -- ERR005 ------------------------------------------------------------------------------------


def test_err005_attribute_error_over_a_block_keeps_its_traceback() -> None:
    # Netflix/dispatch auth/permissions.py (recall set) and flagsmith traits/views.py: any line
    # of the block may have raised the AttributeError - the traceback says which
    dispatch = (
        "import json\nimport logging\nlog = logging.getLogger(__name__)\n\n"
        "def has_required_permissions(request):\n    try:\n"
        "        body = json.loads(request._body.decode())\n"
        "        return bool(body['incident']['id'])\n"
        "    except (json.JSONDecodeError, KeyError, AttributeError):\n"
        "        log.error('request without expected incident ID')\n        return False\n"
    )
    assert _lines(dispatch, "ERR005") == [10]
    # as in the real file: the lookup is an assignment (indexing runs `__getitem__`)
    real = dispatch.replace("return bool(body['incident']['id'])", "incident = body['incident']")
    assert _lines(real, "ERR005") == [10]


def test_err005_attribute_error_around_one_statement_is_expected() -> None:
    # DefectDojo tools/qualys/csv_parser.py: `re.search(...).group(1)` that finds no match
    code = (
        "import logging\nimport re\n_logger = logging.getLogger(__name__)\n\n"
        "def vector(cvss_base):\n    try:\n"
        "        return re.search(PATTERN, cvss_base).group(1)\n"
        "    except AttributeError:\n"
        "        _logger.error('CVSS3 Base Vector not found in %s', cvss_base)\n"
    )
    assert _lines(code, "ERR005") == []
    # the temporal vector: the string concatenations beside the search cannot raise it
    code = (
        "import logging\nimport re\n_logger = logging.getLogger(__name__)\n\n"
        "def vector(cvss_vector, cvss_temporal):\n    try:\n"
        "        temporal = re.search(PATTERN, cvss_temporal).group(1)\n"
        "        cvss_vector += '/'\n        cvss_vector += temporal\n"
        "    except AttributeError:\n"
        "        _logger.error('CVSS3 Temporal Vector not found in %s', cvss_temporal)\n"
        "    return cvss_vector\n"
    )
    assert _lines(code, "ERR005") == []


# -- LOG003 ------------------------------------------------------------------------------------


def test_log003_one_time_bootstrap_secret_shown_to_the_operator() -> None:
    # lnbits utils/logger.py: the first-install token is logged so the operator can claim the
    # instance; a real token in the same shape is still a leak
    code = (
        "from loguru import logger\n\ndef log_server_info(settings):\n"
        "    if settings.first_install_token:\n"
        "        logger.success(f'FIRST_INSTALL_TOKEN: {settings.first_install_token}')\n"
        "    logger.info(f'blink token: {settings.blink_token}')\n"
        "    logger.info(f'installation: {settings.installation_token}')\n"
    )
    assert _lines(code, "LOG003") == [6, 7]


# -- LOG004 ------------------------------------------------------------------------------------

_SETTINGS = "INSTALLED_APPS = []\nROOT_URLCONF = 'site.urls'\n"


def test_log004_api_status_route_is_a_health_endpoint(tmp_path: Path) -> None:
    # netbox/netbox/urls.py: `path('api/status/', StatusView.as_view(), name='api-status')`
    urls = (
        "from django.urls import path\n\nurlpatterns = [\n"
        "    path('api/', APIRootView.as_view()),\n"
        "    path('api/status/', StatusView.as_view(), name='api-status'),\n]\n"
    )
    files = {"site/settings.py": _SETTINGS, "site/urls.py": urls}
    assert _project(tmp_path, files, "LOG004") == set()


def test_log004_status_of_a_resource_is_not_a_health_endpoint(tmp_path: Path) -> None:
    urls = (
        "from django.urls import path\n\nurlpatterns = [\n"
        "    path('api/orders/<int:pk>/status/', OrderStatus.as_view()),\n]\n"
    )
    files = {"site/settings.py": _SETTINGS, "site/urls.py": urls}
    assert _project(tmp_path, files, "LOG004") == {("site/urls.py", 3)}


# -- issue #15 noise classes, end to end -------------------------------------------------------

_PRINT_AND_ENV = "import os\n\ndef run():\n    print(os.environ['DATABASE_URL'])\n"


@pytest.mark.parametrize(
    ("code", "path"),
    [
        ("#!/usr/bin/env python\n" + _PRINT_AND_ENV, "tools/seed.py"),  # shebang
        (
            _PRINT_AND_ENV.replace("def run", "def go")
            + "\nif __name__ == '__main__':\n    go()\n",
            "app/seed.py",
        ),  # `__main__` block and the function it calls
        ("import argparse\n" + _PRINT_AND_ENV, "app/seed.py"),  # argparse entry point
        (
            "import click\n\n@click.command()\ndef run():\n    import os\n"
            "    print(os.environ['DATABASE_URL'])\n",
            "app/seed.py",
        ),  # click command
        ("import typer\n" + _PRINT_AND_ENV, "app/seed.py"),  # typer
        (_PRINT_AND_ENV, "app/load-fixtures.py"),  # hyphenated: cannot be imported
        (_PRINT_AND_ENV, "scripts/load_test.py"),  # `*_test.py` under scripts/ is a script
        (_PRINT_AND_ENV, "dev/smoke_test.py"),
    ],
)
def test_print_and_env_reads_in_command_line_scripts(code: str, path: str) -> None:
    assert _lines(code, "LOG001", path) == []
    assert _lines(code, "ORG003", path) == []


def test_print_and_env_read_in_application_code_are_reported() -> None:
    assert _lines(_PRINT_AND_ENV, "LOG001", "app/seed.py") == [4]
    assert _lines(_PRINT_AND_ENV, "ORG003", "app/seed.py") == [4]


def test_test002_script_named_like_a_test_and_deliberate_does_not_raise() -> None:
    no_assert = "def test_import_runs():\n    run_import()\n"
    assert _lines(no_assert, "TEST002", "tests/test_import.py") == [1]
    assert _lines(no_assert, "TEST002", "scripts/load_test.py") == []
    assert _lines(no_assert, "TEST002", "dev/smoke_test.py") == []
    said = "def test_import_runs():\n    run_import()  # should not raise\n"
    assert _lines(said, "TEST002", "tests/test_import.py") == []
    named = "def test_import_does_not_crash_on_empty_file():\n    run_import()\n"
    assert _lines(named, "TEST002", "tests/test_import.py") == []
