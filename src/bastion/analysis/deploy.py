"""Deployment files: Dockerfiles, docker-compose files and Procfiles, parsed with real parsers
(`dockerfile-parse`, PyYAML, `shlex`) into small documents with 1-based line numbers.

Rules read these documents from `ctx.document`; they never look at the raw text. The parsed
`ENV`/`ARG` entries of a Dockerfile and the `environment:` entries of a compose service are
exposed with their lines (`DockerfileDocument.env_entries()`, `ComposeDocument.env_entries()`)
for the rules that look for secrets.
"""

from __future__ import annotations

from collections.abc import Iterator

# The documents and parsers of these kinds live in `bastion.kinds`; re-exported for the rules.
from bastion.kinds.common import EnvEntry as EnvEntry
from bastion.kinds.common import split_shell as split_shell
from bastion.kinds.compose import ComposeCommand as ComposeCommand
from bastion.kinds.compose import ComposeDocument as ComposeDocument
from bastion.kinds.compose import parse_compose as parse_compose
from bastion.kinds.dockerfile import DockerfileDocument as DockerfileDocument
from bastion.kinds.dockerfile import Instruction as Instruction
from bastion.kinds.dockerfile import Stage as Stage
from bastion.kinds.dockerfile import parse_dockerfile as parse_dockerfile
from bastion.kinds.procfile import ProcfileEntry as ProcfileEntry
from bastion.kinds.procfile import parse_procfile as parse_procfile

# -- commands -------------------------------------------------------------------------------------


_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", "(", ")", ";;"})
_SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/env", "dash", "ash", "zsh"})


def simple_commands(words: list[str]) -> Iterator[list[str]]:
    """The simple commands of a command line, `sh -c "..."` bodies included."""
    current: list[str] = []
    for word in [*words, ";"]:
        if word in _SEPARATORS:
            if current:
                yield from _expand_shell(current)
            current = []
        else:
            current.append(word)


def _expand_shell(command: list[str]) -> Iterator[list[str]]:
    if command and command[0] in _SHELLS and "-c" in command:
        index = command.index("-c")
        if index + 1 < len(command):
            yield from simple_commands(split_shell(command[index + 1]))
            return
    yield command


def _program(word: str) -> str:
    return word.rsplit("/", 1)[-1]


_RUNNERS = frozenset({"poetry", "uv", "pipenv", "pdm", "hatch", "rye"})


def strip_launchers(command: list[str]) -> list[str]:
    """`exec`, `env A=1`, `python -m`, `poetry run`, `uv run`, `pipenv run` -> the real tool."""
    words = list(command)
    changed = True
    while words and changed:
        changed = False
        head = _program(words[0])
        if head in {"exec", "nohup", "time"}:
            words, changed = words[1:], True
        elif head == "env":
            words = words[1:]
            while words and "=" in words[0] and not words[0].startswith("-"):
                words = words[1:]
            changed = True
        elif "=" in words[0] and not words[0].startswith("-") and len(words) > 1:
            words, changed = words[1:], True  # `FLASK_ENV=x flask run`
        elif (head in _RUNNERS and words[1:2] == ["run"]) or (
            head.startswith("python") and len(words) > 2 and words[1] == "-m"
        ):
            words, changed = words[2:], True
        elif head.startswith("python") and len(words) > 1 and words[1].endswith("manage.py"):
            words, changed = words[1:], True
    return words


def dev_server(words: list[str]) -> str | None:
    """The dev server a command line starts (`flask run`, `manage.py runserver`,
    `uvicorn --reload`, `fastapi dev`), or None."""
    for command in simple_commands(words):
        tool_words = strip_launchers(command)
        if not tool_words:
            continue
        tool = _program(tool_words[0])
        rest = tool_words[1:]
        args = [w for w in rest if not w.startswith("-")]
        if tool == "flask" and "run" in args[:3]:  # `flask --app hello run`
            return "flask run"
        if tool in {"manage.py", "django-admin"} and "runserver" in args[:1]:
            return f"{tool} runserver"
        reload = any(w == "--reload" or w.startswith("--reload=") for w in rest)
        if tool == "uvicorn" and reload and "--reload=false" not in rest:
            return "uvicorn --reload"
        if tool == "fastapi" and args[:1] == ["dev"]:
            return "fastapi dev"
    return None
