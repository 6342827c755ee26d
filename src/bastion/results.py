"""What a run produces: one file's result (the map step), the whole run's, and the counts and
exit code every reporter reads. Plain data: the engine builds them, shards and reporters read
them (none of them needs the engine for that)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bastion.config import Config
from bastion.context import FileFacts
from bastion.findings import Finding, Severity
from bastion.rulemeta import RuleMeta
from bastion.source import SourceFile


@dataclass
class FileResult:
    findings: list[Finding] = field(default_factory=list)
    facts: FileFacts | None = None
    notices: list[str] = field(default_factory=list)
    internal_errors: list[str] = field(default_factory=list)
    suppressed: list[Finding] = field(default_factory=list)
    cacheable: bool = True


@dataclass
class RunResult:
    findings: list[Finding]
    suppressed: list[Finding]
    files: list[SourceFile]
    notices: list[str]
    internal_errors: list[str]
    rules: list[type[RuleMeta]]
    analyzed: int = 0  # files analysed in this run (the others came from the cache)
    # The map step's per-file facts, in file order (a shard writes them for `bastion merge`).
    facts: list[FileFacts] = field(default_factory=list)
    # Paths whose code reporters must not show (a merged run no longer knows the secrets that
    # the shards redacted there, so a code frame could not mask them).
    hidden_frames: frozenset[str] = frozenset()
    # In a shard: a digest of every file discovered (all shards of one run must agree).
    tree_digest: str = ""

    def exit_code(self, config: Config) -> int:
        if self.internal_errors:
            return 2
        threshold = config.fail_threshold()
        if threshold is None:
            return 0
        return 1 if any(f.severity >= threshold for f in self.findings) else 0


def count_by_severity(findings: Iterable[Finding]) -> dict[str, int]:
    counts = {s.label: 0 for s in sorted(Severity, reverse=True)}
    for f in findings:
        counts[f.severity.label] += 1
    return counts
