"""`bastion.pipeline`: the stages of a run, each callable on its own, and `check` (all of them
in order) giving exactly what the engine's one-call `run` gives."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bastion import pipeline
from bastion.baseline import Baseline, BaselineError
from bastion.engine import FileAnalyzer, run
from bastion.selection import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop_api"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shop_api"
    shutil.copytree(EXAMPLE, root)
    return root


def test_check_is_the_engine_run_in_named_stages(project: Path) -> None:
    config = load_config([project])
    outcome = pipeline.check(pipeline.CheckRequest([project]), config)
    expected = run([project], config)
    assert outcome.config is config
    assert outcome.result.findings and outcome.result.findings == expected.findings
    assert outcome.result.suppressed == expected.suppressed
    assert outcome.result.notices == expected.notices
    assert [f.path for f in outcome.result.files] == [f.path for f in expected.files]
    assert outcome.fix_edits is None  # only asked for by the SARIF report


def test_the_stages_one_by_one(project: Path) -> None:
    config = pipeline.load_settings([project], None, {"select": ["SEC", "ERR"]})
    request = pipeline.CheckRequest([project])
    analyzer = FileAnalyzer(config)
    discovery = pipeline.discovery_stage(request, config)
    files = pipeline.files_stage(analyzer, discovery, None)
    assert files.files and all(analyzer.wants(f.kind) for f in files.files)
    mapped = pipeline.map_stage(analyzer, files, request, config)
    assert mapped.analyzed == len(files.files)  # no cache asked for: every file analysed
    reduced = pipeline.reduce_stage(analyzer, mapped, request)
    result = pipeline.fingerprint_stage(analyzer, files, discovery, reduced)
    assert all(f.fingerprint for f in result.findings)
    assert {f.rule[:3] for f in result.findings} <= {"SEC", "ERR", "BAS"}


def test_the_shard_slices_partition_the_files(project: Path) -> None:
    config = load_config([project])
    analyzer = FileAnalyzer(config)
    discovery = pipeline.discovery_stage(pipeline.CheckRequest([project]), config)
    whole = pipeline.files_stage(analyzer, discovery, None).files
    slices = [pipeline.files_stage(analyzer, discovery, (k, 3)) for k in (1, 2, 3)]
    assert sorted(f.path for s in slices for f in s.files) == sorted(f.path for f in whole)
    assert len({s.tree_digest for s in slices}) == 1 and slices[0].tree_digest


def test_the_baseline_stage_hides_what_it_lists(project: Path, tmp_path: Path) -> None:
    config = load_config([project])
    first = pipeline.check(pipeline.CheckRequest([project]), config).result
    listed = tmp_path / "baseline.json"
    Baseline.from_findings(first.findings).write(listed)
    again = pipeline.check(pipeline.CheckRequest([project], baseline_file=listed), config)
    assert again.result.findings == []
    assert again.result.notices[-1] == (
        f"baseline {listed}: {len(first.findings)} findings baselined"
    )


def test_a_bad_baseline_stops_the_run_before_any_work(project: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(BaselineError):
        pipeline.check(pipeline.CheckRequest([project], baseline_file=broken))


def test_the_cache_folder_stage(project: Path, tmp_path: Path) -> None:
    config = load_config([project])
    assert pipeline.cache_folder(pipeline.CheckRequest([project]), config) is None
    on = pipeline.CheckRequest([project], use_cache=True)
    assert pipeline.cache_folder(on, config) == config.root / ".bastion_cache"
    chosen = pipeline.CheckRequest([project], use_cache=True, cache_dir=tmp_path / "c")
    assert pipeline.cache_folder(chosen, config) == tmp_path / "c"
