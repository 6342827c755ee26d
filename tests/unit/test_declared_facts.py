"""Project rules (and file rules with a `review`) declare the facts they read (`needs`): only
those collectors run, an undeclared read is an error, and each rule selected alone finds exactly
what it finds among every rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.config import Config
from bastion.context import FileFacts, ProjectContext
from bastion.engine import FileAnalyzer, _overrides_review, run
from bastion.registry import load_registry
from bastion.rule import ProjectRule

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PROJECTS = [
    EXAMPLES / "shop_api",
    *(p for p in sorted(FIXTURES.iterdir()) if p.is_dir() and p.name not in {"hostile"}),
]
REGISTRY = load_registry()
READERS = [
    r
    for r in REGISTRY.rules
    if issubclass(r, ProjectRule) or _overrides_review(r)  # type: ignore[arg-type]
]


def test_every_reader_declares_what_it_reads() -> None:
    produced = {c.key for c in REGISTRY.collectors}
    for rule in READERS:
        assert rule.needs, f"{rule.id} reads facts but declares none"
        own = {k for k in rule.needs if rule.id.lower() in k.lower()}  # its own map step's
        missing = rule.needs - produced - own
        assert not missing, f"{rule.id}: no collector for {missing}"


def test_only_the_collectors_of_declared_facts_run() -> None:
    alone = FileAnalyzer(Config(root=Path("."), select=("API005",)))
    assert {c.key for c in alone.collectors} == {"web"}
    none = FileAnalyzer(Config(root=Path("."), select=("SEC001",)))
    assert none.collectors == []


def test_reading_an_undeclared_fact_is_an_error() -> None:
    project = ProjectContext(
        config=Config(root=Path(".")),
        files=[FileFacts("a.py", "python", {"web": [{"x": 1}]})],
        declared=frozenset({"code"}),
    )
    assert project.facts("code") == []
    with pytest.raises(LookupError, match="'web'"):
        project.facts("web")


def _by_rule(project: Path, select: tuple[str, ...]) -> tuple[dict[str, set[tuple]], list[str]]:
    result = run([project], Config(root=project, select=select), jobs=1)
    found: dict[str, set[tuple]] = {}
    for f in result.findings:
        found.setdefault(f.rule, set()).add((f.path, f.line, f.column, f.message))
    return found, result.internal_errors


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_each_reader_alone_finds_what_it_finds_among_all(project: Path) -> None:
    # ALL leaves the opt-in rules out; DEP001 needs an advisory database (its own tests)
    opt_in = tuple(r.id for r in READERS if not r.enabled_by_default and r.id != "DEP001")
    everything, errors = _by_rule(project, ("ALL", *opt_in))
    assert errors == []
    for rule in READERS:
        if rule.id == "DEP001":
            continue  # needs an advisory database: covered by its own tests
        alone, errors = _by_rule(project, (rule.id,))
        assert errors == [], f"{rule.id} alone: {errors}"
        assert alone.get(rule.id, set()) == everything.get(rule.id, set()), rule.id
