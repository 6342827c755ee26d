"""Hostile repositories: bastion never executes scanned code, never crashes on any bytes, never
escapes the root, never hangs on one file, and gives the same output every time."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli

HOSTILE = Path(__file__).resolve().parents[1] / "fixtures" / "hostile"


def copy_fixture(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(HOSTILE / name, target, symlinks=True)
    return target


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.e2e
def test_scanned_code_is_never_imported_or_executed(tmp_path: Path) -> None:
    tree = copy_fixture("never_run", tmp_path)
    # `python -m bastion` puts the working folder first on sys.path, so a tree's `click.py`
    # would be imported (SECURITY.md): run the console script, or `python -I -m bastion`
    (tree / "click.py").write_text(
        "from pathlib import Path\nPath(__file__).with_name('MARKER_click').write_text('ran')\n"
    )
    console = str(Path(sys.executable).with_name("bastion"))
    commands = [[console], [sys.executable, "-I", "-m", "bastion"]]
    for fmt, command in [(f, c) for f in ("text", "json") for c in commands]:
        proc = subprocess.run(
            [*command, "check", ".", "--select", "ALL", "--format", fmt],
            cwd=tree,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stderr
    code, _, _ = run_cli("fix", str(tree), "--select", "ALL", "--unsafe-fixes")
    assert code in (0, 1)
    assert sorted(p.name for p in tree.rglob("MARKER_*")) == []


def test_any_bytes_gives_findings_or_notices_never_a_traceback(tmp_path: Path) -> None:
    tree = copy_fixture("any_bytes", tmp_path)
    (tree / "huge.py").write_bytes(b"x = 1\n" * 3_500_000)  # 21 MB
    (tree / "deep_sum.py").write_text("x = " + " + ".join(["1"] * 50_000) + "\n")
    (tree / "deep_unary.py").write_text("x = " + "-" * 5000 + "1\n")
    code, out, err = run_cli("check", str(tree), "--select", "ALL", "--format", "json")
    assert code == 1
    doc = json.loads(out)
    by_path: dict[str, list[str]] = {}
    for f in doc["findings"]:
        by_path.setdefault(f["path"], []).append(f["rule"])
    for name in (
        "nul_bytes.py",
        "invalid_utf8.py",
        "wrong_cookie.py",
        "utf16_bom.py",
        "latin1_without_cookie.py",
        "nested_parens.py",
    ):
        assert "BAS001" in by_path.get(name, []), (name, by_path)
    # the readable files around them were still checked
    assert "ERR001" in by_path["crlf.py"] and "ERR001" in by_path["mixed_endings.py"]
    assert "ERR001" not in by_path.get("a_folder.py/inside.py", [])
    # Python's default limit is 1 MiB (its parser needs ~400x the file's size in memory);
    # a file over it fails the gate (BAS003) instead of passing unread
    assert "huge.py: skipped: 21,000,000 bytes is over the 1,048,576-byte limit" in err
    assert by_path["huge.py"] == ["BAS003"]
    # deeper than CPython's own parser goes: a parse error, not a crash. How deep that is
    # depends on the Python (3.13's parser reads 5,000 unary minuses, 3.12's does not): BAS001
    # exactly where this interpreter's `ast.parse` fails.
    for name in ("deep_sum.py", "deep_unary.py"):
        try:
            ast.parse((tree / name).read_text())
            parses = True
        except (SyntaxError, RecursionError, MemoryError):
            parses = False
        assert ("BAS001" in by_path.get(name, [])) is not parses, (name, by_path.get(name))
    assert "Traceback" not in err and doc["errors"] == []


def test_max_file_bytes_is_configurable(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bastion]\nmax-file-bytes = 10\n")
    (tmp_path / "a.py").write_text("x = 1  # more than ten bytes\n")
    code, out, err = run_cli("check", str(tmp_path), "--format", "json")
    assert "a.py: skipped" in err
    # a file over the limit is not passed unread: BAS003 fails the gate
    assert code == 1
    found = {(f["rule"], f["path"]) for f in json.loads(out)["findings"]}
    assert found == {("BAS003", "a.py"), ("BAS003", "pyproject.toml")}


def test_slow_file_is_skipped_after_its_time_budget(tmp_path: Path) -> None:
    import time

    from bastion.discovery import SourceFile
    from bastion.engine import FileAnalyzer
    from bastion.registry import Registry, load_registry
    from bastion.rule import Rule
    from bastion.selection import parse_table

    class Slow(Rule):
        id = "ERR901"
        name = "slow"
        summary = why = hint = "x"

        def visit_Module(self, node: object) -> None:
            time.sleep(5)

    registry = Registry(rules=(*load_registry().rules, Slow), collectors=())
    config = parse_table({"file-timeout": 0.2, "select": ["ERR"]}, root=tmp_path)
    path = tmp_path / "m.py"
    path.write_text("try:\n    f()\nexcept:\n    g()\n")
    start = time.perf_counter()
    result = FileAnalyzer(config, registry).analyze(SourceFile("m.py", path, "python"))
    assert time.perf_counter() - start < 3
    assert [(f.rule, f.message) for f in result.findings] == [
        (
            "BAS003",
            "file not analysed: skipped: analysis took longer than 0.2s (raise "
            "`file-timeout` in [tool.bastion] to allow more)",
        )
    ]
    assert result.notices == [
        "m.py: skipped: analysis took longer than 0.2s (raise `file-timeout` in [tool.bastion] "
        "to allow more)"
    ]


def test_symlinks_out_of_the_root_are_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("try:\n    f()\nexcept:\n    g()\n")
    root = tmp_path / "root"
    root.mkdir()
    (root / "pyproject.toml").write_text('[tool.bastion]\nextend-exclude = ["../outside"]\n')
    (root / "escape.py").symlink_to(outside / "secret.py")
    (root / "escape_dir").symlink_to(outside)
    code, out, err = run_cli("check", str(root), "--no-color")
    assert code == 0, out
    assert "secret" not in out
    assert "escape.py: skipped: symlink points outside the scanned root" in err


def test_output_is_deterministic(tmp_path: Path) -> None:
    tree = copy_fixture("any_bytes", tmp_path)
    outputs = {
        run_cli("check", str(tree), "--format", "json", "--select", "ALL")[1] for _ in range(3)
    }
    assert len(outputs) == 1


def test_deep_but_parseable_trees_are_walked_fully() -> None:
    from bastion.testing import lint_source

    # deeper than Python's default recursion limit, shallower than its parser's limit
    code = "x = " + " + ".join(["1"] * 1500) + "\ntry:\n    f()\nexcept:\n    g()\n"
    result = lint_source(code, "m.py", select=["ALL"])
    assert result.notices == [] and result.internal_errors == []
    assert [(f.rule, f.line) for f in result.findings if f.rule == "ERR001"] == [("ERR001", 4)]
