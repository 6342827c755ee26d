"""Hostile repositories, round two (issue #14, part C): every reproducer of the review, as a
regression test. A scanned tree must never hide findings behind a skipped file (BAS003), never
hang bastion (linear regexes, budgets everywhere), and never get a traceback out of it (a
clear error, exit 2, or a finding naming the file)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli
from bastion.config import Config, ConfigError, load_config, parse_table
from bastion.discovery import SourceFile, gitignore_spec
from bastion.engine import FileAnalyzer, reduce_step
from bastion.registry import Registry, load_registry
from bastion.rule import ProjectRule, Rule
from bastion.secret_formats import known_format, secret_for
from bastion.testing import lint_source

PEM_HEADER = "-----BEGIN " + "PRIVATE KEY-----"  # split: the repository holds no key header
BARE = "try:\n    f()\nexcept:\n    g()\n"


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def check_json(root: Path, *args: str) -> tuple[int, dict[str, list[str]], str]:
    """Exit code, {path: [rule ids]}, stderr of `check --format json --no-cache`."""
    code, out, err = run_cli("check", str(root), "--no-cache", "--format", "json", *args)
    assert "Traceback" not in err, err
    by_path: dict[str, list[str]] = {}
    for finding in json.loads(out)["findings"]:
        by_path.setdefault(finding["path"], []).append(finding["rule"])
    return code, by_path, err


def timed(fn: object, *args: object) -> float:
    start = time.process_time()
    fn(*args)  # type: ignore[operator]
    return time.process_time() - start


# -- 1a. the regexes that backtracked -----------------------------------------------------------


def test_private_key_header_with_spaced_letters_is_linear() -> None:
    """95 bytes of `BEGIN PRIVATE KEY` + `a a a ... !` took the former regex past 20 s."""
    value = PEM_HEADER + "\n" + "a " * 33 + "!"
    assert timed(known_format, value) < 0.5
    big = PEM_HEADER + "\n" + "a " * 25_000 + "!"
    assert timed(known_format, big) < 2
    assert known_format(value) is None


def test_escaped_newline_key_in_one_line_still_found_and_fast() -> None:
    body = "\\n".join(("MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC" + "x" * 0,) * 3)
    text = PEM_HEADER + "\\n" + body + "\\n" + PEM_HEADER.replace("BEGIN", "END")
    found = known_format(text)
    assert found is not None and found.description == "private key"
    # thousands of headers without a body are rejected in linear time
    assert timed(known_format, (PEM_HEADER + " ") * 2_000) < 1


def test_env_value_of_letters_is_linear(tmp_path: Path) -> None:
    """`TOKEN=` + 40 letters + `!` made `_JOINED_WORDS` backtrack exponentially."""
    assert timed(secret_for, "TOKEN", "a" * 40 + "!") < 0.5
    assert timed(secret_for, "TOKEN", "a" * 50_000 + "!") < 2
    (tmp_path / ".env").write_text("TOKEN=" + "a" * 40 + "!\nAUTH=" + "Ab" * 30 + "!\n")
    start = time.perf_counter()
    _, by_path, err = check_json(tmp_path, "--select", "SEC001")
    assert time.perf_counter() - start < 15
    assert "skipped" not in err and "BAS003" not in by_path.get(".env", [])


# -- 1b. the gate: a file not analysed is an error ----------------------------------------------


def test_deep_toml_settings_file_is_a_parse_error(tmp_path: Path) -> None:
    (tmp_path / "settings.toml").write_text("x = " + "[" * 2000 + "]" * 2000 + "\n")
    code, by_path, _ = check_json(tmp_path, "--select", "ALL")
    assert code == 1 and by_path["settings.toml"] == ["BAS001"]


def test_deep_poetry_lock_no_longer_skips_pydantic_modules(tmp_path: Path) -> None:
    """A 1500-deep array in poetry.lock raised inside every Pydantic-importing module's
    analysis: each was skipped, and the run passed."""
    (tmp_path / "poetry.lock").write_text("x = " + "[" * 1500 + "]" * 1500 + "\n")
    (tmp_path / "models.py").write_text(
        "from pydantic import BaseModel\n\nclass M(BaseModel):\n"
        "    class Config:\n        orm_mode = True\n"
    )
    code, by_path, err = check_json(tmp_path, "--select", "ALL")
    assert code == 1
    assert by_path["poetry.lock"] == ["BAS001"]
    assert "ORG004" in by_path["models.py"] and "BAS003" not in by_path["models.py"]
    assert "models.py: skipped" not in err


def _slow_registry(rule_body: object) -> Registry:
    class Hostile(Rule):
        id = "ERR901"
        name = "hostile"
        summary = why = hint = "x"
        visit_Module = rule_body

    return Registry(rules=(*load_registry().rules, Hostile), collectors=())


def test_a_crashing_rule_fails_the_gate_with_bas003(tmp_path: Path) -> None:
    def crash(self: Rule, node: object) -> None:
        raise ValueError("bug")

    config = parse_table({"select": ["ERR"]}, root=tmp_path)
    (tmp_path / "m.py").write_text(BARE)
    result = FileAnalyzer(config, _slow_registry(crash)).analyze(
        SourceFile("m.py", tmp_path / "m.py", "python")
    )
    assert result.internal_errors  # exit 2 ...
    bas003 = [f for f in result.findings if f.rule == "BAS003"]
    assert len(bas003) == 1 and "ERR901 failed on it" in bas003[0].message  # ... and visible


def test_too_deep_analysis_fails_the_gate_with_bas003(tmp_path: Path) -> None:
    def recurse(self: Rule, node: object) -> None:
        raise RecursionError

    config = parse_table({"select": ["ERR"]}, root=tmp_path)
    (tmp_path / "m.py").write_text(BARE)
    result = FileAnalyzer(config, _slow_registry(recurse)).analyze(
        SourceFile("m.py", tmp_path / "m.py", "python")
    )
    assert [(f.rule, f.line) for f in result.findings] == [("BAS003", 1)]
    assert "nested too deeply" in result.findings[0].message


@pytest.mark.parametrize("timeout", [0.002, 0.005, 0.02, 0.05])
def test_a_timeout_inside_the_parser_is_bas003_not_a_crash(tmp_path: Path, timeout: float) -> None:
    """The alarm may fire inside `ast.parse`'s C code, where it comes out as a SystemError
    ("AST constructor recursion depth mismatch"): still a timeout, BAS003."""
    config = parse_table({"file-timeout": timeout}, root=tmp_path)
    source = "def f():\n" + "    x = [a.b(c, {'d': e}) for e in g if e]\n" * 12_000
    result = FileAnalyzer(config).analyze_data(
        SourceFile("m.py", tmp_path / "m.py", "python"), source.encode()
    )
    assert [f.rule for f in result.findings] == ["BAS003"], result.findings[:3]


def test_an_unreadable_file_fails_the_gate_with_bas003(tmp_path: Path) -> None:
    config = parse_table({}, root=tmp_path)
    result = FileAnalyzer(config).analyze(SourceFile("gone.py", tmp_path / "gone.py", "python"))
    assert [f.rule for f in result.findings] == ["BAS003"]
    assert "cannot read" in result.findings[0].message


def test_bas003_is_on_whatever_select_says_and_off_only_by_name(tmp_path: Path) -> None:
    (tmp_path / "big.py").write_text("x = 1\n" * 200_000)  # 1.2 MB: over Python's 1 MiB
    code, by_path, err = check_json(tmp_path, "--select", "SEC001")
    assert code == 1 and by_path == {"big.py": ["BAS003"]}
    assert "over the 1,048,576-byte limit" in err
    code, by_path, _ = check_json(tmp_path, "--select", "SEC001", "--ignore", "BAS003")
    assert code == 0 and by_path == {}
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bastion]\nper-file-ignores = { "big.py" = ["file-not-analysed"] }\n'
    )
    code, by_path, _ = check_json(tmp_path, "--select", "SEC001")
    assert code == 0 and by_path == {}


def test_an_explicit_max_file_bytes_applies_to_python_too(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bastion]\nmax-file-bytes = 4000000\n")
    (tmp_path / "big.py").write_text("x = 1\n" * 200_000)
    code, by_path, _ = check_json(tmp_path, "--select", "SEC001")
    assert code == 0 and by_path == {}


# -- 2. budgets ---------------------------------------------------------------------------------


def test_fix_honours_max_file_bytes(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bastion]\nmax-file-bytes = 100\n")
    code_text = BARE + "# padding to pass one hundred bytes " * 5 + "\n"
    (tmp_path / "m.py").write_text(code_text)
    code, _, err = run_cli("fix", str(tmp_path), "--select", "ERR001", "--unsafe-fixes")
    assert (tmp_path / "m.py").read_text() == code_text
    assert "m.py: not fixed:" in err and "over the 100-byte limit" in err
    assert code == 1  # the check after the fix: BAS003


def test_fix_honours_file_timeout(tmp_path: Path) -> None:
    from bastion.fixer import fix_paths

    source = "".join(f"try:\n    f{i}()\nexcept:\n    g()\n" for i in range(3000))
    (tmp_path / "m.py").write_text(source)
    config = parse_table({"file-timeout": 0.01, "select": ["ERR001"]}, root=tmp_path)
    run = fix_paths([tmp_path], config, unsafe=True)
    assert run.changed == [], run.notices
    assert any("not fixed: fixing took longer than 0.01s" in n for n in run.notices), run.notices


@pytest.mark.parametrize("fmt", ["text", "html", "sarif", "json", "github"])
def test_reports_render_fast_on_the_redos_comment(tmp_path: Path, fmt: str) -> None:
    """Code frames ask `known_format` about each line shown: the ReDoS comment hung HTML and
    terminal output."""
    comment = "# " + PEM_HEADER + "\\n" + "a " * 5000 + "!"
    (tmp_path / "m.py").write_text(f"try:\n    f()\nexcept:  {comment}\n    g()\n")
    start = time.perf_counter()
    code, _, err = run_cli("check", str(tmp_path), "--no-cache", "--format", fmt)
    assert time.perf_counter() - start < 20 and code == 1, err


def test_a_slow_project_rule_is_an_error_not_a_hang(tmp_path: Path) -> None:
    class Slow(ProjectRule):
        id = "ERR902"
        name = "slow-project"
        summary = why = hint = "x"

        def check_project(self) -> None:
            time.sleep(3)

    registry = Registry(rules=(*load_registry().rules, Slow), collectors=())
    config = Config(root=tmp_path, select=("ERR902",), file_timeout=0.02)
    analyzer = FileAnalyzer(config, registry)
    start = time.perf_counter()
    _, _, errors = reduce_step(analyzer, [], [], project_rules=True)
    assert time.perf_counter() - start < 2
    assert errors == [
        "project rule ERR902 took longer than 0.2s (ten times `file-timeout`; raise "
        "`file-timeout` in [tool.bastion] to allow more)"
    ]


def test_discovery_runs_within_its_budget(tmp_path: Path) -> None:
    """Discovery gets ten times `file-timeout`; running out is an error (exit 2), not a pass
    over the files found so far."""
    from bastion.engine import run

    for index in range(3000):
        (tmp_path / f"m{index}.py").write_text("x = 1\n")
    config = Config(root=tmp_path, file_timeout=0.00001)
    result = run([tmp_path], config)
    assert result.findings == [] and result.files == [], result.internal_errors
    assert result.internal_errors == [
        "discovering the files took longer than 0.0001s (ten times `file-timeout`; raise "
        "`file-timeout` in [tool.bastion] to allow more)"
    ]
    assert result.exit_code(config) == 2


def test_star_runs_in_gitignore_patterns_are_linear(tmp_path: Path) -> None:
    """`****************x` in a .gitignore hung discovery (pathspec: one `[^/]*` per star)."""
    spec = gitignore_spec(["*" * 16 + "x"])
    assert timed(spec.match_file, "a" * 10_000) < 0.5
    (tmp_path / ".gitignore").write_text("*" * 16 + "x\n")
    (tmp_path / "deep" / ("a" * 40)).mkdir(parents=True)
    (tmp_path / "deep" / ("a" * 40) / ("b" * 60 + ".py")).write_text(BARE)
    start = time.perf_counter()
    code, by_path, _ = check_json(tmp_path, "--select", "ERR001")
    assert time.perf_counter() - start < 15 and code == 1
    assert by_path == {"deep/" + "a" * 40 + "/" + "b" * 60 + ".py": ["ERR001"]}


def test_a_hostile_cors_origin_regex_is_probed_within_a_cpu_budget() -> None:
    from rules.security.cors import is_match_all_regex

    start = time.perf_counter()
    assert not is_match_all_regex(r"(.*.*)*x", full=True)  # catastrophic on every probe
    assert time.perf_counter() - start < 10
    assert is_match_all_regex(r"^(.|.)*$", full=True)  # accepts all: returns at once


# -- 3. a clear error instead of a traceback ----------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("file-timeout = inf", "tool.bastion.file-timeout: expected a positive number"),
        ("file-timeout = nan", "tool.bastion.file-timeout: expected a positive number"),
        ("max-file-bytes = nan", "tool.bastion.max-file-bytes: expected a positive number"),
        ("max-file-bytes = inf", "tool.bastion.max-file-bytes: expected a positive number"),
        ("file-timeout = 1e300", "tool.bastion.file-timeout: expected a positive number"),
        ('extend-exclude = ["\\\\"]', "tool.bastion.extend-exclude: invalid pattern '\\\\'"),
        ('test-paths = ["[z-a]"]', "tool.bastion.test-paths: invalid pattern '[z-a]'"),
        ('script-paths = ["[z-a]"]', "tool.bastion.script-paths: invalid pattern '[z-a]'"),
        ('exclude = ["[z-a]"]', "tool.bastion.exclude: invalid pattern '[z-a]'"),
        (
            'per-file-ignores = { "[z-a]" = ["ERR001"] }',
            "tool.bastion.per-file-ignores.\"[z-a]\": invalid pattern '[z-a]'",
        ),
        (
            'rules.DEP001.vuln-db = "/"',
            "tool.bastion.rules.DEP001.vuln-db: '/' is outside the project root",
        ),
        (
            'rules.DEP001.vuln-db = "../elsewhere"',
            "tool.bastion.rules.DEP001.vuln-db: '../elsewhere' is outside the project root",
        ),
        ("x = " + "9" * 5000, "invalid TOML: Exceeds the limit"),
        ("x = " + "[" * 5000 + "]" * 5000, "invalid TOML: nested too deeply to read"),
        ("a" + ".a" * 600 + " = 1", "a dotted key of 512 parts or more"),
    ],
)
def test_config_values_that_crashed_are_usage_errors(
    tmp_path: Path, setting: str, message: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(f"[tool.bastion]\n{setting}\n")
    (tmp_path / "a.py").write_text("x = 1\n")
    code, _, err = run_cli("check", str(tmp_path), "--no-cache")
    assert code == 2 and message in err, err
    assert "Traceback" not in err and "internal error" not in err


def test_config_vuln_db_inside_the_root_is_fine_and_cli_paths_are_the_users(
    tmp_path: Path,
) -> None:
    (tmp_path / "db").mkdir()
    config = parse_table({"rules": {"DEP001": {"vuln-db": "db"}}}, root=tmp_path)
    assert config.rule_options["DEP001"]["vuln-db"] == "db"
    with pytest.raises(ConfigError, match="outside the project root"):
        parse_table({"rules": {"DEP001": {"vuln-db": str(tmp_path.parent)}}}, root=tmp_path)
    (tmp_path / "db" / "link").symlink_to(tmp_path.parent)
    with pytest.raises(ConfigError, match="outside the project root"):
        parse_table({"rules": {"DEP001": {"vuln-db": "db/link"}}}, root=tmp_path)


def test_cli_extend_exclude_pattern_is_validated(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    code, _, err = run_cli("check", str(tmp_path), "--extend-exclude", "[z-a]")
    assert code == 2 and "--extend-exclude: invalid pattern '[z-a]'" in err


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("settings.yaml", "debug: true\nx: 2023-02-30\n", "invalid YAML: a value its loader"),
        ("settings.yaml", "x: " + "9" * 5000 + "\n", "invalid YAML: a value its loader"),
        ("config.yml", "2023-02-30: x\n", "invalid YAML: a value its loader"),
        ("settings.toml", "x = " + "9" * 5000 + "\n", "invalid TOML: Exceeds the limit"),
        ("settings.toml", "a" + ".a" * 2000 + " = 1\n", "a dotted key of 512 parts"),
        ("settings.toml", "[a" + ".a" * 2000 + "]\n", "a dotted key of 512 parts"),
        ("uv.lock", "x = " + "9" * 5000 + "\n", "invalid TOML"),
        ("poetry.lock", "a" + ".a" * 2000 + " = 1\n", "a dotted key of 512 parts"),
        ("Pipfile.lock", '{"a": ' * 5000 + "1" + "}" * 5000, "nested too deeply"),
    ],
)
def test_tree_files_the_loader_rejects_are_parse_errors(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    (tmp_path / name).write_text(text)
    code, out, err = run_cli("check", str(tmp_path), "--no-cache", "--format", "json")
    assert "Traceback" not in err
    findings = json.loads(out)["findings"]
    assert code == 1 and [f["rule"] for f in findings] == ["BAS001"], findings
    assert message in findings[0]["message"]


def test_deep_or_huge_pyproject_without_bastion_table_is_a_usage_error(tmp_path: Path) -> None:
    """The project's own pyproject.toml is read for the config first: exit 2, named."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "a"\nx = ' + "[" * 5000 + "]" * 5000 + "\n"
    )
    code, _, err = run_cli("check", str(tmp_path), "--no-cache")
    assert code == 2 and "pyproject.toml: invalid TOML: nested too deeply" in err


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ("[1, 2]", "not an OSV record: the record is a int"),
        ('{"affected": [1]}', "an `affected` entry is a int"),
        ('{"affected": [{"package": {"ecosystem": "PyPI"}, "versions": 5}]}', "versions is a"),
        ('{"affected": [{"ranges": [{"events": [1]}]}]}', "a range event is a int"),
        ('{"affected": [{"ranges": [{"events": [{"fixed": {}}]}]}]}', "event's version"),
        ('{"aliases": "CVE-1"}', "aliases is a str"),
        ("[" * 100_000 + "]" * 100_000, "cannot read OSV record: RecursionError"),
    ],
)
def test_malformed_osv_records_are_audit_errors(tmp_path: Path, record: str, message: str) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "a.json").write_text(record)
    (tmp_path / "requirements.txt").write_text("django==3.2.0\n")
    code, _, err = run_cli("audit-deps", str(tmp_path), "--vuln-db", str(tmp_path / "db"))
    assert code == 2 and message in err, err
    assert "Traceback" not in err


def test_osv_database_walk_skips_fifos_and_links_out(tmp_path: Path) -> None:
    import os

    from bastion.analysis.audit import OsvDatabase

    (tmp_path / "db").mkdir()
    os.mkfifo(tmp_path / "db" / "fifo.json")  # reading it would block for ever
    (tmp_path / "secret.json").write_text('{"id": "OUTSIDE", "affected": []}')
    (tmp_path / "db" / "out.json").symlink_to(tmp_path / "secret.json")
    (tmp_path / "db" / "loop").symlink_to(tmp_path / "db")
    database = OsvDatabase(tmp_path / "db")
    assert database.errors == [] and database.by_package == {}


def test_write_docs_to_an_impossible_folder_is_a_usage_error() -> None:
    code, _, err = run_cli("rules", "--write-docs", "/proc/nope")
    assert code == 2 and "--write-docs /proc/nope" in err


def test_load_config_from_a_tree_config_never_raises_outside_config_error(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.bastion]\nx = '\xff'\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config([tmp_path])


# -- 4. siblings ------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["undefined", "rot13", "zlib_codec", "mbcs"])
def test_pep263_cookies_naming_odd_codecs_are_parse_errors(codec: str) -> None:
    """`# coding: undefined` raised UnicodeError (not a UnicodeDecodeError): a traceback."""
    result = lint_source(f"# coding: {codec}\nx = 1\n+AGE-\n".encode(), "m.py", select=["BAS"])
    assert [f.rule for f in result.findings] == ["BAS001"]


def test_dockerfile_exec_form_nested_too_deep_is_not_a_crash() -> None:
    result = lint_source("FROM python:3.12\nCMD " + "[" * 5000 + "\n", "Dockerfile")
    assert not result.internal_errors
    assert not [f for f in result.findings if f.rule == "BAS003"]


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("setup.cfg", "[s]\n" + "a" + " " * 50_000 + "\n"),  # INI option names
        ("settings.toml", "[" + " " * 50_000 + "\n"),  # TOML table headers
        ("settings.toml", "k" * 50_000 + " v = 1\n"),  # TOML key lines
        ("m.py", "\n" * 200_000 + "def f(:\n"),  # the newer-syntax hint on a syntax error
        ("m.py", 'x = "' + "%(" * 20_000 + '" % {"a": 1}\n'),  # %-format specs
        ("m.py", '@app.get("' + "{a:" * 20_000 + '")\ndef f(): pass\n'),  # route params
        ("m.py", 'x = "' + "${" * 20_000 + '"\npassword = x\n'),  # secret placeholders
    ],
)
def test_formerly_quadratic_patterns_finish_fast(path: str, text: str) -> None:
    start = time.process_time()
    result = lint_source(text, path, select=["ALL"])
    assert time.process_time() - start < 5, path
    assert not result.internal_errors


def test_open_suppression_lists_on_one_line_are_linear() -> None:
    """`# bastion: ignore[` repeated with no `]`: the id list scanned the rest of the line from
    every directive."""
    from bastion.suppression import parse_suppressions

    line = "x = 1  " + "# bastion: ignore[" * 20_000
    assert timed(parse_suppressions, [line]) < 1
    assert len(parse_suppressions([line]).directives) == 20_000


def test_an_env_file_that_looks_like_everything_is_fast(tmp_path: Path) -> None:
    lines = [
        "A=" + "a" * 5000 + "!",
        "SECRET_KEY=" + "${" * 3000,
        "DB_URL=postgres://" + "a:" * 3000,
        "PASSWORD=" + "{{" * 3000,
        "KEY=" + PEM_HEADER + "\\n" + "a " * 3000 + "!",
    ]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    start = time.process_time()
    check_json(tmp_path, "--select", "SEC001")
    assert time.process_time() - start < 10


def test_config_pattern_star_runs_are_linear() -> None:
    config = Config(root=Path("."), extend_exclude=("*" * 20 + "x",))
    spec = config.exclude_spec()
    assert timed(spec.match_file, "a" * 10_000) < 0.5
