"""The labelled recall set (tests/fixtures/recall/<family>/): excerpts of real applications,
each line that must be flagged annotated `# expect: ID`, look-alikes `# ok: ID`, and real
positives bastion still misses `# expect-missed: ID`. One generic test per family asserts the
exact (rule, path, line) set; `python bench/recall.py` prints the recall per family."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bastion.config import load_config
from bastion.engine import run

RECALL = Path(__file__).resolve().parent.parent / "fixtures" / "recall"
_LABEL = re.compile(r"#\s*(expect|expect-missed|ok):\s*([A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")
_SOURCE = re.compile(r"licence:", re.IGNORECASE)
FAMILIES = sorted(p.name for p in RECALL.iterdir() if (p / "pyproject.toml").is_file())


def _labels(root: Path) -> dict[str, set[tuple[str, str, int]]]:
    out: dict[str, set[tuple[str, str, int]]] = {
        "expect": set(),
        "expect-missed": set(),
        "ok": set(),
    }
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            for match in _LABEL.finditer(line):
                for rule in match.group(2).split(","):
                    out[match.group(1)].add((rule.strip(), relative, number))
    return out


def test_every_family_has_ten_real_positives() -> None:
    assert len(FAMILIES) >= 9
    for family in FAMILIES:
        found = _labels(RECALL / family)
        assert len(found["expect"] | found["expect-missed"]) >= 10, family
        assert found["ok"], f"{family}: no look-alikes"


def test_every_excerpt_names_its_source_and_licence() -> None:
    for path in RECALL.rglob("*.py"):
        head = "\n".join(path.read_text(encoding="utf-8").splitlines()[:6])
        assert "@ " in head and _SOURCE.search(head), path


@pytest.mark.parametrize("family", FAMILIES)
def test_exact_findings(family: str) -> None:
    root = RECALL / family
    config = load_config([root])
    assert config.root == root, "each family folder is its own project (pyproject.toml)"
    result = run([root], config)
    assert not result.internal_errors
    actual = {(f.rule, f.path, f.line) for f in result.findings}
    found = _labels(root)
    expected = found["expect"]
    assert actual == expected, (
        f"unexpected: {sorted(actual - expected)}\nmissing: {sorted(expected - actual)}"
    )
    # a line documented as still missed must really be missed (else relabel it `expect`)
    assert not actual & found["expect-missed"]
