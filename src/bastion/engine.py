"""The engine: map (one file at a time, one parse and one walk) then reduce (project rules).

`analyze_file` is a pure function of the file and the config, so that it can run in a process
pool and be cached by content hash; `run` ties discovery, the map, the reduce, suppressions and
fingerprints together. Nothing here prints.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import gc
import operator
import signal
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bastion import plugins
from bastion.analysis.web import routes_of
from bastion.cache import Cache, CachedResult, Signature, config_salt, signature
from bastion.config import Config
from bastion.context import FileContext, FileFacts, ProjectContext
from bastion.discovery import Discovery, SourceFile, discover
from bastion.findings import Finding, assign_fingerprints
from bastion.function_index import child_fields
from bastion.imports import ImportMap
from bastion.parsers import DocumentError, parse_document
from bastion.registry import Registry, load_registry
from bastion.results import FileResult as FileResult  # moved there; re-exported
from bastion.results import RunResult as RunResult
from bastion.results import count_by_severity as count_by_severity
from bastion.rule import (
    FactCollector,
    ProjectRule,
    Rule,
    RuleMeta,
    declared_visitors,
    has_route_hook,
)
from bastion.safe_fs import UnsafeFileError, read_tree_file
from bastion.selection import enabled_rules
from bastion.slicing import in_shard, tree_digest_of
from bastion.source import DecodeError, SourceText, decode_python, decode_text
from bastion.suppression import (
    Suppressions,
    may_suppress,
    parse_suppressions,
    python_comments,
)
from bastion.syntax_version import needed_by, newer_python_notice, syntax_error_message

PARSE_ERROR = "BAS001"
INVALID_SUPPRESSION = "BAS002"
NOT_ANALYSED = "BAS003"


_CHILD_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _child_values(node_type: type[ast.AST]) -> Callable[[Any], tuple[Any, ...]]:
    """A getter of a node type's fields that may hold nodes, last field first (the walk pushes
    them in reverse so that they pop in source order). `ctx` (the Load/Store/Del singletons)
    is left out: no rule visits it, and every name and attribute would cost one more step.
    One C call per node instead of a `getattr` per field."""
    fields = tuple(reversed(child_fields(node_type)))
    if not fields:
        return _no_values
    if len(fields) == 1:
        single = operator.attrgetter(fields[0])
        return lambda node: (single(node),)
    return operator.attrgetter(*fields)


def _no_values(node: Any) -> tuple[Any, ...]:
    return ()


def _leaf_types() -> frozenset[type]:
    """Node types that never have a child node (fields of plain values only, `ctx` aside)."""
    plain: tuple[type[ast.AST], ...] = (ast.Constant, ast.Name, ast.Pass, ast.Break)
    plain += (ast.Continue, ast.Global, ast.Nonlocal, ast.alias, ast.MatchSingleton)
    plain += (ast.MatchStar, ast.TypeIgnore)
    markers = (ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.expr_context)
    return frozenset(plain).union(t for base in markers for t in base.__subclasses__())


_LEAF_TYPES = _leaf_types()


def _node_types() -> frozenset[type]:
    """Every node class of the running Python's `ast` (what `ast.parse` can build)."""
    found: set[type] = set()
    todo: list[type] = [ast.AST]
    while todo:
        cls = todo.pop()
        subclasses: list[type] = cls.__subclasses__()
        for sub in subclasses:
            if sub not in found:
                found.add(sub)
                todo.append(sub)
    return frozenset(found)


_NODE_TYPES = _node_types()


class _Leave:
    """Marks, on the walk's work list, the point where a node's children are done."""


_LEAVE = _Leave()


def _meta(registry: Registry, rule_id: str) -> type[RuleMeta]:
    rule = registry.by_id(rule_id)
    assert rule is not None, rule_id
    return rule


class FileAnalyzer:
    """Everything about one configuration that does not depend on the file: the enabled rules,
    grouped by kind, so each file only pays for what applies to it."""

    def __init__(
        self, config: Config, registry: Registry | None = None, *, prefilter: bool = True
    ) -> None:
        self.config = config
        # Text pre-filters (`Rule.requires`) and call filters (`Rule.call_names`) only skip
        # work; turning them off must never change a result (tests compare both ways).
        self.prefilter = prefilter
        self.registry = registry or load_registry()
        enabled = enabled_rules(config, self.registry)
        self.enabled_ids = {r.id for r in enabled}
        # BAS003 visits nothing (the engine reports it): it must not make a file kind wanted
        # that no selected rule reads
        self.file_rules = [r for r in enabled if issubclass(r, Rule) and r.id != NOT_ANALYSED]
        self.project_rules = [r for r in enabled if issubclass(r, ProjectRule)]
        # file rules whose findings depend on project facts (see `Rule.review`)
        self.reviewers = [r for r in self.file_rules if _overrides_review(r)]
        # only the collectors whose facts an enabled rule reads (`RuleMeta.needs`)
        self.needed_facts = frozenset(
            k for r in (*self.project_rules, *self.reviewers) for k in r.needs
        )
        self.collectors = [c for c in self.registry.collectors if c.key in self.needed_facts]
        self.kinds = {k for r in self.file_rules for k in r.kinds} | {
            k for c in self.collectors for k in c.kinds
        }
        # files whose findings depend on more than their bytes (git state...): never cached
        self.volatile_kinds = {k for r in self.file_rules if r.reads for k in r.kinds}

    def wants(self, kind: str) -> bool:
        return kind in self.kinds

    # -- the map step -------------------------------------------------------------------------
    def analyze(self, source: SourceFile) -> FileResult:
        result = FileResult()
        data = _read(source, result, self.config.max_bytes_for(source.kind))
        if data is None:
            self.not_analysed(source, result)
            return result
        return self.analyze_data(source, data, result)

    def _timed_out(self, source: SourceFile, result: FileResult) -> None:
        result.notices.append(
            f"{source.path}: skipped: analysis took longer than {self.config.file_timeout:g}s "
            "(raise `file-timeout` in [tool.bastion] to allow more)"
        )
        result.findings.clear()
        result.suppressed.clear()
        result.cacheable = False  # another machine, or another try, may be fast enough
        self.not_analysed(source, result)

    def not_analysed(self, source: SourceFile, result: FileResult, reason: str = "") -> None:
        """Report BAS003 at `source`: it could not be analysed (`reason`, by default the
        notice that says why), so it must fail the gate rather than pass it unread."""
        if not reason and result.notices:
            notice = result.notices[-1]
            reason = notice.removeprefix(f"{source.path}: ")
        if NOT_ANALYSED not in self.enabled_ids:
            return
        rule = _meta(self.registry, NOT_ANALYSED)
        ctx = FileContext(
            path=source.path, kind=source.kind, source=SourceText(""), config=self.config
        )
        message = f"file not analysed: {reason or 'unknown reason'}"
        ctx._add(rule, 1, 1, 1, 1, message, None, (), 1, False)
        per_file = self.config.ignored_for_path(source.path)
        result.findings.extend(f for f in ctx.findings if not _ignored_by_selectors(f, per_file))

    def analyze_data(
        self, source: SourceFile, data: bytes, result: FileResult | None = None
    ) -> FileResult:
        """Analyse content already read, within the file's time budget."""
        if result is None:
            result = FileResult()
        alarm = Alarm()
        try:
            with _time_budget(self.config.file_timeout, alarm), _CollectorPaused():
                self.analyze_bytes(source, data, result)
        except SystemError:
            if not alarm.fired:
                raise
            self._timed_out(source, result)
        except RecursionError:
            result.notices.append(f"{source.path}: skipped: nested too deeply to analyse")
            result.findings.clear()
            result.suppressed.clear()
            self.not_analysed(source, result)
        except MemoryError:
            result.notices.append(f"{source.path}: skipped: out of memory while analysing it")
            result.findings.clear()
            result.suppressed.clear()
            result.cacheable = False
            self.not_analysed(source, result)
        except _Timeout:
            self._timed_out(source, result)
        else:
            if result.internal_errors:
                # a rule crashed on it: the file was not fully checked (and exit 2 says why)
                failed = sorted(
                    {
                        e.split(" at ")[0].removeprefix("internal error in ")
                        for e in result.internal_errors
                    }
                )
                self.not_analysed(
                    source, result, f"{', '.join(failed)} failed on it (a bastion bug)"
                )
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
        wanted = _wanted_in(text) if self.prefilter else _always
        rules = [r for r in self.file_rules if source.kind in r.kinds and wanted(r)]
        collectors = [c for c in self.collectors if source.kind in c.kinds and wanted(c)]
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
            # the compiler's SyntaxWarnings (invalid escapes, `is` with a literal...) are the
            # scanned project's business, not lines on bastion's stderr
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ctx.tree = ast.parse(text, filename=ctx.path, type_comments=False)
        except SyntaxError as exc:
            # names the newer Python the file needs, when that is why it does not parse here
            message, hint = syntax_error_message(text, exc)
            line, column = exc.lineno or 1, exc.offset or 1
            self._parse_error(ctx.path, ctx.kind, ctx.source, result, message, line, column, hint)
            return False
        except RecursionError:
            message = "nested too deeply for Python's parser (the interpreter cannot load it)"
            self._parse_error(ctx.path, ctx.kind, ctx.source, result, message)
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
            if has_route_hook(type(visitor)):
                # before the visitor's own `visit_FunctionDef`, as its forwarding ran
                hook = _RouteHook(visitor, ctx)
                enter.setdefault(ast.FunctionDef, []).append(hook)
                enter.setdefault(ast.AsyncFunctionDef, []).append(hook)
            for node_type, phase, method in declared_visitors(type(visitor)):
                table = enter if phase == "visit" else leave
                table.setdefault(node_type, []).append(getattr(visitor, method))
        # Imports inside functions are added as the walk meets them (top-level ones were
        # collected before the walk).
        enter.setdefault(ast.Import, []).insert(0, ctx.imports.add_import)
        enter.setdefault(ast.ImportFrom, []).insert(0, ctx.imports.add_import)
        # like the text pre-filters, the call filter only saves time: off, it must change nothing
        calls = _CallDispatch(enter.get(ast.Call, []), ctx.imports.aliases, self.prefilter)

        def crashed(handler: Callable[[Any], None], node: ast.AST, exc: Exception) -> None:
            """A bug in a rule must not take the run down: record it (exit 2), stop running
            that rule on this file, and go on with the others."""
            visitor = getattr(handler, "__self__", None)
            name = getattr(visitor, "id", "") or type(visitor).__name__
            if visitor is not None and not isinstance(visitor, ImportMap):
                visitor._crashed = True  # its `finish` will not run either
            result.internal_errors.append(
                f"internal error in {name} at {ctx.path}:{getattr(node, 'lineno', 1)}: "
                f"{type(exc).__name__}: {exc}"
            )
            for table in (enter, leave):
                for key, handlers in table.items():
                    table[key] = [
                        h for h in handlers if getattr(h, "__self__", None) is not visitor
                    ]
            calls.reset(enter.get(ast.Call, []))

        stack = ctx.stack
        child_fields = _CHILD_FIELDS
        leaves = _LEAF_TYPES.difference(leave)  # a leaf with leave handlers: as any node
        # node types worth pushing: leaves no visitor handles (operators, contexts, most
        # names) never are; a set lookup also stands in for `isinstance(value, ast.AST)`
        walked = _NODE_TYPES - _LEAF_TYPES.difference(enter, leave)

        # Iterative, not recursive: generated code nests 100,000 deep (a long `a + b + ...`)
        # and a scanned file must never be able to exhaust the interpreter's stack.
        assert ctx.tree is not None
        todo: list[ast.AST | _Leave] = [ctx.tree]
        pop, push = todo.pop, todo.append
        try:
            while todo:
                item = pop()
                if item is _LEAVE:
                    node = stack.pop()
                    handlers = leave.get(type(node))
                    if handlers:
                        for handler in handlers:
                            try:  # zero-cost until a rule raises
                                handler(node)
                            except RecursionError:
                                raise
                            except Exception as exc:  # a rule's bug: reported, never swallowed
                                crashed(handler, node, exc)
                    continue
                node = item  # type: ignore[assignment]
                node_type = type(node)
                if node_type is ast.Call and calls.filtered:
                    handlers = calls.handlers(node)  # type: ignore[arg-type]
                else:
                    handlers = enter.get(node_type)
                if handlers:
                    for handler in handlers:
                        try:
                            handler(node)
                        except RecursionError:
                            raise
                        except Exception as exc:  # a rule's bug: reported, never swallowed
                            crashed(handler, node, exc)
                if node_type in leaves:
                    # no children and no leave handler: the stack and the walk skip the two
                    # steps an inner node costs (names and constants are a third of all nodes)
                    continue
                stack.append(node)
                push(_LEAVE)
                # children pushed in reverse so that they pop in source order (what
                # `ast.iter_child_nodes` yields, without its two generators per node)
                values = child_fields.get(node_type)
                if values is None:
                    values = child_fields[node_type] = _child_values(node_type)
                for value in values(node):
                    if type(value) is list:
                        for element in reversed(value):
                            if type(element) in walked:
                                push(element)
                    elif type(value) in walked:
                        push(value)
        finally:
            stack.clear()
        for visitor in visitors:
            if type(visitor).finish not in _NO_FINISH:  # most rules have nothing to finish
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
        hint: str | None = None,
    ) -> None:
        result.facts = FileFacts(path, kind, {})
        if PARSE_ERROR not in self.enabled_ids:
            # never a silent gap: with BAS001 not selected, the file is still named
            result.notices.append(f"{path}:{line}:{column}: not analysed: {message}")
            return
        rule = _meta(self.registry, PARSE_ERROR)
        ctx = FileContext(path=path, kind=kind, source=text, config=self.config)
        ctx._add(rule, line, column, line, column, message, hint, (), line, False)
        result.findings.extend(ctx.findings)

    # -- suppressions -------------------------------------------------------------------------
    def _apply_suppressions(self, ctx: FileContext, result: FileResult) -> None:
        per_file = self.config.ignored_for_path(ctx.path)
        findings = [f for f in ctx.findings if not _ignored_by_selectors(f, per_file)]
        external = self.config.external_suppressions
        if not may_suppress(ctx.source.text, external):
            result.findings.extend(findings)
            return
        check = INVALID_SUPPRESSION in self.enabled_ids
        if not findings and not (check and "bastion:" in ctx.source.text):
            return  # nothing to silence and no `# bastion:` directive to check
        comments = (
            python_comments(ctx.source.text, parses=ctx.tree is not None)
            if ctx.kind == "python"
            else None
        )
        suppressions = parse_suppressions(ctx.source.lines, comments, external=external)
        for finding in findings:
            directive = suppressions.match(finding.rule, finding.line, finding.statement_line)
            if directive is None:
                result.findings.append(finding)
            else:
                result.suppressed.append(_with_reason(finding, directive.reason))
        if check:
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
    """A crashing rule must not take the run down: record it (exit 2), stop running that rule
    on this file, and go on with the others."""
    name = getattr(visitor, "id", "") or type(visitor).__name__

    def call(node: Any) -> None:
        if getattr(visitor, "_crashed", False):
            return
        try:
            fn(node)
        except RecursionError:
            raise
        except Exception as exc:  # a bug in a rule; reported, never swallowed
            visitor._crashed = True  # type: ignore[union-attr]
            where = f"{ctx.path}:{getattr(node, 'lineno', 1)}"
            result.internal_errors.append(
                f"internal error in {name} at {where}: {type(exc).__name__}: {exc}"
            )

    return call


def _always(rule: type[Rule] | type[FactCollector]) -> bool:
    return True


class _RouteHook:
    """A visitor's `visit_route`, entered for every function: called once per route of the
    function (routes computed once per function for every hook, `web.routes_of`)."""

    __slots__ = ("__self__", "ctx", "method")

    def __init__(self, visitor: Rule | FactCollector, ctx: FileContext) -> None:
        self.__self__ = visitor  # what `crashed` blames when the hook raises
        self.method = visitor.visit_route
        self.ctx = ctx

    def __call__(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if not node.decorator_list:
            return  # routes are declared by decorators
        for route in routes_of(node, self.ctx):
            self.method(node, route)


class _CallDispatch:
    """`visit_Call` handlers by call name: a visitor with `call_names` is only called for the
    calls whose name can end with one of them (the question `fastpath.may_name` asks), so the
    thousands of other calls of a module cost it nothing. Handlers keep their order."""

    def __init__(
        self, handlers: list[Callable[[Any], None]], aliases: dict[str, str], enabled: bool
    ) -> None:
        self.aliases = aliases
        self.enabled = enabled
        self.reset(handlers)

    def reset(self, handlers: list[Callable[[Any], None]]) -> None:
        self.all = handlers
        self.names = [getattr(getattr(h, "__self__", None), "call_names", None) for h in handlers]
        self.filtered = self.enabled and any(names is not None for names in self.names)
        self.by_name: dict[str, list[Callable[[Any], None]]] = {}

    def handlers(self, node: ast.Call) -> list[Callable[[Any], None]]:
        func = node.func
        kind = type(func)
        if kind is ast.Attribute:
            name: str = func.attr  # type: ignore[attr-defined]
        elif kind is ast.Name:
            local: str = func.id  # type: ignore[attr-defined]
            name = self.aliases.get(local, local).rpartition(".")[2]
        else:
            return self.all  # `f()()`, `handlers[0]()`: any name is possible
        found = self.by_name.get(name)
        if found is None:
            found = self.by_name[name] = [
                h
                for h, names in zip(self.all, self.names, strict=True)
                if names is None or name in names
            ]
        return found


def _wanted_in(text: str) -> Callable[[type[Rule] | type[FactCollector]], bool]:
    """Whether a rule's text pre-filter (`requires`) lets it run on `text`: any of its tokens
    occurs there. Each token is searched once per text, since rules share tokens."""
    seen: dict[str, bool] = {}
    contains = _TokenSearch(text).contains

    def wanted(rule: type[Rule] | type[FactCollector]) -> bool:
        if not rule.requires:
            return True
        for token in rule.requires:
            found = seen.get(token)
            if found is None:
                found = seen[token] = contains(token)
            if found:
                return True
        return False

    return wanted


# ASCII characters that cannot be part of a word (`\w` in ASCII: letters, digits, `_`)
_NOT_WORD = str.maketrans({c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")})


class _TokenSearch:
    """`token in text`, answered faster for the ~150 tokens of the pre-filters, most of which
    are absent from any one file. A token made of word characters only can only occur inside
    a run of word characters, so in ASCII text it is searched in the file's distinct words
    (about a fifth of its length) instead of the whole text: same answer, less to scan."""

    __slots__ = ("ascii", "distinct", "text", "words")

    def __init__(self, text: str) -> None:
        self.text = text
        self.ascii = text.isascii()
        self.distinct: set[str] | None = None
        self.words = ""

    def contains(self, token: str) -> bool:
        if not self.ascii or not _is_word(token):
            return token in self.text
        if self.distinct is None:
            self.distinct = set(self.text.translate(_NOT_WORD).split())
            self.words = " ".join(self.distinct)
        return token in self.distinct or token in self.words


@functools.lru_cache(maxsize=1024)
def _is_word(token: str) -> bool:
    return token.isascii() and token.replace("_", "a").isalnum()


# The hooks' own no-op `finish`: not worth a guarded call per rule and file.
_NO_FINISH = (Rule.finish, FactCollector.finish)


class _CollectorPaused:
    """Python's cycle collector is paused while one file is analysed: a file's tree and facts
    are freed by reference counting, and every collection in between would walk the whole
    growing heap for nothing (~6% of a cold run). What a file leaves in cycles is bounded by
    its size and time budgets, and collected once it is done. A caller that manages the
    collector itself (tests, an embedding application) keeps it as it was."""

    __slots__ = ("paused",)

    def __enter__(self) -> None:
        self.paused = gc.isenabled()
        if self.paused:
            gc.disable()

    def __exit__(self, *exc: object) -> None:
        if self.paused:
            gc.enable()


class _Timeout(BaseException):
    """Raised by the alarm inside a file's analysis; a BaseException so that no rule's
    `except Exception` can swallow it."""


class BudgetExceeded(Exception):
    """A whole-run phase (discovery, a project rule, the report) ran out of time: the run is
    incomplete, an error (exit 2), never a pass. The message names the phase."""


@contextlib.contextmanager
def phase_budget(seconds: float, what: str) -> Iterator[None]:
    """Run a whole-run phase within `seconds`, else raise `BudgetExceeded` naming `what`.
    Not nestable with another budget (each phase runs outside the per-file budgets)."""
    try:
        with _time_budget(seconds):
            yield
    except _Timeout:
        raise BudgetExceeded(
            f"{what} took longer than {seconds:g}s (ten times `file-timeout`; raise "
            "`file-timeout` in [tool.bastion] to allow more)"
        ) from None


# The per-file budget, for the fixer (one file's fixes are bound like its analysis).
Timeout = _Timeout


@dataclass
class Alarm:
    fired: bool = False


@contextlib.contextmanager
def time_budget(seconds: float, alarm: Alarm | None = None) -> Iterator[None]:
    """`_time_budget`: interrupt the block with `Timeout` after `seconds`."""
    with _time_budget(seconds, alarm):
        yield


@contextlib.contextmanager
def _time_budget(seconds: float, alarm: Alarm | None = None) -> Iterator[None]:
    """Interrupt the analysis of one file after `seconds` (POSIX, main thread only; elsewhere
    the budget is not enforced). `alarm.fired` tells afterwards whether the time ran out:
    raised inside `ast.parse`'s C code, the interruption comes out as a SystemError ("AST
    constructor recursion depth mismatch"), not as `_Timeout`."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum: int, frame: object) -> None:
        if alarm is not None:
            alarm.fired = True
        raise _Timeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _read(source: SourceFile, result: FileResult, limit: int) -> bytes | None:
    try:
        # regular files only, capped, without blocking on a FIFO (discovery checked the links)
        return read_tree_file(source.abspath, None, limit, walked=True)
    except UnsafeFileError as exc:
        result.notices.append(f"{source.path}: skipped: {exc.strerror}")
        return None
    except OSError as exc:
        result.notices.append(f"{source.path}: cannot read: {exc.strerror or exc}")
        return None


# -- the whole run --------------------------------------------------------------------------------


# -- parallel map ---------------------------------------------------------------------------------

_WORKER: FileAnalyzer | None = None
PARALLEL_MIN_FILES = 32  # below this, starting processes costs more than it saves


def _init_worker(config: Config) -> None:
    global _WORKER
    plugins.restore(config.root, config.plugins)  # a spawned worker starts without them
    _WORKER = FileAnalyzer(config)


def _analyze_in_worker(item: tuple[SourceFile, bytes]) -> FileResult:
    assert _WORKER is not None
    return _WORKER.analyze_data(*item)


def _analyze_all(
    analyzer: FileAnalyzer,
    items: list[tuple[SourceFile, bytes]],
    jobs: int,
    progress: Callable[[int, int], None] | None = None,
) -> list[FileResult]:
    """Results in the order of `items`, whatever the number of processes."""
    total = len(items)
    results: list[FileResult] = []
    if jobs <= 1 or total < PARALLEL_MIN_FILES:
        for source, data in items:
            results.append(analyzer.analyze_data(source, data))
            if progress:
                progress(len(results), total)
        return results
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # fork: workers start with the rules already imported; spawn elsewhere
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(analyzer.config,),
    ) as pool:
        chunk = max(1, min(16, total // (jobs * 4)))
        for result in pool.map(_analyze_in_worker, items, chunksize=chunk):
            results.append(result)
            if progress:
                progress(len(results), total)
        return results


# -- the whole run --------------------------------------------------------------------------------


def run(
    paths: Iterable[Path],
    config: Config,
    *,
    project_rules: bool | None = None,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    shard: tuple[int, int] | None = None,
    discovery: Discovery | None = None,
) -> RunResult:
    """Discover, analyse every file (in `jobs` processes, through the cache in `cache_dir` when
    given), run project rules, and fingerprint the findings.

    Project rules need the whole project: by default they run only when a folder was given
    (a pre-commit run on a handful of files must not report "no tests" or "no health route").
    `progress(done, total)` is called as files are analysed (the CLI draws a bar with it).
    `discovery` is what `discover(paths, config)` returned, when the caller already has it.
    `shard=(K, N)` runs the map step alone over the K-th of N stable slices of the files
    (`bastion.shard`): no review, no project rules; `bastion merge` runs those over all shards.

    The same steps as `bastion.pipeline.check` (which names each of them), for callers that
    want a run and nothing around it.
    """
    paths = list(paths)
    analyzer = FileAnalyzer(config)
    if discovery is None:
        try:
            with phase_budget(config.phase_timeout, "discovering the files"):
                discovery = discover(paths, config)
        except BudgetExceeded as exc:  # nothing was analysed: an error (exit 2), not a pass
            rules = enabled_rules(config, analyzer.registry)
            return RunResult([], [], [], [], [str(exc)], rules)
    files = [f for f in discovery.files if analyzer.wants(f.kind)]
    tree_digest = ""
    if shard is not None:
        tree_digest = tree_digest_of(files)
        files = [f for f in files if in_shard(f.path, *shard)]
    mapped = map_step(analyzer, files, jobs=jobs, cache_dir=cache_dir, progress=progress)
    if project_rules is None:
        project_rules = any(Path(p).is_dir() for p in paths)
    reduced = reduce_run(analyzer, mapped, project_rules) if shard is None else mapped
    return finish_run(analyzer, files, discovery.notices, reduced, tree_digest)


@dataclass
class MapResult:
    """The map step's output over a list of files, in file order (cached results included)."""

    findings: list[Finding]
    suppressed: list[Finding]
    notices: list[str]
    internal_errors: list[str]
    facts: list[FileFacts]
    analyzed: int  # files analysed now (the others came from the cache)


def map_step(
    analyzer: FileAnalyzer,
    files: Sequence[SourceFile],
    *,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> MapResult:
    """Analyse `files` (the caller chose them: a shard's slice is its business), through the
    per-file cache in `cache_dir` when given, in `jobs` processes."""
    config = analyzer.config
    findings: list[Finding] = []
    suppressed: list[Finding] = []
    notices: list[str] = []
    internal: list[str] = []
    facts: list[FileFacts] = []

    cache: Cache | None = None
    if cache_dir is not None:
        cache = Cache(cache_dir, config_salt(config, sorted(analyzer.enabled_ids)), config.root)
        cache.prepare()
        if cache.notice:
            notices.append(cache.notice)
    results: dict[str, FileResult] = {}
    misses: list[tuple[SourceFile, bytes]] = []
    for source in files:
        result = FileResult()
        hit: CachedResult | None = None
        stat: Signature | None = None
        cached = cache is not None and source.kind not in analyzer.volatile_kinds
        if cache is not None and cached:
            stat = signature(source.abspath)  # before any read: see `Cache.by_content`
            hit = cache.by_stat(source.path, stat)
        limit = config.max_bytes_for(source.kind)
        data = None if hit is not None else _read(source, result, limit)
        if cache is not None and cached and data is not None:
            hit = cache.by_content(source.path, source.kind, data, stat)
        if hit is not None:
            result.findings, result.suppressed, result.facts, result.notices = hit
        elif data is not None:
            misses.append((source, data))
            continue
        else:
            analyzer.not_analysed(source, result)
        results[source.path] = result
    analysed = _analyze_all(analyzer, misses, jobs, progress)
    for (source, _), result in zip(misses, analysed, strict=True):
        results[source.path] = result
        if cache is not None and result.cacheable and not result.internal_errors:
            cache.store(
                source.path,
                result.findings,
                result.suppressed,
                result.facts,
                result.notices,
            )
    if cache is not None:
        cache.prune(config.root, set(results))
        cache.save()
    for source in files:
        file_result = results[source.path]
        findings.extend(file_result.findings)
        suppressed.extend(file_result.suppressed)
        notices.extend(file_result.notices)
        internal.extend(file_result.internal_errors)
        if file_result.facts is not None:
            facts.append(file_result.facts)
    newer = newer_python_notice(
        [v for f in findings if f.rule == PARSE_ERROR if (v := needed_by(f.message))]
    )
    if newer:
        notices.append(newer)
    return MapResult(findings, suppressed, notices, internal, facts, len(misses))


def reduce_run(analyzer: FileAnalyzer, mapped: MapResult, project_rules: bool) -> MapResult:
    """`reduce_step` over a map step's output: its findings with the review and the project
    rules' findings, its suppressed and errors with theirs."""
    findings, silenced, errors = reduce_step(analyzer, mapped.findings, mapped.facts, project_rules)
    return MapResult(
        findings,
        [*mapped.suppressed, *silenced],
        mapped.notices,
        [*mapped.internal_errors, *errors],
        mapped.facts,
        mapped.analyzed,
    )


def finish_run(
    analyzer: FileAnalyzer,
    files: list[SourceFile],
    discovery_notices: list[str],
    outcome: MapResult,
    tree_digest: str = "",
) -> RunResult:
    """The run's result: every finding fingerprinted."""
    return RunResult(
        findings=assign_fingerprints(outcome.findings),
        suppressed=assign_fingerprints(outcome.suppressed),
        files=files,
        notices=[*discovery_notices, *outcome.notices],
        internal_errors=outcome.internal_errors,
        rules=enabled_rules(analyzer.config, analyzer.registry),
        analyzed=outcome.analyzed,
        facts=outcome.facts,
        tree_digest=tree_digest,
    )


def reduce_step(
    analyzer: FileAnalyzer,
    findings: list[Finding],
    facts: list[FileFacts],
    project_rules: bool,
) -> tuple[list[Finding], list[Finding], list[str]]:
    """The reduce step over the map step's findings and facts (of one run, or of every shard
    of one): `Rule.review`, then the project rules. Returns the findings kept, the project
    findings silenced in source, and internal errors."""
    config = analyzer.config
    internal: list[str] = []
    suppressed: list[Finding] = []
    if analyzer.reviewers:
        reviewed = ProjectContext(config=config, files=facts, declared=analyzer.needed_facts)
        for reviewer in analyzer.reviewers:
            try:
                with phase_budget(config.phase_timeout, f"the review of {reviewer.id}"):
                    findings = reviewer.review(findings, reviewed)
            except BudgetExceeded as exc:
                internal.append(str(exc))
            except Exception as exc:  # a bug in a rule; reported, never swallowed
                internal.append(f"internal error in {reviewer.id}: {type(exc).__name__}: {exc}")
    if project_rules and analyzer.project_rules:
        project = ProjectContext(config=config, files=facts, declared=analyzer.needed_facts)
        for rule_class in analyzer.project_rules:
            try:
                with phase_budget(config.phase_timeout, f"project rule {rule_class.id}"):
                    rule_class(project).check_project()
            except BudgetExceeded as exc:  # the run is incomplete: exit 2, saying which rule
                internal.append(str(exc))
            except RecursionError:
                internal.append(f"project rule {rule_class.id}: nested too deeply to finish")
            except Exception as exc:  # a bug in a rule; reported, never swallowed
                internal.append(f"internal error in {rule_class.id}: {type(exc).__name__}: {exc}")
        per_file = {p: config.ignored_for_path(p) for p in {f.path for f in project.findings}}
        kept = [f for f in project.findings if not _ignored_by_selectors(f, per_file[f.path])]
        visible, silenced = _suppress_project_findings(kept, config)
        findings = [*findings, *visible]
        suppressed.extend(silenced)
    return findings, suppressed, internal


def _suppress_project_findings(
    findings: list[Finding], config: Config
) -> tuple[list[Finding], list[Finding]]:
    """Inline `# bastion: ignore[...]` comments apply to project findings too, at the line they
    are reported on (their file is read again, only when it has such a comment)."""
    by_path: dict[str, Suppressions | None] = {}
    visible: list[Finding] = []
    silenced: list[Finding] = []
    for finding in findings:
        if finding.path not in by_path:
            by_path[finding.path] = None
            try:
                path = config.root / finding.path
                data = read_tree_file(path, config.root, config.max_file_bytes)
            except OSError:
                data = b""
            if may_suppress(data, config.external_suppressions):
                text = data.decode("utf-8", "replace")
                comments = python_comments(text) if finding.path.endswith(".py") else None
                by_path[finding.path] = parse_suppressions(
                    text.splitlines(), comments, external=config.external_suppressions
                )
        suppressions = by_path[finding.path]
        directive = (
            suppressions.match(finding.rule, finding.line, finding.statement_line)
            if suppressions is not None
            else None
        )
        if directive is None:
            visible.append(finding)
        else:
            silenced.append(_with_reason(finding, directive.reason))
    return visible, silenced
