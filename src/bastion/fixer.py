"""Applying fixes: libcst rewrites of exactly the flagged nodes, nothing else.

Detection stays on `ast`; only files that have a fixable finding are parsed with libcst. Each
finding's start position locates the libcst node of the type its rule declares (`fix_node`),
and the rule's `fix` returns the replacement. All fixes of a file are applied together, then the
file is analysed again and fixed again, up to `MAX_PASSES`, so overlapping fixes settle. A
result that does not parse is never written: the fixes of that pass are retried one at a time
and the ones that break the code are dropped and reported.

Writes are atomic (temporary file in the same folder, then rename), keep the file's mode, its
encoding and its line endings, and are skipped if the file changed on disk since it was read.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import errno
import os
import tempfile
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.config import Config
from bastion.context import FileContext
from bastion.discovery import SourceFile, discover
from bastion.engine import (
    Alarm,
    BudgetExceeded,
    FileAnalyzer,
    FileResult,
    Timeout,
    phase_budget,
    time_budget,
)
from bastion.findings import Finding, FixSafety
from bastion.rule import Fix, Rule
from bastion.safe_fs import read_tree_file
from bastion.source import DecodeError, SourceText, decode_python

MAX_PASSES = 5


@dataclass
class FileFix:
    source: SourceFile
    original: bytes
    fixed: bytes
    applied: list[Finding] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        """The fix as a unified diff, for review: secret-looking values masked on both sides
        (a hunk shows the lines around a fix, which may hold a key) and control characters in
        the path and the code spelled out, so printing it on a terminal is safe."""
        from bastion.redact import redact, visible

        try:
            before = redact(decode_python(self.original)).splitlines(keepends=True)
            after = redact(decode_python(self.fixed)).splitlines(keepends=True)
        except DecodeError:  # undecodable: nothing sensible to show
            return ""
        path = visible(self.source.path)
        text = "".join(
            difflib.unified_diff(before, after, fromfile=f"a/{path}", tofile=f"b/{path}")
        )
        return visible(text, keep_newlines=True)


@dataclass
class FixRun:
    files: list[FileFix]
    notices: list[str]

    @property
    def changed(self) -> list[FileFix]:
        return [f for f in self.files if f.changed]


def _allowed(finding: Finding, rule: type[Rule], unsafe: bool) -> bool:
    if not finding.fixable or not rule.is_fixable():
        return False
    return rule.fix_safety is FixSafety.SAFE or (unsafe and rule.fix_safety is FixSafety.UNSAFE)


class NotRoundTrippable(Exception):
    """libcst's output of an unchanged file differs from the file: never fix such a file."""


def parse_for_fix(code: bytes) -> tuple[Any, Any]:
    """libcst's tree of `code` and the positions of its nodes (parse once, fix many times)."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider

    parsed = cst.parse_module(code)
    if parsed.bytes != code:
        # libcst could not reproduce this file byte for byte (seen with a lone `\` line
        # continuation): rewriting it would change lines nobody asked to change.
        raise NotRoundTrippable
    wrapper = MetadataWrapper(parsed)
    return wrapper, wrapper.resolve(PositionProvider)


class _Rewriter:
    """One libcst pass that replaces the nodes some findings point at."""

    def __init__(
        self, targets: dict[tuple[str, int, int], tuple[Rule, Finding]], line_length: int = 88
    ) -> None:
        self.targets = targets
        self.line_length = line_length
        self.applied: list[Finding] = []
        self.imports: list[tuple[str, str | None]] = []

    def _choose(self, positions: Any) -> dict[tuple[str, int, int], Any]:
        """The one libcst node each target rewrites."""
        candidates: dict[tuple[str, int, int], list[tuple[Any, Any]]] = {}
        for node, position in positions.items():
            key = (type(node).__name__, position.start.line, position.start.column)
            if key in self.targets:
                candidates.setdefault(key, []).append((node, position))
        return {key: _pick(found, self.targets[key][1]) for key, found in candidates.items()}

    def transform(self, code: bytes, parsed: tuple[Any, Any] | None = None) -> bytes:
        """Apply the targets' fixes to `code` (already parsed by `parse_for_fix`, or not)."""
        import libcst as cst

        wrapper, positions = parsed if parsed is not None else parse_for_fix(code)
        rewriter = self
        chosen = self._choose(positions)

        class Transformer(cst.CSTTransformer):
            def on_leave(self, original_node: Any, updated_node: Any) -> Any:
                if isinstance(updated_node, cst.Call):
                    updated_node = _tidy_call(original_node, updated_node)
                position = positions.get(original_node)
                if position is None:
                    return updated_node
                key = (type(original_node).__name__, position.start.line, position.start.column)
                target = rewriter.targets.get(key)
                if target is None or chosen.get(key) is not original_node:
                    return updated_node
                rule, finding = target
                fix: Fix | None = rule.fix(updated_node, finding)
                if fix is None:
                    return updated_node
                rewriter.applied.append(finding)
                rewriter.imports.extend(fix.imports)
                return fix.replacement

        module = wrapper.module.visit(Transformer())
        if self.imports:
            module = _add_imports(module, list(dict.fromkeys(self.imports)))
        if rewriter.applied:
            from bastion.analysis.fixes import drop_orphaned_imports, wrap_long_signatures

            # leave nothing for the next linter: no orphaned import, no overlong signature
            module = drop_orphaned_imports(wrapper.module.code, module)
            # layout only: a node it cannot render leaves the fix as it is
            with contextlib.suppress(Exception):
                module = wrap_long_signatures(wrapper.module.code, module, self.line_length)
        out: bytes = module.bytes
        return out


def _end_of(finding: Finding) -> tuple[int, int]:
    return finding.end_line, finding.end_column - 1


def _pick(candidates: list[tuple[Any, Any]], finding: Finding) -> Any:
    """Several nodes of the fix's type start where the finding starts (`a.get(x).json()`: two
    calls): the one that also ends where the finding ends, else the innermost."""
    for node, position in candidates:
        if (position.end.line, position.end.column) == _end_of(finding):
            return node
    return min(
        candidates,
        key=lambda c: (c[1].end.line, c[1].end.column),
    )[0]


def _add_imports(module: Any, imports: list[tuple[str, str | None]]) -> Any:
    """Add each import once, where isort/ruff would put it (`bastion.analysis.fixes`)."""
    from bastion.analysis.fixes import add_imports

    return add_imports(module, imports)


def _tidy_call(original: Any, updated: Any) -> Any:
    """After a fix removed an argument, do not leave `f(a, )` behind: the new last argument
    keeps the comma style of the original last one."""
    import libcst as cst

    if len(updated.args) >= len(original.args) or not updated.args:
        return updated
    if isinstance(original.args[-1].comma, cst.MaybeSentinel):
        args = [*updated.args[:-1], updated.args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
        return updated.with_changes(args=args)
    # a trailing comma: the new last argument takes the removed one's (and so its line break
    # before the closing parenthesis), not its own that led to the removed argument
    args = [*updated.args[:-1], updated.args[-1].with_changes(comma=original.args[-1].comma)]
    return updated.with_changes(args=args)


def _parses(code: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(code)
    except (SyntaxError, ValueError):
        return False
    return True


class Fixer:
    def __init__(self, config: Config, *, unsafe: bool = False) -> None:
        self.config = config
        self.unsafe = unsafe
        self.analyzer = FileAnalyzer(config)
        from bastion.analysis.fixes import line_length

        self.line_length = line_length(config.root)

    def _targets(
        self, source: SourceFile, code: bytes, findings: Sequence[Finding]
    ) -> dict[tuple[str, int, int], tuple[Rule, Finding]]:
        """Rule instances (with the file's context, for fixes that need imports) per target."""
        targets: dict[tuple[str, int, int], tuple[Rule, Finding]] = {}
        for each in self._targets_each(source, code, findings):
            for key, target in each.items():
                targets.setdefault(key, target)
        return targets

    def _targets_each(
        self, source: SourceFile, code: bytes, findings: Sequence[Finding]
    ) -> list[dict[tuple[str, int, int], tuple[Rule, Finding]]]:
        """The targets of each fixable finding (one analysis of the file for all of them)."""
        registry = self.analyzer.registry
        ctx = FileContext(
            path=source.path,
            kind=source.kind,
            source=SourceText(decode_python(code)),
            config=self.config,
        )
        if not self.analyzer._parse_python(ctx, FileResult()):
            return []
        out: list[dict[tuple[str, int, int], tuple[Rule, Finding]]] = []
        for finding in findings:
            rule_class = registry.by_id(finding.rule)
            if rule_class is None or not issubclass(rule_class, Rule):
                continue
            if not _allowed(finding, rule_class, self.unsafe):
                continue
            node_types = rule_class.fix_node
            instance = rule_class(ctx)
            position = instance.fix_position(finding)
            if position is None:
                continue
            types = (node_types,) if isinstance(node_types, str) else node_types
            out.append({(node_type, *position): (instance, finding) for node_type in types})
        return out

    def fix_bytes(self, source: SourceFile, data: bytes) -> FileFix:
        result = FileFix(source=source, original=data, fixed=data)
        if source.kind != "python":
            return result
        current = data
        for _ in range(MAX_PASSES):
            analysis = FileResult()
            self.analyzer.analyze_bytes(source, current, analysis)
            targets = self._targets(source, current, analysis.findings)
            if not targets:
                break
            try:
                new, applied = self._apply(current, targets, result)
            except Exception as exc:  # libcst cannot read what `ast` can (newer syntax or
                # identifiers of a newer Unicode): the file is reported, never half-fixed
                if type(exc).__module__.startswith("libcst"):
                    break
                raise
            if new == current:
                break
            current = new
            result.applied.extend(applied)
        result.fixed = current
        return result

    def _apply(
        self,
        code: bytes,
        targets: dict[tuple[str, int, int], tuple[Rule, Finding]],
        result: FileFix,
    ) -> tuple[bytes, list[Finding]]:
        rewriter = _Rewriter(targets, self.line_length)
        new = rewriter.transform(code)
        if _parses(new):
            return new, rewriter.applied
        # Together they broke the code: apply them one at a time, keep those that parse.
        applied: list[Finding] = []
        for key, target in targets.items():
            single = _Rewriter({key: target}, self.line_length)
            candidate = single.transform(code)
            if _parses(candidate):
                code = candidate
                applied.extend(single.applied)
            else:
                finding = target[1]
                result.dropped.append(
                    f"{finding.path}:{finding.line}:{finding.column}: {finding.rule} fix "
                    "dropped: it would produce code that does not parse (please report this bug)"
                )
        return code, applied


def fix_paths(paths: Iterable[Path], config: Config, *, unsafe: bool = False) -> FixRun:
    """Compute the fixes of every Python file under `paths` (nothing is written)."""
    fixer = Fixer(config, unsafe=unsafe)
    try:
        with phase_budget(config.phase_timeout, "discovering the files"):
            discovery = discover(list(paths), config)
    except BudgetExceeded as exc:
        return FixRun([], [f"nothing fixed: {exc}"])
    files: list[FileFix] = []
    notices = list(discovery.notices)
    for source in discovery.files:
        if source.kind != "python":
            continue
        data = _read_within_limit(source, config, notices)
        if data is None:
            continue
        alarm = Alarm()
        try:
            # the same budget as its analysis: a file crafted to be slow is not fixed, and
            # the check that follows reports it (BAS003)
            with time_budget(config.file_timeout, alarm):
                file_fix = fixer.fix_bytes(source, data)
        except (Timeout, SystemError) as exc:
            # interrupted inside ast.parse's C code, the timeout comes out as a SystemError
            if isinstance(exc, SystemError) and not alarm.fired:
                notices.append(f"{source.path}: not fixed: SystemError: {exc}")
            else:
                notices.append(
                    f"{source.path}: not fixed: fixing took longer than "
                    f"{config.file_timeout:g}s (`file-timeout` in [tool.bastion])"
                )
            continue
        except RecursionError:
            notices.append(f"{source.path}: not fixed: nested too deeply to rewrite")
            continue
        except NotRoundTrippable:
            notices.append(
                f"{source.path}: not fixed: libcst cannot reproduce this file exactly, so a fix "
                "could change lines it should not"
            )
            continue
        except Exception as exc:  # libcst failing on a file ast accepted: skip, say so
            notices.append(f"{source.path}: not fixed: {type(exc).__name__}: {exc}")
            continue
        notices.extend(file_fix.dropped)
        files.append(file_fix)
    return FixRun(files, notices)


def _read_within_limit(source: SourceFile, config: Config, notices: list[str]) -> bytes | None:
    """The file's bytes, or None (with a notice) when it is over `max-file-bytes` - never
    fixed, as never analysed - or unreadable."""
    limit = config.max_bytes_for(source.kind)
    try:
        size = source.abspath.stat().st_size
        if size > limit:
            notices.append(
                f"{source.path}: not fixed: {size:,} bytes is over the {limit:,}-byte limit "
                "(`max-file-bytes` in [tool.bastion])"
            )
            return None
        return read_tree_file(source.abspath, None, limit, walked=True)
    except OSError as exc:
        notices.append(f"{source.path}: cannot read: {exc.strerror}")
        return None


class WriteSkipped(Exception):
    pass


def write_atomic(file_fix: FileFix) -> None:
    """Replace the file's content in one rename; refuse if it changed since it was read."""
    target = file_fix.source.abspath.resolve()  # write through a symlink, never replace it
    try:
        # a file that grew past its old size changed: no need to read more of it than that
        current = read_tree_file(target, None, len(file_fix.original))
    except OSError as exc:
        if exc.errno == errno.EFBIG:
            raise WriteSkipped(
                f"{file_fix.source.path}: not written: it changed on disk meanwhile"
            ) from None
        raise WriteSkipped(f"{file_fix.source.path}: not written: {exc.strerror}") from None
    if current != file_fix.original:
        raise WriteSkipped(f"{file_fix.source.path}: not written: it changed on disk meanwhile")
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(file_fix.fixed)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, target.stat().st_mode & 0o7777)
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


# -- SARIF: each safe fix as the smallest replacements of the original text ---------------------


@dataclass(frozen=True)
class Replacement:
    """Replace the text from (start_line, start_column) up to, not including, (end_line,
    end_column) - 1-based, columns in Unicode code points - by `inserted` (an empty region
    is an insertion)."""

    start_line: int
    start_column: int
    end_line: int
    end_column: int
    inserted: str


@dataclass(frozen=True)
class FindingEdit:
    """What one finding's fix changes in its file, for reporters (SARIF `fixes`)."""

    path: str
    description: str
    replacements: tuple[Replacement, ...]


def _position(lines: list[str], offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset into the text split in `lines`."""
    for index, line in enumerate(lines):
        if offset < len(line) or (index == len(lines) - 1 and offset <= len(line)):
            return index + 1, offset + 1
        offset -= len(line)
    return len(lines) + 1, 1  # just past the end (text ending in a newline)


def replacements(before: str, after: str) -> tuple[Replacement, ...]:
    """The smallest replacements that turn `before` into `after`: changed line blocks, each
    narrowed to the characters that differ."""
    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    starts = [0]
    for line in old:
        starts.append(starts[-1] + len(line))
    out: list[Replacement] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        deleted, inserted = "".join(old[i1:i2]), "".join(new[j1:j2])
        prefix = 0
        while prefix < min(len(deleted), len(inserted)) and deleted[prefix] == inserted[prefix]:
            prefix += 1
        limit = min(len(deleted), len(inserted)) - prefix
        suffix = 0
        while suffix < limit and deleted[-1 - suffix] == inserted[-1 - suffix]:
            suffix += 1
        start = starts[i1] + prefix
        end = starts[i1] + len(deleted) - suffix
        start_line, start_column = _position(old, start)
        end_line, end_column = _position(old, end)
        out.append(
            Replacement(
                start_line,
                start_column,
                end_line,
                end_column,
                inserted[prefix : len(inserted) - suffix],
            )
        )
    return tuple(out)


def _writes_secret(before: str, after: str) -> bool:
    """Whether a line the fix writes holds a secret-looking value: its SARIF edit would carry
    the secret (masking it would corrupt the file the edit is applied to), so it gets none."""
    from bastion.redact import redact

    old = before.splitlines(keepends=True)
    new = after.splitlines(keepends=True)
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            written = "".join(new[j1:j2])
            if redact(written) != written:
                return True
    return False


def safe_fix_edits(findings: Iterable[Finding], config: Config) -> dict[str, FindingEdit]:
    """`_safe_fix_edits` within the report's budget (SARIF edits are optional: none when the
    time runs out), files over `max-file-bytes` left out."""
    small: dict[str, bool] = {}
    within: list[Finding] = []
    for finding in findings:
        if finding.path not in small:
            small[finding.path] = _small_enough(config, finding.path)
        if small[finding.path]:
            within.append(finding)
    try:
        with phase_budget(config.phase_timeout, "computing the SARIF fixes"):
            return _safe_fix_edits(within, config)
    except BudgetExceeded:
        return {}


def _small_enough(config: Config, path: str) -> bool:
    try:
        return (config.root / path).stat().st_size <= config.max_bytes_for("python")
    except OSError:
        return False


def _safe_fix_edits(findings: Iterable[Finding], config: Config) -> dict[str, FindingEdit]:
    """{fingerprint: edit} for every finding with a safe fix that applies: that fix alone,
    applied to the file as it is on disk, as the smallest replacements of its text (a fix
    that adds an import is two). Findings whose fix does not apply, or would not parse, get
    none; nothing is written."""
    fixer = Fixer(config)
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        rule = fixer.analyzer.registry.by_id(finding.rule)
        if rule is None or not isinstance(rule, type) or not issubclass(rule, Rule):
            continue
        if finding.fingerprint and _allowed(finding, rule, unsafe=False):
            by_path.setdefault(finding.path, []).append(finding)
    edits: dict[str, FindingEdit] = {}
    for path, fixable in by_path.items():
        source = SourceFile(path, config.root / path, "python")
        try:
            data = read_tree_file(source.abspath, config.root, config.max_file_bytes)
            before = decode_python(data)
            parsed = parse_for_fix(data)
            each = fixer._targets_each(source, data, fixable)
        # bastion: ignore[ERR002] libcst can raise anything on odd input; SARIF edits are optional
        except Exception:  # unreadable, undecodable, or libcst cannot take it: no edits
            continue
        for targets in each:
            finding = next(iter(targets.values()))[1]
            try:
                fixed = _Rewriter(targets, fixer.line_length).transform(data, parsed)
                after = decode_python(fixed)
            # bastion: ignore[ERR002] a fix that cannot be rendered gets no SARIF edit
            except Exception:
                continue
            if fixed == data or not _parses(fixed) or _writes_secret(before, after):
                continue
            edits[finding.fingerprint] = FindingEdit(
                path=path,
                description=f"{finding.rule}: {finding.fix_hint}",
                replacements=replacements(before, after),
            )
    return edits
