"""The engine: map (one file at a time, one parse and one walk) then reduce (project rules).

`analyze_file` is a pure function of the file and the config, so that it can run in a process
pool and be cached by content hash; `run` ties discovery, the map, the reduce, suppressions and
fingerprints together. Nothing here prints.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bastion.config import Config
from bastion.context import FileContext, FileFacts, ProjectContext
from bastion.discovery import SourceFile, discover
from bastion.findings import Finding, Severity, assign_fingerprints
from bastion.imports import ImportMap
from bastion.parsers import DocumentError, parse_document
from bastion.registry import Registry, load_registry
from bastion.rule import FactCollector, ProjectRule, Rule, RuleMeta, declared_visitors
from bastion.source import DecodeError, SourceText, decode_python, decode_text
from bastion.suppression import Suppressions, parse_suppressions

MAX_FILE_BYTES = 10 * 1024 * 1024
PARSE_ERROR = "BAS001"
INVALID_SUPPRESSION = "BAS002"

# Deeply nested expressions are legal Python; the walk is recursive, so leave it headroom.
_RECURSION_LIMIT = 10_000


@dataclass
class FileResult:
    findings: list[Finding] = field(default_factory=list)
    facts: FileFacts | None = None
    notices: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)


@dataclass
class RunResult:
    findings: list[Finding]
    suppressed: list[Finding]
    files: list[SourceFile]
    notices: list[str]
    internal_errors: list[str]
    rules: list[type[RuleMeta]]

    def exit_code(self, config: Config) -> int:
        if self.internal_errors:
            return 2
        threshold = config.fail_threshold()
        if threshold is None:
            return 0
        return 1 if any(f.severity >= threshold for f in self.findings) else 0


def _meta(registry: Registry, rule_id: str) -> type[RuleMeta]:
    rule = registry.by_id(rule_id)
    assert rule is not None, rule_id
    return rule


class FileAnalyzer:
    """Everything about one configuration that does not depend on the file: the enabled rules,
    grouped by kind, so each file only pays for what applies to it."""

    def __init__(self, config: Config, registry: Registry | None = None) -> None:
        self.config = config
        self.registry = registry or load_registry()
        enabled = config.enabled_rules(self.registry)
        self.enabled_ids = {r.id for r in enabled}
        self.file_rules = [r for r in enabled if issubclass(r, Rule)]
        self.project_rules = [r for r in enabled if issubclass(r, ProjectRule)]
        # file rules whose findings depend on project facts (see `Rule.review`)
        self.reviewers = [r for r in self.file_rules if _overrides_review(r)]
        wants_facts = self.project_rules or self.reviewers
        self.collectors = list(self.registry.collectors) if wants_facts else []
        self.kinds = {k for r in self.file_rules for k in r.kinds} | {
            k for c in self.collectors for k in c.kinds
        }

    def wants(self, kind: str) -> bool:
        return kind in self.kinds

    # -- the map step -------------------------------------------------------------------------
    def analyze(self, source: SourceFile) -> FileResult:
        result = FileResult()
        try:
            data = _read(source, result)
            if data is None:
                return result
            self.analyze_bytes(source, data, result)
        except RecursionError:
            result.notices.append(f"{source.path}: skipped: nested too deeply to analyse")
            result.findings.clear()
        return result

    def analyze_bytes(self, source: SourceFile, data: bytes, result: FileResult) -> None:
        """Analyse a file's content (already read) into `result`."""
        try:
            text = decode_python(data) if source.kind == "python" else decode_text(data)
        except DecodeError as exc:
            self._parse_error(
                source.path, source.kind, SourceText(""), result, f"cannot decode file: {exc}"
            )
            return
        source_text = SourceText(text)
        ctx = FileContext(
            path=source.path, kind=source.kind, source=source_text, config=self.config
        )
        rules = [r for r in self.file_rules if source.kind in r.kinds and _wanted(r, text)]
        collectors = [c for c in self.collectors if source.kind in c.kinds and _wanted(c, text)]
        if source.kind == "python":
            if not self._parse_python(ctx, result):
                return
            self._walk_python(ctx, rules, collectors, result)
        else:
            if not rules and not collectors:
                return
            try:
                ctx.document = parse_document(source.kind, text)
            except DocumentError as exc:
                self._parse_error(
                    source.path, source.kind, source_text, result, str(exc), exc.line, exc.column
                )
                return
            visitors: list[Rule | FactCollector] = [r(ctx) for r in rules]
            visitors += [c(ctx) for c in collectors]
            for visitor in visitors:
                self._call(visitor.check, visitor, ctx, result)
        self._apply_suppressions(ctx, result)
        result.facts = FileFacts(source.path, source.kind, ctx.facts)

    def _parse_python(self, ctx: FileContext, result: FileResult) -> bool:
        text = ctx.source.text
        try:
            ctx.tree = ast.parse(text, filename=ctx.path, type_comments=False)
        except SyntaxError as exc:
            message = f"syntax error: {exc.msg}"
            if _looks_newer(text):
                running = f"{sys.version_info.major}.{sys.version_info.minor}"
                message += (
                    f" (the file seems to use syntax newer than Python {running}, which bastion "
                    "is running on: run bastion with the project's Python)"
                )
            line = exc.lineno or 1
            column = exc.offset or 1
            self._parse_error(ctx.path, ctx.kind, ctx.source, result, message, line, column)
            return False
        except (ValueError, MemoryError) as exc:  # e.g. NUL bytes in source
            self._parse_error(ctx.path, ctx.kind, ctx.source, result, f"cannot parse: {exc}")
            return False
        ctx.imports = ImportMap(ctx.module_name)
        ctx.imports.collect_top_level(ctx.tree)
        return True

    def _walk_python(
        self,
        ctx: FileContext,
        rules: Sequence[type[Rule]],
        collectors: Sequence[type[FactCollector]],
        result: FileResult,
    ) -> None:
        visitors: list[Rule | FactCollector] = [*(r(ctx) for r in rules)]
        visitors += [c(ctx) for c in collectors]
        enter: dict[type[ast.AST], list[Callable[[Any], None]]] = {}
        leave: dict[type[ast.AST], list[Callable[[Any], None]]] = {}
        for visitor in visitors:
            for node_type, phase, method in declared_visitors(type(visitor)):
                table = enter if phase == "visit" else leave
                table.setdefault(node_type, []).append(
                    _guarded(getattr(visitor, method), visitor, ctx, result)
                )
        # Imports inside functions are added as the walk meets them (top-level ones were
        # collected before the walk).
        enter.setdefault(ast.Import, []).insert(0, ctx.imports.add_import)
        enter.setdefault(ast.ImportFrom, []).insert(0, ctx.imports.add_import)
        stack = ctx.stack
        iter_children = ast.iter_child_nodes

        def walk(node: ast.AST) -> None:
            node_type = type(node)
            handlers = enter.get(node_type)
            if handlers:
                for handler in handlers:
                    handler(node)
            stack.append(node)
            for child in iter_children(node):
                walk(child)
            stack.pop()
            handlers = leave.get(node_type)
            if handlers:
                for handler in handlers:
                    handler(node)

        assert ctx.tree is not None
        old_limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old_limit, _RECURSION_LIMIT))
        try:
            walk(ctx.tree)
        finally:
            sys.setrecursionlimit(old_limit)
            stack.clear()
        for visitor in visitors:
            self._call(visitor.finish, visitor, ctx, result)

    def _call(
        self,
        fn: Callable[[], None],
        visitor: Rule | FactCollector,
        ctx: FileContext,
        result: FileResult,
    ) -> None:
        _guarded(lambda _node: fn(), visitor, ctx, result)(None)

    def _parse_error(
        self,
        path: str,
        kind: str,
        text: SourceText,
        result: FileResult,
        message: str,
        line: int = 1,
        column: int = 1,
    ) -> None:
        result.facts = FileFacts(path, kind, {})
        if PARSE_ERROR not in self.enabled_ids:
            return
        rule = _meta(self.registry, PARSE_ERROR)
        ctx = FileContext(path=path, kind=kind, source=text, config=self.config)
        ctx._add(rule, line, column, line, column, message, None, (), line, False)
        result.findings.extend(ctx.findings)

    # -- suppressions -------------------------------------------------------------------------
    def _apply_suppressions(self, ctx: FileContext, result: FileResult) -> None:
        per_file = self.config.ignored_for_path(ctx.path)
        findings = [f for f in ctx.findings if not _ignored_by_selectors(f, per_file)]
        if "bastion:" not in ctx.source.text:
            result.findings.extend(findings)
            return
        suppressions = parse_suppressions(ctx.source.lines)
        for finding in findings:
            directive = suppressions.match(finding.rule, finding.line, finding.statement_line)
            if directive is None:
                result.findings.append(finding)
            else:
                result.suppressed.append(_with_reason(finding, directive.reason))
        if INVALID_SUPPRESSION in self.enabled_ids:
            self._check_directives(ctx, suppressions, result)

    def _check_directives(
        self, ctx: FileContext, suppressions: Suppressions, result: FileResult
    ) -> None:
        rule = _meta(self.registry, INVALID_SUPPRESSION)
        check = FileContext(path=ctx.path, kind=ctx.kind, source=ctx.source, config=self.config)
        for d in suppressions.directives:
            kind = "ignore-file" if d.file_level else "ignore"
            if not d.ids:
                message = f"`# bastion: {kind}` names no rule: write `# bastion: {kind}[ID]`"
            else:
                unknown = [i for i in d.ids if self.registry.by_id(i) is None]
                if not unknown:
                    continue
                message = f"suppression names unknown rule id {', '.join(unknown)}"
            check._add(rule, d.line, d.column, d.line, d.column, message, None, (), d.line, False)
        result.findings.extend(check.findings)


def _overrides_review(rule: type[Rule]) -> bool:
    return any("review" in vars(k) for k in rule.__mro__ if k is not Rule)


def _with_reason(finding: Finding, reason: str) -> Finding:
    from dataclasses import replace

    return replace(finding, suppressed_by=reason or "suppressed in source")


def _ignored_by_selectors(finding: Finding, selectors: set[str]) -> bool:
    if not selectors:
        return False
    return any(
        s.upper() == "ALL" or finding.rule.startswith(s.upper()) or s.lower() == finding.name
        for s in selectors
    )


def _guarded(
    fn: Callable[[Any], None],
    visitor: Rule | FactCollector,
    ctx: FileContext,
    result: FileResult,
) -> Callable[[Any], None]:
    """A crashing rule must not take the run down: record it (exit 2) and go on."""
    name = getattr(visitor, "id", "") or type(visitor).__name__

    def call(node: Any) -> None:
        try:
            fn(node)
        except RecursionError:
            raise
        except Exception as exc:  # a bug in a rule; reported, never swallowed
            where = f"{ctx.path}:{getattr(node, 'lineno', 1)}"
            message = f"internal error in {name} at {where}: {type(exc).__name__}: {exc}"
            if message not in result.internal_errors:
                result.internal_errors.append(message)

    return call


def _wanted(rule: type[Rule] | type[FactCollector], text: str) -> bool:
    return not rule.requires or any(token in text for token in rule.requires)


_NEWER_SYNTAX = re.compile(
    r"^\s*type\s+\w+\s*(\[.*\])?\s*=|^\s*(async\s+)?def\s+\w+\s*\[|^\s*class\s+\w+\s*\[",
    re.MULTILINE,
)


def _looks_newer(text: str) -> bool:
    return sys.version_info < (3, 12) and bool(_NEWER_SYNTAX.search(text))


def _read(source: SourceFile, result: FileResult) -> bytes | None:
    try:
        size = source.abspath.stat().st_size
        if size > MAX_FILE_BYTES:
            result.notices.append(
                f"{source.path}: skipped: {size / 1_048_576:.1f} MiB is over the "
                f"{MAX_FILE_BYTES // 1_048_576} MiB limit"
            )
            return None
        return source.abspath.read_bytes()
    except OSError as exc:
        result.notices.append(f"{source.path}: cannot read: {exc.strerror or exc}")
        return None


# -- the whole run --------------------------------------------------------------------------------


def run(
    paths: Iterable[Path],
    config: Config,
    *,
    project_rules: bool | None = None,
) -> RunResult:
    """Discover, analyse every file, run project rules, and fingerprint the findings.

    Project rules need the whole project: by default they run only when a folder was given
    (a pre-commit run on a handful of files must not report "no tests" or "no health route").
    """
    paths = list(paths)
    analyzer = FileAnalyzer(config)
    discovery = discover(paths, config)
    files = [f for f in discovery.files if analyzer.wants(f.kind)]
    findings: list[Finding] = []
    suppressed: list[Finding] = []
    notices = list(discovery.notices)
    internal: list[str] = []
    facts: list[FileFacts] = []
    for source in files:
        file_result = analyzer.analyze(source)
        findings.extend(file_result.findings)
        suppressed.extend(file_result.suppressed)
        notices.extend(file_result.notices)
        internal.extend(file_result.internal_errors)
        if file_result.facts is not None:
            facts.append(file_result.facts)
    if analyzer.reviewers:
        reviewed = ProjectContext(config=config, files=facts)
        for reviewer in analyzer.reviewers:
            try:
                findings = reviewer.review(findings, reviewed)
            except Exception as exc:  # a bug in a rule; reported, never swallowed
                internal.append(f"internal error in {reviewer.id}: {type(exc).__name__}: {exc}")
    if project_rules is None:
        project_rules = any(Path(p).is_dir() for p in paths)
    if project_rules and analyzer.project_rules:
        project = ProjectContext(config=config, files=facts)
        for rule_class in analyzer.project_rules:
            try:
                rule_class(project).check_project()
            except Exception as exc:  # a bug in a rule; reported, never swallowed
                internal.append(f"internal error in {rule_class.id}: {type(exc).__name__}: {exc}")
        per_file = {p: config.ignored_for_path(p) for p in {f.path for f in project.findings}}
        findings.extend(
            f for f in project.findings if not _ignored_by_selectors(f, per_file[f.path])
        )
    return RunResult(
        findings=assign_fingerprints(findings),
        suppressed=assign_fingerprints(suppressed),
        files=files,
        notices=notices,
        internal_errors=internal,
        rules=config.enabled_rules(analyzer.registry),
    )


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for f in findings:
        counts[f.severity.label] += 1
    return counts
