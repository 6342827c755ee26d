"""The example project of the README quickstart: every planted violation is reported exactly
once, and its clean twin passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

PLANTED = {
    ("SEC016", ".env", 2),
    ("SEC001", ".env", 4),
    ("SEC001", "app/config.py", 8),
    ("PROD007", "app/db.py", 19),
    ("API005", "app/main.py", 11),
    ("SEC010", "app/main.py", 11),
    ("ERR007", "app/main.py", 11),
    ("LOG004", "app/main.py", 11),
    ("SEC003", "app/main.py", 14),
    ("ERR007", "app/main.py", 23),
    ("SEC002", "app/main.py", 23),
    ("API001", "app/routers/items.py", 19),
    ("API011", "app/routers/items.py", 20),
    ("API002", "app/routers/items.py", 26),
    ("API011", "app/routers/items.py", 26),
    ("API011", "app/routers/orders.py", 17),
    ("ERR001", "app/routers/orders.py", 24),
    ("API011", "app/routers/orders.py", 30),
    ("ERR002", "app/routers/orders.py", 35),
    ("ERR003", "app/routers/orders.py", 44),
    ("TEST001", "pyproject.toml", 1),
    ("TEST003", "pyproject.toml", 1),
    ("WF001", "pyproject.toml", 1),
    ("WF003", "pyproject.toml", 1),
}


def bastion(*args: str) -> subprocess.CompletedProcess[str]:
    # run from the repository root, as the README does; no cache written into the examples
    return subprocess.run(
        [sys.executable, "-m", "bastion", "check", *args, "--no-cache"],
        cwd=EXAMPLES.parent,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_every_planted_violation_is_reported_once() -> None:
    proc = bastion("examples/shop_api", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    findings = json.loads(proc.stdout)["findings"]
    reported = [(f["rule"], f["path"], f["line"]) for f in findings]
    assert len(reported) == len(set(reported)), "a finding is reported twice"
    assert set(reported) == PLANTED
    # every planted finding is marked in the source with a `planted:` comment naming its rule
    for rule, path, _ in PLANTED:
        source = (EXAMPLES / "shop_api" / path).read_text()
        pyproject = (EXAMPLES / "shop_api" / "pyproject.toml").read_text()
        assert rule in source or rule in pyproject, (rule, path)


def test_text_output_names_file_line_and_hint() -> None:
    proc = bastion("examples/shop_api", "--no-color")
    assert proc.returncode == 1
    assert "app/routers/orders.py:24:5 ERR001 bare `except:`" in proc.stdout
    assert "hint: Catch the exceptions you expect" in proc.stdout
    assert "sk_live_" not in proc.stdout + proc.stderr  # the planted key stays redacted


def test_clean_twin_passes() -> None:
    proc = bastion("examples/shop_api_clean")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "No findings" in proc.stdout


def test_readme_quickstart_targets_exist() -> None:
    makefile = (EXAMPLES.parent / "Makefile").read_text()
    readme = (EXAMPLES.parent / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
    assert "\ndemo:" in makefile and "\ntest:" in makefile
    assert "bastion check examples/shop_api" in makefile
