"""Ecosystem precision and recall of PERF001, PERF003, PERF004, PROD004 and WF001 (issues #15,
#16): regression cases built from the real findings judged in bench/ecosystem and the recall
set's misses."""

from __future__ import annotations

from pathlib import Path

from bastion.config import Config
from bastion.engine import run
from bastion.testing import findings_for


def lines(code: str, rule: str, path: str = "app/example.py") -> list[int]:
    return [f.line for f in findings_for(code, rule, path)]


# -- PERF001 recall (tests/fixtures/recall/blocking: lnbits, mealie) ---------------------------


def test_perf001_os_remove_in_async_def() -> None:
    code = (
        "import os\n\n"
        "async def api_build_extension(ext_zip_file):\n"
        "    if ext_zip_file.is_file():\n"
        "        os.remove(ext_zip_file)\n"
        "    os.unlink('x')\n\n"
        "def sync(p):\n    os.remove(p)\n"
    )
    assert lines(code, "PERF001") == [5, 6]


def test_perf001_open_on_what_joinpath_returns_whatever_the_receiver() -> None:
    code = (
        "import shutil\n\n"
        "async def create_from_images(images):\n"
        "    with get_temporary_path() as temp_path:\n"
        "        for image in images:\n"
        "            with temp_path.joinpath(image.filename).open('wb') as buffer:\n"
        "                shutil.copyfileobj(image.file, buffer)\n"
        "        return temp_path.joinpath('a')\n"
    )
    assert lines(code, "PERF001") == [6, 7]


# -- PROD004: only pip's own upgrade is cached (healthchecks) ----------------------------------


def test_prod004_upgrading_pip_itself_is_not_flagged() -> None:
    dockerfile = (
        "FROM python:3.12-slim\n"
        "RUN --mount=type=bind,target=/wheels,source=/wheels,from=builder \\\n"
        "    pip install --upgrade pip && \\\n"
        "    pip install --no-cache /wheels/*\n"
    )
    assert lines(dockerfile, "PROD004", "docker/Dockerfile") == []
    # pip upgraded together with an application package (fief) is still flagged
    fief = "FROM python:3.12-slim\nRUN pip install --upgrade pip supervisor\n"
    assert lines(fief, "PROD004", "docker/Dockerfile") == [2]


# -- WF001: a pre-commit configuration hidden from the scan by .gitignore (lnbits, saleor) ------


def _wf001(root: Path) -> list[tuple[str, int]]:
    result = run([root], Config(root=root, select=("WF001",)))
    assert not result.internal_errors
    return [(f.path, f.line) for f in result.findings if f.rule == "WF001"]


def test_wf001_gitignored_precommit_config_still_counts(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "svc"\n', encoding="utf-8")
    (tmp_path / "app.py").write_text("x = 1\n", encoding="utf-8")
    assert _wf001(tmp_path) == [("pyproject.toml", 1)]
    (tmp_path / ".gitignore").write_text(".*\n", encoding="utf-8")  # saleor's first pattern
    (tmp_path / ".pre-commit-config.yaml").write_text("repos: []\n", encoding="utf-8")
    assert _wf001(tmp_path) == []
