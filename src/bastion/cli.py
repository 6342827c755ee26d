"""The command line: `bastion check|fix|merge|baseline|audit-deps|rules|rule`.

It parses options (each declared once, shared by the commands that take it), calls the
pipeline (`bastion.pipeline`: the stages of a run) and renders the outcome through one
`emit()`.

Exit codes (public contract): 0 nothing at or above --fail-on, 1 findings, 2 usage, config or
internal error.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

import click

from bastion import __version__
from bastion.config import FAIL_ON_CHOICES, Config, ConfigError
from bastion.redact import shown, visible  # text from the scanned tree: masked, spelled out

# Each command imports the pipeline when it runs, after the replay (which needs none of it):
# a replayed `bastion check` imports no engine, rule or reporter.
if TYPE_CHECKING:
    from bastion.baseline import Baseline
    from bastion.findings import Finding
    from bastion.replay import Pending
    from bastion.reporters import Reporter
    from bastion.results import RunResult

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
# the report formats of `check` and `merge` (bastion.reporters.FORMATS, without importing it)
CHECK_FORMATS = ("text", "json", "sarif", "github", "html", "gitlab", "junit")


def _split(values: Sequence[str]) -> list[str]:
    """`--select ERR001,SEC --select API` -> [ERR001, SEC, API]."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _use_color(out: TextIO, no_color: bool) -> bool:
    if no_color or os.environ.get("NO_COLOR"):
        return False
    return hasattr(out, "isatty") and out.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bastion")
@click.option(
    "--allow-plugins",
    is_flag=True,
    envvar="BASTION_ALLOW_PLUGINS",
    help="Load the rule modules that [tool.bastion] plugins names (code from the checked "
    "tree: only where the tree is trusted). Installed plugins always load.",
)
def cli(allow_plugins: bool = False) -> None:
    """bastion: a best-practice linter and audit tool for Python backends."""
    from bastion import plugins

    plugins.allow_local(allow_plugins)


# -- options shared by several commands (one declaration each) -----------------------------------

_FORMATS = list(CHECK_FORMATS)


def _options(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Apply click decorators in the order written (the order `--help` lists them)."""

    def apply(fn: Any) -> Any:
        for decorator in reversed(decorators):
            fn = decorator(fn)
        return fn

    return apply


def _paths_argument() -> Callable[[Any], Any]:
    return click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))


def _selection_options(
    select: str = "Rules to run: ids, prefixes (SEC) or names; ALL.",
    ignore: str = "Rules to skip (added to the config's ignore).",
    extend_exclude: str = "More gitignore-style paths to skip.",
    *,
    ruff_style: bool = False,
) -> Callable[[Any], Any]:
    """--select/--ignore/--extend-exclude; with `ruff_style`, also ruff's --extend-select and
    --extend-ignore (an alias: --ignore already adds to the config's)."""
    extend = (
        [
            click.option(
                "--extend-select",
                multiple=True,
                help="Rules to run on top of the selected ones (the config's or the defaults).",
            )
        ]
        if ruff_style
        else []
    )
    ignore_names = ("--ignore", "--extend-ignore") if ruff_style else ("--ignore",)
    return _options(
        click.option("--select", multiple=True, help=select),
        *extend,
        click.option(*ignore_names, "ignore", multiple=True, help=ignore),
        click.option("--extend-exclude", multiple=True, help=extend_exclude),
    )


def _format_option(choices: Sequence[str] = tuple(_FORMATS)) -> Callable[[Any], Any]:
    return click.option(
        "--format",
        "--output-format",  # ruff's spelling
        "output_format",
        type=click.Choice(list(choices)),
        default="text",
        show_default=True,
    )


def _sarif_category_option(
    help: str = "SARIF runs[].automationDetails.id: tells code scanning apart several uploads.",
) -> Callable[[Any], Any]:
    return click.option("--sarif-category", metavar="NAME", help=help)


def _baseline_option() -> Callable[[Any], Any]:
    return click.option(
        "--baseline",
        "baseline_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="Report and fail only on findings not listed in this baseline file.",
    )


def _output_option(help: str | None = None) -> Callable[[Any], Any]:
    return click.option(
        "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


def _fail_on_option(
    help: str | None = "Lowest severity that makes the exit code 1 (default: warning).",
) -> Callable[[Any], Any]:
    return click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES), help=help)


def _config_option(
    help: str = "Read settings from this TOML file instead of the nearest pyproject.toml.",
) -> Callable[[Any], Any]:
    return click.option(
        "--config", "config_file", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


def _quiet_and_color_options() -> Callable[[Any], Any]:
    return _options(
        click.option("--quiet", "-q", is_flag=True, help="Print findings only: no notices."),
        click.option("--no-color", is_flag=True, help="Plain text, no colour or code frames."),
    )


def _overrides(
    select: Sequence[str], ignore: Sequence[str], extend_exclude: Sequence[str], fail_on: str | None
) -> dict[str, Any]:
    return {
        "select": _split(select),
        "ignore": _split(ignore),
        "extend_exclude": list(extend_exclude),
        "fail_on": fail_on,
    }


def _fail(message: object) -> NoReturn:
    # errors often quote the tree (a config value, a shard path, git's words): masked, spelled out
    click.echo(f"bastion: error: {shown(str(message))}", err=True)
    sys.exit(EXIT_ERROR)


T = TypeVar("T")


def _or_exit(stage: Callable[[], T]) -> T:
    """Run a pipeline stage; a user error (bad settings, baseline, git revision or shard set)
    is one line on stderr and exit 2."""
    try:
        return stage()
    except Exception as exc:
        if not _user_error(exc):
            raise
        _fail(exc)


def _user_error(exc: Exception) -> bool:
    # imported only when something went wrong: the stages import these modules when they run
    from bastion.baseline import BaselineError
    from bastion.engine import BudgetExceeded
    from bastion.gitdiff import GitError
    from bastion.shard import ShardError

    # a phase out of time (discovery...): the run is incomplete, exit 2 saying which
    return isinstance(exc, ConfigError | BaselineError | GitError | ShardError | BudgetExceeded)


def _load_settings(
    targets: Sequence[Path], config_file: Path | None, overrides: dict[str, Any]
) -> Config:
    from bastion.pipeline import load_settings

    return _or_exit(lambda: load_settings(targets, config_file, overrides))


def _load(
    targets: list[Path],
    select: Sequence[str],
    ignore: Sequence[str],
    extend_exclude: Sequence[str],
    fail_on: str | None,
    config_file: Path | None,
) -> Config:
    return _load_settings(targets, config_file, _overrides(select, ignore, extend_exclude, fail_on))


# -- rendering: one way to write a report --------------------------------------------------------


@dataclass
class Emitted:
    report: str  # the report as written (empty when it went to a terminal in colour)
    stderr: list[str]
    exit_code: int


def emit(
    result: RunResult,
    config: Config,
    reporter: Reporter,
    *,
    output: Path | None,
    no_color: bool,
    quiet: bool,
    said: int = 0,
    after: Sequence[str] = (),
) -> Emitted:
    """Write the report (to `output`, else stdout), then the notices and internal errors on
    stderr (but the first `said` notices, printed before the findings); return what was
    written and the exit code."""
    from bastion.engine import BudgetExceeded, phase_budget

    report = io.StringIO()
    try:
        with phase_budget(config.phase_timeout, "rendering the report"):
            if output is None:
                color = _use_color(sys.stdout, no_color)
                # a plain report is rendered first, so that it can be recorded for a replay
                reporter(result, config, sys.stdout if color else report, color=color)
            else:
                reporter(result, config, report, color=False)
    except BudgetExceeded as exc:  # the report is incomplete: exit 2, never a pass
        _fail(str(exc))
    if output is not None:
        _write_output(output, report.getvalue())
    else:
        sys.stdout.write(report.getvalue())
    stderr = [f"bastion: {shown(notice)}" for notice in result.notices] if not quiet else []
    stderr += [
        f"bastion: {shown(error)} (please report this bug)" for error in result.internal_errors
    ]
    stderr += list(after)  # e.g. `--show-fixes`
    for line in stderr[said if not quiet else 0 :]:
        click.echo(line, err=True)
    return Emitted(report.getvalue(), stderr, result.exit_code(config))


def _write_output(output: Path, text: str) -> None:
    from bastion.safe_fs import write_output

    try:
        write_output(output, text)  # atomically, never through a link
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror}")


# -- check ----------------------------------------------------------------------------------------


@cli.command()
@_paths_argument()
@_selection_options(ruff_style=True)
@_format_option()
@_sarif_category_option()
@_baseline_option()
@click.option(
    "--diff-base",
    metavar="REV",
    help="Report only findings on lines added or changed since REV (git).",
)
@_output_option("Write the report to FILE instead of stdout.")
@_fail_on_option()
@_config_option()
@_quiet_and_color_options()
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to analyse files in (default: the number of CPUs; 1: in-process).",
)
@click.option("--no-cache", is_flag=True, help="Analyse every file, ignore and keep no cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where to keep the cache (default: .bastion_cache/ at the project root).",
)
@click.option(
    "--statistics", is_flag=True, help="Print the number of findings per rule instead of them."
)
@click.option(
    "--shard",
    metavar="K/N",
    help="Analyse the K-th of N stable slices of the files and write its findings and facts "
    "(--format json) for `bastion merge`; project rules run in the merge.",
)
@click.option("--fix", "apply_fix", is_flag=True, help="Apply safe fixes, then report the rest.")
@click.option(
    "--unsafe-fixes",
    is_flag=True,
    help="With --fix/--diff: also apply unsafe fixes; with --show-fixes: list them too.",
)
@click.option(
    "--show-fixes",
    is_flag=True,
    help="After the report, list the fixes applied (--fix) or available, per rule, on stderr.",
)
@click.option(
    "--exit-zero",
    is_flag=True,
    help="Exit 0 even when findings are reported (errors still exit 2).",
)
@click.option(
    "--diff",
    "show_diff",
    is_flag=True,
    help="Print the fixes as a unified diff and write nothing (exit 1 if any).",
)
def check(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    output_format: str,
    sarif_category: str | None,
    baseline_file: Path | None,
    diff_base: str | None,
    output: Path | None,
    fail_on: str | None,
    config_file: Path | None,
    quiet: bool,
    no_color: bool,
    jobs: int | None = None,
    no_cache: bool = False,
    cache_dir: Path | None = None,
    statistics: bool = False,
    shard: str | None = None,
    apply_fix: bool = False,
    unsafe_fixes: bool = False,
    show_diff: bool = False,
    extend_select: tuple[str, ...] = (),
    show_fixes: bool = False,
    exit_zero: bool = False,
) -> None:
    """Check PATHS (default: the current folder) and report findings."""
    if exit_zero:
        _exit_zero_on_findings()
    shard_slice = None
    if shard is not None:
        shard_slice = _shard_slice(
            shard,
            output_format,
            {
                "--fix": apply_fix,
                "--diff": show_diff,
                "--statistics": statistics,
                "--baseline": baseline_file is not None,
                "--diff-base": diff_base is not None,
            },
        )
    parameters = dict(click.get_current_context().params)  # the command line: replay key
    targets = list(paths) or [Path(".")]
    overrides = _overrides(select, ignore, extend_exclude, fail_on)
    replay = None
    if _replayable(output_format, output, no_cache, shard, apply_fix, show_diff, diff_base):
        replay = _replay_or_exit(
            targets, config_file, overrides, parameters, cache_dir, baseline_file, output
        )
    config = _or_exit(
        lambda: _extend_selection(_load_settings(targets, config_file, overrides), extend_select)
    )
    from bastion import pipeline  # after the replay, which needs none of it
    from bastion.reporters import get_reporter
    from bastion.syntax_version import target_notice

    # said once, before the findings (and kept in the report's notices)
    ahead = target_notice(config.target_version, config.target_origin)
    if ahead and not quiet:
        click.echo(f"bastion: {shown(ahead)}", err=True)

    if show_diff:
        sys.exit(_print_diff(targets, config, unsafe=unsafe_fixes))
    fixed: list[Any] = []
    if apply_fix:
        fixed = _apply_fixes(targets, config, unsafe=unsafe_fixes, quiet=quiet)
    with _progress_bar(enabled=output_format == "text" and not quiet) as progress:
        request = pipeline.CheckRequest(
            targets,
            config_file,
            overrides,
            jobs=jobs or os.cpu_count() or 1,
            use_cache=not no_cache,
            cache_dir=cache_dir,
            shard=shard_slice,
            diff_base=diff_base,
            baseline_file=baseline_file,
            fix_edits=output_format == "sarif" and not statistics,
            progress=progress,
            discovery=replay.discovery if replay is not None else None,
        )
        outcome = _or_exit(lambda: pipeline.check(request, config))
    if shard_slice is not None:
        reporter = _shard_reporter(shard_slice, targets)
    else:
        reporter = get_reporter(
            "statistics" if statistics else output_format,
            sarif_category=sarif_category,
            sarif_fixes=outcome.fix_edits,
        )
    if ahead:
        outcome.result.notices[:0] = [ahead]  # kept in the report; said already (see above)
    emitted = emit(
        outcome.result,
        config,
        reporter,
        output=output,
        no_color=no_color,
        quiet=quiet,
        said=1 if ahead else 0,
        after=_fix_summary(outcome.result, fixed, applied=apply_fix) if show_fixes else [],
    )
    if replay is not None:
        from bastion.replay import record

        record(
            replay,
            outcome.result,
            emitted.report,
            emitted.stderr,
            emitted.exit_code,
            to_file=output is not None,
        )
    sys.exit(emitted.exit_code)


def _exit_zero_on_findings() -> None:
    """`--exit-zero` (ruff's flag): findings exit 0; usage, config and internal errors (2) do
    not change. Wraps sys.exit for the rest of this command, replayed runs included."""
    real_exit = sys.exit

    def exit_zero(code: str | int | None = 0) -> Any:
        real_exit(EXIT_OK if code == EXIT_FINDINGS else code)

    sys.exit = exit_zero
    click.get_current_context().call_on_close(lambda: setattr(sys, "exit", real_exit))


def _extend_selection(config: Config, extend_select: Sequence[str]) -> Config:
    """`--extend-select`: the selected rules (the config's `select`, or every default rule)
    plus these."""
    extra = _split(extend_select)
    if not extra:
        return config
    from dataclasses import replace

    from bastion.registry import load_registry
    from bastion.selection import validate_selector

    registry = load_registry()
    for selector in extra:
        validate_selector(selector, registry, "--extend-select")
    return replace(config, select=(*(config.select or ("ALL",)), *extra))


def _fix_summary(result: Any, fixed: list[Any], *, applied: bool) -> list[str]:
    """`--show-fixes`: per rule, the fixes applied (with --fix) or available (unsafe ones
    marked), as ruff lists them."""
    from collections import Counter

    from bastion.reporters.fixable import fixable_counts, unsafe_rule_ids

    if applied:
        done = Counter(f"{f.rule} {f.name}" for f in fixed)
        lines = ["Fixes applied, per rule:"]
        return lines + [f"  {n:>6}  {key}" for key, n in sorted(done.items())]
    unsafe_ids = unsafe_rule_ids()
    counts = Counter((f.rule, f.name) for f in result.findings if f.fixable)
    safe, unsafe = fixable_counts(result)
    lines = [f"Fixable: {safe} safe, {unsafe} unsafe (--unsafe-fixes):"]
    for (rule, name), n in sorted(counts.items()):
        mark = " [unsafe]" if rule in unsafe_ids else ""
        lines.append(f"  {n:>6}  {rule} {name}{mark}")
    return lines


def _replayable(
    output_format: str,
    output: Path | None,
    no_cache: bool,
    shard: str | None,
    apply_fix: bool,
    show_diff: bool,
    diff_base: str | None,
) -> bool:
    """Whether this command's report may be recorded and replayed (see `bastion.replay`)."""
    if no_cache or shard or apply_fix or show_diff or diff_base is not None:
        return False
    if output_format == "html":
        return False  # it carries the time it was generated
    return output is not None or not sys.stdout.isatty()


def _replay_or_exit(
    targets: list[Path],
    config_file: Path | None,
    overrides: dict[str, Any],
    parameters: dict[str, Any],
    cache_dir: Path | None,
    baseline_file: Path | None,
    output: Path | None,
) -> Pending | None:
    """Write the recorded report and exit when this exact command ran before on this exact
    tree; else return what the run needs to record its report."""
    from bastion.replay import Record, lookup

    found = lookup(targets, config_file, overrides, parameters, cache_dir, baseline_file)
    if not isinstance(found, Record):
        return found
    if found.output is not None and output is not None:
        _write_output(output, found.output)
    # a record lives in the scanned tree: what it prints is spelled out like any tree text
    sys.stdout.write(visible(found.stdout, keep_newlines=True))
    for line in found.stderr:
        click.echo(visible(line), err=True)
    sys.exit(found.exit_code)


def _shard_slice(shard: str, output_format: str, conflicts: dict[str, bool]) -> tuple[int, int]:
    from bastion.shard import parse_shard

    shard_slice = _or_exit(lambda: parse_shard(shard))
    if output_format != "json":
        _fail(
            f"--shard writes findings and facts for `bastion merge` as JSON: "
            f"use --format json (not {output_format}); `bastion merge` writes every format"
        )
    for flag, given in conflicts.items():
        if given:
            _fail(
                f"{flag} cannot be combined with --shard (a shard sees part of "
                "the project; run it on the whole project or on the merged report)"
            )
    return shard_slice


def _shard_reporter(shard_slice: tuple[int, int], targets: list[Path]) -> Reporter:
    """A shard's file: the JSON report plus what `bastion merge` needs (`bastion.shard`)."""

    def report_shard(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
        import json

        from bastion.redact import json_text
        from bastion.shard import shard_document

        document = shard_document(result, config, shard_slice, targets)
        out.write(json_text(json.dumps(document, ensure_ascii=False)) + "\n")

    return report_shard


# -- merge ----------------------------------------------------------------------------------------


@cli.command(name="merge")
@click.argument(
    "shard_files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path)
)
@_format_option()
@_output_option()
@_fail_on_option()
@click.option(
    "--project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The project the shards checked (its settings, and its files for code frames).",
)
@_config_option("The settings file the shards were run with, if not the nearest pyproject.toml.")
@_selection_options(
    select="The --select the shards were run with.",
    ignore="The --ignore the shards were run with.",
    extend_exclude="The --extend-exclude of the shards.",
)
@_sarif_category_option("SARIF runs[].automationDetails.id.")
@_baseline_option()
@_quiet_and_color_options()
def merge_command(
    shard_files: tuple[Path, ...],
    output_format: str,
    output: Path | None,
    fail_on: str | None,
    project: Path,
    config_file: Path | None,
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    sarif_category: str | None,
    baseline_file: Path | None,
    quiet: bool,
    no_color: bool,
) -> None:
    """Merge the outputs of `bastion check --shard K/N --format json` (every K of one N):
    run the project rules over their facts and report in any format, with the usual exit
    codes. Give it the same settings and options as the shards."""
    from bastion import pipeline
    from bastion.reporters import get_reporter

    config = _load([project], select, ignore, extend_exclude, fail_on, config_file)
    outcome = _or_exit(lambda: pipeline.merge(shard_files, config, baseline_file))
    reporter = get_reporter(output_format, sarif_category=sarif_category)
    emitted = emit(outcome.result, config, reporter, output=output, no_color=no_color, quiet=quiet)
    sys.exit(emitted.exit_code)


# -- fixes ----------------------------------------------------------------------------------------


def _print_diff(targets: list[Path], config: Config, *, unsafe: bool) -> int:
    from bastion.pipeline import preview_fixes

    fix_run = preview_fixes(targets, config, unsafe=unsafe)
    for notice in fix_run.notices:
        click.echo(f"bastion: {shown(notice)}", err=True)
    for file_fix in fix_run.changed:
        click.echo(file_fix.diff(), nl=False)
    count = sum(len(f.applied) for f in fix_run.changed)
    click.echo(f"{count} fix{'es' if count != 1 else ''} would be applied.", err=True)
    return EXIT_FINDINGS if fix_run.changed else EXIT_OK


def _apply_fixes(
    targets: list[Path], config: Config, *, unsafe: bool, quiet: bool
) -> list[Finding]:
    """Write the fixes; return the findings they fixed."""
    from bastion.pipeline import apply_fixes

    applied = apply_fixes(targets, config, unsafe=unsafe)
    for message in applied.messages:
        click.echo(f"bastion: {shown(message)}", err=True)
    if not quiet:
        written = applied.written
        click.echo(f"Fixed {written} finding{'s' if written != 1 else ''}.", err=True)
    return applied.fixed


@cli.command(name="fix")
@click.pass_context
def fix_command(ctx: click.Context, /, **kwargs: Any) -> None:
    """Apply safe fixes (and unsafe ones with --unsafe-fixes) to PATHS, then report what is
    left. Same options as `check`."""
    kwargs["apply_fix"] = True
    ctx.invoke(check, **kwargs)


fix_command.params = [p for p in check.params if p.name not in ("apply_fix", "shard")]


# -- baseline -------------------------------------------------------------------------------------


@cli.group()
def baseline() -> None:
    """Record today's findings so that the gate fails only on new ones."""


def _baseline_options(fn: Any) -> Any:
    return _options(
        click.argument("file", type=click.Path(dir_okay=False, path_type=Path)),
        _paths_argument(),
        _selection_options(
            select="Rules to run.", ignore="Rules to skip.", extend_exclude="More paths to skip."
        ),
        _config_option(),
    )(fn)


def _current_findings(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    config_file: Path | None,
) -> Baseline:
    from bastion.baseline import Baseline
    from bastion.pipeline import CheckRequest, check

    targets = list(paths) or [Path(".")]
    config = _load(targets, select, ignore, extend_exclude, None, config_file)
    result = check(CheckRequest(targets), config).result
    for error in result.internal_errors:
        click.echo(f"bastion: {shown(error)} (please report this bug)", err=True)
    if result.internal_errors:
        sys.exit(EXIT_ERROR)
    return Baseline.from_findings(result.findings)


def _write_baseline(data: Baseline, file: Path) -> None:
    _or_exit(lambda: data.write(file))


@baseline.command(name="create")
@_baseline_options
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
def baseline_create(
    file: Path,
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    config_file: Path | None,
    force: bool,
) -> None:
    """Write FILE listing the current findings of PATHS (default: the current folder)."""
    if file.exists() and not force:
        _fail(f"{file} exists: use `bastion baseline update {file}` (or --force)")
    data = _current_findings(paths, select, ignore, extend_exclude, config_file)
    _write_baseline(data, file)
    click.echo(f"bastion: wrote {file} with {len(data.entries)} findings", err=True)


@baseline.command(name="update")
@_baseline_options
@click.option(
    "--prune-only",
    is_flag=True,
    help="Only drop entries that no longer match a finding; never add new findings.",
)
def baseline_update(
    file: Path,
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    config_file: Path | None,
    prune_only: bool,
) -> None:
    """Rewrite FILE with the current findings of PATHS (fixed ones leave, new ones join)."""
    from bastion.baseline import Baseline, load_baseline

    old = _or_exit(lambda: load_baseline(file))
    current = _current_findings(paths, select, ignore, extend_exclude, config_file)
    if prune_only:
        keep = current.fingerprints
        current = Baseline(tuple(e for e in old.entries if e.fingerprint in keep))
    added = len(current.fingerprints - old.fingerprints)
    removed = len(old.fingerprints - current.fingerprints)
    _write_baseline(current, file)
    click.echo(
        f"bastion: updated {file}: {len(current.entries)} findings ({added} added, "
        f"{removed} removed)",
        err=True,
    )


# -- audit-deps -----------------------------------------------------------------------------------


@cli.command(name="audit-deps")
@_paths_argument()
@click.option(
    "--vuln-db",
    type=click.Path(file_okay=False, path_type=Path),
    help="Audit offline against this folder of OSV records (JSON/YAML); no network.",
)
@click.option(
    "--service",
    type=click.Choice(["pypi", "osv"]),
    default="pypi",
    show_default=True,
    help="Online vulnerability service (through pip-audit) when no --vuln-db is given.",
)
@click.option("--timeout", type=click.IntRange(1, 600), default=15, show_default=True)
@click.option(
    "--ignore-audit-errors",
    is_flag=True,
    help="Report what could be audited and exit 0/1 even if part of the audit failed.",
)
@_format_option(["text", "json"])
@_output_option()
@_fail_on_option(help=None)
@_quiet_and_color_options()
def audit_deps(
    paths: tuple[Path, ...],
    vuln_db: Path | None,
    service: str,
    timeout: int,
    ignore_audit_errors: bool,
    output_format: str,
    output: Path | None,
    fail_on: str | None,
    quiet: bool,
    no_color: bool,
) -> None:
    """Audit the pinned dependencies of PATHS (requirements files with their -r/-c includes,
    pyproject.toml, lock files) for known vulnerabilities (DEP001)."""
    from bastion.audit_command import run_audit
    from bastion.reporters import get_reporter

    targets = list(paths) or [Path(".")]
    config = _load_settings(targets, None, {"fail_on": fail_on})
    result, errors = run_audit(targets, config, vuln_db, service, timeout)
    reporter = get_reporter(output_format)
    emitted = emit(result, config, reporter, output=output, no_color=no_color, quiet=quiet)
    for error in errors:
        click.echo(f"bastion: audit error: {shown(error)}", err=True)
    if errors and not ignore_audit_errors:
        click.echo(
            "bastion: the audit is incomplete (use --ignore-audit-errors to accept that)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(emitted.exit_code)


PROGRESS_MIN_FILES = 200


@contextlib.contextmanager
def _progress_bar(*, enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A rich progress bar on stderr for long runs on a terminal; nothing otherwise."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress

    with Progress(transient=True, console=_stderr_console()) as bar:
        task = None

        def update(done: int, total: int) -> None:
            nonlocal task
            if total < PROGRESS_MIN_FILES:
                return
            if task is None:
                task = bar.add_task("Checking files", total=total)
            bar.update(task, completed=done)

        yield update


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


@cli.command(name="rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
@click.option(
    "--write-docs",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write every rule's documentation page (and an index) to this folder.",
)
def list_rules(output_format: str, write_docs: Path | None) -> None:
    """List every rule: id, name, area, severity and fix availability."""
    from bastion.registry import load_registry

    if write_docs is not None:
        from bastion.docs import write_rule_docs

        try:
            written = write_rule_docs(write_docs)
        except OSError as exc:  # `/proc/nope`, a read-only folder: a usage error, exit 2
            _fail(f"--write-docs {write_docs}: {exc.strerror}")
        click.echo(f"bastion: wrote {len(written)} pages to {write_docs}", err=True)
        return
    rules = load_registry().rules
    if output_format == "json":
        import json

        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "area": r.area().value,
                        "severity": r.severity.label,
                        "fix": r.fix_label(),
                        "enabled_by_default": r.enabled_by_default,
                        "summary": r.summary,
                        # codes whose `noqa` / `nosec` comments silence this rule too
                        "aliases": list(r.aliases),
                        "bandit": list(r.bandit),
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
        return
    if not sys.stdout.isatty():
        # piped or redirected: whole names and summaries, one rule a line (no table to cut)
        for r in rules:
            fields = (r.id, r.name, r.area().value, r.severity.label, r.fix_label(), r.summary)
            click.echo("  ".join(fields))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"bastion {__version__}: {len(rules)} rules")
    for column in ("id", "name", "area", "severity", "fix", "summary"):
        table.add_column(column)
    for r in rules:
        table.add_row(r.id, r.name, r.area().value, r.severity.label, r.fix_label(), r.summary)
    Console(soft_wrap=False).print(table)


@cli.command(name="rule")
@click.argument("rule_id")
def show_rule(rule_id: str) -> None:
    """Show the documentation of one rule (by id or name)."""
    from bastion.docs import render_markdown
    from bastion.registry import load_registry

    rule = load_registry().by_id(rule_id)
    if rule is None:
        click.echo(f"bastion: error: unknown rule {rule_id!r} (see `bastion rules`)", err=True)
        sys.exit(EXIT_ERROR)
    text = render_markdown(rule)
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text, code_theme="monokai"))
    else:
        click.echo(text, nl=False)


@cli.command(name="suppress")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--select", multiple=True, help="Rules to suppress (default: the selected ones).")
@click.option("--ignore", multiple=True, help="Rules to leave alone.")
@click.option("--extend-exclude", multiple=True, help="More gitignore-style paths to skip.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read settings from this TOML file instead of the nearest pyproject.toml.",
)
@click.option(
    "--reason",
    default="legacy, added by bastion suppress",
    show_default=True,
    help="The reason written after each directive (say why, or where it is tracked).",
)
def suppress_command(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    config_file: Path | None,
    reason: str,
) -> None:
    """Write `# bastion: ignore[ID] reason` on every current finding of PATHS (ruff's
    --add-noqa): adopt bastion on an existing codebase, then fix the directives away."""
    from bastion.engine import run
    from bastion.suppress_command import suppress

    if "\n" in reason or "\r" in reason or "#" in reason:
        click.echo("bastion: error: --reason must be one line without `#`", err=True)
        sys.exit(EXIT_ERROR)
    targets = list(paths) or [Path(".")]
    config = _load(targets, select, ignore, extend_exclude, None, config_file)
    result = run(targets, config)
    for error in result.internal_errors:
        click.echo(f"bastion: {shown(error)} (please report this bug)", err=True)
    if result.internal_errors:
        sys.exit(EXIT_ERROR)
    outcome = suppress(result.findings, config, reason)
    for notice in outcome.notices:
        click.echo(f"bastion: {shown(notice)}", err=True)
    added = sum(outcome.written.values())
    click.echo(
        f"bastion: added {added} suppression comment{'s' if added != 1 else ''} "
        f"in {len(outcome.written)} file{'s' if len(outcome.written) != 1 else ''}",
        err=True,
    )


@cli.command(name="server")
def server_command() -> None:
    """Run the Language Server (LSP over stdio) for editors: diagnostics as you type, fixes and
    `# bastion: ignore` as code actions, rule docs on hover. Needs `bastion-lint[server]`."""
    try:
        from bastion.server.lsp import serve
    except ImportError as exc:
        click.echo(
            f"bastion: error: the server needs pygls ({exc.name} is missing): "
            'pip install "bastion-lint[server]"',
            err=True,
        )
        sys.exit(EXIT_ERROR)
    serve()


def main() -> None:
    from bastion.plugins import PluginError

    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("bastion: interrupted", err=True)
        sys.exit(EXIT_ERROR)
    except PluginError as exc:  # an installed plugin that cannot load (bastion rules, ...)
        click.echo(f"bastion: error: {shown(str(exc))}", err=True)
        sys.exit(EXIT_ERROR)
