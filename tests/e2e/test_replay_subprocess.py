"""A warm run as users and CI see it: real processes over the shop example, the report replayed
byte for byte while nothing changes, and a real run as soon as one file does."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).parent.parent.parent / "examples" / "shop_api"


def bastion(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bastion", "check", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unchanged_tree_replays_and_an_edit_runs_for_real(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    # a cache left in the example by a run by hand is not part of the example
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".bastion_cache"))
    # a file changed within the last two seconds is never trusted by its stat (see
    # bastion.cache.signature): let the copy age past that window
    time.sleep(2.1)
    # without the secret rules: a report about a secret is never recorded (tested elsewhere)
    args = (".", "--format", "json", "--select", "ERR,API,PERF,LOG001,LOG002")
    cold = bastion(*args, cwd=project)
    assert cold.returncode == 1, cold.stderr
    records = list((project / ".bastion_cache" / "replay").glob("*.json"))
    assert len(records) == 1
    warm = bastion(*args, cwd=project)
    assert (warm.returncode, warm.stdout, warm.stderr) == (1, cold.stdout, cold.stderr)

    victim = next(p for p in sorted(project.rglob("*.py")) if "except:" in p.read_text())
    victim.write_text(victim.read_text().replace("except:", "except Exception:"))
    edited = bastion(*args, cwd=project)
    uncached = bastion(*args, "--no-cache", cwd=project)
    assert edited.stdout == uncached.stdout != cold.stdout
