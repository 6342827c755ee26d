"""Fix quality: imports land where isort/ruff put them, a fix leaves no unused import, the real
ruff finds nothing new after `bastion fix`, fixable counts agree across formats, and every
fixable rule documents its own fix safety."""

from __future__ import annotations

import collections
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import libcst as cst
import pytest
from click.testing import CliRunner

from bastion.analysis.fixes import add_imports
from bastion.cli import cli
from bastion.engine import run
from bastion.findings import FixSafety
from bastion.fixer import fix_paths
from bastion.registry import load_registry
from bastion.selection import load_config

RUFF = Path(sys.executable).parent / "ruff"
FIXTURES = Path(__file__).parent.parent / "fixtures"
EXAMPLES = Path(__file__).parent.parent.parent / "examples"
# fixture projects whose findings include fixable ones
FIXABLE_PROJECTS = [
    EXAMPLES / "shop_api",
    *(
        FIXTURES / name
        for name in (
            "api_design_fastapi",
            "api_design_flask",
            "cigate",
            "fastapi_app",
            "hostile",
            "logorg_fastapi",
            "perf_django",
            "perf_fastapi_sqlalchemy",
            "secrets_app",
            "security_django",
            "security_fastapi",
        )
    ),
]
_EXPECT = re.compile(r"\s*# expect: [A-Z0-9, ]+$", re.M)


def ruff_report(root: Path) -> tuple[collections.Counter[tuple[str, str]], set[str]]:
    """(ruff's I/F401/E diagnostics per (file, code), files `ruff format` would change)."""
    checked = subprocess.run(
        [RUFF, "check", "--isolated", "--select", "I,F401,E", "--output-format", "json",
         "--exit-zero", "--no-cache", "."],
        cwd=root, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found = collections.Counter(
        (Path(d["filename"]).relative_to(root).as_posix(), d["code"])
        for d in json.loads(checked.stdout)
    )
    formatted = subprocess.run(
        [RUFF, "format", "--isolated", "--check", "--no-cache", "--output-format", "concise",
         "."],
        cwd=root, capture_output=True, text=True,
    )  # fmt: skip
    # `path:line:col: unformatted: File would be reformatted` (ruff >= 0.9's concise output)
    unformatted = {
        line.split(":", 1)[0]
        for line in formatted.stdout.splitlines()
        if "unformatted" in line and line.split(":", 1)[0].endswith(".py")
    }
    # exit 2: a file ruff cannot parse (the hostile fixture has some); the rest is still read
    return found, unformatted


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is a dev dependency")
@pytest.mark.parametrize("source", FIXABLE_PROJECTS, ids=lambda p: p.name)
def test_ruff_finds_nothing_new_after_bastion_fix(source: Path, tmp_path: Path) -> None:
    root = tmp_path / source.name
    shutil.copytree(source, root)
    for path in (
        p for p in root.rglob("*.py") if p.is_file()
    ):  # the fixtures' `# expect:` notes are not code
        data = path.read_bytes()
        if b"# expect:" in data:
            path.write_bytes(_EXPECT.sub("", data.decode("utf-8")).encode("utf-8"))
    before, unformatted_before = ruff_report(root)
    result = CliRunner().invoke(
        cli, ["fix", str(root), "--unsafe-fixes", "--select", "ALL", "--no-cache", "-q"]
    )
    assert result.exit_code in (0, 1), result.output
    after, unformatted_after = ruff_report(root)
    assert after - before == collections.Counter()
    assert unformatted_after <= unformatted_before


CASES = {
    "third party only": "from fastapi import Depends, FastAPI\n\napp = FastAPI()\n",
    "docstring": '"""Doc."""\n\nfrom fastapi import Depends, FastAPI\n\napp = Depends, FastAPI\n',
    "merge": "from typing import Optional\n\nfrom fastapi import Query\n\nx = Optional, Query\n",
    "parenthesised": "from typing import (\n    Any,\n    Optional,\n)\n\nx: Any = Optional\n",
    "sections": "import os\nimport sys\n\nfrom fastapi import FastAPI\n\napp = FastAPI, os, sys\n",
    "from after plain": "import os\nfrom datetime import datetime\n\nx = datetime, os\n",
    "future": "from __future__ import annotations\n\nfrom fastapi import FastAPI\n\napp = 1\n",
    "future only": "from __future__ import annotations\n\n\ndef f():\n    pass\n",
    "no imports": "def f():\n    pass\n",
    "docstring, no imports": '"""Doc."""\n\nX = 1\n',
}
ADDED = [("typing", "Annotated"), ("datetime", "timezone"), ("secrets", None), ("abc", None)]


@pytest.mark.skipif(not RUFF.exists(), reason="ruff is a dev dependency")
def test_added_imports_are_sorted_as_ruff_sorts_them(tmp_path: Path) -> None:
    written = []
    for index, code in enumerate(CASES.values()):
        for module, name in ADDED:
            new = add_imports(cst.parse_module(code), [(module, name)]).code
            assert (f"import {module}" if name is None else " import ") in new
            path = tmp_path / f"case{index}_{module}.py"
            path.write_text(new)
            written.append(path)
    checked = subprocess.run(
        [RUFF, "check", "--isolated", "--select", "I,E", "--no-cache", "--output-format",
         "concise", "."],
        cwd=tmp_path, capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout
    assert len(written) == len(CASES) * len(ADDED)


def test_added_import_examples() -> None:
    def added(code: str, module: str, name: str | None) -> str:
        return str(add_imports(cst.parse_module(code), [(module, name)]).code)

    assert added(CASES["third party only"], "typing", "Annotated").startswith(
        "from typing import Annotated\n\nfrom fastapi import Depends, FastAPI\n"
    )
    assert "from typing import Annotated, Optional\n" in added(
        CASES["merge"], "typing", "Annotated"
    )
    assert "(\n    Annotated,\n    Any,\n    Optional,\n)" in added(
        CASES["parenthesised"], "typing", "Annotated"
    )
    assert added(CASES["from after plain"], "asyncio", None).startswith(
        "import asyncio\nimport os\nfrom datetime import datetime\n"
    )
    assert added(CASES["no imports"], "asyncio", None) == "import asyncio\n\n\ndef f():\n    pass\n"
    # already imported: nothing added twice
    assert added("import asyncio\n", "asyncio", None) == "import asyncio\n"
    assert added("from typing import Annotated\n", "typing", "Annotated").count("Annotated") == 1


def test_a_fix_removes_the_import_it_orphaned(tmp_path: Path) -> None:
    code = (
        "import os\nfrom time import sleep\n\n\nasync def poll():\n    sleep(1)\n"
        "    return os.getcwd()\n"
    )
    (tmp_path / "m.py").write_text(code)
    config = load_config([tmp_path], None, {"select": ["PERF001"]})
    [file_fix] = fix_paths([tmp_path], config, unsafe=True).changed
    fixed = file_fix.fixed.decode()
    assert "from time import sleep" not in fixed and "await asyncio.sleep(1)" in fixed
    assert fixed.startswith("import asyncio\nimport os\n")
    # an import that was already unused is not the fix's business
    (tmp_path / "m.py").write_text("import json\n" + code)
    [file_fix] = fix_paths([tmp_path], config, unsafe=True).changed
    assert "import json\n" in file_fix.fixed.decode()


def test_log002_fixes_self_documenting_fstrings(tmp_path: Path) -> None:
    code = (
        "import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef f(x, y):\n"
        '    logger.info(f"{x=}")\n    logger.info(f"{x = } and {y=!s} 5%")\n'
        '    logger.info(f"{x=:>5}")\n'
    )
    (tmp_path / "m.py").write_text(code)
    config = load_config([tmp_path], None, {"select": ["LOG002"]})
    result = run([tmp_path], config, jobs=1)
    fixable = [f.line for f in result.findings if f.fixable]
    assert fixable == [7, 8]  # the format spec case is reported without a fix
    [file_fix] = fix_paths([tmp_path], config).changed
    assert sorted(f.line for f in file_fix.applied) == fixable
    fixed = file_fix.fixed.decode()
    assert 'logger.info("x=%r", x)' in fixed
    assert 'logger.info("x = %r and y=%s 5%%", x, y)' in fixed
    # the text logging writes is the text the f-string wrote
    x, y = 5, "a"
    assert "x = %r and y=%s 5%%" % (x, y) == f"{x = } and {y=!s} 5%"  # noqa: UP031


@pytest.mark.parametrize("source", FIXABLE_PROJECTS, ids=lambda p: p.name)
def test_every_finding_marked_fixable_is_fixed(source: Path) -> None:
    config = load_config([source], None, {"select": ["ALL"]})
    result = run([source], config, jobs=1)
    marked = collections.Counter((f.rule, f.path, f.line) for f in result.findings if f.fixable)
    fixed: collections.Counter[tuple[str, str, int]] = collections.Counter()
    for file_fix in fix_paths([source], config, unsafe=True).files:
        fixed.update((f.rule, f.path, f.line) for f in file_fix.applied)
    assert marked == fixed


def test_fixable_counts_agree_in_every_format(tmp_path: Path) -> None:
    root = tmp_path / "p"
    shutil.copytree(FIXTURES / "fastapi_app", root)  # API011 (unsafe) fixes
    (root / "app" / "logs.py").write_text(  # LOG002 (safe) fixes
        "import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef f(x):\n"
        '    logger.info(f"{x=}")\n    logger.info("x %s" % x)\n'
    )
    args = ["check", str(root), "--select", "ALL", "--no-cache"]
    payload = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).stdout)
    safe, unsafe = payload["summary"]["fixable_safe"], payload["summary"]["fixable_unsafe"]
    assert safe and unsafe and payload["summary"]["fixable"] == safe + unsafe
    text = CliRunner().invoke(cli, [*args, "--no-color"]).stdout
    assert f"{safe} fixable with `bastion fix` ({unsafe} more with" in text
    sarif = json.loads(CliRunner().invoke(cli, [*args, "--format", "sarif"]).stdout)
    run_ = sarif["runs"][0]
    assert run_["properties"] == {"fixableSafe": safe, "fixableUnsafe": unsafe}
    assert sum(1 for r in run_["results"] if "fixes" in r) == safe
    html = CliRunner().invoke(cli, [*args, "--format", "html"]).stdout
    assert f"<b>{safe}</b>fixable with <code>bastion fix</code> ({unsafe} more" in html
    diff = CliRunner().invoke(cli, ["fix", str(root), "--select", "ALL", "--diff", "--no-cache"])
    assert f"{safe} fixes would be applied." in diff.stderr
    both = ["fix", str(root), "--select", "ALL", "--diff", "--no-cache", "--unsafe-fixes"]
    assert f"{safe + unsafe} fixes would be applied." in CliRunner().invoke(cli, both).stderr


def test_each_fixable_rule_documents_its_own_fix_safety() -> None:
    fixable = [r for r in load_registry().rules if r.is_fixable()]
    notes = [r.fix_safety_note for r in fixable]
    assert all(len(n) > 80 for n in notes), [r.id for r in fixable if len(r.fix_safety_note) < 80]
    assert len(set(notes)) == len(notes)  # specific, not one shared sentence
    from bastion.docs import render_markdown

    for rule in fixable:
        assert rule.fix_safety_note in render_markdown(rule).replace("\n", " ")


@pytest.mark.parametrize("rule_id", ["ERR001", "LOG005", "PERF001", "SEC013"])
def test_behaviour_changing_fixes_are_unsafe(rule_id: str) -> None:
    rule = load_registry().by_id(rule_id)
    assert rule is not None and rule.fix_safety is FixSafety.UNSAFE


def test_long_lines_a_fix_made_are_wrapped_as_ruff_format_wraps_them() -> None:
    from bastion.analysis.fixes import wrap_long_signatures

    def wrapped(before: str, after: str) -> str:
        return str(wrap_long_signatures(before, cst.parse_module(after), 88).code)

    # a parameter alone on its line: its subscript goes on lines of its own
    before = "def f(\n    request,\n    user_manager: BaseUserManager[models.UP] = Depends(get_user_manager),\n):\n    pass\n"  # noqa: E501
    after = "def f(\n    request,\n    user_manager: Annotated[BaseUserManager[models.UP, models.ID], Depends(get_manager)],\n):\n    pass\n"  # noqa: E501
    assert wrapped(before, after) == (
        "def f(\n    request,\n    user_manager: Annotated[\n"
        "        BaseUserManager[models.UP, models.ID], Depends(get_manager)\n    ],\n):\n"
        "    pass\n"
    )
    # several parameters on a line that became too long: one a line, nested def indented
    after = (
        "def outer():\n    async def authorize(\n"
        "        request: Request, response: Response, scopes: Annotated[list[str], Query()] = None\n"  # noqa: E501
        "    ) -> Response:\n        pass\n"
    )
    assert wrapped("", after) == (
        "def outer():\n    async def authorize(\n        request: Request,\n"
        "        response: Response,\n        scopes: Annotated[list[str], Query()] = None,\n"
        "    ) -> Response:\n        pass\n"
    )
    # long lines that were long before the fix are not the fix's business
    long = "def f(a: int = 1, b: int = 2, c: int = 3, d: int = 4, e: int = 5, ffffffffff: int = 6):\n    pass\n"  # noqa: E501
    assert wrapped(long, long) == long


def test_removing_the_last_argument_keeps_the_closing_parenthesis_in_place(
    tmp_path: Path,
) -> None:
    code = (
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get(\n    '/users/{id}',\n"
        "    name='user',\n    response_model=User,\n)\ndef get_user(id: int) -> User:\n"
        "    return load(id)\n"
    )
    (tmp_path / "m.py").write_text(code)
    config = load_config([tmp_path], None, {"select": ["API010"]})
    [file_fix] = fix_paths([tmp_path], config).changed
    assert "    name='user',\n)\ndef get_user" in file_fix.fixed.decode()
