"""SEC008 on Flask development entry points (issue #15): the debugger bound to loopback is how
developers work and is not reported by default; bound beyond this machine it is; the option
`local-dev-servers` reports both (the recall set uses it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.selection import parse_table
from bastion.testing import lint_source

APP = "from flask import Flask\n\napp = Flask(__name__)\n\nif __name__ == '__main__':\n"


def _sec008(code: str, tmp_path: Path, **options: object) -> list[tuple[int, str]]:
    table: dict[str, object] = {"select": ["SEC008"]}
    if options:
        table["rules"] = {"SEC008": options}
    config = parse_table(table, root=tmp_path)
    found = lint_source(code, "app/run.py", config=config).findings
    return [(f.line, f.severity.name.lower()) for f in found if f.rule == "SEC008"]


@pytest.mark.parametrize(
    "call",
    [
        "app.run(debug=True)",
        "app.run(debug=True, host='127.0.0.1', port=4000)",
        "app.run(debug=True, host='localhost')",
        "app.run(debug=True, host='::1')",
    ],
)
def test_a_loopback_dev_server_is_not_reported_by_default(call: str, tmp_path: Path) -> None:
    code = APP + f"    {call}\n"
    assert _sec008(code, tmp_path) == []
    assert _sec008(code, tmp_path, **{"local-dev-servers": True}) == [(6, "info")]


@pytest.mark.parametrize(
    "call",
    ["app.run(host='0.0.0.0', debug=True)", "app.run(debug=True, host=args.host)"],
)
def test_a_dev_server_listening_beyond_this_machine_is_reported(call: str, tmp_path: Path) -> None:
    assert _sec008(APP + f"    {call}\n", tmp_path) == [(6, "info")]


def test_outside_a_dev_entry_point_debug_is_an_error_wherever_it_listens(tmp_path: Path) -> None:
    code = "from flask import Flask\n\napp = Flask(__name__)\napp.run(debug=True)\n"
    assert _sec008(code, tmp_path) == [(4, "error")]
