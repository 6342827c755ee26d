"""SEC010 on small multi-module projects written to tmp dirs: which evidence silences the web
side, and how Django settings split across modules are combined."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from bastion.analysis.headers import (
    Combined,
    deploy_problems,
    header_set_position,
    secret_shape,
    settings_events,
)
from bastion.config import Config
from bastion.engine import run


def findings(root: Path, files: dict[str, str]) -> dict[tuple[str, int], str]:
    for name, code in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code))
    result = run([root], Config(root=root, select=("SEC010",)))
    assert not result.internal_errors, result.internal_errors
    return {(f.path, f.line): f.message for f in result.findings if f.rule == "SEC010"}


APP = """
    from fastapi import FastAPI

    from app import middleware

    app = FastAPI()
"""

# -- web side ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "evidence",
    [
        # a pure ASGI middleware in another module, raw header pairs
        """
        class Headers:
            def __init__(self, app):
                self.app = app

            async def __call__(self, scope, receive, send):
                async def wrapped(message):
                    if message["type"] == "http.response.start":
                        message["headers"].append((b"strict-transport-security", b"max-age=1"))
                    await send(message)
                await self.app(scope, receive, wrapped)
        """,
        # Starlette's MutableHeaders
        """
        from starlette.datastructures import MutableHeaders

        def add(message):
            headers = MutableHeaders(scope=message)
            headers.append("X-Content-Type-Options", "nosniff")
        """,
        # a dict of headers applied in a loop
        """
        SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'"}

        def add(response):
            for name, value in SECURITY_HEADERS.items():
                response.headers[name] = value
        """,
        # the header name kept in a constant
        """
        HSTS = "Strict-Transport-Security"
        """,
        # packages
        "import secure\n\nheaders = secure.Secure.with_default_headers()\n",
        "from Secweb import SecWeb\n",
        "from fastapi_security_headers import SecurityHeadersMiddleware\n",
        # a middleware named for what it does, from a package bastion does not know
        """
        from acme.web import SecurityHeadersMiddleware

        def install(app):
            app.add_middleware(SecurityHeadersMiddleware)
        """,
    ],
)
def test_evidence_anywhere_in_the_project_silences_the_app(tmp_path: Path, evidence: str) -> None:
    assert not findings(tmp_path, {"app/main.py": APP, "app/middleware.py": evidence})


@pytest.mark.parametrize(
    "look_alike",
    [
        # reading what the client sent
        'def f(request):\n    return request.headers.get("Content-Security-Policy")\n',
        'def f(request):\n    return "strict-transport-security" in request.headers\n',
        'def f(response):\n    del response.headers["X-Content-Type-Options"]\n',
        # other middleware
        "from starlette.middleware.trustedhost import TrustedHostMiddleware\n\n"
        "def install(app):\n    app.add_middleware(TrustedHostMiddleware, allowed_hosts=['a'])\n",
        "from starlette.middleware.gzip import GZipMiddleware\n\n"
        "def install(app):\n    app.add_middleware(GZipMiddleware)\n",
        # other headers, a docstring that names one
        'def f(response):\n    response.headers["X-Frame-Options"] = "DENY"\n',
        '"""We should add Content-Security-Policy one day."""\n',
    ],
)
def test_look_alikes_do_not_count(tmp_path: Path, look_alike: str) -> None:
    assert set(findings(tmp_path, {"app/main.py": APP, "app/middleware.py": look_alike})) == {
        ("app/main.py", 6)
    }


def test_headers_set_only_in_tests_do_not_count(tmp_path: Path) -> None:
    found = findings(
        tmp_path,
        {
            "app/main.py": APP,
            "tests/test_headers.py": 'def t(r):\n    r.headers["X-Content-Type-Options"] = "x"\n',
        },
    )
    assert set(found) == {("app/main.py", 6)}


def test_flask_factory_app_with_after_request_elsewhere(tmp_path: Path) -> None:
    factory = """
        from flask import Flask

        from app.hooks import register

        def create_app():
            app = Flask(__name__)
            register(app)
            return app
    """
    hooks = """
        def register(app):
            @app.after_request
            def secure(response):
                response.headers["Strict-Transport-Security"] = "max-age=63072000"
                return response
    """
    assert not findings(tmp_path, {"app/__init__.py": factory, "app/hooks.py": hooks})
    assert set(findings(tmp_path / "bare", {"app/__init__.py": factory})) == {
        ("app/__init__.py", 7)
    }


def test_talisman_and_test_apps(tmp_path: Path) -> None:
    app = "from flask import Flask\nfrom flask_talisman import Talisman\n\napp = Flask(__name__)\n"
    assert not findings(tmp_path, {"app.py": app + "Talisman(app)\n"})
    test_only = "from fastapi import FastAPI\nfrom fastapi.testclient import TestClient\n\n"
    test_only += "client = TestClient(FastAPI())\n"
    assert not findings(tmp_path / "t", {"client.py": test_only})


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ('h["Content-Security-Policy"] = "x"', True),
        ('h.setdefault("x-content-type-options", "nosniff")', True),
        ('h.add_header("Strict-Transport-Security", "max-age=1")', True),
        ('h.update({"Content-Security-Policy": "x"})', True),
        ('pairs = [(b"strict-transport-security", b"max-age=1")]', True),
        ('h.get("Content-Security-Policy")', False),
        ('x = h["Content-Security-Policy"]', False),
        ('if name == "content-security-policy": pass', False),
    ],
)
def test_header_set_position(code: str, expected: bool) -> None:
    tree = ast.parse(code)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    constants = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str | bytes)
        and "-" in str(n.value)
        and len(str(n.value)) > 12
    ]
    assert constants
    assert header_set_position(constants[0], parents.get(constants[0])) is expected


# -- Django side -------------------------------------------------------------------------------

BASE = """
    import os

    SECRET_KEY = os.environ["SECRET_KEY"]
    INSTALLED_APPS = ["django.contrib.sessions"]
    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    ]
"""
HARDENED = """
    ALLOWED_HOSTS = ["shop.example"]
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
"""


def codes(message: str) -> set[str]:
    return {part.split("(")[-1].rstrip(")") for part in message.split(": ", 1)[1].split("; ")}


def test_production_on_top_of_base_is_judged_together(tmp_path: Path) -> None:
    files = {
        "conf/settings/__init__.py": "",
        "conf/settings/base.py": BASE,
        "conf/settings/production.py": "from .base import *\n" + textwrap.dedent(HARDENED),
        "conf/settings/dev.py": "from .base import *\nDEBUG = True\n",
    }
    assert not findings(tmp_path, files)


def test_what_production_misses_is_listed_once(tmp_path: Path) -> None:
    files = {
        "conf/settings/base.py": BASE,
        "conf/settings/prod.py": "from conf.settings.base import *\nALLOWED_HOSTS = ['a']\n",
    }
    found = findings(tmp_path, files)
    assert set(found) == {("conf/settings/prod.py", 1)}
    assert codes(found["conf/settings/prod.py", 1]) == {"W004", "W008", "W012", "W016"}


def test_a_later_star_import_overrides_earlier_values(tmp_path: Path) -> None:
    production = "SECURE_SSL_REDIRECT = True\nfrom .base import *\n" + textwrap.dedent(HARDENED)
    production = production.replace("SECURE_SSL_REDIRECT = True\nSESSION", "SESSION")
    base = textwrap.dedent(BASE) + "SECURE_SSL_REDIRECT = False\n"
    found = findings(tmp_path, {"s/base.py": base, "s/production.py": production})
    assert codes(found["s/production.py", 1]) == {"W008"}


def test_settings_out_of_reach_only_explicit_values_count(tmp_path: Path) -> None:
    # `from somewhere_else.settings import *` / split-settings: absent values may be there
    outside = "from company_defaults.settings import *\nINSTALLED_APPS = []\n"
    assert not findings(tmp_path / "a", {"web/settings.py": outside})
    split = "from split_settings.tools import include\n\ninclude('components/*.py')\n"
    split += "INSTALLED_APPS = []\nSECURE_SSL_REDIRECT = False\n"
    found = findings(tmp_path / "b", {"web/settings.py": split})
    assert codes(found["web/settings.py", 1]) == {"W008"}


def test_conditional_values_count_as_set(tmp_path: Path) -> None:
    code = textwrap.dedent(BASE) + textwrap.dedent(
        """
        ALLOWED_HOSTS = ["a"]
        if os.environ.get("HTTPS"):
            SECURE_HSTS_SECONDS = 3600
            SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_PRELOAD = True
            SECURE_SSL_REDIRECT = True
        try:
            SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ["SECURE"] == "1"
        except KeyError:
            pass
        try:
            from .local_settings import *
        except ImportError:
            pass
        """
    )
    files = {"site/settings.py": code, "site/local_settings.py": "SECURE_SSL_REDIRECT = False\n"}
    assert not findings(tmp_path, files)


def test_middleware_added_later_is_seen(tmp_path: Path) -> None:
    code = textwrap.dedent(BASE).replace(
        '"django.middleware.security.SecurityMiddleware",\n', ""
    ) + textwrap.dedent(HARDENED)
    found = findings(tmp_path / "a", {"site/settings.py": code})
    assert codes(found["site/settings.py", 1]) == {"W001"}
    code += 'MIDDLEWARE.insert(0, "django.middleware.security.SecurityMiddleware")\n'
    assert not findings(tmp_path / "b", {"site/settings.py": code})


def test_secret_key_shape_is_judged_only_for_literals(tmp_path: Path) -> None:
    hardened = textwrap.dedent(BASE) + textwrap.dedent(HARDENED)
    weak = hardened.replace('os.environ["SECRET_KEY"]', '"abcabcabcabcabcabcabc"')
    found = findings(tmp_path / "a", {"site/settings.py": weak})
    message = found["site/settings.py", 1]
    assert codes(message) == {"W009"} and "abcabc" not in message
    default = hardened.replace(
        'os.environ["SECRET_KEY"]', 'os.environ.get("SECRET_KEY", "django-insecure-x")'
    )
    assert not findings(tmp_path / "b", {"site/settings.py": default})


def test_not_deployment_settings(tmp_path: Path) -> None:
    bare = "INSTALLED_APPS = ['django.contrib.sessions']\nMIDDLEWARE = []\n"
    files = {
        "tests/settings.py": bare,
        "site/settings_test.py": bare,
        "site/local_settings.py": bare,
        "site/settings/development.py": bare,
        "lib/settings.py": "DEFAULTS = {'SECURE_SSL_REDIRECT': False}\n",  # DRF-style
    }
    assert not findings(tmp_path, files)


def test_import_cycles_end(tmp_path: Path) -> None:
    files = {
        "s/a.py": "from .b import *\nINSTALLED_APPS = []\n",
        "s/b.py": "from .a import *\n",
    }
    findings(tmp_path, files)  # terminates, no internal error


def test_secret_shape() -> None:
    assert secret_shape("django-insecure-" + "x" * 60).startswith("starts with")
    assert secret_shape("a" * 60) == "fewer than 5 distinct characters"
    assert secret_shape("short") == "shorter than 50 characters"
    assert secret_shape("".join(chr(65 + i % 26) for i in range(60))) == "ok"


def test_deploy_problems_follow_djangos_gates() -> None:
    events = settings_events(ast.parse("MIDDLEWARE = []\nSECURE_SSL_REDIRECT = False\n"))
    values = {e[1]: e[2] for e in events if e[0] == "set"}
    problems = {p.code for p in deploy_problems(Combined(values, False, []))}
    # no SecurityMiddleware: W001 and W002, and the SSL redirect is moot (as in Django)
    assert problems == {"W001", "W002", "W020"}


def test_silenced_checks_and_wrapped_middleware(tmp_path: Path) -> None:
    base = textwrap.dedent(BASE) + textwrap.dedent(HARDENED).replace(
        "SECURE_HSTS_SECONDS = 31536000", "SECURE_HSTS_SECONDS = 0"
    )
    found = findings(tmp_path / "a", {"s/settings.py": base})
    assert codes(found["s/settings.py", 1]) == {"W004"}
    silenced = base + 'SILENCED_SYSTEM_CHECKS = ["security.W004"]\n'
    assert not findings(tmp_path / "b", {"s/settings.py": silenced})
    prod = "from .common import *\n"
    prod += 'MIDDLEWARE = ["x.Cache"] + MIDDLEWARE + ["x.Fetch"]\n'
    common = base.replace("SECURE_HSTS_SECONDS = 0", "SECURE_HSTS_SECONDS = 1")
    without = common.replace('"django.middleware.security.SecurityMiddleware",\n', "")
    found = findings(tmp_path / "c", {"s/common.py": without, "s/prod.py": prod})
    assert codes(found["s/prod.py", 1]) == {"W001"}
    assert not findings(tmp_path / "d", {"s/common.py": common, "s/prod.py": prod})


def test_debug_true_settings_are_left_to_sec008(tmp_path: Path) -> None:
    code = textwrap.dedent(BASE) + "DEBUG = True\n"
    assert not findings(tmp_path / "a", {"s/settings.py": code})
    prod = "from .base import *\nDEBUG = False\n"
    found = findings(tmp_path / "b", {"s/base.py": code, "s/prod.py": prod})
    assert set(found) == {("s/prod.py", 1)}


def test_settings_changed_in_place_are_no_longer_the_literal(tmp_path: Path) -> None:
    code = textwrap.dedent(BASE) + textwrap.dedent(HARDENED).replace(
        'ALLOWED_HOSTS = ["shop.example"]', "ALLOWED_HOSTS = []"
    )
    found = findings(tmp_path / "a", {"s/settings.py": code})
    assert codes(found["s/settings.py", 1]) == {"W020"}
    code += 'ALLOWED_HOSTS += [os.environ["HOST"]]\n'
    assert not findings(tmp_path / "b", {"s/settings.py": code})
