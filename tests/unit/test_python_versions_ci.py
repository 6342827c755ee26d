"""`.ci/newest-python`: the parts that do not need the network (reading apt's sources, laying
out bastion for the second interpreter). The script itself runs in CI after `make test`."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from importlib.machinery import SourceFileLoader
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


def script() -> ModuleType:
    loader = SourceFileLoader("newest_python", str(REPO / ".ci" / "newest-python"))
    spec = importlib.util.spec_from_loader("newest_python", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


DEB822 = """\
Types: deb
# a comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_sources_in_both_formats_are_read() -> None:
    ci = script()
    [main, security] = ci._deb822(DEB822)
    assert main["uris"] == "http://mirror.example/debian"
    assert main["signed-by"] == "/usr/share/keyrings/debian-archive-keyring.gpg"
    assert security["uris"].endswith("debian-security")
    [entry] = ci._one_line(
        "# deb http://old.example/debian sid main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://mirror.example/debian bookworm main contrib\n"
    )
    assert entry["uris"] == "http://mirror.example/debian" and entry["signed-by"] == "/k.gpg"
    assert entry["components"].split() == ["main", "contrib"]


def test_the_requirements_leave_out_only_the_lint_tools() -> None:
    wanted = script().requirements()
    names = {r.split(">")[0].split("=")[0].lower() for r in wanted}
    assert {"libcst", "pytest", "hypothesis", "hypothesmith"} <= names
    assert not names & {"ruff", "mypy", "types-pyyaml"}


def test_the_overlay_is_bastion_as_installed(tmp_path: Path) -> None:
    """`bastion` from src/ with `bastion.rules` from rules/, ahead of any installed copy."""
    folder = script().overlay(tmp_path / "overlay")
    probe = (
        "import bastion.rules.logging.messages as m, bastion.syntax_version as s; "
        "print(m.__file__); print(s.__file__)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(folder), *sys.path])},
        check=True,
    )
    rules_file, module_file = done.stdout.split()
    assert rules_file == str(folder / "bastion" / "rules" / "logging" / "messages.py")
    assert module_file == str(folder / "bastion" / "syntax_version.py")
    assert Path(rules_file).resolve() == REPO / "rules" / "logging" / "messages.py"
