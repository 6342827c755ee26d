"""Shard files and merged reports never show a planted secret.

A merged run has no `redact` lists (the shards wrote their findings redacted), so it cannot
mask a reported secret in a code frame: the files where a shard redacted one show no code at
all, in the coloured text report and in the HTML report; other files keep their frames.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from test_secret_redaction import _assert_clean, _plant

from bastion.cli import cli
from bastion.engine import run
from bastion.reporters.html import render_html
from bastion.reporters.text import report_text
from bastion.selection import load_config
from bastion.shard import merge

FRAME_MARK = '<pre class="frame">'


def test_no_secret_in_shard_files_or_merged_reports(tmp_path: Path, monkeypatch: Any) -> None:
    secrets, _ = _plant(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ALL"]\n')
    (tmp_path / "app" / "views.py").write_text("try:\n    f()\nexcept:\n    g()\n")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    outputs: list[str] = []
    shard_files = []
    for index in (1, 2):
        out = tmp_path.parent / f"{tmp_path.name}-shard{index}.json"
        result = runner.invoke(
            cli, ["check", ".", "--shard", f"{index}/2", "--format", "json", "-o", str(out)]
        )
        assert result.exit_code == 1, result.output
        outputs += [out.read_text(), result.stdout, result.stderr]
        shard_files.append(out)
    hidden = set()
    for path in shard_files:
        document = json.loads(path.read_text())
        hidden |= set(document["shard"]["hidden_frames"])
        assert all("redact" not in f for f in document["shard"]["findings"])
    assert {"app/settings.py", ".env", "Dockerfile"} <= hidden
    assert "app/views.py" not in hidden

    for fmt in ("text", "json", "sarif", "github", "html"):
        result = runner.invoke(cli, ["merge", *map(str, shard_files), "--format", fmt])
        assert result.exit_code == 1, result.output
        outputs += [result.stdout, result.stderr]

    # the reports that print code: coloured text and HTML
    config = load_config([tmp_path])
    merged = merge(shard_files, config)
    assert merged.hidden_frames == frozenset(hidden)
    text = io.StringIO()
    report_text(merged, config, text, color=True)
    html = render_html(merged, config)
    outputs += [text.getvalue(), html]
    _assert_clean(outputs, secrets)

    # frames are left out for the files with secrets only
    assert "except:" in text.getvalue() and "except:" in html  # app/views.py's frame
    assert "code not shown" in text.getvalue()
    frames_shown = html.count(FRAME_MARK)
    in_clean_files = [f for f in merged.findings if f.path not in hidden]
    assert frames_shown == len(in_clean_files) > 0

    # a single run still gives the same findings and fingerprints
    single = run([tmp_path], config)
    assert [f.to_json() for f in merged.findings] == [f.to_json() for f in single.findings]
