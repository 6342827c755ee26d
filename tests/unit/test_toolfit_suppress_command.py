"""`bastion suppress`: a directive on every current finding, atomically, keeping comments,
encodings and line endings; a second run changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bastion.cli import cli

APP = (
    "import pickle\nimport yaml\n\n\n"
    "def f(data):\n"
    "    try:\n        g()\n    except:  # legacy worker loop\n        pass\n"
    "    x = pickle.loads(data)  # bastion: ignore[SEC001] not a secret\n"
    '    query = """\n    SELECT %s\n    """ % yaml.load(data)\n'
    "    total = len(pickle.loads(data)) + \\\n        1\n"
    "    return x, query, total\n"
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def findings(root: Path) -> list[dict[str, object]]:
    code, out, _ = invoke("check", str(root), "--format", "json", "--no-cache", "--select", "ALL")
    assert code in (0, 1)
    found: list[dict[str, object]] = json.loads(out)["findings"]
    return found


def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "app" / "jobs.py").write_text(APP)
    (root / ".env").write_text("DEBUG=1\nSTRIPE_API_KEY=sk_live_4eC39HqLyjWDarjtT1zdp7dcXq9Zr2\n\n")
    (root / "Dockerfile").write_text("FROM python:latest\nRUN pip install flask\n")
    (root / "pyproject.toml").write_text("[tool.bastion]\n")
    return root


def test_suppress_silences_every_finding_and_is_idempotent(tmp_path: Path) -> None:
    root = project(tmp_path)
    before = findings(root)
    assert {f["rule"] for f in before} >= {"ERR001", "SEC013", "SEC001", "PROD003"}
    code, _, err = invoke("suppress", str(root), "--select", "ALL")
    assert code == 0 and "bastion: added" in err
    assert [f for f in findings(root) if f["rule"] != "BAS002"] == []
    assert not any(f["rule"] == "BAS002" for f in findings(root))  # every directive is valid
    text = (root / "app" / "jobs.py").read_text()
    # existing comments are kept; an existing directive gains the new id
    assert "except:  # legacy worker loop  # bastion: ignore[ERR001" in text
    assert "# bastion: ignore[SEC001, SEC013] not a secret" in text
    # a finding inside a multi-line string / after a backslash: a directive line above
    lines = text.splitlines()
    assert '    """ % yaml.load(data)  # bastion: ignore[SEC013]' in text  # after the string
    total = lines.index("    total = len(pickle.loads(data)) + \\")
    assert lines[total - 1].startswith("    # bastion: ignore[")
    assert "# bastion: ignore[PROD002, PROD003] " in (root / "Dockerfile").read_text()
    compile(text, "jobs.py", "exec")  # still Python
    snapshot = {
        p: p.read_bytes() for p in root.rglob("*") if p.is_file() and ".bastion" not in str(p)
    }
    code, _, err = invoke("suppress", str(root), "--select", "ALL")
    assert code == 0 and "added 0 suppression comments in 0 files" in err
    assert {p: p.read_bytes() for p in snapshot} == snapshot


def test_suppress_keeps_encoding_and_line_endings(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    source = "# -*- coding: latin-1 -*-\ns = 'café'\ntry:\n    f()\nexcept:\n    g()\n"
    (root / "m.py").write_bytes(source.replace("\n", "\r\n").encode("latin-1"))
    assert invoke("suppress", str(root), "--select", "ERR001", "--reason", "old code")[0] == 0
    data = (root / "m.py").read_bytes()
    assert b"caf\xe9" in data and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    assert b"except:  # bastion: ignore[ERR001] old code\r\n" in data


def test_reason_must_be_one_line(tmp_path: Path) -> None:
    code, _, err = invoke("suppress", str(tmp_path), "--reason", "a # b")
    assert code == 2 and "--reason" in err


def test_a_finding_inside_a_multiline_string_gets_a_line_above() -> None:
    from bastion.findings import Finding, Severity
    from bastion.suppress_command import suppressed_text

    text = 'def f():\n    q = f"""\n    {x}\n    """\n    return q\n'
    finding = Finding(
        rule="SEC007", name="sql-string-building", severity=Severity.ERROR,
        category="security", path="m.py", line=3, column=5, end_line=3, end_column=8,
        message="m", fix_hint="", statement_line=2,
    )  # fmt: skip
    new, added = suppressed_text(text, "python", [finding], "why")
    assert added == 1
    assert new.splitlines()[1:3] == ["    # bastion: ignore[SEC007] why", '    q = f"""']
