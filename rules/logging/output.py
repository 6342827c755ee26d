"""LOG001: `print()` in application code."""

from __future__ import annotations

import ast
import re

from bastion.analysis.nodes import keyword_value
from bastion.analysis.scripts import (
    in_script_code,
    is_script_file,
    main_entry_functions,
    runs_as_program,
)
from bastion.findings import Severity
from bastion.rule import Example, Rule

# ruff/flake8-print's own suppression says the print is intended
_NOQA_PRINT = re.compile(r"#\s*noqa(?::[^#]*\bT20\d?\b|\s*$)", re.IGNORECASE)
_CONSOLE_STREAMS = frozenset({"sys.stdout", "sys.stderr", "sys.__stdout__", "sys.__stderr__"})
# A switch that turns console output on or off (`if verbose:`, `if not skip_print:`): the print
# is the intended output of a command-line caller, not a stray log line.
_OUTPUT_SWITCH = re.compile(
    r"(?:^|_)(?:verbose|verbosity|quiet|silent|print|echo)(?:_|$)", re.IGNORECASE
)


def _switched_output(stack: list[ast.AST]) -> bool:
    """The print is in an `if` whose test reads a verbosity switch (CTFd's
    `set_import_status(value, skip_print=False)`: `if not skip_print: print(value)`)."""
    for node in stack:
        if isinstance(node, ast.If):
            for sub in ast.walk(node.test):
                name = sub.id if isinstance(sub, ast.Name) else getattr(sub, "attr", None)
                if isinstance(name, str) and _OUTPUT_SWITCH.search(name):
                    return True
    return False


class PrintInAppCode(Rule):
    """Flags calls to the builtin `print()` in application code.

    Not flagged: test files (`test-paths`), scripts and command-line tools (files under
    `[tool.bastion] script-paths`, which by default covers `scripts/`, `bin/`, `manage.py`,
    `__main__.py`, `cli.py`/`*_cli.py` and Django management packages), modules that import
    a CLI library (click, typer, argparse, fire, docopt) or prompt with `input()`, modules
    whose top-level code reads `sys.argv` or exits (`exit(0)`: a program run as `python
    export.py`), prints under a verbosity switch (`if verbose:`, `if not skip_print:`),
    notebooks exported as `# %%` cells, code under
    `if __name__ == "__main__":` and the top-level functions that block calls (and `main`),
    click/typer commands, test helper packages (`testing/`), lines marked `# noqa: T201`
    (ruff/flake8-print's own suppression), and `print(..., file=f)` that writes to a file
    rather than the console. A `print` imported from elsewhere (`from rich import print`) is
    not the builtin."""

    id = "LOG001"
    name = "print-in-app-code"
    aliases = ("T201", "T203")  # ruff/flake8 codes honoured in noqa comments
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "41 of 43 judged findings right (95%) on 15 application repositories, "
        "bench/ecosystem (all of them in one repository); default severity lowered from "
        "warning to info when it measured 70%, before programs and verbosity switches were "
        "recognised"
    )
    summary = "`print()` in application code"
    why = (
        "`print` writes unstructured text to stdout with no level, no timestamp, no logger "
        "name and no request context: in production it is either lost or mixed into the "
        "output of the process supervisor, it cannot be filtered or routed, and it ignores the "
        "logging configuration. Use a logger so that every line carries its level and context."
    )
    hint = (
        'Use a module logger: `logger = logging.getLogger(__name__)` then `logger.info("...", '
        "value)` (or structlog/loguru if the project uses them)."
    )
    requires = ("print",)
    call_names = frozenset({"print"})  # visit_Call's only calls (see may_name)
    bad = [
        "def create_user(data):\n    user = User(**data)\n    print('created', user.id)\n"
        "    return user\n",
        "async def handler(request):\n    print(f'got {request.url}')\n    return {}\n",
        "import sys\n\ndef charge(order):\n    print('charging', order.id, file=sys.stderr)\n",
        Example("print('starting app')\napp = create_app()\n", path="app/main.py"),
    ]
    good = [
        "import logging\nlogger = logging.getLogger(__name__)\n\ndef create_user(data):\n"
        "    logger.info('created user %s', data['id'])\n",
        "def main():\n    print('done')\n\nif __name__ == '__main__':\n    main()\n",
        Example("def test_user():\n    print('debug')\n    assert True\n", path="tests/test_x.py"),
        Example("print('migrating')\n", path="scripts/migrate.py"),
        "import click\n\n@click.command()\ndef seed():\n    print('seeded')\n",
        "from rich import print\n\ndef show(x):\n    print(x)\n",
        "def dump(rows, handle):\n    for row in rows:\n        print(row, file=handle)\n",
        Example(
            "from django.core.management.base import BaseCommand\n\nclass Command(BaseCommand):\n"
            "    def handle(self, *a, **k):\n        print('ok')\n",
            path="shop/management/commands/load.py",
        ),
    ]

    def visit_Module(self, node: ast.Module) -> None:
        self._skip_file = is_script_file(self.ctx) or runs_as_program(node, self.ctx.imports)
        self._entry = main_entry_functions(node) if not self._skip_file else set()

    def visit_Call(self, node: ast.Call) -> None:
        if self._skip_file or not isinstance(node.func, ast.Name) or node.func.id != "print":
            return
        if self.ctx.imports.qualname(node.func) != "print":
            return  # `from rich import print` and friends
        stream = keyword_value(node, "file")
        if stream is not None and not (
            self.ctx.imports.qualname(stream) in _CONSOLE_STREAMS
            or (isinstance(stream, ast.Constant) and stream.value is None)
        ):
            return  # writing to a file or buffer, not logging
        if in_script_code(self.ctx, self._entry) or _switched_output(self.ctx.stack):
            return
        if _NOQA_PRINT.search(self.ctx.source.line(node.lineno)):
            return
        self.report(node, "`print()` in application code bypasses the logging configuration")
