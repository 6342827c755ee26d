"""Terminal and log injection: what the scanned tree names is shown, never obeyed.

Real files whose names hold ESC sequences (OSC window title, clear screen, colours), BEL, CR,
LF, a forged GitHub workflow command, C1 controls, bidi overrides and isolates, rich markup
and an emoji code; a source line with raw controls and a right-to-left override (shown in code
frames); an OSV advisory whose summary holds the same; a broken symlink with a hostile name
(a stderr notice). Every output format, `fix --diff`, `audit-deps` and stderr are checked: the
controls are spelled out (`\\x1b`, `\\u202e`), JSON/SARIF keep the exact names, and GitHub
annotations are one line each.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli
from bastion.engine import run
from bastion.redact import json_text, visible
from bastion.reporters.html import render_html
from bastion.reporters.text import report_text
from bastion.selection import load_config

pytestmark = pytest.mark.e2e

HOSTILE_NAMES = [
    "title\x1b]0;pwned\x07clear\x1b[2J.py",  # OSC window title, BEL, clear screen
    "forged\n::error file=ok.py,line=1::all good.py",  # a newline and a workflow command
    "cr\rover.py",
    "c1\x9b31mcsi.py",  # the 8-bit CSI
    "bidi\u202eyp.txt.py",  # right-to-left override
    "iso\u2066late\u2069.py",
    "[bold red]markup.py",
    ":bomb:emoji.py",
    "::error::forged in the log.py",  # a workflow command if a line starts with it
]
# Raw in a source line: an ESC colour sequence and a bidi override ("trojan source").
HOSTILE_LINE = 'MSG = "\x1b[31mred\u202egnirts"\n'
BARE_EXCEPT = "try:\n    run()\nexcept:\n    pass\n"

# What must never be printed raw: C0 but TAB/LF, DEL, C1, bidi controls, line separators.
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _tree(root: Path) -> None:
    (root / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR001", "LOG002"]\n')
    for name in HOSTILE_NAMES:
        (root / name).write_text(HOSTILE_LINE + BARE_EXCEPT)
    # a safe fix (LOG002) in a hostile file, for `fix --diff`
    (root / "fix\x1b[31m\u202e.py").write_text(
        "import logging\n\nlogger = logging.getLogger(__name__)\n"
        + HOSTILE_LINE
        + 'logger.info(f"user {MSG}")\n'
    )
    (root / "gone\x1b]0;pwned\x07.py").symlink_to(root / "missing.py")  # a notice


def _no_raw(text: str, *, newlines_ok: bool = True) -> None:
    found = RAW.search(text.replace("\r\n", "\n")) if newlines_ok else None
    assert found is None, f"raw control {found.group(0)!r} in output: {text[:200]!r}"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tree"
    root.mkdir()
    _tree(root)
    monkeypatch.chdir(root)
    return root


def test_plain_text_and_stderr_notices_spell_controls_out(tree: Path) -> None:
    result = CliRunner().invoke(cli, ["check", ".", "--no-color", "--no-cache"])
    assert result.exit_code == 1, result.output
    _no_raw(result.stdout)
    _no_raw(result.stderr)
    for name in HOSTILE_NAMES:
        assert f"{visible(name)}:4:1 ERR001" in result.stdout
    assert not any(line.startswith("::") for line in result.stdout.splitlines())
    assert "./::error::forged in the log.py:4:1 ERR001" in result.stdout
    # one line per finding and its hint: the newline in a name forged no line
    lines = result.stdout.splitlines()
    assert sum(1 for line in lines if " ERR001 " in line) == len(HOSTILE_NAMES)
    assert "gone\\x1b]0;pwned\\x07.py: skipped: broken or looping symlink" in result.stderr


def test_github_annotations_are_one_line_each(tree: Path) -> None:
    result = CliRunner().invoke(cli, ["check", ".", "--format", "github", "--no-cache"])
    assert result.exit_code == 1, result.output
    _no_raw(result.stdout)
    commands = [line for line in result.stdout.splitlines() if line.startswith("::")]
    assert len(commands) == len(HOSTILE_NAMES) + 1  # + LOG002
    assert all(
        line.startswith(("::error file=", "::warning file=", "::notice file=")) for line in commands
    )
    assert not any(line.startswith("::error file=ok.py") for line in commands)  # no forgery
    # GitHub's own escaping on top: the spelled-out LF is data, `:` and `,` are %-escaped
    assert any("forged\\x0a%3A%3Aerror file=ok.py%2Cline=1%3A%3A" in line for line in commands)


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_json_formats_keep_exact_names_and_escape_the_rest(tree: Path, fmt: str) -> None:
    result = CliRunner().invoke(cli, ["check", ".", "--format", fmt, "--no-cache"])
    assert result.exit_code == 1, result.output
    _no_raw(result.stdout)  # C0 escaped by json, C1 and bidi by json_text
    document = json.loads(result.stdout)
    if fmt == "json":
        paths = {f["path"] for f in document["findings"]}
    else:
        from urllib.parse import unquote

        paths = {
            unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
            for r in document["runs"][0]["results"]
        }
    assert set(HOSTILE_NAMES) <= paths  # machine readers get the real names back


def test_html_spells_out_bidi_and_controls(tree: Path) -> None:
    result = CliRunner().invoke(cli, ["check", ".", "--format", "html", "--no-cache"])
    assert result.exit_code == 1, result.output
    _no_raw(result.stdout)
    assert "bidi\\u202eyp.txt.py" in result.stdout
    html = render_html(*_run(tree))  # frames: the hostile source line
    _no_raw(html)
    assert "red\\u202egnirts" in html


def _run(tree: Path):  # type: ignore[no-untyped-def]
    config = load_config([tree])
    return run([tree], config), config


def test_rich_output_shows_markup_emoji_and_controls_as_text(tree: Path) -> None:
    result, config = _run(tree)
    out = io.StringIO()
    report_text(result, config, out, color=True)
    text = out.getvalue()
    # rich's own colours are ESC sequences; the tree's are not among them
    for raw in ("\x1b]0;pwned", "\x07", "\x1b[2J", "\x9b", "\u202e", "\u2066", "\r", "\x1b[31mred"):
        assert raw not in text, repr(raw)
    assert "[bold red]markup.py" in text  # markup shown, not applied
    assert ":bomb:emoji.py" in text and "\U0001f4a3" not in text  # no emoji substitution
    assert "\\x1b[31mred\\u202egnirts" in text  # the frame's line, spelled out
    assert "title\\x1b]0;pwned\\x07clear\\x1b[2J.py" in text


def test_fix_diff_spells_out_the_path_and_the_code(tree: Path) -> None:
    result = CliRunner().invoke(cli, ["check", ".", "--diff", "--no-cache"])
    assert result.exit_code == 1, result.output
    _no_raw(result.stdout)
    _no_raw(result.stderr)
    assert "+++ b/fix\\x1b[31m\\u202e.py" in result.stdout
    assert '+logger.info("user %s", MSG)' in result.stdout


def test_advisory_data_is_spelled_out(tmp_path: Path) -> None:
    """An OSV record is data from elsewhere: its summary reaches messages and annotations."""
    db = tmp_path / "db" / "PyPI" / "django"
    db.mkdir(parents=True)
    record = {
        "id": "GHSA-evil-0000-0000",
        "summary": "bad\x1b]0;pwned\x07 thing\x1b[2J\u202e\n::error::forged",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "django"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    (db / "GHSA-evil.json").write_text(json.dumps(record))
    (tmp_path / "requirements.txt").write_text("django==3.2.0\n")
    runner = CliRunner()
    for fmt in ("text", "json"):
        result = runner.invoke(
            cli,
            ["audit-deps", str(tmp_path), "--vuln-db", str(tmp_path / "db"), "--format", fmt],
        )
        assert result.exit_code == 1, result.output
        _no_raw(result.stdout)
        _no_raw(result.stderr)
        assert "GHSA-evil-0000-0000" in result.stdout
        assert not any(line.startswith("::") for line in result.stdout.splitlines())
    # the same advisory through `check` (DEP001 with the database) in a CI log
    (tmp_path / "pyproject.toml").write_text(
        '[tool.bastion]\nselect = ["DEP001"]\n[tool.bastion.rules.DEP001]\n'
        f'vuln-db = "{tmp_path / "db"}"\n'
    )
    for fmt in ("github", "text", "html"):
        result = runner.invoke(cli, ["check", str(tmp_path), "--format", fmt, "--no-cache"])
        assert result.exit_code == 1, result.output
        _no_raw(result.stdout)
        assert "GHSA-evil-0000-0000" in result.stdout
        if fmt == "github":
            assert sum(1 for line in result.stdout.splitlines() if line.startswith("::")) == 1


def test_json_text_is_lossless() -> None:
    names = {"p": "a\x9b\u202e\u2028b\x1b", "q": ["\u2066x\u2069"]}
    text = json_text(json.dumps(names, ensure_ascii=False))
    assert RAW.search(text) is None
    assert json.loads(text) == names


def test_a_tampered_replay_record_prints_nothing_raw(tree: Path) -> None:
    """The replay record lives in the scanned tree: a committed one with ESC sequences in its
    report is printed spelled out."""
    import os
    import time

    past = time.time() - 60  # a file changed a moment ago is never trusted (no record)
    for path in tree.iterdir():
        os.utime(path, (past, past), follow_symlinks=False)
    time.sleep(2.1)  # ctime cannot be set back: let it age past the racy window
    runner = CliRunner()
    first = runner.invoke(cli, ["check", ".", "--no-color"])
    assert first.exit_code == 1, first.output
    (record_path,) = (tree / ".bastion_cache" / "replay").glob("*.json")
    record = json.loads(record_path.read_text())
    record["stdout"] = "all clear\x1b[2J\x1b]0;pwned\x07\n"
    record["stderr"] = ["bastion: \x1b[32mok\u202e"]
    record_path.write_text(json.dumps(record))
    replayed = runner.invoke(cli, ["check", ".", "--no-color"])
    assert "all clear" in replayed.stdout  # it was replayed
    _no_raw(replayed.stdout)
    _no_raw(replayed.stderr)


def test_errors_quoting_the_tree_are_spelled_out_and_masked(tmp_path: Path) -> None:
    """A configuration error quotes the project's own config (a hostile pyproject.toml); a
    merge error quotes a shard file's content."""
    key = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5"
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.bastion]\nselect = ["ERR001\\u001b]0;pwned\\u0007\\u202e {key}"]\n'
    )
    (tmp_path / "a.py").write_text("x = 1\n")
    runner = CliRunner()
    result = runner.invoke(cli, ["check", str(tmp_path)])
    assert result.exit_code == 2, result.output
    _no_raw(result.stderr)
    assert "\\x1b]0;pwned\\x07\\u202e" in result.stderr
    assert key not in result.stderr and "ghp_****" in result.stderr

    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR001"]\n')
    shard = tmp_path / "shard.json"
    out = runner.invoke(
        cli, ["check", str(tmp_path), "--shard", "1/1", "--format", "json", "-o", str(shard)]
    )
    assert out.exit_code == 0, out.output
    document = json.loads(shard.read_text())
    # listed by both shards of 1/2 and 2/2: one of them names it in its error
    document["shard"]["files"] = [{"path": "evil\x1b[2J\u202e.py", "kind": "python"}]
    document["shard"]["count"] = 2
    document["shard"]["index"] = 2
    shard.write_text(json.dumps(document))
    other = tmp_path / "shard1.json"
    document["shard"]["index"] = 1
    other.write_text(json.dumps(document))
    merged = runner.invoke(cli, ["merge", str(other), str(shard), "--project", str(tmp_path)])
    assert merged.exit_code == 2, merged.output
    _no_raw(merged.stderr)
    assert "evil\\x1b[2J\\u202e.py" in merged.stderr
