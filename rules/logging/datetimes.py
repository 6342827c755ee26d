"""LOG005: naive UTC datetimes from `datetime.utcnow()` / `utcfromtimestamp()`."""

from __future__ import annotations

import ast
from typing import Any

from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule

_NAIVE = {
    "datetime.datetime.utcnow": ("utcnow", "datetime.now(timezone.utc)"),
    "datetime.datetime.utcfromtimestamp": (
        "utcfromtimestamp",
        "datetime.fromtimestamp(ts, tz=timezone.utc)",
    ),
}


class NaiveUtcnow(Rule):
    """Flags `datetime.utcnow()` and `datetime.utcfromtimestamp(...)`, through any import
    spelling (`from datetime import datetime`, `import datetime as dt`), and the same methods
    passed as callables (`Column(default=datetime.utcnow)`, `default_factory=datetime.utcnow`).

    Not flagged: `datetime.now(timezone.utc)`, `datetime.now(tz=...)`, other libraries'
    `utcnow()` that return aware values (`arrow.utcnow()`, `pendulum`), and methods of the same
    name on other objects.

    Fix safety: the call form is rewritten to `datetime.now(timezone.utc)` /
    `datetime.fromtimestamp(ts, tz=timezone.utc)`; the callable form (`default=datetime.utcnow`)
    needs a small function and is not marked fixable."""

    id = "LOG005"
    name = "naive-utcnow"
    aliases = ("DTZ003", "DTZ004")  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "32 of 32 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "`datetime.utcnow()` / `utcfromtimestamp()` return naive datetimes"
    why = (
        "`utcnow()` and `utcfromtimestamp()` return datetimes without a timezone that hold UTC "
        "values: anything that later treats them as local time (`.timestamp()`, comparison "
        "with aware values, serialisation) is silently off by the server's UTC offset or "
        "raises. Both are deprecated since Python 3.12. Aware datetimes carry their timezone "
        "and compare correctly."
    )
    hint = "Use an aware datetime: `datetime.now(timezone.utc)` (`from datetime import timezone`)."
    fix_safety = FixSafety.UNSAFE
    fix_safety_note = (
        "`datetime.utcnow()` -> `datetime.now(timezone.utc)` returns an *aware* datetime instead "
        "of a naive one: comparing or subtracting it with naive values raises `TypeError`, "
        "`.isoformat()` gains `+00:00`, and a naive database column may reject or convert it. "
        "Applied only with `--unsafe-fixes`."
    )
    requires = ("utcnow", "utcfromtimestamp")  # the two attributes it looks at
    bad = [
        Example(
            """
            from datetime import datetime

            created_at = datetime.utcnow()
            """,
            fixed="""
            from datetime import datetime, timezone

            created_at = datetime.now(timezone.utc)
            """,
            line=3,
            message="`datetime.utcnow()` returns a naive datetime (deprecated since Python 3.12)",
        ),
        Example(
            """
            import datetime

            def expiry():
                return datetime.datetime.utcnow() + datetime.timedelta(minutes=15)
            """,
            line=4,
        ),
        Example(
            """
            import datetime as dt

            def parse(ts):
                return dt.datetime.utcfromtimestamp(ts)
            """,
            line=4,
            message="`datetime.utcfromtimestamp()` returns a naive datetime "
            "(deprecated since Python 3.12)",
        ),
        Example(
            """
            from datetime import datetime
            from sqlalchemy import Column, DateTime

            class Order(Base):
                created = Column(DateTime, default=datetime.utcnow)
            """,
            line=5,
            message="`datetime.utcnow` used as a callable produces naive datetimes",
        ),
    ]
    good = [
        """
        from datetime import datetime, timezone

        created_at = datetime.now(timezone.utc)
        """,
        """
        import arrow

        now = arrow.utcnow()
        """,
        """
        from datetime import datetime, timezone

        def parse(ts):
            return datetime.fromtimestamp(ts, tz=timezone.utc)
        """,
        """
        def f(clock):
            return clock.utcnow()
        """,
    ]

    fix_node = "Call"

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """`X.utcnow()` -> `X.now(timezone.utc)`; `X.utcfromtimestamp(ts)` ->
        `X.fromtimestamp(ts, tz=timezone.utc)`. `timezone` comes from `import datetime` when
        `X` is `datetime.datetime`, else from an added `from datetime import timezone` - unless
        the module already binds `timezone` to something else (Django's `timezone`): no fix."""
        import libcst as cst

        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
            return None
        method = node.func.attr.value
        if method not in ("utcnow", "utcfromtimestamp"):
            return None
        owner = node.func.value
        imports: tuple[tuple[str, str | None], ...] = ()
        if isinstance(owner, cst.Attribute) and isinstance(owner.value, cst.Name):
            utc: cst.BaseExpression = cst.parse_expression(f"{owner.value.value}.timezone.utc")
        else:
            bound = self.ctx.imports.aliases.get("timezone")
            if bound not in (None, "datetime.timezone"):
                return None
            utc = cst.parse_expression("timezone.utc")
            imports = (("datetime", "timezone"),)
        if method == "utcnow":
            if node.args:
                return None
            new = node.with_changes(
                func=node.func.with_changes(attr=cst.Name("now")), args=[cst.Arg(utc)]
            )
        else:
            if len(node.args) != 1 or node.args[0].keyword is not None:
                return None
            tz = cst.Arg(
                utc,
                keyword=cst.Name("tz"),
                equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")),
            )
            first = node.args[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            new = node.with_changes(
                func=node.func.with_changes(attr=cst.Name("fromtimestamp")), args=[first, tz]
            )
        return Fix(new, imports=imports)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr not in ("utcnow", "utcfromtimestamp") or not isinstance(node.ctx, ast.Load):
            return
        qualified = self.ctx.imports.qualname(node)
        if qualified not in _NAIVE:
            return
        method, replacement = _NAIVE[qualified]
        parent = self.ctx.parent
        if isinstance(parent, ast.Call) and parent.func is node:
            self.report(
                parent,
                f"`datetime.{method}()` returns a naive datetime (deprecated since Python 3.12)",
                hint=f"Use `{replacement}` (`from datetime import timezone`).",
            )
        else:
            self.report(
                node,
                f"`datetime.{method}` used as a callable produces naive datetimes",
                hint="Pass a function returning an aware datetime, e.g. "
                "`default=lambda: datetime.now(timezone.utc)`.",
                fixable=False,
            )
