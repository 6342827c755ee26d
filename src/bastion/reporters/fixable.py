"""The fixable counts every report shows, split the way `bastion fix` applies them."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bastion.engine import RunResult


def unsafe_rule_ids() -> frozenset[str]:
    """The rules whose fix is unsafe (applied only with `--unsafe-fixes`)."""
    from bastion.findings import FixSafety
    from bastion.registry import load_registry

    return frozenset(r.id for r in load_registry().rules if r.fix_safety is FixSafety.UNSAFE)


def fixable_counts(result: RunResult) -> tuple[int, int]:
    """(safe, unsafe) fixable findings: `bastion fix` applies the first, `--unsafe-fixes` adds
    the second. Text, JSON, HTML and SARIF reports all show these two numbers."""
    unsafe_ids = unsafe_rule_ids()
    fixable = [f for f in result.findings if f.fixable]
    unsafe = sum(1 for f in fixable if f.rule in unsafe_ids)
    return len(fixable) - unsafe, unsafe
