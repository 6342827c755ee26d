"""What the language server hands an editor is tree text too: a message quoting a route path
or a string with terminal escapes or bidi overrides must reach the editor spelled out, and the
code actions must still find the finding behind such a diagnostic."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("pygls")

from bastion.discovery import SourceFile
from bastion.engine import FileAnalyzer, FileResult
from bastion.selection import load_config
from bastion.server.lsp import _diagnostic, _Document, _finding_for

HOSTILE_PATH = "/getUsers\u202e\x1b[2J"
CODE = (
    "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n"
    f"@app.get({HOSTILE_PATH!r})\ndef users():\n    return []\n"
)


def _lint(root: Path) -> tuple[_Document, str]:
    path = root / "app.py"
    path.write_text(CODE, encoding="utf-8")
    (root / "pyproject.toml").write_text('[tool.bastion]\nselect = ["API003"]\n')
    document = _Document(load_config([path]), SourceFile("app.py", path, "python"))
    result = FileResult()
    FileAnalyzer(document.config).analyze_bytes(document.source, CODE.encode(), result)
    document.findings = result.findings
    return document, CODE


def test_a_message_quoting_control_characters_reaches_the_editor_spelled_out(
    tmp_path: Path,
) -> None:
    document, text = _lint(tmp_path)
    [finding] = [f for f in document.findings if f.rule == "API003"]
    assert "\u202e" in finding.message  # the rule quotes the path as written
    diagnostic = _diagnostic(finding, text)
    assert diagnostic.message.isprintable()
    assert "\\u202e" in diagnostic.message and "\\x1b" in diagnostic.message


def test_code_actions_find_the_finding_behind_a_spelled_out_message(tmp_path: Path) -> None:
    document, text = _lint(tmp_path)
    [finding] = [f for f in document.findings if f.rule == "API003"]
    assert _finding_for(document, _diagnostic(finding, text)) is finding
