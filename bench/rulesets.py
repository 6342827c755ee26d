"""Throughput of rule sets against the foundation's, on the same corpus, in the same run.

    python bench/rulesets.py /work/corpus/django
    python bench/rulesets.py /work/corpus/fastapi /work/corpus/flask --runs 5

Issues #3 and #4 bound the cost of their rules: throughput must not regress by more than 15%
against the foundation's rule set (ERR001-003, SEC001-003, API001-002 and the BAS diagnostics)
on the same corpus, measured on the same machine in the same run. For each corpus this script
analyses every file with each rule set below, in one process (`jobs=1`, no cache), and reports
the best CPU time (`time.process_time`) of `--runs` runs, the files per CPU second, the number
of findings, and each set's throughput change against the foundation: from the best times,
and as the median over rounds of the change within a round. The sets are timed in turn within
each round, so that a slow spell of a shared machine hits every set of that round alike.

Byte-compile bastion first (`python -m compileall -q src rules`) when the environment sets
PYTHONDONTWRITEBYTECODE, or the first run pays for compiling every rule module.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from bastion.config import Config
from bastion.discovery import discover
from bastion.engine import FileAnalyzer, run

FOUNDATION = ("ERR001", "ERR002", "ERR003", "SEC001", "SEC002", "SEC003", "API001", "API002")
RULE_SETS: dict[str, tuple[str, ...]] = {
    "foundation": (*FOUNDATION, "BAS"),
    # issue #3: errors, security and API rules
    "foundation+issue3": ("ERR", "SEC0", "SEC1", "API", "BAS"),
    # issue #4: logging, performance, organisation rules and TEST002
    "foundation+issue4": (*FOUNDATION, "BAS", "LOG", "PERF", "ORG", "TEST002"),
    "all": ("ALL",),
}


def measure(root: Path, select: tuple[str, ...]) -> tuple[float, int, int]:
    """CPU seconds of one run over `root` with the rules `select`, files seen, findings."""
    config = Config(root=root, select=select)
    start = time.process_time()
    result = run([root], config, jobs=1)
    return time.process_time() - start, len(result.files), len(result.findings)


def bench(root: Path, runs: int) -> None:
    best: dict[str, float] = {}
    counts: dict[str, tuple[int, int]] = {}
    # each round's time of a set over the foundation's time in that round
    ratios: dict[str, list[float]] = {label: [] for label in RULE_SETS}
    for _ in range(runs):
        times: dict[str, float] = {}
        for label, select in RULE_SETS.items():
            seconds, files, findings = measure(root, select)
            times[label] = seconds
            best[label] = min(best.get(label, seconds), seconds)
            counts[label] = (files, findings)
        for label in RULE_SETS:
            ratios[label].append(times["foundation"] / times[label])
    base = counts["foundation"][0] / best["foundation"]
    print(f"{root}  (best of {runs}, CPU time, one process)")
    for label in RULE_SETS:
        files, findings = counts[label]
        rate = files / best[label]
        change = (rate - base) / base * 100  # negative: slower than the foundation
        paired = (statistics.median(ratios[label]) - 1) * 100
        print(
            f"  {label:20s} {best[label]:6.2f}s cpu  {rate:5.0f} files/s  "
            f"{change:+6.1f}% throughput vs foundation "
            f"(median of rounds {paired:+6.1f}%)  {findings} findings"
        )


def paired(root: Path, runs: int) -> None:
    """The analysis step alone (no discovery, no project rules), file by file: each file is
    analysed by every set in turn (the set that goes first rotates), so a slow spell of the
    machine, which makes whole runs 10-20% apart here, hits every set alike."""
    config = Config(root=root)
    analyzers = {
        label: FileAnalyzer(Config(root=root, select=select)) for label, select in RULE_SETS.items()
    }
    wanted = [s for s in discover([root], config).files if analyzers["all"].wants(s.kind)]
    data = [(source, source.abspath.read_bytes()) for source in wanted]
    labels = list(RULE_SETS)
    best: dict[str, float] = {}
    for _ in range(runs):
        gc.collect()  # every round starts from the same garbage
        spent = dict.fromkeys(labels, 0.0)
        for index, (source, content) in enumerate(data):
            shift = index % len(labels)
            for label in labels[shift:] + labels[:shift]:
                analyzer = analyzers[label]
                if analyzer.wants(source.kind):
                    start = time.process_time()
                    analyzer.analyze_data(source, content)
                    spent[label] += time.process_time() - start
        for label in labels:
            best[label] = min(best.get(label, spent[label]), spent[label])
    print(f"{root}  (analysis only, files interleaved, best of {runs})")
    for label in labels:
        change = (best["foundation"] / best[label] - 1) * 100
        print(f"  {label:20s} {best[label]:6.2f}s cpu  {change:+6.1f}% throughput vs foundation")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("corpus", nargs="+", type=Path, help="project directories to analyse")
    parser.add_argument("--runs", type=int, default=3, help="runs per rule set (best is kept)")
    parser.add_argument(
        "--paired",
        action="store_true",
        help="also time the analysis step file by file, the sets interleaved (steadier)",
    )
    args = parser.parse_args(argv)
    for root in args.corpus:
        bench(root, args.runs)
        if args.paired:
            paired(root, args.runs)


if __name__ == "__main__":
    main()
