"""Recall of bastion's rule families on the labelled recall set (tests/fixtures/recall/).

    python bench/recall.py              # per-family recall, with the still-missed lines
    python bench/recall.py --quiet      # the table only

Each family folder is a small project of excerpts from real applications, labelled line by
line: `# expect: ID` on a line bastion must flag, `# expect-missed: ID` on a real positive it
still misses, `# ok: ID` on a look-alike it must not flag. Recall counts what bastion reports
(not the labels), so a label that drifts from the engine shows up here as well as in
tests/e2e/test_recall_set.py.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from bastion.config import load_config
from bastion.engine import run

RECALL = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "recall"
_LABEL = re.compile(r"#\s*(expect|expect-missed|ok):\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")

Label = tuple[str, str, int]  # (rule, path relative to the family folder, line)


def labels(root: Path) -> dict[str, set[Label]]:
    """{"expect": ..., "expect-missed": ..., "ok": ...} for one family folder."""
    out: dict[str, set[Label]] = {"expect": set(), "expect-missed": set(), "ok": set()}
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in _LABEL.finditer(line):
                for rule in match.group(2).split(","):
                    out[match.group(1)].add((rule.strip(), relative, number))
    return out


def reported(root: Path) -> set[Label]:
    result = run([root], load_config([root]))
    if result.internal_errors:
        raise RuntimeError("\n".join(result.internal_errors))
    return {(f.rule, f.path, f.line) for f in result.findings}


def families() -> list[Path]:
    return sorted(p for p in RECALL.iterdir() if (p / "pyproject.toml").is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quiet", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    total_found = total_positives = total_false = 0
    missed_lines: list[str] = []
    print(f"{'family':<16}{'found':>7}{'positives':>11}{'recall':>9}{'wrong':>7}")
    for root in families():
        found_labels = labels(root)
        positives = found_labels["expect"] | found_labels["expect-missed"]
        actual = reported(root)
        found = actual & positives
        wrong = actual - positives
        recall = len(found) / len(positives) if positives else 1.0
        print(f"{root.name:<16}{len(found):>7}{len(positives):>11}{recall:>9.0%}{len(wrong):>7}")
        total_found += len(found)
        total_positives += len(positives)
        total_false += len(wrong)
        for rule, path, line in sorted(positives - actual):
            missed_lines.append(f"  missed {rule} {root.name}/{path}:{line}")
        for rule, path, line in sorted(wrong):
            missed_lines.append(f"  wrong  {rule} {root.name}/{path}:{line}")
    overall = total_found / total_positives if total_positives else 1.0
    print(f"{'all':<16}{total_found:>7}{total_positives:>11}{overall:>9.0%}{total_false:>7}")
    if not args.quiet and missed_lines:
        print("\n".join(missed_lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
