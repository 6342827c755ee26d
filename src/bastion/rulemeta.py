"""Rule metadata: the class-level half of the rule API (`RuleMeta`: id, name, severity,
documentation, examples, options, declared inputs) and the tables it reads.

It imports nothing that knows about files or contexts, so that the configuration, the contexts
and the docs can speak about rules without importing `bastion.rule` (which needs the contexts).
Rule authors import these names from `bastion.rule`.
"""

from __future__ import annotations

import inspect
import textwrap
from dataclasses import dataclass
from typing import Any, ClassVar

from bastion.findings import Area, FixSafety, Severity
from bastion.kinds import check_takes

AREA_BY_PREFIX: dict[str, Area] = {
    "ERR": Area.ERRORS,
    "SEC": Area.SECURITY,
    "API": Area.API,
    "LOG": Area.LOGGING,
    "PERF": Area.PERFORMANCE,
    "ORG": Area.ORGANISATION,
    "PROD": Area.PRODUCTION,
    "DEP": Area.DEPENDENCIES,
    "TEST": Area.TESTING,
    "WF": Area.WORKFLOW,
    "BAS": Area.META,
}


# The inputs a rule may declare in `reads` (see RuleMeta.reads).
READS = frozenset({"git", "network", "advisory-db"})
# Inputs that no cache can see change: a run with such a rule is never replayed.
OUTSIDE_THE_TREE = frozenset({"network", "advisory-db"})


@dataclass(frozen=True)
class Example:
    """A code example. For `bad` examples, `fixed` is the expected result of the rule's fix.

    `path` names the file the example stands for (`.env`, `settings.py`, `tests/test_x.py`),
    since several rules depend on the kind or name of the file. For a `bad` example, `line`
    and `message` pin what the rule must report: a finding starting on that line (1-based,
    counted in the dedented code) and with exactly that message.

    Code may be written as an indented triple-quoted block: a first empty line and the common
    indentation are removed, so

        Example(
            '''
            try:
                f()
            except:
                pass
            ''',
            line=3,
        )

    is the four-line program it looks like.
    """

    code: str
    fixed: str | None = None
    path: str = "example.py"
    line: int | None = None
    message: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", dedent_example(self.code))
        if self.fixed is not None:
            object.__setattr__(self, "fixed", dedent_example(self.fixed))


def dedent_example(code: str) -> str:
    """An example's code as written in a triple-quoted block: without the newline right after
    the opening quotes and without the indentation common to all lines."""
    if code.startswith("\n"):
        code = code[1:]
    return textwrap.dedent(code)


def _as_example(value: Example | str) -> Example:
    return value if isinstance(value, Example) else Example(value)


class RuleMeta:
    """Class-level metadata accessors shared by file and project rules."""

    id: ClassVar[str] = ""
    name: ClassVar[str] = ""
    severity: ClassVar[Severity] = Severity.WARNING
    summary: ClassVar[str] = ""  # one line: what it flags
    why: ClassVar[str] = ""  # why it is bad (the guide's reasoning)
    hint: ClassVar[str] = ""  # what to write instead
    fix_safety: ClassVar[FixSafety] = FixSafety.NONE
    # Why the fix is safe or unsafe for *this* rule (what it may change at run time): the
    # docs' "Fix safety" section. Every fixable rule has one (a test checks).
    fix_safety_note: ClassVar[str] = ""
    cwe: ClassVar[tuple[int, ...]] = ()
    # The codes of equivalent rules in other linters, honoured in their suppression comments:
    # ruff/flake8 codes for noqa comments (`("E722",)`), bandit test ids for nosec comments.
    aliases: ClassVar[tuple[str, ...]] = ()
    bandit: ClassVar[tuple[str, ...]] = ()
    # How often a finding is a true positive (SARIF `precision`, bandit's "confidence"):
    # "very-high", "high", "medium" or "low". Measured on real applications by
    # bench/ecosystem (>= 95%, >= 90%, >= 80%, below) where enough findings were judged, and
    # then `precision_measured` says how (tests/unit/test_ecosystem_harness.py checks both).
    precision: ClassVar[str] = "high"
    precision_measured: ClassVar[str] = ""
    # CVSS-like 0.0-10.0 score for security rules (SARIF `security-severity`); None: derived
    # from the severity (error 7.5, warning 5.0, info 2.0).
    security_severity: ClassVar[float | None] = None
    references: ClassVar[tuple[str, ...]] = ()
    # Where the rule's documentation lives (SARIF `helpUri`); empty: bastion's docs/rules page.
    # Plugins set it to their own page.
    help_uri: ClassVar[str] = ""
    # Options that users may set under [tool.bastion.rules.<ID>]; value = default (its type is
    # the option's type).
    options: ClassVar[dict[str, Any]] = {}
    # Off unless selected explicitly (e.g. rules that need the network).
    enabled_by_default: ClassVar[bool] = True
    # What the rule reads beyond its own file (and the project facts), from READS: its
    # findings then depend on more than the file's bytes, so the caches must know. "git": the
    # repository's index and ignore rules; "network" and "advisory-db": outside the tree.
    reads: ClassVar[frozenset[str]] = frozenset()
    # The fact keys (`FactCollector.key`, or facts a rule's own map step adds) that a project
    # rule's `check_project` or a file rule's `review` reads: only the collectors some enabled
    # rule needs run, and reading an undeclared key is an error.
    needs: ClassVar[frozenset[str]] = frozenset()
    # The document types a rule for non-Python files reads from `ctx.document` (the `DOCUMENT`
    # of a kind in `bastion.kinds.KINDS`: `DockerfileDocument`, `DotenvDocument`...). Set its
    # `kinds` from them (`kinds = kinds_taking(DockerfileDocument)`) and read the document with
    # `ctx.document_as(DockerfileDocument)`; a class whose `kinds` would hand it a document it
    # does not take is refused when it is defined (`bastion.kinds.WrongDocument`).
    takes: ClassVar[tuple[type, ...]] = ()
    bad: ClassVar[list[Example | str]] = []
    good: ClassVar[list[Example | str]] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.takes:
            kinds: frozenset[str] = getattr(cls, "kinds", frozenset())
            check_takes(cls.__qualname__, kinds - {"python"}, cls.takes)

    @classmethod
    def area(cls) -> Area:
        prefix = cls.id.rstrip("0123456789")
        return AREA_BY_PREFIX.get(prefix, Area.PLUGIN)

    @classmethod
    def bad_examples(cls) -> list[Example]:
        return [_as_example(e) for e in cls.bad]

    @classmethod
    def good_examples(cls) -> list[Example]:
        return [_as_example(e) for e in cls.good]

    @classmethod
    def description(cls) -> str:
        """Longer "what it does": the class docstring, else the summary."""
        doc = cls.__dict__.get("__doc__")
        return inspect.cleandoc(doc) if doc else cls.summary

    @classmethod
    def is_fixable(cls) -> bool:
        """A fix exists: declared safe/unsafe *and* implemented (`fix_node` names its node)."""
        return cls.fix_safety is not FixSafety.NONE and bool(getattr(cls, "fix_node", ""))

    @classmethod
    def fix_label(cls) -> str:
        """`safe`, `unsafe` or `none`: what `bastion rules` and the docs show."""
        return cls.fix_safety.value if cls.is_fixable() else "none"
