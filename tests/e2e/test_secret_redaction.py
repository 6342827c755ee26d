"""No output format may ever show a planted secret.

The secrets are generated here at run time (never committed: the repository must not hold
credential-shaped strings), planted in Python, `.env`, TOML, YAML, INI, Dockerfile and compose
files, and the CLI is run in every output format; the text reporter is also run with colour,
which prints code frames around each finding. None of the secret strings may appear in any
output, the baseline file or the cache."""

from __future__ import annotations

import io
import json
import random
import string
from pathlib import Path

from click.testing import CliRunner

from bastion.cli import cli
from bastion.engine import run
from bastion.reporters.text import report_text
from bastion.selection import load_config

_RNG = random.Random(20261128)
_ALNUM = string.ascii_letters + string.digits


def _pick(alphabet: str, n: int) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


def _secrets() -> dict[str, str]:
    upper = string.ascii_uppercase + string.digits
    b64 = string.ascii_letters + string.digits + "+/"
    return {
        "aws_key_id": "AKIA" + _pick(upper, 16),
        "aws_secret": _pick(b64, 40),
        "github_classic": "ghp_" + _pick(_ALNUM, 36),
        "github_oauth": "gho_" + _pick(_ALNUM, 36),
        "github_fine": "github_pat_" + _pick(_ALNUM, 22) + "_" + _pick(_ALNUM, 59),
        "slack_bot": "xoxb-" + _pick(string.digits, 11) + "-" + _pick(_ALNUM, 24),
        "slack_hook": "https://hooks.slack.com/services/T"
        + _pick(upper, 9)
        + "/B"
        + _pick(upper, 9)
        + "/"
        + _pick(_ALNUM, 24),
        "stripe_secret": "sk_live_" + _pick(_ALNUM, 24),
        "stripe_restricted": "rk_live_" + _pick(_ALNUM, 24),
        "google": "AIza" + _pick(_ALNUM + "_-", 35),
        "jwt": "eyJ" + _pick(_ALNUM, 30) + ".eyJ" + _pick(_ALNUM, 40) + "." + _pick(_ALNUM, 43),
        "dsn_password": _pick(_ALNUM, 18),
        "password": "Q" + _pick(_ALNUM, 15) + "!",
        "yaml_password": "Y" + _pick(_ALNUM, 15) + "#",
        "toml_token": _pick(_ALNUM, 32),
        "ini_password": "I" + _pick(_ALNUM, 15) + "%",
        "env_secret": "E" + _pick(_ALNUM, 23),
    }


def _pem_body() -> list[str]:
    return [_pick(_ALNUM + "+/", 64) for _ in range(4)]


def _plant(root: Path) -> tuple[list[str], int]:
    """Write the project; return every secret text and how many findings to expect."""
    s = _secrets()
    body = _pem_body()
    pem = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END RSA PRIVATE KEY-----"
    (root / "pyproject.toml").write_text('[tool.bastion]\nselect = ["SEC001"]\n')
    app = root / "app"
    app.mkdir()
    py_lines = [
        f'AWS_ACCESS_KEY_ID = "{s["aws_key_id"]}"',
        f'AWS_SECRET_ACCESS_KEY = "{s["aws_secret"]}"',
        f'GITHUB_TOKEN = "{s["github_classic"]}"',
        f'headers = {{"Authorization": "token {s["github_oauth"]}"}}',
        f'client = Github("{s["github_fine"]}")',
        f'SLACK = "{s["slack_bot"]}"',
        f'WEBHOOK = "{s["slack_hook"]}"',
        f'stripe.api_key = "{s["stripe_secret"]}"',
        f'RESTRICTED = "{s["stripe_restricted"]}"',
        f'maps = Client(key="{s["google"]}")',
        f'SERVICE_JWT = "{s["jwt"]}"',
        f'DATABASE_URL = "postgresql://app:{s["dsn_password"]}@db.internal/app"',
        f'db.connect(password="{s["password"]}")',
        f'PRIVATE_KEY = """{pem}"""',
    ]
    (app / "settings.py").write_text("\n".join(py_lines) + "\n")
    (root / ".env").write_text(
        f"SECRET_KEY={s['env_secret']}\n"
        f"GITHUB_TOKEN={s['github_classic']}\n"
        f"DATABASE_URL=postgresql://app:{s['dsn_password']}@db.internal/app\n"
    )
    (root / "config.toml").write_text(
        f'[api]\napi_token = "{s["toml_token"]}"\nslack = "{s["slack_bot"]}"\n'
    )
    (root / "config.yaml").write_text(
        f"db:\n  password: {s['yaml_password']}\naws:\n  key: {s['aws_key_id']}\n"
    )
    (root / "setup.cfg").write_text(f"[app]\npassword = {s['ini_password']}\n")
    (root / "Dockerfile").write_text(
        f"FROM python:3.12-slim\nENV STRIPE_KEY={s['stripe_restricted']}\n"
        f'ARG DB_PASSWORD={s["password"]}\nCMD ["python", "-m", "app"]\n'
    )
    (root / "docker-compose.yml").write_text(
        f"services:\n  api:\n    environment:\n      GOOGLE_API_KEY: {s['google']}\n"
        f"      POSTGRES_PASSWORD: {s['yaml_password']}\n"
    )
    expected = len(py_lines) + 3 + 2 + 2 + 1 + 2 + 2
    return [*s.values(), *body, pem], expected


def _assert_clean(texts: list[str], secrets: list[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a planted secret leaked: {secret[:4]}..."


def test_no_secret_in_any_output(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    secrets, expected = _plant(tmp_path)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    outputs: list[str] = []
    for args in (["--format", "json"], ["--no-color"], []):
        result = runner.invoke(cli, ["check", str(tmp_path), *args])
        assert result.exit_code == 1, result.output
        outputs += [result.stdout, result.stderr]
    document = json.loads(outputs[0])
    assert not document["errors"]
    assert len(document["findings"]) == expected, document["findings"]
    assert all(f["rule"] == "SEC001" for f in document["findings"])

    # the coloured text report prints code frames: the lines around every finding
    config = load_config([tmp_path])
    run_result = run([tmp_path], config)
    frames = io.StringIO()
    report_text(run_result, config, frames, color=True)
    assert "|" in frames.getvalue()  # frames were printed
    outputs.append(frames.getvalue())
    outputs += [f.fingerprint for f in run_result.findings]
    _assert_clean(outputs, secrets)


def test_messages_name_the_place_not_the_value(tmp_path: Path) -> None:
    secrets, _ = _plant(tmp_path)
    config = load_config([tmp_path])
    for finding in run([tmp_path], config).findings:
        assert finding.redact, finding
        for secret in secrets:
            assert secret not in finding.message
            assert secret not in finding.fix_hint


def test_no_secret_in_any_format_baseline_or_cache_with_every_rule(tmp_path: Path) -> None:
    """Every rule on (other rules report on the same lines: SEC016 on `.env`, PROD rules on the
    Dockerfile), every output format, `--statistics`, the baseline file and the cache."""
    secrets, _ = _plant(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ALL"]\n')
    runner = CliRunner()
    outputs: list[str] = []
    for fmt in ("text", "json", "sarif", "github", "html"):
        target = tmp_path.parent / f"out-{tmp_path.name}.{fmt}"
        result = runner.invoke(cli, ["check", str(tmp_path), "--format", fmt, "-o", str(target)])
        assert result.exit_code == 1, result.output
        outputs += [target.read_text(), result.stdout, result.stderr]
    for extra in (["--statistics"], ["--no-color"], []):
        result = runner.invoke(cli, ["check", str(tmp_path), *extra])
        outputs += [result.stdout, result.stderr]
    baseline = tmp_path.parent / f"baseline-{tmp_path.name}.json"
    result = runner.invoke(cli, ["baseline", "create", str(baseline), str(tmp_path)])
    assert result.exit_code == 0, result.output
    outputs.append(baseline.read_text())
    cache_files = list((tmp_path / ".bastion_cache").rglob("*.json"))
    assert cache_files, "the runs above should have filled the cache"
    outputs += [p.read_text() for p in cache_files]
    assert "SEC016" in outputs[3] and "PROD" in outputs[3]  # other rules did report there
    _assert_clean(outputs, secrets)
