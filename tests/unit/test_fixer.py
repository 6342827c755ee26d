"""Fixing: exact rewrites, atomic writes, nothing lost."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import assume, given

from bastion.config import Config
from bastion.discovery import SourceFile
from bastion.fixer import (
    FileFix,
    Fixer,
    NotRoundTrippable,
    WriteSkipped,
    fix_paths,
    write_atomic,
)

BARE = "try:\n    f()\nexcept:\n    g()\n"
# ERR001's fix (`except:` -> `except Exception:`) is unsafe: it changes what is caught. These
# tests use it as a simple fix, so they run with unsafe fixes on.


def fixer(unsafe: bool = False) -> Fixer:
    return Fixer(Config(root=Path("."), select=("ALL",)), unsafe=unsafe)


def fix(code: bytes) -> bytes:
    return fixer(unsafe=True).fix_bytes(SourceFile("m.py", Path("m.py"), "python"), code).fixed


def test_comments_spacing_and_other_code_survive() -> None:
    code = (
        b'"""Doc."""\n\nimport os  # keep\n\n\ndef f( a ,b ):\n    try:\n        os.x( a )\n'
        b"    except:   # why\n        return   b\n"
    )
    assert fix(code) == code.replace(b"except:", b"except Exception:")


def test_crlf_and_encoding_are_kept() -> None:
    crlf = BARE.replace("\n", "\r\n").encode()
    assert fix(crlf) == crlf.replace(b"except:", b"except Exception:")
    latin = "# -*- coding: latin-1 -*-\ns = 'café'\n".encode("latin-1") + BARE.encode()
    fixed = fix(latin)
    assert fixed == latin.replace(b"except:", b"except Exception:")
    assert b"caf\xe9" in fixed


def test_suppressed_findings_are_not_fixed() -> None:
    code = b"try:\n    f()\nexcept:  # bastion: ignore[ERR001] on purpose\n    g()\n"
    assert fix(code) == code


def test_write_is_atomic_and_keeps_mode(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(BARE)
    os.chmod(path, 0o640)
    run = fix_paths([tmp_path], Config(root=tmp_path), unsafe=True)
    [file_fix] = run.changed
    write_atomic(file_fix)
    assert path.read_text() == BARE.replace("except:", "except Exception:")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]  # no temp file left behind


def test_file_changed_on_disk_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text(BARE)
    [file_fix] = fix_paths([tmp_path], Config(root=tmp_path), unsafe=True).changed
    path.write_text(BARE + "x = 1\n")
    with pytest.raises(WriteSkipped, match="changed on disk"):
        write_atomic(file_fix)
    assert path.read_text() == BARE + "x = 1\n"


def test_symlinked_file_is_written_through_not_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_text(BARE)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    source = SourceFile("link.py", link, "python")
    file_fix = FileFix(source, BARE.encode(), b"x = 1\n")
    write_atomic(file_fix)
    assert link.is_symlink() and real.read_text() == "x = 1\n"


def test_file_libcst_cannot_reproduce_is_not_fixed(tmp_path: Path) -> None:
    code = "\n\\\r\n" + BARE  # a lone line continuation that libcst drops on output
    (tmp_path / "m.py").write_bytes(code.encode())
    run = fix_paths([tmp_path], Config(root=tmp_path), unsafe=True)
    assert run.changed == []
    assert any("libcst cannot reproduce this file exactly" in n for n in run.notices)


def test_fix_that_breaks_code_is_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    import libcst as cst

    from bastion.registry import load_registry
    from bastion.rule import Fix

    rule = load_registry().by_id("ERR001")
    assert rule is not None
    monkeypatch.setattr(rule, "fix", lambda self, node, finding: Fix(cst.parse_statement("pass")))
    result = fixer(unsafe=True).fix_bytes(SourceFile("m.py", Path("m.py"), "python"), BARE.encode())
    assert result.fixed == BARE.encode()
    assert result.dropped and "does not parse" in result.dropped[0]


def _compiles(code: bytes) -> bool:
    try:
        compile(code, "planted.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


@given(hypothesmith.from_grammar())
def test_fixes_parse_are_idempotent_and_touch_only_flagged_lines(code: str) -> None:
    planted = code + ("\n" if code and not code.endswith("\n") else "") + BARE
    data = planted.encode()
    assume(_compiles(data))  # appending can break a generated program (a trailing `\`)
    try:
        first = fix(data)
    except NotRoundTrippable:
        return  # refused, nothing written: the property is about files that are fixed
    compile(first, "fixed.py", "exec", dont_inherit=True)  # still parses
    assert fix(first) == first  # idempotent
    before, after = data.splitlines(), first.splitlines()
    assert len(before) == len(after)
    changed = [i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]
    for index in changed:
        assert before[index].lstrip().startswith(b"except") and b"Exception" in after[index]


def test_err001_fix_is_unsafe_and_not_applied_by_default() -> None:
    """`except:` -> `except Exception:` lets KeyboardInterrupt/SystemExit through: unsafe."""
    source = SourceFile("m.py", Path("m.py"), "python")
    assert fixer().fix_bytes(source, BARE.encode()).fixed == BARE.encode()
    assert b"except Exception:" in fixer(unsafe=True).fix_bytes(source, BARE.encode()).fixed
