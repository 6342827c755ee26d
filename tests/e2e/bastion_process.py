"""bastion run as users run it - a fresh interpreter - shared by the end-to-end tests.

A fresh process matters twice: exit codes and output are the real ones, and `sys.modules`
starts empty (this test session has imported everything), so a probe can tell what a command
really imports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

# Runs `python -m bastion ARGS` and, on the way out, writes the exit code and every imported
# module name to stderr: runpy keeps the process's own `sys.modules`.
_IMPORT_PROBE = """
import json, runpy, sys
sys.argv = ["bastion", *sys.argv[1:]]
code = None
try:
    runpy.run_module("bastion", run_name="__main__", alter_sys=True)
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nPROBE " + json.dumps({"code": code, "modules": sorted(sys.modules)}) + "\\n")
"""


def run_bastion(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m bastion ARGS` in CWD, output captured as text, never raising on exit code."""
    return subprocess.run(
        [sys.executable, "-m", "bastion", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def probe_imports(cwd: Path, *args: str) -> tuple[int, set[str], str]:
    """(exit code, every module the run imported, stdout) of `bastion ARGS` in CWD."""
    proc = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("PROBE "))
    report = json.loads(line[len("PROBE ") :])
    return report["code"], set(report["modules"]), proc.stdout
