"""Deployment files: Dockerfiles, docker-compose files and Procfiles, parsed with real parsers
(`dockerfile-parse`, PyYAML, `shlex`) into small documents with 1-based line numbers.

Rules read these documents from `ctx.document`; they never look at the raw text. The parsed
`ENV`/`ARG` entries of a Dockerfile and the `environment:` entries of a compose service are
exposed with their lines (`DockerfileDocument.env_entries()`, `ComposeDocument.env_entries()`)
for the rules that look for secrets.
"""

from __future__ import annotations

import io
import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bastion.parsers import DocumentError

# -- commands -------------------------------------------------------------------------------------


def split_shell(command: str) -> list[str]:
    """Words of a shell command line (`shlex`, with `&&`, `;`, `|` as their own words). A line
    shlex cannot split (an unbalanced quote) falls back to whitespace words."""
    try:
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = ""
        return list(lexer)
    except ValueError:
        return command.split()


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


# -- Dockerfile -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    name: str  # upper-case: FROM, RUN, COPY...
    value: str  # the arguments, continuation lines joined
    line: int  # 1-based first line
    end_line: int  # 1-based last line

    def exec_form(self) -> list[str] | None:
        """The JSON (exec) form of CMD/ENTRYPOINT/RUN, or None for the shell form."""
        text = self.value.strip()
        if not text.startswith("["):
            return None
        try:
            parsed = json.loads(text)
        except (ValueError, RecursionError):  # `[[[[...`: not an exec form either
            return None
        if isinstance(parsed, list) and all(isinstance(x, str) for x in parsed):
            return parsed
        return None

    def words(self) -> list[str]:
        """The command words: the exec form as is, the shell form split like a shell."""
        exec_form = self.exec_form()
        return exec_form if exec_form is not None else split_shell(self.value)

    def flags(self) -> dict[str, str]:
        """Leading `--flag=value` options (`COPY --from=build`, `RUN --mount=...`)."""
        out: dict[str, str] = {}
        for word in self.value.split():
            if not word.startswith("--"):
                break
            key, _, value = word[2:].partition("=")
            out[key] = value
        return out

    def arguments(self) -> list[str]:
        """The words after the leading `--flags`."""
        words = split_shell(self.value) if self.exec_form() is None else self.exec_form() or []
        while words and words[0].startswith("--"):
            words = words[1:]
        return words


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str
    line: int
    instruction: str  # ENV, ARG (Dockerfile) or "environment" (compose)


@dataclass
class Stage:
    index: int
    image: str  # as written (variables substituted from global ARGs when known)
    alias: str | None
    from_line: int
    instructions: list[Instruction] = field(default_factory=list)


@dataclass
class DockerfileDocument:
    instructions: list[Instruction]
    stages: list[Stage]
    global_args: dict[str, str]

    def stage_named(self, name: str) -> Stage | None:
        for stage in self.stages:
            if stage.alias and stage.alias.lower() == name.lower():
                return stage
        return None

    def ancestry(self, stage: Stage) -> list[Stage]:
        """The stage and the earlier stages it is built `FROM`, nearest first."""
        chain = [stage]
        current = stage
        while True:
            parent = self.stage_named(current.image)
            if parent is None or parent.index >= current.index or parent in chain:
                return chain
            chain.append(parent)
            current = parent

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    def env_entries(self) -> list[EnvEntry]:
        """Every `ENV` and `ARG` binding with its line (for secret detection)."""
        from dockerfile_parse.util import extract_key_values

        out: list[EnvEntry] = []
        for ins in self.instructions:
            if ins.name not in {"ENV", "ARG"} or not ins.value.strip():
                continue
            try:
                pairs = extract_key_values(False, {}, {}, ins.value)
            except (ValueError, IndexError):
                continue
            if ins.name == "ARG":
                # `ARG NAME` has no default: extract_key_values returns ("NAME", "")
                pairs = [(k.split("=", 1)[0], v) for k, v in pairs]
            out.extend(EnvEntry(k, v, ins.line, ins.name) for k, v in pairs if k)
        return out


def _substitute(text: str, variables: dict[str, str]) -> str:
    for key, value in variables.items():
        text = text.replace("${" + key + "}", value).replace("$" + key, value)
    return text


def parse_dockerfile(text: str) -> DockerfileDocument:
    from dockerfile_parse import DockerfileParser
    from dockerfile_parse.util import extract_key_values

    try:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")), env_replace=False)
        structure: list[dict[str, Any]] = parser.structure
    except Exception as exc:  # the library raises plain exceptions on odd input
        raise DocumentError(f"cannot parse Dockerfile: {exc}") from None
    instructions = [
        Instruction(
            str(item["instruction"]).upper(),
            str(item["value"]),
            int(item["startline"]) + 1,
            int(item["endline"]) + 1,
        )
        for item in structure
        if str(item["instruction"]).upper() != "COMMENT"
    ]
    stages: list[Stage] = []
    global_args: dict[str, str] = {}
    for ins in instructions:
        if ins.name == "FROM":
            words = [w for w in ins.value.split() if not w.startswith("--")]
            if not words:
                continue
            image = _substitute(words[0], global_args)
            alias = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(len(stages), image, alias, ins.line))
        elif stages:
            stages[-1].instructions.append(ins)
        elif ins.name == "ARG" and ins.value.strip():
            try:
                for key, value in extract_key_values(False, {}, {}, ins.value):
                    if "=" not in key and value:
                        global_args[key] = value
            except (ValueError, IndexError):
                pass
    return DockerfileDocument(instructions, stages, global_args)


# -- docker-compose -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComposeCommand:
    service: str
    key: str  # "command" | "entrypoint"
    words: list[str]
    line: int


@dataclass
class ComposeDocument:
    commands: list[ComposeCommand]
    environment: list[tuple[str, EnvEntry]]  # (service, entry)

    def env_entries(self) -> list[EnvEntry]:
        """Every `environment:` entry of every service, with its line."""
        return [entry for _, entry in self.environment]


def _yaml_compose(text: str) -> Any:
    import yaml

    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise DocumentError(f"invalid YAML: {exc}".splitlines()[0], line) from None


def _mapping_items(node: Any) -> list[tuple[Any, Any]]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        return list(node.value)
    return []


def _scalar(node: Any) -> str | None:
    import yaml

    return str(node.value) if isinstance(node, yaml.ScalarNode) else None


def parse_compose(text: str) -> ComposeDocument:
    import yaml

    root = _yaml_compose(text)
    commands: list[ComposeCommand] = []
    environment: list[tuple[str, EnvEntry]] = []
    services = next((v for k, v in _mapping_items(root) if _scalar(k) == "services"), None)
    for name_node, service in _mapping_items(services):
        name = _scalar(name_node) or "?"
        for key_node, value in _mapping_items(service):
            key = _scalar(key_node)
            line = value.start_mark.line + 1
            if key in {"command", "entrypoint"}:
                if isinstance(value, yaml.SequenceNode):
                    words = [_scalar(v) or "" for v in value.value]
                else:
                    words = split_shell(_scalar(value) or "")
                commands.append(ComposeCommand(name, key, words, line))
            elif key == "environment":
                environment.extend((name, e) for e in _compose_env(value))
    return ComposeDocument(commands, environment)


def _compose_env(node: Any) -> Iterator[EnvEntry]:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield EnvEntry(
                _scalar(key) or "", _scalar(value) or "", key.start_mark.line + 1, "environment"
            )
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            text = _scalar(item)
            if text:
                key, _, value = text.partition("=")
                yield EnvEntry(key, value, item.start_mark.line + 1, "environment")


# -- Procfile -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcfileEntry:
    process: str  # web, worker, release...
    command: str
    line: int

    def words(self) -> list[str]:
        return split_shell(self.command)


def parse_procfile(text: str) -> list[ProcfileEntry]:
    """Heroku's format: `<process type>: <command>` per line, `#` comments."""
    entries: list[ProcfileEntry] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        process, sep, command = line.partition(":")
        if sep and process.strip() and " " not in process.strip():
            entries.append(ProcfileEntry(process.strip(), command.strip(), number))
    return entries
