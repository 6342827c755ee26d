"""Scale-out over a CI job matrix: `bastion check --shard K/N` runs the map step over a stable
1/N of the files and writes a shard file; `bastion merge` reads every shard of one run and does
the reduce step (`Rule.review`, project rules), the fingerprints and the report.

A shard file is the normal `--format json` document of the shard's own findings (secrets
redacted as always) plus two keys:

- `facts`: the map step's per-file facts, which the reduce step reads;
- `shard`: what the merge needs and checks - the slice (`index`/`count`), bastion's version,
  a fingerprint of the effective configuration, the analysed files, full finding records, and
  the paths whose code must never be shown.

Secrets. A finding that redacts a secret is written redacted and without its `redact` list; the
merged run cannot mask that secret in a code frame any more, so every file that had such a
finding is listed in `shard.hidden_frames` and reporters show no code of it. Fingerprints hash
the flagged line (secrets masked); the shard writes the hashes, never the line: for each finding
the fingerprints of its group (same rule, path and line text) for every occurrence index, so the
merge gives each finding the fingerprint a single run would have, even after `review` dropped
some of the group.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from bastion import __version__
from bastion.config import Config
from bastion.context import FileFacts
from bastion.discovery import SourceFile
from bastion.engine import FileAnalyzer, reduce_step
from bastion.findings import (
    Finding,
    Severity,
    assign_fingerprints,
    fingerprint,
    fingerprint_text,
    redact_text,
)
from bastion.redact import redact_data
from bastion.results import RunResult
from bastion.safe_fs import load_json, read_tree_file
from bastion.selection import enabled_rules
from bastion.slicing import in_shard as in_shard  # moved there; re-exported
from bastion.slicing import tree_digest_of as tree_digest_of

FORMAT = 1
# A shard file is input like any other: every number and list in it is bounded before use (a
# forged `"count": 1000000000` once built a billion strings), and every path must stay inside
# the project (a forged `../../secret.txt` once had its text embedded in the HTML report).
SHARD_LIMIT = 512 * 1024 * 1024
MAX_SHARDS = 4096
MAX_NUMBER = 2**31 - 1
MAX_FINGERPRINTS = 1_000_000


class ShardError(Exception):
    """A bad `--shard` value or an unusable set of shard files; the message says what to do."""


# -- choosing the files -------------------------------------------------------------------------


def parse_shard(text: str) -> tuple[int, int]:
    """`"2/5"` -> (2, 5); 1 <= K <= N."""
    index, slash, count = text.partition("/")
    try:
        k, n = int(index), int(count)
    except ValueError:
        k = n = 0
    if not slash or n < 1 or not 1 <= k <= n:
        raise ShardError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. --shard 1/4")
    return k, n


def config_fingerprint(config: Config, rule_ids: Iterable[str]) -> str:
    """What must be the same in every shard and in the merge: the enabled rules and every
    setting that changes a finding (not the root folder, which differs between CI machines,
    nor `fail-on`, which only changes the exit code)."""
    described = repr(
        (
            sorted(rule_ids),
            sorted((k, v.label) for k, v in config.severity.items()),
            sorted((k, sorted(v.items())) for k, v in config.rule_options.items()),
            sorted(config.per_file_ignores.items()),
            config.exclude,
            config.extend_exclude,
            config.test_paths,
            config.script_paths,
            config.respect_gitignore,
            config.max_file_bytes,
            config.file_timeout,
        )
    )
    return hashlib.sha256(described.encode()).hexdigest()[:24]


def _enabled_ids(config: Config) -> list[str]:
    return sorted(r.id for r in enabled_rules(config))


def relative_targets(targets: Sequence[Path], root: Path) -> list[str]:
    out = []
    for target in targets:
        try:
            rel = Path(os.path.abspath(target)).relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = Path(os.path.abspath(target)).as_posix()
        out.append(rel)
    return sorted(out)


# -- writing a shard ----------------------------------------------------------------------------


def _candidates(findings: list[Finding]) -> list[list[str]]:
    """For each finding, the fingerprints of its group for every occurrence index."""
    texts = [fingerprint_text(f) for f in findings]
    sizes: dict[tuple[str, str, str], int] = {}
    for f, text in zip(findings, texts, strict=True):
        key = (f.rule, f.path, text)
        sizes[key] = sizes.get(key, 0) + 1
    return [
        [fingerprint(f.rule, f.path, text, i) for i in range(sizes[(f.rule, f.path, text)])]
        for f, text in zip(findings, texts, strict=True)
    ]


def _record(finding: Finding, candidates: list[str]) -> dict[str, Any]:
    data = finding.to_json()
    data["message"] = redact_text(finding.message, finding.redact)
    data["fix_hint"] = redact_text(finding.fix_hint, finding.redact)
    data["statement_line"] = finding.statement_line
    data["fingerprints"] = candidates
    if finding.suppressed_by is not None:
        data["suppressed_by"] = redact_text(finding.suppressed_by, finding.redact)
    return data


def shard_document(
    result: RunResult, config: Config, shard: tuple[int, int], targets: Sequence[Path]
) -> dict[str, Any]:
    from bastion.reporters.json import build_document

    document = build_document(result, config)
    hidden = sorted({f.path for f in (*result.findings, *result.suppressed) if f.redact})
    document["facts"] = redact_data(
        [{"path": f.path, "kind": f.kind, "facts": f.facts} for f in result.facts]
    )
    document["shard"] = {
        "format": FORMAT,
        "index": shard[0],
        "count": shard[1],
        "version": __version__,
        "config": config_fingerprint(config, (r.id for r in result.rules)),
        "targets": relative_targets(targets, config.root),
        "project_rules": any(Path(t).is_dir() for t in targets),
        "files": [{"path": f.path, "kind": f.kind} for f in result.files],
        "analyzed": result.analyzed,
        "tree": result.tree_digest,
        "findings": [
            _record(f, c)
            for f, c in zip(result.findings, _candidates(result.findings), strict=True)
        ],
        "suppressed": [
            _record(f, c)
            for f, c in zip(result.suppressed, _candidates(result.suppressed), strict=True)
        ],
        "hidden_frames": hidden,
    }
    return document


# -- reading shards -----------------------------------------------------------------------------


def load_shards(paths: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    loaded = []
    if len(paths) > MAX_SHARDS:
        raise ShardError(f"{len(paths)} shard files: at most {MAX_SHARDS} are merged")
    for path in paths:
        try:
            # regular files only and capped (a shard named on the command line can still be a
            # committed link to /dev/zero); depth-guarded, no NaN or Infinity
            document = load_json(read_tree_file(path, None, SHARD_LIMIT).decode("utf-8"))
        except OSError as exc:
            raise ShardError(f"cannot read {path}: {exc.strerror or exc}") from None
        except ValueError as exc:  # UnicodeDecodeError included
            raise ShardError(f"{path}: not JSON ({exc})") from None
        if not isinstance(document, dict) or not isinstance(document.get("shard"), dict):
            raise ShardError(
                f"{path}: not a bastion shard file (write one with "
                "`bastion check --shard K/N --format json --output FILE`)"
            )
        loaded.append((path, document))
    return loaded


def _check_set(shards: list[tuple[Path, dict[str, Any]]], config: Config) -> None:
    """Same bastion, same configuration, same paths, and every slice exactly once."""
    expected = config_fingerprint(config, _enabled_ids(config))
    first_path, first = shards[0]
    for path, document in shards:
        meta = document["shard"]
        if meta.get("format") != FORMAT:
            raise ShardError(f"{path}: shard format {meta.get('format')!r}, expected {FORMAT}")
        if meta.get("version") != __version__:
            raise ShardError(
                f"{path} was written by bastion {meta.get('version')}, this is bastion "
                f"{__version__}: run every shard and the merge with the same bastion"
            )
        if meta.get("config") != expected:
            raise ShardError(
                f"{path} was written with another configuration (rules, severities, options "
                "or excludes) than this merge's: run the shards and the merge from the same "
                "checkout with the same --config/--select/--ignore/--extend-exclude"
            )
        if meta.get("targets") != first["shard"].get("targets"):
            raise ShardError(
                f"{path} checked {meta.get('targets')}, {first_path} checked "
                f"{first['shard'].get('targets')}: every shard must check the same paths"
            )
        if meta.get("tree") != first["shard"].get("tree"):
            raise ShardError(
                f"{path} and {first_path} saw different files: run every shard on the same commit"
            )
    for path, document in shards:
        count = document["shard"].get("count")
        if not _is_int(count) or not 1 <= count <= MAX_SHARDS:
            raise ShardError(f"{path}: bad shard count {count!r} (1 to {MAX_SHARDS})")
    counts = {document["shard"].get("count") for _, document in shards}
    if len(counts) != 1:
        raise ShardError(f"the shards were cut in different numbers of slices: {sorted(counts)}")
    (count,) = counts
    seen: dict[int, Path] = {}
    for path, document in shards:
        index = document["shard"].get("index")
        if not _is_int(index) or not 1 <= index <= count:
            raise ShardError(f"{path}: bad shard index {index!r} of {count}")
        if index in seen:
            raise ShardError(f"shard {index}/{count} given twice: {seen[index]} and {path}")
        seen[index] = path
    missing = [f"{k}/{count}" for k in range(1, count + 1) if k not in seen]
    if missing:
        shown = ", ".join(missing[:20]) + (
            f" and {len(missing) - 20} more" if len(missing) > 20 else ""
        )
        raise ShardError(f"missing shard{'s' if len(missing) > 1 else ''} {shown}")


def _is_int(value: Any) -> bool:
    return type(value) is int  # not a bool, not a float


def _number(data: Any, key: str, *, optional: bool = False) -> int:
    """A line, column or count from a shard: a JSON integer from 0 to MAX_NUMBER."""
    value = data.get(key) if optional else data[key]
    if optional and value is None:
        return 0
    if not _is_int(value) or not 0 <= value <= MAX_NUMBER:
        raise ValueError(f"{key} must be an integer from 0 to {MAX_NUMBER}, not {value!r}")
    return int(value)


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} must be a list")
    return value


def project_path(value: Any) -> str:
    """A path from a shard: relative, posix, inside the project (no `..`, not absolute)."""
    if not isinstance(value, str):
        raise TypeError(f"a path must be a string, not {type(value).__name__}")
    parts = PurePosixPath(value).parts
    if (
        not value
        or "\0" in value
        or "\\" in value
        or value.startswith("/")
        or any(part == ".." for part in parts)
    ):
        raise ValueError(f"path {value[:200]!r} leaves the project")
    return value


def _finding(data: Any, where: Path) -> Finding:
    try:
        fingerprints = _list(data["fingerprints"], "fingerprints")
        if len(fingerprints) > MAX_FINGERPRINTS:
            raise ValueError("too many fingerprints")
        candidates = [str(c) for c in fingerprints]
        if not candidates:
            raise ValueError("no fingerprints")
        statement = data.get("statement_line")
        return Finding(
            rule=str(data["rule"]),
            name=str(data["name"]),
            severity=Severity.parse(str(data["severity"])),
            category=str(data["category"]),
            path=project_path(data["path"]),
            line=_number(data, "line"),
            column=_number(data, "column"),
            end_line=_number(data, "end_line"),
            end_column=_number(data, "end_column"),
            message=str(data["message"]),
            fix_hint=str(data["fix_hint"]),
            fixable=bool(data["fixable"]),
            statement_line=_number(data, "statement_line") if statement is not None else None,
            # carried until the merge picks this finding's own (see `_assign`)
            fingerprint=",".join(candidates),
            suppressed_by=(
                str(data["suppressed_by"]) if data.get("suppressed_by") is not None else None
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ShardError(f"{where}: a malformed finding record ({exc})") from None


def _assign(findings: list[Finding]) -> list[Finding]:
    """Fingerprints as a single run assigns them: map-step findings take the candidate of their
    occurrence index in their group; the reduce step's own findings are hashed as usual."""
    carried = [f for f in findings if f.fingerprint]
    fresh = assign_fingerprints([f for f in findings if not f.fingerprint])
    seen: dict[str, int] = {}
    out: list[Finding] = []
    for finding in sorted(carried, key=Finding.sort_key):
        candidates = finding.fingerprint.split(",")
        index = seen.get(candidates[0], 0)
        seen[candidates[0]] = index + 1
        chosen = candidates[min(index, len(candidates) - 1)]
        out.append(replace(finding, fingerprint=chosen))
    return sorted([*out, *fresh], key=Finding.sort_key)


def merge(paths: Sequence[Path], config: Config) -> RunResult:
    """Rebuild one run from its shard files (raises ShardError when they do not make one)."""
    if not paths:
        raise ShardError("no shard files given")
    shards = load_shards(paths)
    _check_set(shards, config)
    shards.sort(key=lambda item: int(item[1]["shard"]["index"]))
    findings: list[Finding] = []
    suppressed: list[Finding] = []
    files: dict[str, SourceFile] = {}
    facts: dict[str, FileFacts] = {}
    notices: dict[str, None] = {}  # ordered, without the repeats (discovery notices)
    internal: list[str] = []
    hidden: set[str] = set()
    analyzed = 0
    for where, document in shards:
        meta = document["shard"]
        try:
            index, count = _number(meta, "index"), _number(meta, "count")
            for entry in _list(meta["files"], "files"):
                path = project_path(entry["path"])
                if not in_shard(path, index, count):
                    raise ShardError(
                        f"{where}: lists {path}, which is not in slice {index}/{count}"
                    )
                files[path] = SourceFile(path, config.root / path, str(entry["kind"]))
            for entry in _list(document["facts"], "facts"):
                if not isinstance(entry["facts"], dict):
                    raise TypeError("facts")
                fact_path = project_path(entry["path"])
                facts[fact_path] = FileFacts(fact_path, str(entry["kind"]), entry["facts"])
            hidden.update(project_path(p) for p in _list(meta["hidden_frames"], "hidden_frames"))
            analyzed += _number(meta, "analyzed", optional=True)
            shard_notices = [str(n) for n in _list(document.get("notices", []), "notices")]
            shard_errors = [str(e) for e in _list(document.get("errors", []), "errors")]
            records = _list(meta["findings"], "findings")
            silenced = _list(meta["suppressed"], "suppressed")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ShardError(f"{where}: malformed shard file ({exc})") from None
        findings.extend(_finding(r, where) for r in records)
        suppressed.extend(_finding(r, where) for r in silenced)
        notices.update(dict.fromkeys(shard_notices))
        internal.extend(shard_errors)
    analyzer = FileAnalyzer(config)
    ordered = [facts[p] for p in sorted(facts)]  # a single run's file order: sorted by path
    project_rules = bool(shards[0][1]["shard"].get("project_rules"))
    findings, silenced_now, errors = reduce_step(analyzer, findings, ordered, project_rules)
    internal.extend(errors)
    return RunResult(
        findings=_assign(findings),
        suppressed=_assign([*suppressed, *silenced_now]),
        files=[files[p] for p in sorted(files)],
        notices=list(notices),
        internal_errors=internal,
        rules=enabled_rules(config, analyzer.registry),
        analyzed=analyzed,
        facts=ordered,
        hidden_frames=frozenset(hidden),
    )
