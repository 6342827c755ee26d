"""The pre-commit case starts fast: a plain `bastion check one_file.py` (JSON, or text on a
pipe) never imports the heavy libraries that only fixes, the HTML report, the dependency audit,
rich output on a terminal or some file kinds need.

Run in a fresh interpreter (a subprocess), because this test session has imported everything.
A failure here means someone added an eager import: import the module inside the function
that needs it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from bastion_process import probe_imports

pytestmark = pytest.mark.e2e

HEAVY = (
    "rich",
    "libcst",
    "jinja2",
    "pip_audit",
    "yaml",
    "dockerfile_parse",
    "markdown_it",
    "selenium",
    # not heavy, but its PEP 508 grammar costs ~25 ms: only dependency files need it
    "packaging",
)


def _imported(cwd: Path, *args: str) -> tuple[int, set[str], str]:
    """Exit code, top-level packages imported, stdout."""
    code, modules, stdout = probe_imports(cwd, *args)
    return code, {name.partition(".")[0] for name in modules}, stdout


@pytest.mark.parametrize(
    "args",
    [
        ("--format", "json"),
        (),  # text: stdout is a pipe here, so plain lines without rich
        ("--format", "json", "--no-cache"),
        ("--format", "sarif"),
        ("--format", "github"),
    ],
    ids=["json", "text", "json-no-cache", "sarif", "github"],
)
def test_checking_one_file_imports_no_heavy_module(tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "one_file.py").write_text("try:\n    f()\nexcept:\n    g()\n")
    code, modules, stdout = _imported(tmp_path, "check", "one_file.py", *args)
    assert code == 1, stdout  # the bare except was found: the run really happened
    assert "ERR001" in stdout
    heavy = set(HEAVY)
    if "sarif" in args:
        heavy.discard("libcst")  # SARIF carries the safe fix of ERR001: libcst computes it
    assert not modules & heavy, sorted(modules & heavy)


def test_the_probe_sees_lazy_imports_when_they_happen(tmp_path: Path) -> None:
    """The HTML report does need jinja2 and markdown_it: the probe must see them (else the
    test above would pass for the wrong reason)."""
    (tmp_path / "one_file.py").write_text("try:\n    f()\nexcept:\n    g()\n")
    code, modules, _ = _imported(tmp_path, "check", "one_file.py", "--format", "html")
    assert code == 1
    assert {"jinja2", "markdown_it"} <= modules
