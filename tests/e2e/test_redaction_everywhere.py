"""No byte bastion writes holds a planted secret - whichever rules ran.

The tree of `test_secret_redaction` (every credential format in every file kind) plus the
places the first rounds missed: a key inside a logging f-string that LOG002's safe fix rewrites
(SARIF `insertedContent`, `fix --diff`), a suppression whose justification quotes the key, URL
credentials in `requirements.txt` and in a Dockerfile `--index-url` (dependency facts: cache
and shard files), and a test file holding secrets next to other findings.

Each configuration - SEC001 on, SEC001 ignored, SEC001 per-file-ignored everywhere (as the
README does for tests) - runs every output format to stdout and to a file, `--no-color`,
`--statistics`, the coloured text report (code frames), `fix --diff`, two shards and their
merge in every format, a baseline, and a cached run twice (pack and replay record). Then every
byte - stdout, stderr, each output file, every file under the cache folder - is searched for
every secret.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import string
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from test_secret_redaction import _plant

from bastion.cli import cli
from bastion.engine import run
from bastion.reporters.html import render_html
from bastion.reporters.text import report_text
from bastion.selection import load_config

pytestmark = pytest.mark.e2e

_RNG = random.Random(20261204)
_ALNUM = string.ascii_letters + string.digits


def _pick(n: int) -> str:
    return "".join(_RNG.choice(_ALNUM) for _ in range(n))


def _plant_more(root: Path) -> list[str]:
    """The reproducers of the second review; returns their secrets."""
    log_key = "sk_live_" + _pick(24)
    revoked = "sk_live_" + _pick(24)
    git_token = "ghp_" + _pick(36)
    index_password = "Pw" + _pick(18)
    test_password = "T" + _pick(17) + "!"
    (root / "app" / "billing.py").write_text(
        "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"
        "def charge(user):\n"
        f'    logger.info(f"charging {{user}} with key {log_key}")\n'
        f"    # bastion: ignore[SEC001] key {revoked} was revoked\n"
        f'    return "{revoked}"\n'
    )
    (root / "requirements.txt").write_text(
        f"private-lib @ git+https://deploy:{git_token}@github.com/acme/private-lib.git\n"
        "requests==2.31.0\n"
    )
    with (root / "Dockerfile").open("a") as handle:
        handle.write(
            f"RUN pip install --index-url https://ci:{index_password}@pypi.acme.internal/simple"
            " acme-tools\n"
        )
    tests = root / "tests"
    tests.mkdir()
    (tests / "test_login.py").write_text(
        "import requests\n\n\ndef test_login():\n"
        f'    requests.post("https://api.acme.test/in", data={{"password": "{test_password}"}})\n'
        "    try:\n        pass\n    except:\n        pass\n"
    )
    return [log_key, revoked, git_token, index_password, test_password]


CONFIGS = {
    "sec001-on": '[tool.bastion]\nselect = ["ALL"]\n',
    "sec001-ignored": '[tool.bastion]\nselect = ["ALL"]\nignore = ["SEC001"]\n',
    "sec001-per-file-ignored": (
        '[tool.bastion]\nselect = ["ALL"]\n\n[tool.bastion.per-file-ignores]\n"**" = ["SEC001"]\n'
    ),
}


def _invoke(runner: CliRunner, args: list[str], outputs: list[str]) -> Any:
    result = runner.invoke(cli, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    outputs += [result.stdout, result.stderr]
    return result


def _every_byte(folder: Path) -> list[str]:
    return [p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_no_secret_in_any_byte_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    secrets, _ = _plant(tree)
    secrets += _plant_more(tree)
    (tree / "pyproject.toml").write_text(CONFIGS[name])
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(tree)
    runner = CliRunner()
    outputs: list[str] = []

    for fmt in ("text", "json", "sarif", "github", "html"):
        _invoke(runner, ["check", ".", "--format", fmt, "-o", str(out / f"report.{fmt}")], outputs)
        _invoke(runner, ["check", ".", "--format", fmt, "--no-cache"], outputs)
    for extra in (["--no-color"], ["--statistics"], []):
        _invoke(runner, ["check", ".", *extra], outputs)
    _invoke(runner, ["check", ".", "--no-cache", "--quiet"], outputs)

    diff = _invoke(runner, ["check", ".", "--diff", "--no-cache"], outputs)
    assert "+++ b/app/billing.py" in diff.stdout  # LOG002's fix rewrote the f-string
    assert "sk_l****" in diff.stdout

    shards = [out / "shard1.json", out / "shard2.json"]
    for index, shard in enumerate(shards, 1):
        args = ["check", ".", "--shard", f"{index}/2", "--format", "json", "-o", str(shard)]
        _invoke(runner, args, outputs)
    for fmt in ("text", "json", "sarif", "github", "html"):
        _invoke(runner, ["merge", *map(str, shards), "--format", fmt], outputs)

    baseline = out / "baseline.json"
    _invoke(runner, ["baseline", "create", str(baseline), "."], outputs)

    config = load_config([tree])
    result = run([tree], config, cache_dir=tree / ".bastion_cache")
    coloured = io.StringIO()
    report_text(result, config, coloured, color=True)
    outputs += [coloured.getvalue(), render_html(result, config)]
    outputs += [f.fingerprint for f in (*result.findings, *result.suppressed)]
    outputs += [f.source_line for f in (*result.findings, *result.suppressed)]

    sarif = json.loads((out / "report.sarif").read_text())
    results = sarif["runs"][0]["results"]
    if name == "sec001-on":  # the justification is in the log
        assert any(r.get("suppressions") for r in results)
    assert any(r["ruleId"] == "LOG002" for r in results)

    cache = list((tree / ".bastion_cache").rglob("*.json"))
    assert any(p.name == "pack.json" for p in cache), "the runs should have filled the cache"
    pack = json.loads(next(p for p in cache if p.name == "pack.json").read_text())
    assert "requirements.txt" in pack["entries"] or name == "sec001-on"
    outputs += _every_byte(tree / ".bastion_cache") + _every_byte(out)

    assert len(outputs) > 60
    for text in outputs:
        for secret in secrets:
            assert secret not in text, f"{name}: a planted secret leaked: {secret[:4]}..."


def _old_fingerprint(rule: str, path: str, line: str, index: int) -> str:
    """The fingerprint as baselines written before the redaction pass computed it."""
    text = " ".join(line.split())
    return hashlib.sha256(f"{rule}\0{path}\0{text}\0{index}".encode()).hexdigest()[:20]


def test_a_line_without_a_secret_keeps_its_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR001"]\n')
    (tmp_path / "jobs.py").write_text("try:\n    run()\nexcept:\n    pass\n")
    config = load_config([tmp_path])
    (finding,) = run([tmp_path], config).findings
    assert finding.fingerprint == _old_fingerprint("ERR001", "jobs.py", "except:", 0)


def test_a_secret_line_hashes_masked_whichever_rules_ran(tmp_path: Path) -> None:
    """A bare except on a line holding a key: the fingerprint hashes the masked line, the same
    with SEC001 on or off, and no guess of the key reproduces it."""
    key = "sk_live_" + _pick(24)
    (tmp_path / "jobs.py").write_text(f'try:\n    run()\nexcept: KEY = "{key}"\n')
    prints = []
    for selected in ('["ERR001"]', '["ERR001", "SEC001"]'):
        (tmp_path / "pyproject.toml").write_text(f"[tool.bastion]\nselect = {selected}\n")
        findings = run([tmp_path], load_config([tmp_path])).findings
        prints.append(next(f.fingerprint for f in findings if f.rule == "ERR001"))
    assert prints[0] == prints[1]
    masked = 'except: KEY = "sk_l****"'
    assert prints[0] == _old_fingerprint("ERR001", "jobs.py", masked, 0)
    assert prints[0] != _old_fingerprint("ERR001", "jobs.py", f'except: KEY = "{key}"', 0)


def test_an_old_baseline_still_matches(tmp_path: Path) -> None:
    """A baseline written with the old fingerprints (secret-free lines) still silences them."""
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR001"]\n')
    (tmp_path / "jobs.py").write_text("try:\n    run()\nexcept:\n    pass\n")
    baseline = tmp_path / "baseline.json"
    entry = {"rule": "ERR001", "path": "jobs.py"}
    entry["fingerprint"] = _old_fingerprint("ERR001", "jobs.py", "except:", 0)
    baseline.write_text(json.dumps({"bastion-baseline": 1, "findings": [entry]}))
    result = CliRunner().invoke(
        cli, ["check", str(tmp_path), "--baseline", str(baseline), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []
