"""A replayed `bastion check` (`bastion.replay`) is the stage around the pipeline and the
rendering: it writes the recorded report without importing the pipeline, the engine, a rule,
a reporter or a file kind's parser. Run in fresh interpreters (subprocesses): this test session
has imported everything."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from bastion_process import probe_imports

pytestmark = pytest.mark.e2e

# a replay must need none of these
RUN_ONLY = (
    "bastion.pipeline",
    "bastion.engine",
    "bastion.rule",
    "bastion.registry",
    "bastion.selection",
    "bastion.reporters",
    "bastion.parsers",
    "bastion.kinds.dockerfile",
)


def test_a_replayed_check_imports_no_stage_of_the_run(tmp_path: Path) -> None:
    (tmp_path / "one_file.py").write_text("try:\n    f()\nexcept:\n    g()\n")
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR"]\n')
    time.sleep(2.1)  # a file changed a moment ago has no trusted signature: no record
    args = ("check", ".", "--format", "json")
    code, ran, first = probe_imports(tmp_path, *args)
    assert code == 1 and "ERR001" in first
    assert set(RUN_ONLY) <= ran  # the probe sees what a real run imports
    assert any(m.startswith("bastion.rules.") for m in ran)
    code, replayed, second = probe_imports(tmp_path, *args)
    assert code == 1 and second == first
    assert list((tmp_path / ".bastion_cache" / "replay").glob("*.json"))
    assert not replayed & set(RUN_ONLY), sorted(replayed & set(RUN_ONLY))
    assert not [m for m in replayed if m.startswith("bastion.rules.")]  # no rule module
