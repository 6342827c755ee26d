"""`bastion check --shard K/N` + `bastion merge` give what one run gives."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bastion import __version__
from bastion.cli import cli
from bastion.config import Config
from bastion.engine import RunResult, run
from bastion.rule import ProjectRule
from bastion.selection import enabled_rules, load_config
from bastion.shard import ShardError, in_shard, merge, parse_shard, shard_document

FIXTURES = Path(__file__).parent.parent / "fixtures"
PROJECTS = sorted(p for p in FIXTURES.iterdir() if p.is_dir())


def _write_shards(target: Path, config: Config, count: int, out: Path) -> list[Path]:
    files = []
    for index in range(1, count + 1):
        result = run([target], config, shard=(index, count))
        document = shard_document(result, config, (index, count), [target])
        path = out / f"shard-{index}-of-{count}.json"
        path.write_text(json.dumps(document), encoding="utf-8")
        files.append(path)
    return files


def _view(result: RunResult, config: Config) -> dict[str, Any]:
    return {
        "findings": [f.to_json() for f in result.findings],
        "suppressed": [(f.fingerprint, f.suppressed_by) for f in result.suppressed],
        "files": [f.path for f in result.files],
        "errors": result.internal_errors,
        "exit": result.exit_code(config),
    }


def test_fixture_projects_exist() -> None:
    assert len(PROJECTS) >= 10


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_merged_shards_equal_one_run(project: Path, tmp_path: Path) -> None:
    config = load_config([project])
    single = _view(run([project], config), config)
    assert single["files"]
    for count in (1, 2, 3):
        out = tmp_path / str(count)
        out.mkdir()
        merged = merge(_write_shards(project, config, count, out), config)
        assert _view(merged, config) == single, f"{project.name}, {count} shards"


def test_project_rules_and_review_run_in_the_merge_not_in_a_shard(tmp_path: Path) -> None:
    project = FIXTURES / "perf_django"
    config = load_config([project])
    project_ids = {r.id for r in enabled_rules(config) if issubclass(r, ProjectRule)}
    single = run([project], config)
    from_project_rules = [f for f in single.findings if f.rule in project_ids]
    assert from_project_rules, "the fixture should trigger a project rule"
    for index in (1, 2):
        part = run([project], config, shard=(index, 2))
        assert not [f for f in part.findings if f.rule in project_ids]
    merged = merge(_write_shards(project, config, 2, tmp_path), config)
    assert [f.to_json() for f in merged.findings] == [f.to_json() for f in single.findings]


def test_identical_lines_in_one_file_keep_single_run_fingerprints(tmp_path: Path) -> None:
    """Two identical flagged lines in one file share rule, path and text: their fingerprints
    differ by occurrence index only."""
    (tmp_path / "api").mkdir()
    view = "class A(generics.ListAPIView):\n    queryset = Item.objects.all()\n\n"
    (tmp_path / "api" / "views.py").write_text(
        "from rest_framework import generics\n\n" + view + view
    )
    (tmp_path / "settings.py").write_text("INSTALLED_APPS = ['rest_framework']\n")
    config = load_config([tmp_path])
    single = run([tmp_path], config)
    twins = [f for f in single.findings if f.rule == "API001"]
    assert len(twins) == 2 and twins[0].fingerprint != twins[1].fingerprint
    for count in (1, 2, 3):
        out = tmp_path.parent / f"out-{tmp_path.name}-{count}"
        out.mkdir()
        merged = merge(_write_shards(tmp_path, config, count, out), config)
        assert _view(merged, config) == _view(single, config)


def test_review_dropping_part_of_a_group_gives_single_run_fingerprints() -> None:
    """When `review` drops one of two findings with the same text, a single run numbers the
    survivor 0; the merge must pick the same candidate."""
    from dataclasses import replace

    from bastion.findings import Finding, Severity, assign_fingerprints
    from bastion.shard import _assign, _candidates

    def finding(line: int) -> Finding:
        return Finding(
            "API001",
            "x",
            Severity.WARNING,
            "api",
            "a.py",
            line,
            1,
            line,
            9,
            "m",
            "h",
            source_line="class A(ListAPIView):",
        )

    both = [finding(3), finding(7)]
    carried = [
        replace(f, fingerprint=",".join(c), source_line="")
        for f, c in zip(both, _candidates(both), strict=True)
    ]
    assert _assign(carried) == [replace(f, source_line="") for f in assign_fingerprints(both)]
    for kept in (0, 1):  # review dropped the other one
        expected = assign_fingerprints([both[kept]])
        assert [f.fingerprint for f in _assign([carried[kept]])] == [expected[0].fingerprint]


def test_shards_partition_the_files_stably(tmp_path: Path) -> None:
    paths = [f"pkg{i % 7}/mod_{i}.py" for i in range(300)]
    for count in (1, 2, 3, 5):
        owners = [[k for k in range(1, count + 1) if in_shard(p, k, count)] for p in paths]
        assert all(len(o) == 1 for o in owners)
        sizes = [sum(1 for o in owners if o == [k]) for k in range(1, count + 1)]
        assert min(sizes) > 300 / count / 2  # roughly even

    # adding files elsewhere moves no file to another shard (a hash, not a position)
    for i in range(30):
        (tmp_path / f"m{i:02}.py").write_text("x = 1\n")
    config = Config(root=tmp_path)
    before = {k: {f.path for f in run([tmp_path], config, shard=(k, 3)).files} for k in (1, 2, 3)}
    for i in range(30):
        (tmp_path / f"a{i:02}.py").write_text("y = 2\n")
    after = {k: {f.path for f in run([tmp_path], config, shard=(k, 3)).files} for k in (1, 2, 3)}
    for k in (1, 2, 3):
        assert before[k] <= after[k]
    assert set.union(*after.values()) == {f.name for f in tmp_path.glob("*.py")}


@pytest.mark.parametrize(
    ("text", "expected"), [("1/1", (1, 1)), ("2/3", (2, 3)), ("10/10", (10, 10))]
)
def test_parse_shard(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["0/3", "4/3", "1", "a/b", "1/0", "-1/2", "1/2/3", ""])
def test_parse_shard_rejects(text: str) -> None:
    with pytest.raises(ShardError, match="K/N"):
        parse_shard(text)


# -- the command line ---------------------------------------------------------------------------

BARE = "try:\n    f()\nexcept:\n    g()\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.bastion]\n")
    for i in range(12):
        (root / f"m{i}.py").write_text(f"# {i}\n" + (BARE if i % 2 else "x = 1\n"))
    return root


def _cli_shards(project: Path, count: int, *extra: str) -> list[Path]:
    runner = CliRunner()
    files = []
    for index in range(1, count + 1):
        out = project.parent / f"s{index}of{count}.json"
        result = runner.invoke(
            cli,
            [
                *("check", str(project), "--shard", f"{index}/{count}", "--format", "json"),
                *("-o", str(out), "--no-cache", *extra),
            ],
        )
        assert result.exit_code in (0, 1), result.output
        files.append(out)
    return files


def test_cli_merge_every_format_same_exit_code(project: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(project)
    runner = CliRunner()
    files = _cli_shards(project, 3)
    for fmt in ("text", "json", "sarif", "github", "html"):
        single = runner.invoke(cli, ["check", ".", "--format", fmt, "--no-cache"])
        merged = runner.invoke(cli, ["merge", *map(str, files), "--format", fmt])
        assert single.exit_code == merged.exit_code == 1, merged.output
        if fmt in ("text", "github"):
            assert merged.stdout == single.stdout
    single_doc = json.loads(runner.invoke(cli, ["check", ".", "--format", "json"]).stdout)
    merged_doc = json.loads(
        runner.invoke(cli, ["merge", *map(str, files), "--format", "json"]).stdout
    )
    assert "shard" not in merged_doc and "facts" not in merged_doc
    assert merged_doc["findings"] == single_doc["findings"]
    assert sum(1 for f in merged_doc["findings"] if f["rule"] == "ERR001") == 6
    # --fail-on applies to the merge
    relaxed = runner.invoke(cli, ["merge", *map(str, files), "--fail-on", "never"])
    assert relaxed.exit_code == 0


def test_shard_json_adds_facts_and_shard_keys_only(project: Path) -> None:
    runner = CliRunner()
    shard = runner.invoke(cli, ["check", str(project), "--shard", "1/1", "--format", "json"])
    plain = runner.invoke(cli, ["check", str(project), "--format", "json"])
    shard_doc, plain_doc = json.loads(shard.stdout), json.loads(plain.stdout)
    assert set(shard_doc) - set(plain_doc) == {"facts", "shard"}
    # the same file findings; project rules (no tests, no CI...) wait for the merge
    assert shard_doc["findings"] == [f for f in plain_doc["findings"] if f["rule"] == "ERR001"]
    assert {f["rule"] for f in plain_doc["findings"]} - {"ERR001"}
    assert shard_doc["shard"]["index"] == shard_doc["shard"]["count"] == 1
    assert shard_doc["shard"]["version"] == __version__
    assert shard.exit_code == plain.exit_code == 1


def test_clean_shards_merge_to_exit_zero(tmp_path: Path, monkeypatch: Any) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR", "SEC"]\n')
    (tmp_path / "a.py").write_text("x = 1\n")
    monkeypatch.chdir(tmp_path)
    files = _cli_shards(tmp_path, 2)
    result = CliRunner().invoke(cli, ["merge", *map(str, files), "--format", "json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "text"], "use --format json"),
        (["--format", "sarif"], "use --format json"),
        ([], "use --format json"),  # text is the default
        (["--format", "json", "--statistics"], "--statistics cannot be combined"),
        (["--format", "json", "--baseline", "b.json"], "--baseline cannot be combined"),
        (["--format", "json", "--diff-base", "HEAD"], "--diff-base cannot be combined"),
    ],
)
def test_shard_usage_errors(project: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["check", str(project), "--shard", "1/2", *args])
    assert result.exit_code == 2
    assert message in result.stderr


def test_bad_shard_value_is_a_usage_error(project: Path) -> None:
    result = CliRunner().invoke(cli, ["check", str(project), "--shard", "3/2", "--format", "json"])
    assert result.exit_code == 2 and "1 <= K <= N" in result.stderr


def _merge(files: list[Path], *extra: str) -> Any:
    return CliRunner().invoke(cli, ["merge", *map(str, files), *extra])


def test_merge_rejects_missing_duplicate_and_mixed_shards(project: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(project)
    three = _cli_shards(project, 3)
    two = _cli_shards(project, 2)
    cases = [
        (three[:2], "missing shard 3/3"),
        ([three[0]], "missing shards 2/3, 3/3"),
        ([three[0], three[0], three[1], three[2]], "given twice"),
        ([three[0], three[1], two[1]], "different numbers of slices"),
    ]
    for files, message in cases:
        result = _merge(files)
        assert result.exit_code == 2, (files, result.output)
        assert message in result.stderr


def test_merge_rejects_other_versions_configs_and_non_shard_files(
    project: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(project)
    files = _cli_shards(project, 2)
    document = json.loads(files[1].read_text())
    document["shard"]["version"] = "0.0.1"
    old = project.parent / "old.json"
    old.write_text(json.dumps(document))
    result = _merge([files[0], old])
    assert result.exit_code == 2 and "written by bastion 0.0.1" in result.stderr

    # the merge's configuration differs from the shards'
    result = _merge(files, "--select", "ERR001")
    assert result.exit_code == 2 and "another configuration" in result.stderr
    # ... and shards of different configurations
    other = _cli_shards(project, 2, "--ignore", "ERR001")
    result = _merge([files[0], other[1]])
    assert result.exit_code == 2 and "another configuration" in result.stderr

    plain = project.parent / "plain.json"
    plain.write_text(CliRunner().invoke(cli, ["check", ".", "--format", "json"]).stdout)
    result = _merge([plain])
    assert result.exit_code == 2 and "not a bastion shard file" in result.stderr
    garbage = project.parent / "garbage.json"
    garbage.write_text("{not json")
    result = _merge([garbage])
    assert result.exit_code == 2 and "not JSON" in result.stderr
    result = _merge([project.parent / "nope.json"])
    assert result.exit_code == 2 and "cannot read" in result.stderr


def test_merge_rejects_tampered_records(project: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(project)
    files = _cli_shards(project, 1)
    document = json.loads(files[0].read_text())
    document["shard"]["findings"][0]["line"] = "many"
    files[0].write_text(json.dumps(document))
    result = _merge(files)
    assert result.exit_code == 2 and "malformed" in result.stderr


def test_shards_of_different_paths_do_not_merge(project: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(project)
    (project / "sub").mkdir()
    (project / "sub" / "x.py").write_text(BARE)
    runner = CliRunner()
    a, b = project.parent / "a.json", project.parent / "b.json"
    runner.invoke(cli, ["check", ".", "--shard", "1/2", "--format", "json", "-o", str(a)])
    runner.invoke(cli, ["check", "sub", "--shard", "2/2", "--format", "json", "-o", str(b)])
    result = _merge([a, b])
    assert result.exit_code == 2 and "same paths" in result.stderr


def test_merge_needs_shard_files() -> None:
    result = CliRunner().invoke(cli, ["merge"])
    assert result.exit_code == 2


def test_merge_in_process_error_for_no_files(project: Path) -> None:
    with pytest.raises(ShardError, match="no shard files"):
        merge([], load_config([project]))


def test_merge_applies_a_baseline_like_check(project: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(project)
    runner = CliRunner()
    baseline = project.parent / "baseline.json"
    created = runner.invoke(cli, ["baseline", "create", str(baseline), "."])
    assert created.exit_code == 0, created.output
    files = _cli_shards(project, 2)
    result = _merge(files, "--baseline", str(baseline), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == []
    assert "findings baselined" in result.stderr
    # a new finding fails the merged gate, as it fails `check --baseline`
    (project / "new.py").write_text(BARE)
    files = _cli_shards(project, 2)
    merged = _merge(files, "--baseline", str(baseline), "--format", "json")
    single = runner.invoke(cli, ["check", ".", "--baseline", str(baseline), "--format", "json"])
    assert merged.exit_code == single.exit_code == 1
    assert json.loads(merged.stdout)["findings"] == json.loads(single.stdout)["findings"]
    assert [f["path"] for f in json.loads(merged.stdout)["findings"]] == ["new.py"]


def test_internal_errors_of_a_shard_make_the_merge_exit_2(project: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(project)
    files = _cli_shards(project, 2)
    document = json.loads(files[0].read_text())
    document["errors"] = ["internal error in ERR001 at m1.py:3: KeyError: 'x'"]
    files[0].write_text(json.dumps(document))
    result = _merge(files, "--format", "json")
    assert result.exit_code == 2
    assert "internal error in ERR001" in result.stderr


def test_shards_of_different_trees_do_not_merge(project: Path, monkeypatch: Any) -> None:
    """A shard re-run after a commit added a file: the merge would silently miss or repeat
    files, so it refuses."""
    monkeypatch.chdir(project)
    first = _cli_shards(project, 2)
    kept = project.parent / "kept.json"
    kept.write_text(first[0].read_text())
    (project / "added.py").write_text(BARE)
    second = _cli_shards(project, 2)
    result = _merge([kept, second[1]])
    assert result.exit_code == 2 and "saw different files" in result.stderr


def test_a_file_listed_in_the_wrong_slice_is_refused(project: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(project)
    files = _cli_shards(project, 2)
    one, two = (json.loads(f.read_text()) for f in files)
    one["shard"]["files"].append(two["shard"]["files"][0])
    files[0].write_text(json.dumps(one))
    result = _merge(files)
    assert result.exit_code == 2 and "not in slice 1/2" in result.stderr
