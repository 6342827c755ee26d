"""End-to-end: bastion on a small async FastAPI project reports exactly the findings its
files announce with `# expect: RULEID` comments (LOG, TEST002, ORG003-ORG006)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bastion.cli import cli
from bastion.engine import run
from bastion.selection import load_config
from bastion.testing import expected_findings as _annotated

FIXTURE = Path(__file__).parent.parent / "fixtures" / "logorg_fastapi"


def _expected() -> set[tuple[str, str, int]]:
    return _annotated(FIXTURE, "*.py")


def test_engine_reports_exactly_the_annotated_findings() -> None:
    config = load_config([FIXTURE])
    result = run([FIXTURE], config)
    assert not result.internal_errors
    found = {(f.rule, f.path, f.line) for f in result.findings}
    expected = _expected()
    assert len(expected) == 24
    assert found - expected == set(), "unexpected findings"
    assert expected - found == set(), "missing findings"


def test_cli_json_matches_and_marks_only_mechanical_fixes(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(FIXTURE)
    outcome = CliRunner().invoke(cli, ["check", ".", "--format", "json"])
    assert outcome.exit_code == 1, outcome.output
    findings = json.loads(outcome.output)["findings"]
    assert {(f["rule"], f["path"], f["line"]) for f in findings} == _expected()
    fixable = {(f["rule"], f["path"], f["line"]) for f in findings if f["fixable"]}
    assert fixable == {
        ("LOG002", "app/routes/users.py", 14),  # stdlib f-string
        ("LOG002", "app/routes/users.py", 27),  # stdlib concatenation
        ("LOG005", "app/db.py", 19),  # the call form, not `default=datetime.utcnow`
        ("ORG004", "app/schemas.py", 8),  # `Field(regex=)` -> `pattern=`
        ("ORG004", "app/schemas.py", 27),  # `self.dict(exclude=...)` -> `model_dump`
        ("ORG004", "app/routes/users.py", 18),  # `.dict(exclude=...)`
        ("ORG004", "app/routes/users.py", 21),  # `UserOut.parse_obj(...)` -> `model_validate`
    }


def test_pinned_pydantic_1_project_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "legacy"\nversion = "1"\ndependencies = ["pydantic>=1.10,<2"]\n\n'
        '[tool.bastion]\nselect = ["ORG004"]\n',
        encoding="utf-8",
    )
    (tmp_path / "models.py").write_text(
        (FIXTURE / "app" / "schemas.py").read_text(encoding="utf-8"), encoding="utf-8"
    )
    result = run([tmp_path], load_config([tmp_path]))
    assert [f for f in result.findings if f.rule == "ORG004"] == []
