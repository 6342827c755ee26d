"""`--shard` and `merge` as a CI matrix runs them: real processes, files between them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from bastion_process import run_bastion as bastion

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).parent.parent / "fixtures" / "fastapi_app"


def test_matrix_of_three_then_merge(tmp_path: Path) -> None:
    project = tmp_path / "checkout"
    shutil.copytree(FIXTURE, project)
    single = bastion("check", "--format", "json", "--no-cache", cwd=project)
    assert single.returncode == 1, single.stderr
    outputs = []
    for index in (1, 2, 3):
        out = tmp_path / f"bastion-shard-{index}.json"
        proc = bastion(
            "check", "--shard", f"{index}/3", "--format", "json", "--fail-on", "never",
            "--output", str(out), cwd=project,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        outputs.append(str(out))
    merged = bastion("merge", *outputs, "--format", "json", cwd=project)
    assert merged.returncode == single.returncode, merged.stderr
    assert json.loads(merged.stdout)["findings"] == json.loads(single.stdout)["findings"]

    sarif = bastion("merge", *outputs, "--format", "sarif", "--output", "m.sarif", cwd=project)
    assert sarif.returncode == 1
    assert json.loads((project / "m.sarif").read_text())["runs"][0]["results"]

    missing = bastion("merge", *outputs[:2], cwd=project)
    assert missing.returncode == 2
    assert "missing shard 3/3" in missing.stderr

    text = bastion("check", "--shard", "1/3", cwd=project)
    assert text.returncode == 2 and "use --format json" in text.stderr
