"""The public rule API end to end: the example plugin package (examples/plugin) really
installed (pip, into a private folder) and run by the real console script; local rule modules
named in [tool.bastion] plugins, loaded only when the person running bastion trusts the tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bastion import plugins
from bastion.cli import cli
from bastion.registry import load_registry
from bastion.testing import expected_findings

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "plugin"
BASTION = str(Path(sys.executable).with_name("bastion"))

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/plugin installed with pip (no network: no deps, no build isolation) into a
    folder that only the subprocesses below put on their path."""
    import importlib.util

    if importlib.util.find_spec("pip") is None or importlib.util.find_spec("wheel") is None:
        pytest.skip("building the example plugin needs pip and wheel in this interpreter")
    site = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("build") / "plugin"
    shutil.copytree(EXAMPLE, build, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(build),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return site


def run(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop(plugins.ALLOW_ENV, None)
    return subprocess.run(
        [BASTION, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def test_installed_plugin_rule_runs_with_the_expected_findings(
    plugin_site: Path, tmp_path: Path
) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLE / "demo", demo)
    done = run(plugin_site, "check", ".", "--select", "ACME", "--format", "json", cwd=demo)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    found = {(f["rule"], f["path"], f["line"]) for f in report["findings"]}
    assert found == expected_findings(demo)
    finding = report["findings"][0]
    assert finding["name"] == "route-without-owner-tag"
    assert finding["category"] == "plugin"
    assert "owner tag" in finding["message"] and finding["fix_hint"]


def test_installed_plugin_is_documented_listed_and_in_sarif(
    plugin_site: Path, tmp_path: Path
) -> None:
    listed = run(plugin_site, "rules", cwd=tmp_path)
    assert listed.returncode == 0 and "ACME001" in listed.stdout
    doc = run(plugin_site, "rule", "ACME001", cwd=tmp_path)
    assert doc.returncode == 0
    assert "route-without-owner-tag" in doc.stdout and "tags=" in doc.stdout
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLE / "demo", demo)
    sarif = run(plugin_site, "check", ".", "--select", "ACME", "--format", "sarif", cwd=demo)
    log = json.loads(sarif.stdout)
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["ACME001"]["helpUri"] == "https://example.com/acme/bastion-rules#ACME001"
    from tests.unit.test_ci_sarif import validate

    validate(log)


def test_installed_plugin_findings_are_suppressible(plugin_site: Path, tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(EXAMPLE / "demo", demo)
    service = demo / "service.py"
    service.write_text(
        service.read_text().replace(
            '@router.get("/health")  # expect: ACME001',
            '@router.get("/health")  # bastion: ignore[ACME001] public probe, no owner',
        )
    )
    done = run(plugin_site, "check", ".", "--select", "ACME", cwd=demo)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_plugins_own_example_tests_pass_with_bastions_helper(plugin_site: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(plugin_site)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=EXAMPLE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_without_the_plugin_its_rule_is_unknown(tmp_path: Path) -> None:
    done = subprocess.run(
        [BASTION, "check", ".", "--select", "ACME001"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert "ACME001" in done.stderr


# -- local rule modules -------------------------------------------------------------------------

LOCAL_RULE = textwrap.dedent(
    '''
    import ast

    from bastion.findings import Severity
    from bastion.rule import Rule


    class NoEval(Rule):
        """Flags `{name}(...)`."""

        id = "{rule_id}"
        name = "{rule_name}"
        severity = Severity.ERROR
        summary = "a call of {name}"
        why = "House rule."
        hint = "Do something else."

        def visit_Call(self, node: ast.Call) -> None:
            if isinstance(node.func, ast.Name) and node.func.id == "{name}":
                self.report(node, "`{name}` is banned here")
    '''
)


def local_project(
    tmp_path: Path,
    *,
    rule_id: str = "HOUSE001",
    spec: str = "lint_rules.py",
    name: str = "forbidden",
) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(f'[tool.bastion]\nplugins = ["{spec}"]\n')
    (project / "lint_rules.py").write_text(
        LOCAL_RULE.format(rule_id=rule_id, rule_name="house-" + name, name=name)
    )
    (project / "app.py").write_text(f"{name}(1)\n")
    return project


@pytest.fixture
def clean_plugins() -> Iterator[None]:
    yield
    plugins.allow_local(False)
    plugins.activate(Path("."), ())


def invoke(project: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env={"NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def test_local_plugins_are_refused_unless_trusted(
    tmp_path: Path, clean_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = local_project(tmp_path)
    marker = tmp_path / "imported"
    (project / "lint_rules.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    monkeypatch.chdir(project)
    monkeypatch.delenv(plugins.ALLOW_ENV, raising=False)
    code, _, err = invoke(project, "check", ".", "--no-cache")
    assert code == 2
    assert "--allow-plugins" in err and "lint_rules.py" in err
    assert not marker.exists(), "the tree's code ran without being trusted"


def test_trusted_local_plugin_reports(
    tmp_path: Path, clean_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = local_project(tmp_path)
    monkeypatch.chdir(project)
    code, out, err = invoke(project, "--allow-plugins", "check", ".", "--no-cache")
    assert code == 1, err
    assert "app.py:1:1 HOUSE001" in out


def test_editing_a_local_rule_invalidates_the_cache(tmp_path: Path) -> None:
    """Real processes, as in use: the second run has a warm cache, and the edited rule is
    part of its key (the rule module itself is excluded from the check to show it)."""
    project = local_project(tmp_path)
    (project / "pyproject.toml").write_text(
        '[tool.bastion]\nplugins = ["lint_rules.py"]\nextend-exclude = ["lint_rules.py"]\n'
    )
    env = {**os.environ, plugins.ALLOW_ENV: "1"}
    args = [BASTION, "check", ".", "--select", "HOUSE", "--format", "json"]

    def messages() -> list[str]:
        done = subprocess.run(args, cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 1, done.stderr
        return [f["message"] for f in json.loads(done.stdout)["findings"]]

    assert messages() == ["`forbidden` is banned here"]
    assert (project / ".bastion_cache").is_dir()
    rules = project / "lint_rules.py"
    rules.write_text(rules.read_text().replace("is banned here", "is not allowed"))
    assert messages() == ["`forbidden` is not allowed"]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"rule_id": "SEC999"}, "prefix SEC belongs to bastion's built-in rules"),
        ({"rule_id": "house1"}, "a plugin's ids are its own prefix"),
        ({"spec": "../outside.py"}, "leaves the project folder"),
        ({"spec": "/etc/passwd"}, "must be a path inside the project"),
        ({"spec": "missing.py"}, "no such .py file or package"),
    ],
)
def test_bad_local_plugins_are_clear_config_errors(
    tmp_path: Path,
    clean_plugins: None,
    monkeypatch: pytest.MonkeyPatch,
    kwargs: dict[str, str],
    expected: str,
) -> None:
    project = local_project(tmp_path, **kwargs)
    (tmp_path / "outside.py").write_text("")
    monkeypatch.chdir(project)
    code, _, err = invoke(project, "--allow-plugins", "check", ".", "--no-cache")
    assert code == 2, err
    assert expected in err


def test_a_plugin_cannot_take_a_built_in_rule_name(
    tmp_path: Path, clean_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = local_project(tmp_path)
    (project / "lint_rules.py").write_text(
        LOCAL_RULE.format(rule_id="HOUSE002", rule_name="bare-except", name="x").replace(
            'name = "house-x"', 'name = "bare-except"'
        )
    )
    monkeypatch.chdir(project)
    code, _, err = invoke(project, "--allow-plugins", "check", ".", "--no-cache")
    assert code == 2
    assert "bare-except" in err


def test_a_local_plugin_that_fails_to_import_names_itself(
    tmp_path: Path, clean_plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = local_project(tmp_path)
    (project / "lint_rules.py").write_text("raise ImportError('needs acme_internal')\n")
    monkeypatch.chdir(project)
    code, _, err = invoke(project, "--allow-plugins", "check", ".", "--no-cache")
    assert code == 2
    assert "lint_rules.py" in err and "needs acme_internal" in err


def test_local_plugin_rules_leave_the_built_in_registry_alone(
    tmp_path: Path, clean_plugins: None
) -> None:
    project = local_project(tmp_path)
    built_in = {r.id for r in load_registry().rules}
    plugins.allow_local(True)
    plugins.activate(project, ["lint_rules.py"])
    with_local = {r.id for r in load_registry().rules}
    assert with_local - built_in == {"HOUSE001"}
    plugins.activate(Path("."), ())
    assert {r.id for r in load_registry().rules} == built_in
