"""One run of bastion, as named stages, each a function with a typed input and output:

    config -> [replay] -> baseline file -> changed lines (git) -> discovery -> files (a shard's
    slice) -> map (per file, cached) -> reduce (review, project rules, their suppressions)
    -> fingerprints -> changed-lines filter -> baseline -> fix edits

`check(request)` runs them in that order and returns an `Outcome`; `merge` runs the reduce
half over shard files. The replay is the stage around all of this and the rendering
(`bastion.replay.lookup` before, `bastion.replay.record` after; it needs none of the stages,
so a replayed run imports none of them). The fixes that `--fix` writes are their own stage
(`apply_fixes`). Nothing here prints: the CLI
parses options, calls these and renders the outcome. A user error is raised as the exception
of the stage that found it (`ConfigError`, `BaselineError`, `GitError`, `ShardError`), whose
message says what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastion.config import Config
from bastion.discovery import Discovery, discover
from bastion.engine import FileAnalyzer, MapResult, finish_run, map_step, reduce_run
from bastion.results import RunResult
from bastion.slicing import in_shard, tree_digest_of
from bastion.source import SourceFile

if TYPE_CHECKING:
    from bastion.baseline import Baseline
    from bastion.findings import Finding
    from bastion.fixer import FindingEdit, FixRun
    from bastion.gitdiff import ChangedLines


@dataclass(frozen=True)
class CheckRequest:
    """What the command line asks of one check."""

    targets: list[Path]
    config_file: Path | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)  # --select, --ignore, ...
    jobs: int = 1
    use_cache: bool = False
    cache_dir: Path | None = None  # None: .bastion_cache/ at the project root
    shard: tuple[int, int] | None = None
    diff_base: str | None = None
    baseline_file: Path | None = None
    fix_edits: bool = False  # compute each safe fix's edit (the SARIF report carries them)
    progress: Callable[[int, int], None] | None = None
    discovery: Discovery | None = None  # what the replay lookup already discovered


@dataclass
class Outcome:
    config: Config
    result: RunResult
    fix_edits: Mapping[str, FindingEdit] | None = None


# -- config ---------------------------------------------------------------------------------------


def load_settings(
    targets: Sequence[Path], config_file: Path | None, overrides: Mapping[str, Any]
) -> Config:
    """The effective configuration, every rule id and option checked (`ConfigError`)."""
    from bastion.selection import load_config

    return load_config(targets, config_file, overrides)


# -- inputs read before the run (a bad one fails before any work) ----------------------------------


def read_baseline(baseline_file: Path | None) -> Baseline | None:
    if baseline_file is None:
        return None
    from bastion.baseline import load_baseline

    return load_baseline(baseline_file)


def changed_lines(diff_base: str | None, config: Config) -> ChangedLines | None:
    """The lines git says changed since `diff_base` (`GitError` when it cannot say)."""
    if diff_base is None:
        return None
    from bastion.gitdiff import changed_lines as git_changed_lines

    return git_changed_lines(diff_base, config.root)


# -- discovery and the map step -------------------------------------------------------------------


def discovery_stage(request: CheckRequest, config: Config) -> Discovery:
    if request.discovery is not None:
        return request.discovery
    from bastion.engine import phase_budget

    with phase_budget(config.phase_timeout, "discovering the files"):  # BudgetExceeded: exit 2
        return discover(request.targets, config)


@dataclass
class FileSet:
    files: list[SourceFile]  # what the map step analyses
    tree_digest: str = ""  # in a shard: a digest of every file discovered


def files_stage(
    analyzer: FileAnalyzer, discovery: Discovery, shard: tuple[int, int] | None
) -> FileSet:
    """The discovered files that an enabled rule reads; a shard's stable slice of them."""
    files = [f for f in discovery.files if analyzer.wants(f.kind)]
    if shard is None:
        return FileSet(files)
    return FileSet([f for f in files if in_shard(f.path, *shard)], tree_digest_of(files))


def cache_folder(request: CheckRequest, config: Config) -> Path | None:
    if not request.use_cache:
        return None
    return request.cache_dir or config.root / ".bastion_cache"


def map_stage(
    analyzer: FileAnalyzer, files: FileSet, request: CheckRequest, config: Config
) -> MapResult:
    """Each file analysed once (one read, one parse, one walk), or served from the cache."""
    return map_step(
        analyzer,
        files.files,
        jobs=request.jobs,
        cache_dir=cache_folder(request, config),
        progress=request.progress,
    )


# -- the reduce step and the fingerprints ---------------------------------------------------------


def reduce_stage(analyzer: FileAnalyzer, mapped: MapResult, request: CheckRequest) -> MapResult:
    """`Rule.review` and the project rules, with the inline suppressions and per-file ignores
    of their findings. Project rules need the whole project: they run only when a folder was
    given; a shard leaves all of this to `bastion merge`."""
    if request.shard is not None:
        return mapped
    project_rules = any(Path(p).is_dir() for p in request.targets)
    return reduce_run(analyzer, mapped, project_rules)


def fingerprint_stage(
    analyzer: FileAnalyzer, files: FileSet, discovery: Discovery, reduced: MapResult
) -> RunResult:
    return finish_run(analyzer, files.files, discovery.notices, reduced, files.tree_digest)


# -- what is reported -----------------------------------------------------------------------------


def changed_lines_filter(
    result: RunResult, changes: ChangedLines | None, config: Config, diff_base: str | None
) -> RunResult:
    """`--diff-base`: only the findings on changed lines, and a notice of the rest."""
    if changes is None:
        return result
    from bastion.gitdiff import filter_changed

    result, outside = filter_changed(result, changes, config.root)
    result.notices.append(
        f"--diff-base {diff_base}: {len(result.findings)} findings on changed lines, "
        f"{outside} elsewhere not reported"
    )
    return result


def baseline_stage(
    result: RunResult,
    baseline: Baseline | None,
    baseline_file: Path | None,
    everything: Any = None,
) -> RunResult:
    """Findings the baseline lists leave the report; stale entries are counted in a notice.
    `everything`: the findings before the changed-lines filter (an entry outside the changed
    lines is not stale)."""
    if baseline is None:
        return result
    from bastion.baseline import apply_baseline

    outcome = apply_baseline(result, baseline, all_findings=everything)
    result = outcome.result
    note = f"baseline {baseline_file}: {outcome.baselined} findings baselined"
    if outcome.stale:
        note += (
            f", {outcome.stale} entries stale (fixed or moved): refresh with "
            f"`bastion baseline update {baseline_file}`"
        )
    result.notices.append(note)
    return result


def fix_edits_stage(
    result: RunResult, config: Config, wanted: bool
) -> Mapping[str, FindingEdit] | None:
    """Each safe fix's edit, computed by the fixer (a reporter only writes them out)."""
    if not wanted:
        return None
    from bastion.fixer import safe_fix_edits

    return safe_fix_edits(result.findings, config)


# -- whole runs -----------------------------------------------------------------------------------


def check(request: CheckRequest, config: Config | None = None) -> Outcome:
    """Every stage of `bastion check`, in order (`config`: already loaded by the caller)."""
    if config is None:
        config = load_settings(request.targets, request.config_file, request.overrides)
    baseline = read_baseline(request.baseline_file)
    changes = changed_lines(request.diff_base, config)
    analyzer = FileAnalyzer(config)
    discovery = discovery_stage(request, config)
    files = files_stage(analyzer, discovery, request.shard)
    mapped = map_stage(analyzer, files, request, config)
    reduced = reduce_stage(analyzer, mapped, request)
    result = fingerprint_stage(analyzer, files, discovery, reduced)
    if request.shard is not None:
        return Outcome(config, result)  # the merge does the rest
    everything = result.findings
    result = changed_lines_filter(result, changes, config, request.diff_base)
    result = baseline_stage(result, baseline, request.baseline_file, everything)
    return Outcome(config, result, fix_edits_stage(result, config, request.fix_edits))


def merge(shard_files: Sequence[Path], config: Config, baseline_file: Path | None) -> Outcome:
    """`bastion merge`: the reduce step and the fingerprints over shard files, then the
    baseline (`ShardError` when the shards do not make one run)."""
    from bastion.shard import merge as merge_shards

    baseline = read_baseline(baseline_file)
    result = merge_shards(list(shard_files), config)
    return Outcome(config, baseline_stage(result, baseline, baseline_file))


# -- fixes ----------------------------------------------------------------------------------------


def preview_fixes(targets: Sequence[Path], config: Config, *, unsafe: bool) -> FixRun:
    """Every fix of the files under `targets`, computed and not written."""
    from bastion.fixer import fix_paths

    return fix_paths(targets, config, unsafe=unsafe)


@dataclass
class AppliedFixes:
    messages: list[str]  # the fixer's notices, then the files it could not write
    written: int  # findings fixed
    fixed: list[Finding] = field(default_factory=list)  # those findings (`--show-fixes`)


def apply_fixes(targets: Sequence[Path], config: Config, *, unsafe: bool) -> AppliedFixes:
    """`--fix`: write every fix (atomically, never over a file changed meanwhile)."""
    from bastion.fixer import WriteSkipped, write_atomic

    fix_run = preview_fixes(targets, config, unsafe=unsafe)
    applied = AppliedFixes(list(fix_run.notices), 0)
    for file_fix in fix_run.changed:
        try:
            write_atomic(file_fix)
        except WriteSkipped as exc:
            applied.messages.append(str(exc))
            continue
        except OSError as exc:
            applied.messages.append(f"{file_fix.source.path}: not written: {exc}")
            continue
        applied.written += len(file_fix.applied)
        applied.fixed.extend(file_fix.applied)
    return applied
