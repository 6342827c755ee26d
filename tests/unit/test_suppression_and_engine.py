from __future__ import annotations

from pathlib import Path

from bastion.config import Config
from bastion.findings import assign_fingerprints
from bastion.imports import ImportMap
from bastion.testing import lint_source

BARE = "try:\n    f()\nexcept:\n    g()\n"


def rules_at(
    code: str, path: str = "m.py", select: tuple[str, ...] = ("ERR", "BAS")
) -> list[tuple[str, int]]:
    result = lint_source(code, path, select=list(select))
    assert not result.internal_errors
    return sorted((f.rule, f.line) for f in result.findings)


def test_inline_suppression_on_the_line() -> None:
    code = "try:\n    f()\nexcept:  # bastion: ignore[ERR001] legacy loop\n    g()\n"
    result = lint_source(code, "m.py", select=["ERR001", "BAS"])
    assert result.findings == []
    assert [(f.rule, f.suppressed_by) for f in result.suppressed] == [("ERR001", "legacy loop")]


def test_suppression_on_the_line_above_and_on_statement_start() -> None:
    above = "try:\n    f()\n# bastion: ignore[ERR001] reason\nexcept:\n    g()\n"
    assert rules_at(above) == []
    multi = "x = call(  # bastion: ignore[ERR002] reason\n    1,\n)\n"
    assert rules_at(multi) == []


def test_suppression_of_another_rule_does_not_silence() -> None:
    code = "try:\n    f()\nexcept:  # bastion: ignore[ERR002] wrong id\n    g()\n"
    assert rules_at(code) == [("ERR001", 3)]


def test_file_level_suppression() -> None:
    code = "# bastion: ignore-file[ERR001]\n" + BARE
    assert rules_at(code) == []


def test_unknown_or_missing_ids_are_reported() -> None:
    assert rules_at("x = 1  # bastion: ignore[ERR999]\n") == [("BAS002", 1)]
    assert rules_at("x = 1  # bastion: ignore\n") == [("BAS002", 1)]
    assert rules_at("x = 1  # bastion: ignore[ERR001, ERR002] ok\n") == []


def test_parse_error_is_a_finding_not_a_crash() -> None:
    result = lint_source("def f(:\n", "m.py")
    assert [(f.rule, f.line) for f in result.findings] == [("BAS001", 1)]
    assert "syntax error" in result.findings[0].message


def test_newer_syntax_is_explained() -> None:
    result = lint_source("type Point = tuple[float, float]\n", "m.py")
    import sys

    if sys.version_info < (3, 12):
        assert "needs Python 3.12" in result.findings[0].message
    else:
        assert result.findings == []


def test_bad_encodings_and_nul_bytes() -> None:
    latin = "# -*- coding: latin-1 -*-\ns = 'caf\xe9'\ntry:\n    f()\nexcept:\n    g()\n"
    assert rules_at(latin.encode("latin-1")) == [("ERR001", 5)]  # type: ignore[arg-type]
    bad_utf8 = b"s = '\xff\xfe'\n"
    result = lint_source(bad_utf8, "m.py")
    assert [f.rule for f in result.findings] == ["BAS001"]
    assert "decode" in result.findings[0].message
    result = lint_source(b"x = 1\x00\n", "m.py")
    assert [f.rule for f in result.findings] == ["BAS001"]
    bad_cookie = b"# -*- coding: klingon -*-\nx = 1\n"
    assert [f.rule for f in lint_source(bad_cookie, "m.py").findings] == ["BAS001"]


def test_columns_are_characters_not_bytes() -> None:
    code = "s = 'é'; x = 1\ntry:\n    f()\nexcept:\n    g()\n"
    result = lint_source(
        "é = 1\n" + "if é:\n    try:\n        f()\n    except:\n        g()\n", "m.py"
    )
    finding = next(f for f in result.findings if f.rule == "ERR001")
    assert (finding.line, finding.column) == (5, 5)
    assert code  # the first snippet documents the case; both must parse


def test_fingerprint_survives_lines_added_above() -> None:
    before = lint_source(BARE, "m.py", select=["ERR001"]).findings
    after = lint_source("import os\n\n\n" + BARE, "m.py", select=["ERR001"]).findings
    fp_before = assign_fingerprints(before)[0].fingerprint
    fp_after = assign_fingerprints(after)[0].fingerprint
    assert before[0].line != after[0].line
    assert fp_before == fp_after


def test_identical_lines_get_distinct_fingerprints() -> None:
    code = BARE + BARE
    findings = assign_fingerprints(lint_source(code, "m.py", select=["ERR001"]).findings)
    assert len({f.fingerprint for f in findings}) == 2


def test_rule_crash_is_reported_not_raised() -> None:
    import ast

    from bastion.discovery import SourceFile
    from bastion.engine import FileAnalyzer, FileResult
    from bastion.registry import Registry, load_registry
    from bastion.rule import Rule

    class Crashy(Rule):
        id = "ERR900"
        name = "crashy"
        summary = why = hint = "x"

        def visit_Name(self, node: ast.Name) -> None:
            raise ZeroDivisionError("boom")

    real = load_registry()
    registry = Registry(rules=(*real.rules, Crashy), collectors=())
    analyzer = FileAnalyzer(Config(root=Path("."), select=("ERR",)), registry)
    result = FileResult()
    analyzer.analyze_bytes(SourceFile("m.py", Path("m.py"), "python"), BARE.encode(), result)
    assert result.internal_errors == ["internal error in ERR900 at m.py:2: ZeroDivisionError: boom"]
    # the other rules still ran
    assert [f.rule for f in result.findings] == ["ERR001"]


def test_import_map_resolves_aliases() -> None:
    import ast

    tree = ast.parse(
        "import fastapi\n"
        "from fastapi.middleware.cors import CORSMiddleware as C\n"
        "from fastapi.middleware import cors\n"
        "import a.b.c\n"
        "from . import sibling\n"
        "app = fastapi.FastAPI()\n"
    )
    imports = ImportMap()
    imports.collect_top_level(tree)
    q = lambda src: imports.qualname(ast.parse(src, mode="eval").body)  # noqa: E731
    assert q("C") == "fastapi.middleware.cors.CORSMiddleware"
    assert q("cors.CORSMiddleware") == "fastapi.middleware.cors.CORSMiddleware"
    assert q("fastapi.FastAPI") == "fastapi.FastAPI"
    assert q("a.b.c.d") == "a.b.c.d"
    assert q("sibling.x") == ".sibling.x"
    assert q("print") == "print"
    assert q("f()") is None
    assert imports.instances["app"] == "fastapi.FastAPI"
    assert imports.is_imported("fastapi")
    assert not imports.is_imported("flask")
    # answers are remembered, and forgotten when the walk meets an import inside a function
    imports.add_import(ast.parse("from flask import Flask").body[0])  # type: ignore[arg-type]
    assert imports.is_imported("flask")
    assert not imports.is_imported("flask_cors")


def test_config_root_is_used_for_relative_paths(tmp_path: Path) -> None:
    from bastion.engine import run

    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(BARE)
    result = run([tmp_path], Config(root=tmp_path))
    assert [(f.path, f.rule) for f in result.findings] == [("pkg/m.py", "ERR001")]


def test_project_findings_honour_inline_suppressions(tmp_path: Path) -> None:
    from bastion.engine import run

    app = (
        "from fastapi import FastAPI\n\napp = FastAPI()  # bastion: ignore[LOG004] behind a mesh\n"
    )
    (tmp_path / "main.py").write_text(app)
    result = run([tmp_path], Config(root=tmp_path, select=("LOG004", "ERR007")))
    assert [f.rule for f in result.findings] == ["ERR007"]
    assert [(f.rule, f.suppressed_by) for f in result.suppressed] == [("LOG004", "behind a mesh")]


def test_directives_in_strings_and_docstrings_are_not_directives() -> None:
    code = (
        '"""Write `# bastion: ignore[ERR001] reason` to silence a finding."""\n'
        'HELP = "# bastion: ignore"\n'
        "try:\n    f()\nexcept:  # bastion: ignore[ERR001] real comment\n    g()\n"
    )
    result = lint_source(code, "m.py", select=["ERR001", "BAS"])
    assert result.findings == []  # no BAS002 for the quoted ones; the real one silences
    assert [f.rule for f in result.suppressed] == ["ERR001"]
    quoted_only = 'X = "# bastion: ignore[ERR001]"\ntry:\n    f()\nexcept:\n    g()\n'
    assert [f.rule for f in lint_source(quoted_only, "m.py", select=["ERR001"]).findings] == [
        "ERR001"
    ]
