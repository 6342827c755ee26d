"""Project rules' examples run too: each example is written into an otherwise empty project
(with a minimal `requirements.txt` manifest when the example is not a manifest itself), and the
whole engine runs on the folder with that rule alone selected."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.config import Config
from bastion.engine import run
from bastion.registry import load_registry
from bastion.rule import Example, ProjectRule

# DEP001 needs an advisory database: tests/unit/test_audit.py covers it.
PROJECT_RULES = [r for r in load_registry().project_rules if r.id != "DEP001"]
_MANIFESTS = {"pyproject.toml", "setup.cfg", "setup.py", "requirements.txt"}


def _cases(which: str) -> list[object]:
    cases = []
    for rule in PROJECT_RULES:
        examples = rule.bad_examples() if which == "bad" else rule.good_examples()
        for index, example in enumerate(examples):
            cases.append(pytest.param(rule, example, id=f"{rule.id}-{which}{index}"))
    return cases


def _findings(rule: type[ProjectRule], example: Example, root: Path) -> list[object]:
    target = root / example.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(example.code, encoding="utf-8")
    if Path(example.path).name not in _MANIFESTS:
        (root / "requirements.txt").write_text("flask==3.0.0\n", encoding="utf-8")
    result = run([root], Config(root=root, select=(rule.id,)))
    assert not result.internal_errors, result.internal_errors
    return [f for f in result.findings if f.rule == rule.id]


@pytest.mark.parametrize(("rule", "example"), _cases("bad"))
def test_project_bad_example_is_flagged(
    rule: type[ProjectRule], example: Example, tmp_path: Path
) -> None:
    assert _findings(rule, example, tmp_path), f"{rule.id} missed:\n{example.code}"


@pytest.mark.parametrize(("rule", "example"), _cases("good"))
def test_project_good_example_is_not_flagged(
    rule: type[ProjectRule], example: Example, tmp_path: Path
) -> None:
    found = _findings(rule, example, tmp_path)
    assert not found, f"{rule.id} flagged:\n{example.code}\n{found}"
