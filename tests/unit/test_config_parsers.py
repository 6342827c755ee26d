"""The config-file parsers on the shapes that trip naive parsing."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bastion.analysis.deploy import dev_server, parse_compose, parse_dockerfile, split_shell
from bastion.analysis.deps import parse_lockfile, parse_pyproject, parse_requirements
from bastion.analysis.tooling import git_status, gitignored, parse_precommit
from bastion.parsers import DocumentError
from bastion.testing import lint_source


def test_requirements_options_hashes_markers_urls_and_editables() -> None:
    doc = parse_requirements(
        "# top comment\n"
        "--index-url https://example.org/simple\n"
        "-r base.txt\n"
        "--constraint=constraints.txt\n"
        "Django==4.2.1 \\\n"
        "    --hash=sha256:abc \\\n"
        "    --hash=sha256:def\n"
        'pyyaml>=6 ; python_version >= "3.8"  # trailing comment\n'
        "pkg @ https://example.org/pkg-1.0.tar.gz\n"
        "https://example.org/other.whl#egg=other\n"
        "-e git+https://github.com/o/r.git#egg=editable_pkg\n"
        "-e .\n"
        "not a requirement !!\n"
    )
    assert [(i.option, i.target, i.line) for i in doc.includes] == [
        ("-r", "base.txt", 3),
        ("-c", "constraints.txt", 4),
    ]
    deps = {d.name: d for d in doc.dependencies}
    assert deps["django"].line == 5 and deps["django"].pinned_version == "4.2.1"
    assert deps["pyyaml"].marker == 'python_version >= "3.8"' and not deps["pyyaml"].has_upper_bound
    assert deps["pkg"].url and deps["pkg"].has_upper_bound
    assert deps["other"].line == 10
    assert deps["editable-pkg"].editable
    assert [line for line, _ in doc.invalid] == [13]


def test_pyproject_groups_and_lines() -> None:
    doc = parse_pyproject(
        '[project]\nname = "x"\ndependencies = [\n  "fastapi>=0.100",\n  "httpx==0.27.0",\n]\n'
        '[project.optional-dependencies]\ntest = ["pytest>=8"]\n'
        '[dependency-groups]\nlint = ["ruff", {include-group = "test"}]\n'
        '[tool.poetry.dependencies]\npython = "^3.11"\nrequests = "^2.31"\n'
        '[tool.poetry.group.dev.dependencies]\nblack = {version = "*"}\n'
    )
    got = {(d.name, d.group, d.line, d.has_upper_bound) for d in doc.dependencies}
    assert got == {
        ("fastapi", "main", 4, False),
        ("httpx", "main", 5, True),
        ("pytest", "extra:test", 8, False),
        ("ruff", "group:lint", 10, False),
        ("requests", "main", 13, True),
        ("black", "group:dev", 15, False),
    }


def test_pyproject_syntax_error_has_a_line() -> None:
    with pytest.raises(DocumentError) as info:
        parse_pyproject('[project]\nname = "x"\ndependencies = [\n')
    assert info.value.line >= 3


def test_lockfile_packages_with_lines() -> None:
    lock = parse_lockfile(
        'version = 1\n[[package]]\nname = "Django"\nversion = "4.2.1"\n'
        '[[package]]\nname = "asgiref"\nversion = "3.8.1"\n'
    )
    assert lock.packages == [("django", "4.2.1", 3), ("asgiref", "3.8.1", 6)]


def test_dockerfile_continuations_stages_and_env() -> None:
    doc = parse_dockerfile(
        "# comment\nARG BASE=python:3.12.4-slim\nFROM ${BASE} AS build\n"
        'ENV A=1 B="two words"\nRUN pip install \\\n    -r req.txt\n'
        "FROM build\nARG TOKEN\nUSER app\n"
    )
    assert [(s.image, s.alias, s.from_line) for s in doc.stages] == [
        ("python:3.12.4-slim", "build", 3),
        ("build", None, 7),
    ]
    run = doc.stages[0].instructions[1]
    assert (run.name, run.line, run.end_line) == ("RUN", 5, 6)
    assert doc.ancestry(doc.stages[1]) == [doc.stages[1], doc.stages[0]]
    entries = [(e.key, e.value, e.line, e.instruction) for e in doc.env_entries()]
    assert ("B", "two words", 4, "ENV") in entries
    assert ("TOKEN", "", 8, "ARG") in entries
    assert ("BASE", "python:3.12.4-slim", 2, "ARG") in entries


def test_compose_commands_and_environment_lines() -> None:
    doc = parse_compose(
        "services:\n  api:\n    command: >\n      uvicorn main:app\n      --reload\n"
        "    environment:\n      - A=1\n      - B\n  web:\n    environment:\n      C: 'x'\n"
    )
    assert [(c.service, c.line) for c in doc.commands] == [("api", 3)]
    assert dev_server(doc.commands[0].words) == "uvicorn --reload"
    assert [(e.key, e.value, e.line) for e in doc.env_entries()] == [
        ("A", "1", 7),
        ("B", "", 8),
        ("C", "x", 11),
    ]


def test_compose_syntax_error_is_a_parse_error() -> None:
    with pytest.raises(DocumentError):
        parse_compose("services:\n  api: [\n")


@pytest.mark.parametrize(
    ("command", "server"),
    [
        (
            "sh -c 'python manage.py migrate && python manage.py runserver 0:8000'",
            "manage.py runserver",
        ),
        ("python -m flask run --host 0.0.0.0", "flask run"),
        ("poetry run uvicorn app:app --reload=true", "uvicorn --reload"),
        ("env FLASK_APP=app flask run", "flask run"),
        ("flask --app hello run --debug", "flask run"),
        ("flask --app hello routes", None),
        ("gunicorn app:app --reload", None),
        ("uvicorn app:app --workers 4", None),
        ("fastapi run main.py", None),
        ("flask db upgrade && gunicorn app:app", None),
    ],
)
def test_dev_server_detection(command: str, server: str | None) -> None:
    assert dev_server(split_shell(command)) == server


def test_precommit_hooks() -> None:
    doc = parse_precommit(
        "ci:\n  autofix_prs: false\nrepos:\n  - repo: local\n    hooks:\n"
        "      - id: types\n        name: types\n        entry: mypy src\n"
    )
    assert doc.repos_line == 3 and doc.hooks[0].entry == "mypy src"


@pytest.mark.parametrize(
    "text",
    ["FROM python:3.12.4\nRUN pip install \\\n", "\x00\x01", "FROM\n", 'CMD ["unclosed\n', ""],
)
def test_odd_dockerfiles_never_crash(text: str) -> None:
    result = lint_source(text, "Dockerfile")
    assert not result.internal_errors


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_env_file_status_from_git(tmp_path: Path) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / ".gitignore").write_text(".env.local\n")
    for name in (".env", ".env.local", ".env.prod"):
        (tmp_path / name).write_text("SECRET=x\n")
    git("add", ".env")
    git("add", "-f", ".env.local")
    assert git_status(tmp_path, ".env") == "tracked"
    assert git_status(tmp_path, ".env.local") == "tracked"  # ignored, but committed anyway
    assert git_status(tmp_path, ".env.prod") == "untracked"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".env").write_text("A=1\n")
    (tmp_path / ".gitignore").write_text(".env.local\nsub/\n")
    assert git_status(tmp_path, "sub/.env") == "ignored"


def test_env_file_status_without_git(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text(".env\n!keep/.env\n")
    (tmp_path / "keep").mkdir()
    assert git_status(tmp_path, ".env") is None
    assert gitignored(tmp_path, ".env")
    assert not gitignored(tmp_path, "keep/.env")
    assert not gitignored(tmp_path, ".env.prod")


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("requirements.txt", "main"),
        ("backend/requirements.txt", "main"),
        ("requirements/base.txt", "main"),
        ("requirements-prod.txt", "main"),
        ("requirements/dev.txt", "dev"),
        ("dev-requirements.txt", "dev"),
        ("requirements_test.txt", "test"),
        ("docs/requirements.txt", "docs"),
        ("constraints.txt", "constraints"),
    ],
)
def test_requirements_role(path: str, role: str) -> None:
    from bastion.analysis.deps import requirements_role

    assert requirements_role(path) == role


def test_invalid_gitignore_pattern_does_not_stop_the_run(tmp_path: Path) -> None:
    from bastion.config import Config
    from bastion.engine import run

    (tmp_path / ".gitignore").write_text("ignored.env\nfoo\\\n")
    (tmp_path / "ignored.env").write_text("API_KEY=1\n")  # SEC016 wants a secret value
    (tmp_path / "kept.env").write_text("API_KEY=1\n")
    result = run([tmp_path], Config(root=tmp_path, select=("SEC016",)))
    assert [f.path for f in result.findings] == ["kept.env"]
