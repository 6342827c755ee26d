"""Every Python a project uses: files whose syntax needs a newer Python than the one bastion
runs on are named with that Python, `target-version` says so before the findings, and the
results do not depend on the interpreter (f-string tokens, t-strings, `except*`).

CI runs this file on the machine's Python and on the newest CPython Debian packages
(`.ci/newest-python`): the version-conditional tests below run on one side or the other."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli
from bastion.config import ConfigError, parse_table
from bastion.syntax_version import (
    SUPPORTED_TARGETS,
    constructs,
    newer_syntax,
    requires_python_floor,
    running,
)
from bastion.testing import lint_source

FIXTURES = Path(__file__).parent.parent / "fixtures" / "newer_syntax"
FILES = sorted(FIXTURES.glob("py3*.py"))


def needed(path: Path) -> tuple[int, int]:
    """`py314_template_string.py` -> (3, 14): each fixture is named with the Python it needs."""
    found = re.match(r"py3(\d+)_", path.name)
    assert found, path
    return (3, int(found.group(1)))


def test_every_newer_construct_has_a_fixture() -> None:
    assert {needed(p) for p in FILES} == {v for v in SUPPORTED_TARGETS if v > (3, 10)}
    assert len(FILES) >= 9


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_fixture_parses_here_or_names_the_python_it_needs(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    version = needed(path)
    result = lint_source(text, path.name)
    parse_errors = [f for f in result.findings if f.rule == "BAS001"]
    if running() >= version:
        ast.parse(text)  # this interpreter reads it: so must bastion
        assert parse_errors == []
    else:
        with pytest.raises(SyntaxError):
            ast.parse(text)
        [finding] = parse_errors
        assert f"needs Python {version[0]}.{version[1]}" in finding.message
        assert f"bastion runs on Python {running()[0]}.{running()[1]}" in finding.message
        assert f"--python {version[0]}.{version[1]}" in finding.fix_hint
        assert "language_version" in finding.fix_hint and "setup-python" in finding.fix_hint


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_constructs_are_found_the_same_on_every_python(path: Path) -> None:
    """The detector reads tokens (and f-string text) that every tokenizer from 3.10 on
    produces, so it finds the fixture's construct whatever runs it."""
    found = constructs(path.read_text(encoding="utf-8"))
    assert max(c.version for c in found) == needed(path)


@pytest.mark.parametrize(
    ("code", "version"),
    [
        ("try:\n    f()\nexcept A, B:\n    pass\n", (3, 14)),
        ("try:\n    f()\nexcept (A, B):\n    pass\n", None),
        ("try:\n    f()\nexcept (A, B) as e:\n    pass\n", None),
        ("try:\n    f()\nexcept* A:\n    pass\n", (3, 11)),
        ("x: tuple[int, *Ts]\n", (3, 11)),
        ("x = [*a, *b]\nf(*args)\ny = a[1:2]\n", None),
        ("type X = int\n", (3, 12)),
        ("type = 5\nprint(type(x), type)\n", None),
        ("def f[T](x: T) -> T:\n    return x\n", (3, 12)),
        ("class C[T = int]:\n    pass\n", (3, 13)),
        ("def f(x=[1]):\n    return x[0]\n", None),
        ('f"{x["a"]}"\n', (3, 12)),
        ("f\"{x['a']}\"\n", None),
        ('f"""{x["a"]}"""\n', None),
        ("f'{a!r:>{width}}'\n", None),
        ("f\"{'-'.join(x)}\"\n", None),
        ("f\"{'\\n'.join(x)}\"\n", (3, 12)),
        ('f"""{x  # a comment\n}"""\n', (3, 12)),
        ('rf"\\{x}"\n', None),
        ('t"hello {name}"\n', (3, 14)),
        ('t = "x"\nprint(t)\n', None),
        ("lazy import json\n", (3, 15)),
        ("lazy from a import b\n", (3, 15)),
        ("lazy = 1\nlazy(x)\n", None),
    ],
)
def test_construct_detection(code: str, version: tuple[int, int] | None) -> None:
    found = constructs(code)
    assert (max(c.version for c in found) if found else None) == version


def test_a_real_syntax_error_is_not_blamed_on_a_newer_python() -> None:
    assert newer_syntax("def f(:\n    pass\n", 1) is None
    # a construct this Python lacks, but the error is elsewhere: not the reason
    code = "lazy import json\n\n\ndef f(:\n    pass\n"
    assert newer_syntax(code, 4) is None
    if running() < (3, 15):
        explained = newer_syntax(code, 1)
        assert explained is not None and explained.version == (3, 15)
    assert "needs Python" not in lint_source("def f(:\n    pass\n", "m.py").findings[0].message


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="3.12 reads PEP 695 and PEP 701")
def test_the_newest_python_a_file_needs_is_named_with_the_first_error() -> None:
    code = "type UserId = int\n\ntry:\n    pass\nexcept ValueError, KeyError:\n    pass\n"
    [finding] = lint_source(code, "m.py").findings
    assert finding.line == 1 and "needs Python 3.14" in finding.message
    assert "line 1 uses a `type` statement" in finding.message
    assert "line 5 uses `except A, B:` without parentheses" in finding.message


# -- target-version ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "floor"),
    [
        (">=3.12", (3, 12)),
        (">=3.10,<4", (3, 10)),
        ("~=3.11.2", (3, 11)),
        ("==3.13.*", (3, 13)),
        (">3.9", (3, 9)),
        ("<4", None),
        ("not a spec", None),
    ],
)
def test_requires_python_floor(spec: str, floor: tuple[int, int] | None) -> None:
    assert requires_python_floor(spec) == floor


def test_target_version_key_and_requires_python_default(tmp_path: Path) -> None:
    config = parse_table({"target-version": "py314"}, root=tmp_path)
    assert (config.target_version, config.target_origin) == ((3, 14), "target-version")
    with pytest.raises(ConfigError, match="target-version: expected one of py310"):
        parse_table({"target-version": "py39"}, root=tmp_path)
    assert parse_table({}, root=tmp_path).target_version is None
    (tmp_path / "pyproject.toml").write_text('[project]\nrequires-python = ">=3.13"\n')
    config = parse_table({}, root=tmp_path)
    assert config.target_version == (3, 13)
    assert config.target_origin == "requires-python >=3.13"


def _project(tmp_path: Path, target: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "p"\nrequires-python = ">=3.10"\n\n[tool.bastion]\n'
        f'target-version = "{target}"\nselect = ["ERR", "BAS"]\n'
    )
    (tmp_path / "app.py").write_text("try:\n    run()\nexcept:\n    pass\n")
    return tmp_path


@pytest.mark.skipif(running() >= SUPPORTED_TARGETS[-1], reason="no newer target to set")
def test_a_newer_target_is_said_once_before_the_findings(tmp_path: Path) -> None:
    newest = SUPPORTED_TARGETS[-1]
    root = _project(tmp_path, f"py{newest[0]}{newest[1]}")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the real order of stdout and stderr
    done = subprocess.run(
        [sys.executable, "-m", "bastion", "check", str(root), "--no-cache", "--no-color"],
        capture_output=False,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        check=False,
    )
    lines = done.stdout.splitlines()
    notice = [i for i, line in enumerate(lines) if "the project targets Python" in line]
    finding = [i for i, line in enumerate(lines) if " ERR001 " in line]
    assert len(notice) == 1 and finding and notice[0] < finding[0], done.stdout
    assert f"--python {newest[0]}.{newest[1]}" in lines[notice[0]]
    assert "language_version" in lines[notice[0]] and "setup-python" in lines[notice[0]]
    # and in the machine-readable report's notices
    result = CliRunner().invoke(cli, ["check", str(root), "--no-cache", "--format", "json"])
    assert "the project targets Python" in json.loads(result.stdout)["notices"][0]


def test_no_notice_for_a_target_this_python_reads(tmp_path: Path) -> None:
    root = _project(tmp_path, "py310")
    result = CliRunner().invoke(cli, ["check", str(root), "--no-cache", "--format", "json"])
    assert not any("targets Python" in n for n in json.loads(result.stdout)["notices"])


# -- no silent gaps ----------------------------------------------------------------------------


def test_a_file_not_analysed_fails_the_gate_and_is_counted(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["BAS"]\n')
    (tmp_path / "ok.py").write_text("x = 1\n")
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n")
    result = CliRunner().invoke(cli, ["check", str(tmp_path), "--no-cache", "--no-color"])
    assert result.exit_code == 1  # a gate must not pass on code it could not read
    assert "broken.py:1:12 BAS001 syntax error" in result.stdout
    assert result.stdout.rstrip().endswith("1 file not analysed.")


def test_a_parse_error_is_named_even_when_bas001_is_not_selected(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR"]\n')
    (tmp_path / "broken.py").write_text("def broken(:\n    pass\n")
    result = CliRunner().invoke(cli, ["check", str(tmp_path), "--no-cache", "--format", "json"])
    notices = json.loads(result.stdout)["notices"]
    assert any(n.startswith("broken.py:1:12: not analysed: syntax error") for n in notices)


# -- same results on every Python --------------------------------------------------------------

_LOG = "import logging\nlogger = logging.getLogger(__name__)\n\ndef f(user, x):\n"


@pytest.mark.parametrize(
    ("call", "fixable"),
    [
        ("logger.info(f'user {user.id} logged in')", True),
        ("logger.info(f\"user {user['id']} logged in\")", True),  # a string inside the field
        ("logger.info(f'user {user.id} ' 'logged in')", False),  # two literals side by side
        ("logger.info(f'user {user.id} ' f'logged in {x}')", False),
    ],
)
def test_log002_fix_on_f_strings_does_not_depend_on_the_tokenizer(call: str, fixable: bool) -> None:
    """Since 3.12 an f-string is FSTRING_START ... FSTRING_END, not one STRING token: the fix
    must fire (or not) exactly as before."""
    [finding] = lint_source(_LOG + f"    {call}\n", select=["LOG002"]).findings
    assert finding.fixable is fixable


@pytest.mark.skipif(sys.version_info < (3, 14), reason="t-strings are Python 3.14 syntax")
def test_a_t_string_handed_to_execute_is_no_sql_injection_an_f_string_inside_one_is() -> None:
    code = (
        "import sqlite3\n\n"
        "def safe(conn: sqlite3.Connection, name: str):\n"
        '    return conn.execute(t"SELECT * FROM users WHERE name = {name}")\n\n'
        "def unsafe(conn: sqlite3.Connection, name: str):\n"
        "    return conn.execute(t\"SELECT * FROM users WHERE {f'name = {name}'}\")\n\n"
        "def by_name(conn: sqlite3.Connection, name: str):\n"
        '    query = t"SELECT * FROM users WHERE name = {name}"\n'
        "    return conn.execute(query)\n"
    )
    findings = lint_source(code, "q.py", select=["SEC007"]).findings
    assert [(f.rule, f.line) for f in findings] == [("SEC007", 7)]
    assert "formatted into a t-string" in findings[0].message


@pytest.mark.skipif(sys.version_info < (3, 11), reason="`except*` is Python 3.11 syntax")
def test_except_star_blocks_are_read_like_try_blocks() -> None:
    from bastion.imports import ImportMap

    tree = ast.parse("try:\n    import ujson as json\nexcept* ImportError:\n    import json\n")
    imports = ImportMap("m")
    imports.collect_top_level(tree)
    assert imports.aliases.get("json") in ("ujson", "json")
    # a finding on an `except*` statement points at its header, as for `try`
    code = "def f():\n    try:\n        run()\n    except* Exception:\n        pass\n"
    for finding in lint_source(code, select=["ERR"]).findings:
        assert finding.end_line == finding.line


def test_the_cache_is_not_shared_between_interpreters() -> None:
    """Two Pythons parse differently (see the fixtures): a cached result or a recorded report
    is only reused by the interpreter that made it, so their keys name the running one."""
    from bastion.cache import code_stamp

    assert code_stamp() == code_stamp(sys.version)
    assert code_stamp() != code_stamp("3.99.0 (another interpreter)")


@pytest.mark.skipif(sys.version_info < (3, 14), reason="t-strings are Python 3.14 syntax")
def test_t_string_fragments_are_read_like_f_string_fragments() -> None:
    """SEC001 leaves the literal parts of an f-string alone (a fragment is not a password);
    the same text in a t-string gets the same answer."""
    template = 'URL = {}"postgres://admin:s3cr3tPassw0rd@db.example.com:5432/{{name}}"\n'
    found = {
        prefix: [f.rule for f in lint_source(template.format(prefix), "settings.py").findings]
        for prefix in ("f", "t")
    }
    assert found["t"] == found["f"]
