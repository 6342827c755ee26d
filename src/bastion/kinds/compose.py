"""docker-compose files: PyYAML's composer (node lines), the services' commands and
`environment:` entries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bastion.kinds.common import DocumentError, EnvEntry, split_shell


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


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_compose
DOCUMENT = ComposeDocument
