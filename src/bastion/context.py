"""What a rule sees: the file being checked (or, for project rules, the collected facts)."""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any, TypeVar

from bastion.astcompat import TRY_STAR
from bastion.file_roles import is_script_named_test
from bastion.findings import Finding, Severity
from bastion.function_index import FunctionIndex
from bastion.imports import ImportMap
from bastion.kinds import WrongDocument
from bastion.rulemeta import RuleMeta
from bastion.source import SourceText

if TYPE_CHECKING:
    from bastion.config import Config

D = TypeVar("D")

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
_COMPOUND = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.ExceptHandler,
    ast.Try,
    ast.With,
    ast.AsyncWith,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.If,
    ast.Match,
    TRY_STAR,
)


def _char_column(line: str, byte_offset: int) -> int:
    """`ast` columns are UTF-8 byte offsets; users count characters. 1-based result."""
    if line.isascii():
        return byte_offset + 1
    return len(line.encode("utf-8")[:byte_offset].decode("utf-8", "replace")) + 1


@dataclass
class FileContext:
    path: str  # relative to the project root, posix
    kind: str
    source: SourceText
    config: Config
    tree: ast.Module | None = None
    document: Any = None  # the parsed form of a non-Python file
    imports: ImportMap = field(default_factory=ImportMap)
    stack: list[ast.AST] = field(default_factory=list)  # ancestors of the node being visited
    facts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    # the per-function indexes built so far (`function_index`), by the function node's id
    _functions: dict[int, FunctionIndex] = field(default_factory=dict, repr=False)

    # -- about the file -----------------------------------------------------------------------
    @property
    def filename(self) -> str:
        return PurePosixPath(self.path).name

    @property
    def module_name(self) -> str:
        """Dotted module name guessed from the path (`app/api/users.py` -> `app.api.users`)."""
        parts = list(PurePosixPath(self.path).with_suffix("").parts)
        if parts and parts[-1] == "__init__":
            parts.pop()
        return ".".join(parts)

    @functools.cached_property
    def is_test_file(self) -> bool:
        # cached: rules ask for every call node, and a pathspec match is not free
        # `scripts/load_test.py` matches `*_test.py` but is a script (bench/ecosystem)
        return self.config.is_test_path(self.path) and not is_script_named_test(self.path)

    @property
    def is_script_file(self) -> bool:
        """A script or command-line entry point (`[tool.bastion] script-paths`)."""
        return self.config.is_script_path(self.path)

    def document_as(self, expected: type[D]) -> D:
        """The parsed document, typed: what a rule that declares `takes = (expected,)` reads.
        A document of another type is a bastion bug (the kinds table and the rule disagree):
        `WrongDocument`, which the engine records as the rule's internal error."""
        document = self.document
        if not isinstance(document, expected):
            raise WrongDocument(
                f"{self.path}: a {self.kind} document is {type(document).__name__}, "
                f"not {expected.__name__}"
            )
        return document

    # -- about the position of the walk -------------------------------------------------------
    @property
    def parent(self) -> ast.AST | None:
        return self.stack[-1] if self.stack else None

    def enclosing_function(self) -> ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | None:
        for node in reversed(self.stack):
            if isinstance(node, _FUNCTIONS):
                return node
        return None

    def in_async_function(self) -> bool:
        """True inside `async def`, but not inside a plain `def`/lambda nested in one."""
        return isinstance(self.enclosing_function(), ast.AsyncFunctionDef)

    def enclosing_class(self) -> ast.ClassDef | None:
        for node in reversed(self.stack):
            if isinstance(node, ast.ClassDef):
                return node
        return None

    def enclosing(self, *types: type[ast.AST]) -> ast.AST | None:
        for node in reversed(self.stack):
            if isinstance(node, types):
                return node
        return None

    def function_index(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
    ) -> FunctionIndex:
        """The shared per-function index of `function` (`bastion.function_index`): built on
        first use, then reused by every rule that asks during this file's analysis."""
        found = self._functions.get(id(function))
        if found is None or found.function is not function:
            found = self._functions[id(function)] = FunctionIndex(function)
        return found

    def at_module_level(self) -> bool:
        return not any(isinstance(n, (*_FUNCTIONS, ast.ClassDef)) for n in self.stack)

    # -- reporting ----------------------------------------------------------------------------
    def report(
        self,
        rule: RuleMeta,
        node: ast.AST,
        message: str,
        *,
        hint: str | None = None,
        redact: tuple[str, ...] = (),
        fixable: bool | None = None,
    ) -> None:
        line = getattr(node, "lineno", 1)
        end_line = getattr(node, "end_lineno", None) or line
        text = self.source.line(line)
        column = _char_column(text, getattr(node, "col_offset", 0))
        end_offset = getattr(node, "end_col_offset", None)
        if isinstance(node, _COMPOUND):
            # a whole `try`/`def`/`except` block is not the problem: point at its header line
            end_line, end_column = line, len(text) + 1
        elif end_offset is not None:
            end_column = _char_column(self.source.line(end_line), end_offset)
        else:
            end_column = column
        statement_line = line
        for ancestor in reversed([*self.stack, node]):
            if isinstance(ancestor, ast.stmt):
                statement_line = ancestor.lineno
                break
        self._add(
            rule,
            line,
            column,
            end_line,
            end_column,
            message,
            hint,
            redact,
            statement_line,
            fixable,
        )

    def report_at(
        self,
        rule: RuleMeta,
        line: int,
        column: int,
        message: str,
        *,
        end_line: int | None = None,
        end_column: int | None = None,
        hint: str | None = None,
        redact: tuple[str, ...] = (),
        severity: Severity | None = None,
    ) -> None:
        end_line = end_line or line
        if end_column is None:
            end_column = len(self.source.line(end_line)) + 1
        self._add(
            rule,
            line,
            column,
            end_line,
            end_column,
            message,
            hint,
            redact,
            line,
            None,
            severity=severity,
        )

    def _add(
        self,
        rule: RuleMeta | type[RuleMeta],
        line: int,
        column: int,
        end_line: int,
        end_column: int,
        message: str,
        hint: str | None,
        redact: tuple[str, ...],
        statement_line: int,
        fixable: bool | None,
        severity: Severity | None = None,
    ) -> None:
        if severity is None or rule.id in self.config.severity:
            severity = self.config.severity_for(rule)
        self.findings.append(
            Finding(
                rule=rule.id,
                name=rule.name,
                severity=severity,
                category=rule.area().value,
                path=self.path,
                line=line,
                column=column,
                end_line=end_line,
                end_column=end_column,
                message=message,
                fix_hint=hint or rule.hint,
                fixable=rule.is_fixable() if fixable is None else fixable,
                redact=redact,
                statement_line=statement_line,
                source_line=self.source.line(line),
            )
        )

    def rule_option(self, rule: RuleMeta | type[RuleMeta], key: str) -> Any:
        return self.config.rule_option(rule, key)


@dataclass
class FileFacts:
    """What the map step keeps of one file for the reduce step."""

    path: str
    kind: str
    facts: dict[str, list[dict[str, Any]]]


@dataclass
class ProjectContext:
    config: Config
    files: list[FileFacts]
    findings: list[Finding] = field(default_factory=list)
    # the fact keys the running rules declared (`RuleMeta.needs`); None: any (tests, tools)
    declared: frozenset[str] | None = None

    def facts(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        """Every fact of one kind, with the path of the file it came from."""
        if self.declared is not None and key not in self.declared:
            # only the collectors of declared keys ran: an undeclared read would see nothing
            raise LookupError(f"fact {key!r} is read but no enabled rule declares it in `needs`")
        return [(f.path, fact) for f in self.files for fact in f.facts.get(key, [])]

    def paths(self, kind: str | None = None) -> list[str]:
        return [f.path for f in self.files if kind is None or f.kind == kind]

    def report(
        self,
        rule: RuleMeta,
        path: str,
        line: int,
        column: int,
        message: str,
        *,
        hint: str | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                rule=rule.id,
                name=rule.name,
                severity=self.config.severity_for(rule),
                category=rule.area().value,
                path=path,
                line=line,
                column=column,
                end_line=line,
                end_column=column,
                message=message,
                fix_hint=hint or rule.hint,
                fixable=rule.is_fixable(),
                statement_line=line,
            )
        )

    def rule_option(self, rule: RuleMeta, key: str) -> Any:
        return self.config.rule_option(rule, key)
