"""The flags a ruff user types: --output-format, --exit-zero, --extend-select, --extend-ignore,
--show-fixes, --unsafe-fixes, --version; `bastion rules` in a pipe."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bastion import __version__
from bastion.cli import cli

CODE = (
    "import logging\nimport yaml\n\nlogger = logging.getLogger(__name__)\n\n\n"
    "def f(x, data):\n    try:\n        g()\n    except:\n        pass\n"
    '    logger.info(f"{x=}")\n    return yaml.load(data)\n'
)


def project(tmp_path: Path, config: str = "") -> Path:
    (tmp_path / "m.py").write_text(CODE)
    (tmp_path / "pyproject.toml").write_text(f"[tool.bastion]\n{config}")
    return tmp_path


def rules_of(output: str) -> set[str]:
    return {f["rule"] for f in json.loads(output)["findings"]}


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_output_format_is_an_alias_of_format(tmp_path: Path) -> None:
    root = project(tmp_path)
    a = invoke("check", str(root), "--output-format", "json", "--no-cache")
    b = invoke("check", str(root), "--format", "json", "--no-cache")
    assert a[0] == b[0] == 1 and rules_of(a[1]) == rules_of(b[1])


def test_exit_zero_keeps_the_report_but_exits_0(tmp_path: Path) -> None:
    root = project(tmp_path)
    code, out, _ = invoke("check", str(root), "--exit-zero", "--format", "json")
    assert code == 0 and "ERR001" in rules_of(out)
    # replayed from the record of an identical run: still 0
    assert invoke("check", str(root), "--exit-zero", "--format", "json")[0] == 0
    assert invoke("check", str(root), "--format", "json")[0] == 1
    # usage and config errors still exit 2
    (root / "pyproject.toml").write_text("[tool.bastion]\nselect = 3\n")
    assert invoke("check", str(root), "--exit-zero")[0] == 2


def test_extend_select_adds_to_the_configured_selection(tmp_path: Path) -> None:
    root = project(tmp_path, 'select = ["ERR001"]\n')
    _, out, _ = invoke("check", str(root), "--format", "json", "--extend-select", "LOG002")
    assert rules_of(out) == {"ERR001", "LOG002"}
    _, out, _ = invoke("check", str(root), "--format", "json", "--select", "SEC013")
    assert rules_of(out) == {"SEC013"}  # --select replaces
    # without a configured selection: the default rules plus the extension
    (tmp_path / "p2").mkdir()
    plain = project(tmp_path / "p2")
    (plain / "pyproject.toml").write_text("[tool.bastion]\n")
    _, default, _ = invoke("check", str(plain), "--format", "json")
    _, more, _ = invoke("check", str(plain), "--format", "json", "--extend-select", "DEP001")
    assert rules_of(default) <= rules_of(more)
    code, _, err = invoke("check", str(root), "--extend-select", "NOPE9")
    assert code == 2 and "--extend-select" in err


def test_extend_ignore_adds_to_the_ignore_list(tmp_path: Path) -> None:
    root = project(tmp_path, 'ignore = ["LOG002"]\n')
    _, out, _ = invoke("check", str(root), "--format", "json", "--extend-ignore", "ERR001")
    found = rules_of(out)
    assert "LOG002" not in found and "ERR001" not in found and "SEC013" in found


def test_show_fixes_lists_safe_and_unsafe_fixes(tmp_path: Path) -> None:
    root = project(tmp_path)
    code, _, err = invoke("check", str(root), "--show-fixes", "--select", "ERR001,LOG002,SEC013")
    assert code == 1
    assert "Fixable: 1 safe, 2 unsafe (--unsafe-fixes):" in err
    assert "ERR001 bare-except [unsafe]" in err and "LOG002 log-eager-formatting\n" in err + "\n"
    code, _, err = invoke(
        "check", str(root), "--fix", "--show-fixes", "--select", "ERR001,LOG002,SEC013"
    )
    assert "Fixes applied, per rule:\n       1  LOG002 log-eager-formatting\n" in err
    assert 'logger.info("x=%r", x)' in (root / "m.py").read_text()
    code, _, err = invoke(
        "check", str(root), "--fix", "--unsafe-fixes", "--show-fixes", "--select", "ERR001,SEC013"
    )
    assert "Fixed 2 findings." in err and "1  ERR001 bare-except\n" in err
    assert "except Exception:" in (root / "m.py").read_text()


def test_version() -> None:
    code, out, _ = invoke("--version")
    assert code == 0 and __version__ in out


def test_rules_in_a_pipe_prints_whole_names_and_summaries() -> None:
    from bastion.registry import load_registry

    code, out, _ = invoke("rules")
    assert code == 0
    for rule in load_registry().rules:
        line = next(x for x in out.splitlines() if x.startswith(rule.id + " "))
        assert rule.name in line and rule.summary in line
