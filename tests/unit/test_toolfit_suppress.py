"""Suppression comments written for other linters: `# noqa: CODE` (ruff/flake8 codes of an
equivalent rule) and `# nosec [BXXX]` (bandit), and the switch that turns them off."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion.cli import cli
from bastion.config import Config, ConfigError, parse_table
from bastion.docs import render_markdown
from bastion.registry import load_registry
from bastion.suppression import external_codes, parse_suppressions, python_comments
from bastion.testing import lint_source

BARE = "try:\n    f()\nexcept:{comment}\n    g()\n"
PICKLE = "import pickle\n\nx = pickle.loads(data){comment}\n"


def outcome(code: str, *, external: bool = True) -> tuple[list[str], list[str]]:
    config = Config(root=Path("/nonexistent-root"), external_suppressions=external)
    result = lint_source(code, "m.py", config=config)
    assert not result.internal_errors
    return sorted(f.rule for f in result.findings), sorted(f.rule for f in result.suppressed)


@pytest.mark.parametrize(
    "comment",
    ["  # noqa: E722", "  # noqa:E722", "  # NOQA: E501, E722 legacy", "  # noqa: B001"],
)
def test_noqa_with_an_equivalent_code_silences_the_rule(comment: str) -> None:
    found, silenced = outcome(BARE.format(comment=comment))
    assert "ERR001" not in found and "ERR001" in silenced


@pytest.mark.parametrize(
    "comment",
    [
        "  # noqa",  # blanket: written for another linter's finding, silences nothing here
        "  # noqa: E501",  # another code
        "  # noqa E722",  # no colon: flake8 reads it as a blanket noqa
        "  # bastion noqa: E722",  # not a noqa comment
    ],
)
def test_blanket_or_unrelated_noqa_does_not_silence(comment: str) -> None:
    found, _ = outcome(BARE.format(comment=comment))
    assert "ERR001" in found


def test_noqa_in_a_string_is_not_a_comment() -> None:
    found, _ = outcome('s = "# noqa: E722"\n' + BARE.format(comment=""))
    assert "ERR001" in found


@pytest.mark.parametrize(
    ("comment", "silenced"),
    [
        ("  # nosec", True),  # bandit's bare form: every rule with a bandit equivalent
        ("  # nosec B301", True),
        ("  # nosec: B301, B403", True),
        ("  # nosec B602", False),  # another bandit test
        ("  # noqa: S301", True),  # ruff's flake8-bandit code
    ],
)
def test_nosec_for_rules_with_a_bandit_equivalent(comment: str, silenced: bool) -> None:
    found, quiet = outcome(PICKLE.format(comment=comment))
    assert ("SEC013" in quiet) is silenced and ("SEC013" in found) is not silenced


def test_bare_nosec_does_not_silence_rules_without_a_bandit_equivalent() -> None:
    found, _ = outcome(BARE.format(comment="  # nosec"))
    assert "ERR001" in found  # E722 has no bandit test


def test_external_comment_applies_on_its_line_not_the_next() -> None:
    code = "try:\n    f()\n# noqa: E722\nexcept:\n    g()\n"
    assert "ERR001" in outcome(code)[0]
    # but on the first line of a multi-line statement, like `# bastion: ignore`
    multi = "import pickle\n\nx = pickle.loads(  # nosec B301\n    data,\n)\n"
    assert "SEC013" in outcome(multi)[1]


def test_switch_turns_external_comments_off() -> None:
    assert "ERR001" in outcome(BARE.format(comment="  # noqa: E722"), external=False)[0]
    assert "SEC013" in outcome(PICKLE.format(comment="  # nosec"), external=False)[0]
    table = {"external-suppressions": False}
    assert parse_table(table, root=Path(".")).external_suppressions is False
    with pytest.raises(ConfigError, match="external-suppressions: expected true or false"):
        parse_table({"external-suppressions": "no"}, root=Path("."))


def test_switch_in_pyproject_changes_the_cached_result(tmp_path: Path) -> None:
    """The cache key holds the switch: flipping it never serves the other setting's result."""
    (tmp_path / "m.py").write_text(BARE.format(comment="  # noqa: E722"))
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text("[tool.bastion]\n")
    args = ["check", str(tmp_path), "--select", "ERR001", "--format", "json"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    pyproject.write_text("[tool.bastion]\nexternal-suppressions = false\n")
    assert CliRunner().invoke(cli, args).exit_code == 1


def test_external_directives_are_not_reported_as_invalid_bastion_ones() -> None:
    found, _ = outcome("x = 1  # noqa: E501\ny = 2  # nosec\n")
    assert "BAS002" not in found


def test_every_mapped_code_looks_like_its_linter() -> None:
    import re

    for rule in load_registry().rules:
        for code in rule.aliases:
            assert re.fullmatch(r"[A-Z]+[0-9]{3,4}", code), (rule.id, code)
        for code in rule.bandit:
            assert re.fullmatch(r"B[1-7][0-9]{2}", code), (rule.id, code)
    table = external_codes()
    assert table["ERR001"][0] == ("E722", "B001")
    assert table["API011"][0] == ("FAST002",)
    assert "G004" in table["LOG002"][0]
    assert table["SEC013"][1] == ("B301", "B302", "B307", "B506")


def test_the_mapping_is_in_the_rule_docs() -> None:
    registry = load_registry()
    doc = render_markdown(registry.by_id("SEC017"))  # type: ignore[arg-type]
    assert "## Equivalent rules in other linters" in doc
    assert "`S602`" in doc and "`B602`" in doc and "# nosec" in doc
    assert "Equivalent rules" not in render_markdown(registry.by_id("SEC002"))  # type: ignore[arg-type]


def test_tokenizer_finds_noqa_and_nosec_comments() -> None:
    text = 'x = "# noqa: E722"  # nosec B105\n'
    comments = python_comments(text)
    assert comments == {1: text.index("# nosec")}
    parsed = parse_suppressions(text.splitlines(), comments)
    [directive] = parsed.by_line[1]
    assert directive.origin == "nosec" and directive.ids == ("B105",)
    assert parsed.directives == []  # external comments are never checked as bastion ones


def test_rules_json_lists_the_equivalent_codes() -> None:
    import json

    result = CliRunner().invoke(cli, ["rules", "--format", "json"])
    by_id = {r["id"]: r for r in json.loads(result.stdout)}
    assert by_id["ERR001"]["aliases"] == ["E722", "B001"] and by_id["ERR001"]["bandit"] == []
    assert by_id["SEC019"]["bandit"] == ["B311"]
