"""The rule API.

A rule is a small class that carries its metadata, its documentation and its first tests
(`bad`/`good` examples) next to a few visitor methods:

    class BareExcept(Rule):
        id = "ERR001"
        name = "bare-except"
        severity = Severity.ERROR
        summary = "`except:` with no exception type"
        why = "..."
        hint = "Catch the exceptions you expect, or at least `except Exception:`."
        bad = [Example("try:\\n    f()\\nexcept:\\n    raise\\n")]
        good = ["try:\\n    f()\\nexcept ValueError:\\n    raise\\n"]

        def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
            if node.type is None:
                self.report(node, "bare `except:` catches SystemExit and KeyboardInterrupt")

Visitor methods are named `visit_<ast node type>` / `leave_<ast node type>` and receive stdlib
`ast` nodes; the engine walks each file once and dispatches every node to every enabled rule
that asked for its type. Rules about web routes define `visit_route(handler, route)` instead:
the engine computes the routes of each function once per file (`bastion.analysis.web`) and
calls the hook for every route of every handler, so no rule forwards `visit_FunctionDef` to the
route finder itself. Rules for other file kinds (`.env`, Dockerfile, ...) set `kinds` and
implement `check()`, reading the parsed document from `self.ctx.document`. A rule never prints:
it reports.

Fixes (the autofix layer) are libcst transformations declared by the rule with `fix_safety`
and implemented in `fix(node)`, run only on files that have a fixable finding.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from bastion.findings import Finding, Severity

# The metadata half of the API lives in `bastion.rulemeta` (it imports no context); re-exported
# here, where rule authors import it from.
from bastion.rulemeta import AREA_BY_PREFIX as AREA_BY_PREFIX
from bastion.rulemeta import OUTSIDE_THE_TREE as OUTSIDE_THE_TREE
from bastion.rulemeta import READS as READS
from bastion.rulemeta import Example as Example
from bastion.rulemeta import RuleMeta as RuleMeta

if TYPE_CHECKING:
    from bastion.context import FileContext, ProjectContext

Handler = ast.FunctionDef | ast.AsyncFunctionDef

# Visitor-style methods that are not ast node visitors: hooks the engine calls itself.
ROUTE_HOOK = "visit_route"


@dataclass(frozen=True)
class Fix:
    """What a rule's `fix` returns: the replacement node, and imports the new code needs
    (`("datetime", "timezone")` for `from datetime import timezone`, `("asyncio", None)` for
    `import asyncio`). The fixer adds each import once, in the right place."""

    replacement: Any
    imports: tuple[tuple[str, str | None], ...] = ()


_visitor_cache: dict[type, list[tuple[type[ast.AST], str, str]]] = {}


def declared_visitors(cls: type) -> list[tuple[type[ast.AST], str, str]]:
    """[(ast node type, "visit"|"leave", method name)] declared by a rule or collector class."""
    cached = _visitor_cache.get(cls)
    if cached is not None:
        return cached
    found: list[tuple[type[ast.AST], str, str]] = []
    for attr in dir(cls):
        if attr == ROUTE_HOOK:
            continue
        for phase in ("visit", "leave"):
            prefix = phase + "_"
            if attr.startswith(prefix):
                node_type = getattr(ast, attr[len(prefix) :], None)
                if not (isinstance(node_type, type) and issubclass(node_type, ast.AST)):
                    raise TypeError(f"{cls.__name__}.{attr}: no ast node type by that name")
                found.append((node_type, phase, attr))
    _visitor_cache[cls] = found
    return found


class Rule(RuleMeta):
    """A rule that looks at one file at a time (the map step)."""

    # File kinds this rule reads: "python", "dotenv", "dockerfile", "requirements", "toml",
    # "yaml", ... For "python" the rule uses visit_/leave_ methods; for the others, `check()`.
    kinds: ClassVar[frozenset[str]] = frozenset({"python"})
    # Cheap pre-filter: the rule only runs on files whose text contains one of these strings.
    # Empty means "always run". A filter must never change results, only save time.
    requires: ClassVar[tuple[str, ...]] = ()
    # Dispatch filter for `visit_Call`: when set, the engine calls it only for calls whose name
    # can end with one of these (`bastion.analysis.fastpath.may_name`: an attribute call's
    # attribute, or what a bare name was imported as). None: every call.
    call_names: ClassVar[frozenset[str] | None] = None

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    # -- reporting ----------------------------------------------------------------------------
    def report(
        self,
        node: ast.AST,
        message: str,
        *,
        hint: str | None = None,
        redact: Iterable[str] = (),
        fixable: bool | None = None,
    ) -> None:
        self.ctx.report(self, node, message, hint=hint, redact=tuple(redact), fixable=fixable)

    def report_at(
        self,
        line: int,
        column: int,
        message: str,
        *,
        end_line: int | None = None,
        end_column: int | None = None,
        hint: str | None = None,
        redact: Iterable[str] = (),
        severity: Severity | None = None,
    ) -> None:
        """Report at a 1-based line and column (for non-Python files).

        `severity` lowers or raises this one finding below/above the rule's default (e.g. a
        milder case of the rule); a severity the user set in the config still wins."""
        self.ctx.report_at(
            self,
            line,
            column,
            message,
            end_line=end_line,
            end_column=end_column,
            hint=hint,
            redact=tuple(redact),
            severity=severity,
        )

    def option(self, key: str) -> Any:
        return self.ctx.rule_option(self, key)

    # -- hooks --------------------------------------------------------------------------------
    def check(self) -> None:
        """For non-Python kinds: inspect `self.ctx.document`."""

    def finish(self) -> None:
        """Called once after the walk of a Python file."""

    def visit_route(self, handler: Handler, route: Any) -> None:
        """Called for each route of each route handler (FastAPI/Starlette, Flask/Quart
        decorators: `@app.get("/users")`, `@router.post(...)`, `@bp.route(..., methods=[...])`),
        in the order of its decorators, when the walk enters the handler - before the rule's
        own `visit_FunctionDef`. `route.index` is its position among the handler's routes;
        `routes_of(handler, self.ctx)` returns all of them (the same list, computed once).
        `route` is a `bastion.analysis.web.Route` (typed `Any` here: the rule API sits below
        the analysis layer)."""

    # -- fixing -------------------------------------------------------------------------------
    # Rules with `fix_safety` SAFE or UNSAFE name the libcst node type their fix rewrites
    # (`fix_node = "ExceptHandler"`) and implement `fix`. The fixer finds the libcst node of that
    # type that starts where the finding starts and replaces it with what `fix` returns; libcst
    # is imported only when a fix is applied.
    fix_node: ClassVar[str | tuple[str, ...]] = ""

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """Return the replacement for `node` (a libcst node), or None to leave it alone."""
        return None

    def fix_position(self, finding: Finding) -> tuple[int, int] | None:
        """Where the libcst node to rewrite starts: (1-based line, 0-based character column).
        The finding's own start by default; a rule whose fix rewrites an enclosing node (the
        handler of a flagged decorator, the parameter of a flagged default) returns that
        node's start, found in `self.ctx.tree`. None: no fix for this finding."""
        return finding.line, finding.column - 1

    @classmethod
    def review(cls, findings: list[Finding], project: ProjectContext) -> list[Finding]:
        """Revisit this rule's findings once the whole run's facts are known (e.g. drop those a
        project setting makes moot). Runs after the map step of `engine.run`, with the facts of
        every analysed file; return the findings to keep (only this rule's own may be dropped).
        A rule that overrides it makes the fact collectors run."""
        return findings


class ProjectRule(RuleMeta):
    """A rule over the whole project (the reduce step): it reads the facts that fact collectors
    gathered per file, never the files themselves."""

    def __init__(self, project: ProjectContext) -> None:
        self.project = project

    def check_project(self) -> None:
        raise NotImplementedError

    def report_at(
        self,
        path: str,
        line: int,
        column: int,
        message: str,
        *,
        hint: str | None = None,
    ) -> None:
        self.project.report(self, path, line, column, message, hint=hint)

    def option(self, key: str) -> Any:
        return self.project.rule_option(self, key)


class FactCollector:
    """Gathers small JSON-serialisable facts per file for project rules (routes seen, apps
    created, settings modules...). Collectors always run for their kinds; they never report.

    Facts are stored as `ctx.facts[self.key]` (a list of dicts)."""

    key: ClassVar[str] = ""
    kinds: ClassVar[frozenset[str]] = frozenset({"python"})
    requires: ClassVar[tuple[str, ...]] = ()
    call_names: ClassVar[frozenset[str] | None] = None  # as `Rule.call_names`

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    def add(self, **fact: Any) -> None:
        self.ctx.facts.setdefault(self.key, []).append(fact)

    def check(self) -> None:
        """For non-Python kinds."""

    def finish(self) -> None:
        """After the walk of a Python file."""

    def visit_route(self, handler: Handler, route: Any) -> None:
        """As `Rule.visit_route`."""


def has_route_hook(cls: type[Rule] | type[FactCollector]) -> bool:
    """Whether a rule or collector class defines `visit_route`."""
    return cls.visit_route not in (Rule.visit_route, FactCollector.visit_route)
