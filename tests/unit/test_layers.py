"""The rules' place in the layers of `[tool.importlinter]` (pyproject.toml).

`lint-imports` checks the package under src/; the rules live in rules/ (installed as
`bastion.rules`), where grimp cannot follow them. This test reads every rule module's imports,
those inside functions and under `if TYPE_CHECKING:` included, and holds them to the same
contract: a rule may import the analysis helpers and the core types, never what runs it.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib


def _layers() -> list[list[str]]:
    """The layers contract's layers, top first, each a list of `bastion.<module>` names."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = data["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [
        ["bastion." + part.strip().strip("()") for part in layer.replace("|", ":").split(":")]
        for layer in layers
    ]


def _above_rules() -> set[str]:
    layers = _layers()
    index = next(i for i, layer in enumerate(layers) if layer == ["bastion.rules"])
    return {module for layer in layers[:index] for module in layer}


def _imported(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            # `from bastion import engine` names a module too
            found.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
    return found


def _is_within(name: str, module: str) -> bool:
    return name == module or name.startswith(module + ".")


def test_the_contract_places_the_rules_between_the_engine_and_the_analysis() -> None:
    layers = _layers()
    names = [layer for layer in layers if len(layer) == 1]
    assert ["bastion.rules"] in names
    above = _above_rules()
    assert {"bastion.engine", "bastion.registry", "bastion.cli"} <= above
    assert "bastion.analysis" not in above and "bastion.rule" not in above


@pytest.mark.parametrize(
    "path", sorted(RULES.rglob("*.py")), ids=lambda p: p.relative_to(RULES).as_posix()
)
def test_a_rule_module_imports_nothing_above_the_rules(path: Path) -> None:
    above = _above_rules()
    wrong = [
        f"line {line}: {name}"
        for line, name in _imported(path)
        if any(_is_within(name, module) for module in above)
    ]
    assert not wrong, f"{path.relative_to(ROOT)} imports a layer above the rules: {wrong}"


def test_the_check_sees_a_forbidden_import(tmp_path: Path) -> None:
    """The test above can fail: a lazy import of the engine inside a function is caught."""
    module = tmp_path / "bad_rule.py"
    module.write_text("def f():\n    from bastion.engine import run\n    return run\n")
    above = _above_rules()
    assert any(
        _is_within(name, "bastion.engine") and "bastion.engine" in above
        for _, name in _imported(module)
    )


def test_lint_imports_keeps_every_contract() -> None:
    """What `make lint` runs: the layers and no cycles, over the package under src/."""
    import subprocess

    lint_imports = Path(sys.executable).parent / "lint-imports"
    proc = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "0 broken" in proc.stdout
