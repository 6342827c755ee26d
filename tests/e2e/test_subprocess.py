"""bastion as users run it: a real process, real exit codes, real stdout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from bastion_process import run_bastion

pytestmark = pytest.mark.e2e


def test_module_entry_point_json(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("try:\n    f()\nexcept:\n    g()\n")
    proc = run_bastion("check", ".", "--format", "json", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [(f["rule"], f["path"], f["line"]) for f in doc["findings"]] == [("ERR001", "m.py", 3)]


def test_version_and_help(tmp_path: Path) -> None:
    proc = run_bastion("--version", cwd=tmp_path)
    assert proc.returncode == 0 and "bastion" in proc.stdout
    proc = run_bastion("check", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "--fail-on" in proc.stdout


def test_config_error_exit_2(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.bastion]\nbogus = true\n")
    proc = run_bastion("check", ".", cwd=tmp_path)
    assert proc.returncode == 2
    assert "unknown key tool.bastion.bogus" in proc.stderr
