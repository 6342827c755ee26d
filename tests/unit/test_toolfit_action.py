"""The GitHub Action (action.yml): its structure, parsed with PyYAML, and its check step's
script run for real with bash on a fixture project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ACTION = Path(__file__).parent.parent.parent / "action.yml"
FIXTURE = Path(__file__).parent.parent / "fixtures" / "cigate" / "project"


def action() -> dict[str, Any]:
    data = yaml.safe_load(ACTION.read_text())
    assert isinstance(data, dict)
    return data


def steps() -> list[dict[str, Any]]:
    return list(action()["runs"]["steps"])


def test_action_is_a_composite_action_with_documented_inputs() -> None:
    data = action()
    assert data["name"] == "bastion" and data["description"]
    assert data["runs"]["using"] == "composite"
    inputs = data["inputs"]
    assert {"args", "python-version", "sarif-file", "category", "upload"} <= set(inputs)
    assert all(spec.get("description") for spec in inputs.values())
    # every `${{ inputs.x }}` used anywhere is declared
    used = set(re.findall(r"inputs\.([a-z-]+)", ACTION.read_text().split("runs:", 1)[1]))
    assert used <= set(inputs)


def test_steps_install_check_and_upload() -> None:
    by_name = {s["name"]: s for s in steps()}
    setup = by_name["Set up Python"]
    assert setup["uses"].startswith("actions/setup-python@")
    assert setup["with"]["python-version"] == "${{ inputs.python-version }}"
    install = by_name["Install bastion"]
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"  # the action's own copy
    assert "pip install" in install["run"] and '"$ACTION_PATH"' in install["run"]
    check = by_name["Run bastion check"]
    assert "bastion check" in check["run"] and "--format sarif" in check["run"]
    upload = by_name["Upload SARIF to code scanning"]
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    for step in steps():
        if "run" in step:
            assert step["shell"] == "bash"  # composite run steps must name their shell
            # no expression pasted into a script (script injection): inputs go through env
            assert "${{" not in step["run"], step["name"]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(("args", "code"), [(". --fail-on error", "1"), (". --fail-on never", "0")])
def test_check_step_script_writes_sarif_and_the_exit_code(
    tmp_path: Path, args: str, code: str
) -> None:
    project = tmp_path / "project"
    shutil.copytree(FIXTURE, project)
    script = next(s for s in steps() if s.get("id") == "check")["run"]
    output = tmp_path / "github_output"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "BASTION_ARGS": args,
        "SARIF_FILE": str(tmp_path / "out.sarif"),
        "CATEGORY": "bastion/test",
        "GITHUB_OUTPUT": str(output),
    }
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr  # findings do not fail this step
    assert output.read_text() == f"exit-code={code}\n"
    log = json.loads((tmp_path / "out.sarif").read_text())
    assert log["version"] == "2.1.0"
    assert log["runs"][0]["automationDetails"]["id"].startswith("bastion/test")
    # a usage error stops the step with bastion's exit code
    env["BASTION_ARGS"] = ". --fail-on nonsense"
    bad = subprocess.run(["bash", "-e", "-c", script], cwd=project, env=env, capture_output=True)
    assert bad.returncode == 2
