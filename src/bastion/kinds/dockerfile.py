"""Dockerfiles: the real instruction parser (`dockerfile-parse`), with 1-based lines; the `ENV`
and `ARG` entries are exposed with their lines for the rules that look for secrets."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from bastion.kinds.common import DocumentError, EnvEntry, split_shell


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


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_dockerfile
DOCUMENT = DockerfileDocument
