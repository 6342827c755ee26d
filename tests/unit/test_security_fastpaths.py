"""The security rules' fast paths (issue #17) answer exactly what the slow paths did.

Each fast path returns before the costly questions when their answer is known to be "nothing";
these tests hold them to the full computation, kept here as the reference: generated inputs
for the pure parts (`known_format`, SEC014's caller facts) and, for SEC001, the shapes at the
edge of each early return.
"""

from __future__ import annotations

import ast
from typing import Any

from bastion.rules.security.headers import _SHORTEST_HEADER as _SHORTEST
from bastion.rules.security.headers import _last_name
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion import secret_formats
from bastion.analysis.django import is_dev_settings_path, is_settings_module
from bastion.analysis.headers import (
    DJANGO_DEPLOY_FACTS,
    SECURITY_HEADERS,
    header_name,
    settings_events,
)
from bastion.analysis.html_provenance import literal_argument
from bastion.analysis.web import module_name_of
from bastion.imports import ImportMap
from bastion.secret_formats import SecretMatch, known_format
from bastion.testing import findings_for, lint_source

# -- known_format: per-format triggers ---------------------------------------------------------


def _known_format_reference(value: str) -> SecretMatch | None:
    """`known_format` as it was: every format's pattern searched once `_TRIGGER` matched."""
    if len(value) < 16 or not secret_formats._TRIGGER.search(value):
        return None
    for fmt in secret_formats.FORMATS:
        for text in fmt.find(value):
            if secret_formats._FORMAT_FILLER.search(text) or secret_formats._low_variety(text):
                continue
            return SecretMatch(fmt.name, text, by_format=True, issued=fmt.issued)
    return secret_formats.dsn_password(value)


_BODY = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X4y5Z6a7B8c9D0e1F2g3H4"


_FRAGMENTS = [
    "AKIA",
    "ASIA",
    "Q7XZ2LMN9VB4KR8TW1YP",
    "ghp_",
    "gho_",
    "ghx_",
    "github_pat_",
    "xoxb-",
    "xoxq-",
    "123456789-",
    "https://hooks.slack.com/services/",
    "T0A1B2C3D/B9Z8Y7X6W/",
    "sk_live_",
    "rk_live_",
    "AIza",
    "-----BEGIN RSA PRIVATE KEY-----\n",
    "-----END RSA PRIVATE KEY-----",
    "MIIEowIBAAKCAQEA1b2C3d4E5f6G7h8I9j0KlMnOpQrStUvWx",
    "eyJ",
    "hbGciOiJIUzI1NiJ9",
    ".",
    "q7Xz2LmN9vB4kR8tW1yP5sD3fG6hJ0aQ",
    "postgres://",
    "app:",
    "Pr0dPassw0rd@db.internal/app",
    "@",
    "://",
    " ",
    "_",
    "a8F3k2L9q7Z1x5C0v6B4",
    "EXAMPLE",
    _BODY[:35],
    _BODY[:36],
    _BODY[:44],
]


def _samples() -> list[str]:
    """One text of each format (assembled here: credential-shaped literals stay out of the
    repository), each behind a URL so that `_TRIGGER` matches on something else first."""
    return [
        "AKIA" + "Q7XZ2LMN9VB4KR8T",
        "gho_" + _BODY[:36],
        "github_pat_" + _BODY[:22] + "_" + _BODY[:59],
        "xoxb-" + "123456789" + "-" + _BODY[:12],
        "https://hooks.slack.com/services/" + "T0A1B2C3D/B9Z8Y7X6W/" + _BODY[:24],
        "rk_live_" + _BODY[:24],
        "AIza" + _BODY[:35],
        "-----BEGIN RSA PRIVATE KEY-----\n" + _BODY[:44] + "\n-----END RSA PRIVATE KEY-----",
        "eyJ" + _BODY[:12] + ".eyJ" + _BODY[3:15] + "." + _BODY[:20],
    ]


def test_each_format_is_still_found_behind_another_trigger() -> None:
    samples = _samples()
    assert len(samples) == len(secret_formats.FORMATS)
    for sample, fmt in zip(samples, secret_formats.FORMATS, strict=True):
        value = "see https://docs.example.org/ " + sample
        found = known_format(value)
        assert found is not None and found.description == fmt.name
        assert found == _known_format_reference(value)


@settings(max_examples=400)
@given(st.lists(st.sampled_from(_FRAGMENTS), max_size=8))
def test_known_format_skips_only_formats_that_cannot_match(parts: list[str]) -> None:
    value = "".join(parts)
    assert known_format(value) == _known_format_reference(value)


def test_every_format_has_its_triggers() -> None:
    """A format added to `FORMATS` needs its own entry in `_FORMAT_TRIGGERS`, in order."""
    assert len(secret_formats._FORMAT_TRIGGERS) == len(secret_formats.FORMATS)
    for fmt, triggers in zip(secret_formats.FORMATS, secret_formats._FORMAT_TRIGGERS, strict=True):
        for text in triggers:
            assert secret_formats._TRIGGER.search(text), (fmt.name, text)


# -- SEC014's caller facts (unsafe_html.CallArgumentFacts) -------------------------------------


def _absolute_reference(qualified: str, path: str) -> str:
    level = len(qualified) - len(qualified.lstrip("."))
    if not level:
        return qualified
    module, package = module_name_of(path)
    parts = module.split(".") if package else module.split(".")[:-1]
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*base, qualified[level:]]) if base else qualified[level:]


def _caller_facts_reference(code: str, path: str) -> list[dict[str, Any]]:
    """What the collector recorded when it resolved every call through the imports first."""
    module, _package = module_name_of(path)
    imports = ImportMap(module)
    tree = ast.parse(code)
    imports.collect_top_level(tree)
    callees: dict[str, tuple[set[int], set[tuple[str, int]], list[bool]]] = {}

    def visit(node: ast.AST) -> None:  # the engine's order: pre-order, in source order
        if isinstance(node, ast.Import | ast.ImportFrom):
            imports.add_import(node)
        if isinstance(node, ast.Call):
            qualified = imports.imported_qualname(node.func)
            if qualified:
                internal = qualified.startswith(".")
                qualified = _absolute_reference(qualified, path)
                if internal or qualified.partition(".")[0] in module.split("."):
                    other_args, other_kw, unpacked = callees.setdefault(
                        qualified, (set(), set(), [False])
                    )
                    if any(isinstance(a, ast.Starred) for a in node.args) or any(
                        k.arg is None for k in node.keywords
                    ):
                        unpacked[0] = True
                    other_args.update(i for i, a in enumerate(node.args) if not literal_argument(a))
                    other_kw.update(
                        (k.arg, len(node.args))
                        for k in node.keywords
                        if k.arg and not literal_argument(k.value)
                    )
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return [
        {
            "callee": callee,
            "o_args": sorted(other_args),
            "o_kw": sorted([name, count] for name, count in other_kw),
            "unpacked": unpacked[0],
        }
        for callee, (other_args, other_kw, unpacked) in sorted(callees.items())
    ]


_IMPORTS = [
    "import app",
    "import app.utils as u",
    "import app.utils",
    "from app import utils",
    "from app.utils import fmt",
    "from app.utils import fmt as f",
    "from .utils import fmt",
    "from ..core import helpers",
    "from . import helpers",
    "from django.utils.html import format_html",
    "import os",
    "import views",
]
_CALLEES = [
    "fmt",
    "f",
    "u.fmt",
    "utils.fmt",
    "app.utils.fmt",
    "helpers.x.y",
    "format_html",
    "os.path.join",
    "views.page",
    "local",
    "self.render",
    "get()",
    "table[0]",
]
_ARGUMENTS = ["1", "'a'", "NAME", "obj.ATTR", "value", "*rest", "_('t')", "f(x)"]
_KEYWORDS = ["title='t'", "title=value", "size=NAME", "**options", "n=g()"]


@st.composite
def _modules(draw: st.DrawFn) -> str:
    lines = [draw(st.sampled_from(_IMPORTS)) for _ in range(draw(st.integers(0, 3)))]
    body: list[str] = []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            body.append(draw(st.sampled_from(_IMPORTS)))  # met during the walk
        else:
            arguments = draw(st.lists(st.sampled_from(_ARGUMENTS), max_size=3))
            arguments += draw(st.lists(st.sampled_from(_KEYWORDS), max_size=2))
            callee = draw(st.sampled_from(_CALLEES))
            body.append(f"{callee}({', '.join(arguments)})")
    lines.append("def page(self, value, rest, options):")
    lines.extend(f"    {line}" for line in body)
    lines.extend(draw(st.lists(st.sampled_from(body), max_size=2)))
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None)
@given(
    _modules(),
    st.sampled_from(["app/views.py", "app/web/__init__.py", "other/pages.py", "views.py"]),
)
def test_caller_facts_match_resolving_every_call(code: str, path: str) -> None:
    try:
        ast.parse(code)
    except SyntaxError:  # a keyword before `*rest` and the like: not a module
        return
    result = lint_source(code, path, select=["SEC014"])
    assert not result.internal_errors
    assert result.facts is not None
    recorded = result.facts.facts.get("unsafe_html_calls", [])
    assert recorded == _caller_facts_reference(code, path)


# -- SEC001: the shapes at the edge of each early return ---------------------------------------


def _lines(code: str, path: str = "app/service.py") -> list[int]:
    return [f.line for f in findings_for(code, "SEC001", path)]


def test_bytes_literals_still_reach_the_key_sinks() -> None:
    """`visit_Assign` returns early for non-string constants, but bytes are kept: a bytes key
    assigned to `app.secret_key` is a key (`assign_sinks`)."""
    assert _lines('app.secret_key = b"change-me"\n') == [1]
    assert _lines("app.secret_key = 42\nSECRET_KEY = None\n") == []


def test_tuple_unpacking_is_still_checked() -> None:
    assert _lines('user, password = "bob", "Tr0ub4dor&3"\n') == [1]
    assert _lines('password = "bob", "Tr0ub4dor&3"\n') == []


def test_calls_without_literal_keywords_still_reach_env_lookups_and_key_sinks() -> None:
    """`visit_Call` returns early for a call that is neither an environment lookup nor a key
    sink and passes no literal by keyword; those two kinds are still read."""
    code = (
        "import os, jwt\n"
        'KEY = os.getenv("API_KEY", "a8F3k2L9q7Z1x5C0v6B4d7E9")\n'
        'token = jwt.encode(payload, "secret")\n'
        'connect(host, password="Tr0ub4dor&3")\n'
        "connect(host, password=pw)\n"
    )
    assert _lines(code) == [2, 3, 4]


def test_comparisons_with_the_literal_on_either_side() -> None:
    code = 'if password == "hunter2":\n    pass\nif "hunter2" != user.password:\n    pass\n'
    assert _lines(code) == [1, 3]
    assert _lines('if password == other:\n    pass\nif 1 < password < "hunter2":\n    pass\n') == []


def test_keyword_only_defaults_are_checked() -> None:
    assert _lines('def login(user, *, password="S3cure!Pass"):\n    ...\n') == [1]


def test_relaxed_context_is_still_decided_once_something_is_found() -> None:
    """The path's roles (CI, dev/test configuration) are asked lazily: a test settings module
    keeps only service-issued formats."""
    code = 'SECRET_KEY = "k7#q9!vLx2@pR4zT8wYb"\n'
    assert _lines(code, "app/settings.py") == [1]
    assert _lines(code, "app/settings/test.py") == []


def test_non_secret_names_still_report_known_formats() -> None:
    """`_check` skips `secret_for` for names that are not secret-like only when the value is
    in no known format."""
    value = "postgresql://app:" + "Pr0dPassw0rd" + "@db.internal:5432/app"
    assert _lines(f'DATABASE_URL = "{value}"\nconnect(dsn="{value}")\n') == [1, 2]
    assert _lines('label = "k7#q9!vLx2@pR4zT8wYb"\n') == []


# -- SEC010's collectors (headers.SecurityHeaderFacts, headers.DjangoDeployFacts) -------------


@settings(max_examples=300)
@given(
    st.one_of(
        st.text(max_size=_SHORTEST + 2),
        st.binary(max_size=_SHORTEST + 2),
        st.sampled_from(sorted(SECURITY_HEADERS)).map(lambda h: f" {h.upper()}\t"),
    )
)
def test_short_constants_spell_no_header(value: str | bytes) -> None:
    """`visit_Constant` skips constants shorter than the shortest header name."""
    if len(value) < _SHORTEST:
        assert header_name(ast.Constant(value)) is None


_EXPRESSIONS = ["a", "b.c", "a.b.c", "x().y", "x[0].y", "(a or b).c", "f()", "x[0]"]


@settings(max_examples=100)
@given(
    st.sampled_from(_EXPRESSIONS),
    st.dictionaries(st.sampled_from(["a", "b", "x"]), st.sampled_from(["m.Secure", "n", "p.q"])),
)
def test_last_name_is_the_qualified_names_last_part(
    expression: str, aliases: dict[str, str]
) -> None:
    node = ast.parse(expression, mode="eval").body
    imports = ImportMap()
    imports.aliases.update(aliases)
    qualified = imports.qualname(node)
    expected = qualified.rpartition(".")[2] if qualified is not None else None
    assert _last_name(node, imports.aliases) == expected


def _deploy_facts_reference(code: str, path: str) -> list[dict[str, Any]]:
    """`DjangoDeployFacts.visit_Module` as it was: the events of every module first."""
    tree = ast.parse(code)
    named = is_settings_module(path, tree)
    events = settings_events(tree)
    if not named and not any(event[0] == "import" for event in events):
        return []
    if not named and all(event[0] in ("import", "cond_import") for event in events):
        return []
    dev = is_dev_settings_path(path)
    return [{"events": events, "dev": dev, "derived": not named, "line": 1}]


_SETTINGS_LINES = [
    "from .base import *",
    "from base import *",
    "from os import path",
    "DEBUG = False",
    "SECRET_KEY = 'x'",
    "DATABASES = {}",
    "INSTALLED_APPS = []",
    "SECURE_HSTS_SECONDS = 3600",
    "MIDDLEWARE = []",
    "MIDDLEWARE.append('x')",
    "try:\n    from .local import *\nexcept ImportError:\n    pass",
    "if DEBUG:\n    SESSION_COOKIE_SECURE = False",
    "def helper():\n    from .base import *",
    "x: int",
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.sampled_from(_SETTINGS_LINES), max_size=5),
    st.sampled_from(
        ["config/production.py", "app/settings.py", "app/views.py", "site/settings/dev.py"]
    ),
)
def test_deploy_facts_match_reading_every_module(lines: list[str], path: str) -> None:
    code = "\n".join(lines) + "\n"
    try:
        ast.parse(code)
    except SyntaxError:  # `import *` inside a function
        return
    result = lint_source(code, path, select=["SEC010"])
    assert not result.internal_errors
    assert result.facts is not None
    recorded = result.facts.facts.get(DJANGO_DEPLOY_FACTS, [])
    assert recorded == _deploy_facts_reference(code, path)


# -- SEC012: calls passing none of the switches -------------------------------------------------


def test_tls_switches_are_still_read_among_other_keywords() -> None:
    code = (
        "import requests, ssl, urllib3\n"
        "requests.get(url, timeout=5, verify=False)\n"
        "urllib3.PoolManager(num_pools=2, cert_reqs='CERT_NONE')\n"
        "ssl._create_unverified_context()\n"
        "requests.get(url, timeout=5, headers={})\n"
    )
    assert [f.line for f in findings_for(code, "SEC012")] == [2, 3, 4]


# -- SEC007: migrations and scripts are asked for last ------------------------------------------


def test_sql_building_still_skips_migrations_and_scripts() -> None:
    """`_skip_file` is asked just before a report instead of at each SQL call: the files it
    skips stay silent, the others are unchanged."""
    code = (
        "def find(cursor, name):\n    cursor.execute(f\"SELECT * FROM t WHERE name = '{name}'\")\n"
    )
    assert [f.line for f in findings_for(code, "SEC007", "app/db.py")] == [2]
    assert findings_for(code, "SEC007", "app/migrations/0002_fill.py") == []
    assert findings_for("#!/usr/bin/env python\n" + code, "SEC007", "tools/fill.py") == []


# -- SEC014: a module that cannot import flask has no Flask view ---------------------------------

_FLASK_VIEW = (
    "{imports}\napp = Flask(__name__)\n\n@app.route('/hi')\ndef hi():\n"
    "    return '<b>' + request.args['name'] + '</b>'\n"
)


def test_flask_views_are_found_however_flask_is_spelled() -> None:
    """`visit_Return` looks for `flask` in the text before scanning the imports; identifiers
    are NFKC-normalised by the parser, so a non-ASCII spelling still imports flask."""
    for imports in ("from flask import Flask, request", "from \uff46lask import Flask, request"):
        code = _FLASK_VIEW.format(imports=imports)
        assert [f.line for f in findings_for(code, "SEC014", "app/views.py")] == [6], imports
    code = _FLASK_VIEW.format(imports="from quart import Quart as Flask, request")
    assert findings_for(code, "SEC014", "app/views.py") == []


def test_defaults_are_matched_to_their_parameters() -> None:
    """`visit_FunctionDef` reads only literal defaults, by index: each finding still names its
    own parameter, positional-only ones included."""
    code = (
        "def login(user, api_key='a8F3k2L9q7Z1x5C0v6B4', /, mode=MODE, "
        "password='S3cure!Pass', *, token=None, passwd='Tr0ub4dor&3'):\n    ...\n"
    )
    messages = [f.message for f in findings_for(code, "SEC001")]
    assert messages == [
        "hardcoded API key as the default of parameter `api_key`",
        "hardcoded password as the default of parameter `password`",
        "hardcoded password as the default of parameter `passwd`",
    ]
