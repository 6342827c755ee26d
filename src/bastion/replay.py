"""Replaying the report of an identical `bastion check` over an unchanged tree.

The per-file cache (`bastion.cache`) makes a warm run skip the analysis, but the run still loads
every rule module, re-runs the project rules over the cached facts and renders the report. When
nothing at all changed - the same bastion code, the same command line in the same folder, the
same configuration, and the same set of files each with the same stat signature - the report
is the same too, so the previous run's output is written again instead (the way `make` skips a
target whose inputs did not change).

What the key covers: bastion's code stamp, the command's parameters and working folder, the
`[tool.bastion]` table and CLI overrides, the baseline file's bytes, the files that some rules
read besides the module (declared dependency versions). What the record covers: every file
discovery finds, by path, kind and stat signature. A file changed a moment ago has no trusted
signature (see `bastion.cache.signature`), so a run that sees one is not recorded.

Only plain, deterministic reports are recorded: not on a terminal (colours, code frames and the
width depend on it), not the HTML report (it carries its generation time), never with fixes,
shards or `--diff-base` (git's state is not in the key), never when a rule that reads beyond the
tree ran (an advisory database, the network) and never with internal errors. A report with
secret findings is recorded: every byte of it is redacted (`bastion.redact`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion.cache import (
    FORMAT,
    code_stamp,
    open_cache_folder,
    project_inputs,
    signature,
    write_json_atomic,
)
from bastion.config import Config, ConfigError, load_config
from bastion.discovery import Discovery, discover
from bastion.results import RunResult
from bastion.rulemeta import OUTSIDE_THE_TREE
from bastion.safe_fs import CacheFolder, load_json, read_tree_file

_KEEP = 8  # records kept per cache folder (one per distinct command, most recent first)
_RECORD_NAME = re.compile(r"[0-9a-f]{32}\.json")  # the only names this module ever deletes
_RECORD_LIMIT = 256 * 1024 * 1024
BASELINE_LIMIT = 256 * 1024 * 1024


@dataclass
class Record:
    stdout: str
    stderr: list[str]
    exit_code: int
    output: str | None  # what `--output FILE` received, when given


def replay_key(parameters: dict[str, Any], config: Config, baseline: Path | None) -> str:
    """Everything outside the scanned files that the report depends on."""
    digest = hashlib.sha256(f"{FORMAT}\0{code_stamp()}\0".encode())
    described = repr(sorted((k, repr(v)) for k, v in parameters.items()))
    digest.update(described.encode())
    digest.update(f"\0{Path.cwd()}\0{config!r}\0{project_inputs(config.root)}".encode())
    if baseline is not None:
        try:
            # the caller's path, but maybe a committed link to /dev/zero: capped, regular only
            digest.update(read_tree_file(baseline, None, BASELINE_LIMIT))
        except OSError:
            digest.update(b"\0missing baseline")
    return digest.hexdigest()[:32]


def tree_state(discovery: Discovery, root: Path) -> list[list[Any]] | None:
    """Every discovered file with its stat signature, and the git index's (rules that read
    git, like SEC016's "is it tracked?", change their answer on `git add` alone); None when
    some file cannot be trusted."""
    state: list[list[Any]] = []
    for source in discovery.files:
        stat = signature(source.abspath)
        if stat is None:
            return None
        state.append([source.path, source.kind, *stat])
    index = git_index(root)
    if index is not None:
        stat = signature(index)
        if stat is None:
            return None
        state.append(["<git index>", "git", *stat])
    return state


def git_index(root: Path) -> Path | None:
    """The index file of the git work tree holding `root` (only stat-ed, never read); None
    outside one. A linked work tree's `.git` is a file naming its git folder."""
    for directory in (root, *root.parents):
        dot_git = directory / ".git"
        if dot_git.is_dir():
            return dot_git / "index"
        if dot_git.is_file():
            try:
                with dot_git.open("rb") as handle:  # a regular file: bounded read
                    first = handle.read(4096).decode("utf-8", errors="replace")
            except OSError:
                return None
            if first.startswith("gitdir:"):
                return (directory / first[7:].strip().splitlines()[0]).resolve() / "index"
            return None
    return None


def _folder(cache_dir: Path) -> CacheFolder:
    # beside the per-file cache's `v<FORMAT>/`, which prunes only `v<N>` folders; opened
    # without following links (see `bastion.safe_fs`)
    with open_cache_folder(cache_dir) as base:
        return base.child("replay")


def load(cache_dir: Path, key: str, state: list[list[Any]] | None) -> Record | None:
    """The recorded report of this command, if the tree is exactly as it was recorded."""
    if state is None:
        return None
    try:
        with _folder(cache_dir) as folder:
            raw = load_json(folder.read(f"{key}.json", _RECORD_LIMIT))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or raw.get("key") != key:
        return None
    if raw.get("tree") != state:
        return None
    stdout, stderr, exit_code, output = (
        raw.get("stdout"),
        raw.get("stderr"),
        raw.get("exit_code"),
        raw.get("output"),
    )
    if (
        not isinstance(stdout, str)
        or not isinstance(stderr, list)
        or not all(isinstance(line, str) for line in stderr)
        or exit_code not in (0, 1)
        or not (output is None or isinstance(output, str))
    ):
        return None  # forged or corrupted: run for real (and record again)
    return Record(stdout, stderr, exit_code, output)


def save(cache_dir: Path, key: str, state: list[list[Any]] | None, record: Record) -> None:
    """Record a report for `load`; `state` is the tree as it was before the run started (so a
    file edited during the run does not match it). Failures only cost the next run's speed."""
    if state is None:
        return
    payload = {
        "key": key,
        "tree": state,
        "stdout": record.stdout,
        "stderr": record.stderr,
        "exit_code": record.exit_code,
        "output": record.output,
    }
    try:
        with _folder(cache_dir) as folder:
            write_json_atomic(folder, f"{key}.json", payload)
            records = sorted(
                ((st.st_mtime_ns, name) for name, st in folder.entries()),
                reverse=True,
            )
            # only this module's own record names: anything else in the folder is left alone
            mine = [name for _, name in records if _RECORD_NAME.fullmatch(name)]
            for old in mine[_KEEP:]:
                folder.remove(old)
    except OSError:
        return


# -- the stage around a run and its rendering -----------------------------------------------------


@dataclass
class Pending:
    """What recording this command's report needs, once it is written."""

    cache_dir: Path
    key: str
    state: list[list[Any]] | None
    discovery: Discovery  # the run reuses it


def lookup(
    targets: Sequence[Path],
    config_file: Path | None,
    overrides: Mapping[str, Any],
    parameters: dict[str, Any],
    cache_dir: Path | None,
    baseline_file: Path | None,
) -> Record | Pending | None:
    """The recorded report when this exact command ran before on this exact tree; else what
    the run needs to record its own (None: the settings do not load, as the run will say)."""
    try:
        # without checking rule ids: the key holds the exact inputs that a checked run saw
        quick = load_config(targets, config_file, overrides)
    except ConfigError:
        return None  # reported by the checked load that follows
    folder = cache_dir or quick.root / ".bastion_cache"
    key = replay_key(parameters, quick, baseline_file)
    discovery = discover(targets, quick)
    state = tree_state(discovery, quick.root)
    found = load(folder, key, state)
    if found is None:
        return Pending(folder, key, state, discovery)
    return found


def record(
    pending: Pending,
    result: RunResult,
    report: str,
    stderr: list[str],
    exit_code: int,
    *,
    to_file: bool,
) -> None:
    """Record the report just written, unless it may not be replayed: internal errors, a rule
    that reads outside the tree. A report whose findings carry secrets is recorded too: every
    byte of a report is redacted (`bastion.redact`), so the record holds nothing secret (the
    redaction test searches the cache for planted secrets)."""
    # a rule that reads outside the tree (the network, an advisory database): never replayed
    external = any(rule.reads & OUTSIDE_THE_TREE for rule in result.rules)
    if result.internal_errors or external:
        return
    text = report
    save(
        pending.cache_dir,
        pending.key,
        pending.state,
        Record(text if not to_file else "", stderr, exit_code, text if to_file else None),
    )
