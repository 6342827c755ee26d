"""End-to-end: the security rules on two small projects (FastAPI/Flask, Django) report exactly
the lines annotated `# expect: SEC0NN` - nothing more, nothing less."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.engine import run
from bastion.selection import load_config
from bastion.testing import expected_findings as _annotated

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def expected_findings(root: Path) -> set[tuple[str, str, int]]:
    return _annotated(root, "*.py")


@pytest.mark.parametrize("project", ["security_fastapi", "security_django"])
def test_exact_findings(project: str) -> None:
    root = FIXTURES / project
    config = load_config([root])
    assert config.root == root, "the fixture's pyproject.toml must make it the project root"
    result = run([root], config)
    assert not result.internal_errors
    actual = {(f.rule, f.path, f.line) for f in result.findings}
    expected = expected_findings(root)
    assert actual == expected, (
        f"unexpected: {sorted(actual - expected)}\nmissing: {sorted(expected - actual)}"
    )
