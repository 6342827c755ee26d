"""docs/rules/ is generated from the rules: it must be up to date (run `make docs`)."""

from __future__ import annotations

from pathlib import Path

from bastion.docs import write_rule_docs

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules"


def test_generated_rule_docs_are_up_to_date(tmp_path: Path) -> None:
    fresh = {p.name: p.read_text() for p in write_rule_docs(tmp_path / "rules")}
    committed = {p.name: p.read_text() for p in DOCS.glob("*.md")}
    assert set(committed) == set(fresh), "docs/rules is stale: run `make docs`"
    stale = [name for name, text in fresh.items() if committed[name] != text]
    assert not stale, f"docs/rules is stale ({stale[:5]}...): run `make docs`"
