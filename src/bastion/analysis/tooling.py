"""Tooling files: `.pre-commit-config.yaml` (PyYAML), INI files (`setup.cfg`, `tox.ini`,
`mypy.ini`, `.coveragerc`, `alembic.ini`: `configparser`) and `.gitignore` (`pathspec`)."""

from __future__ import annotations

import configparser
from dataclasses import dataclass, field
from typing import Any

from bastion.parsers import DocumentError


@dataclass(frozen=True)
class Hook:
    repo: str
    id: str
    name: str
    entry: str
    line: int


@dataclass
class PrecommitDocument:
    hooks: list[Hook] = field(default_factory=list)
    repos_line: int = 1


def parse_precommit(text: str) -> PrecommitDocument:
    import yaml

    from bastion.analysis.deploy import _mapping_items, _scalar, _yaml_compose

    root = _yaml_compose(text)
    doc = PrecommitDocument()
    for key, repos in _mapping_items(root):
        if _scalar(key) != "repos":
            continue
        doc.repos_line = key.start_mark.line + 1
        if not isinstance(repos, yaml.SequenceNode):
            continue
        for repo in repos.value:
            fields = {_scalar(k): v for k, v in _mapping_items(repo)}
            url = _scalar(fields.get("repo")) or ""
            hooks = fields.get("hooks")
            if not isinstance(hooks, yaml.SequenceNode):
                continue
            for hook in hooks.value:
                hf = {_scalar(k): v for k, v in _mapping_items(hook)}
                doc.hooks.append(
                    Hook(
                        url,
                        _scalar(hf.get("id")) or "",
                        _scalar(hf.get("name")) or "",
                        _scalar(hf.get("entry")) or "",
                        hook.start_mark.line + 1,
                    )
                )
    return doc


@dataclass
class IniDocument:
    sections: dict[str, dict[str, str]]


def parse_ini(text: str) -> IniDocument:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", 1) or 1
        raise DocumentError(f"invalid INI: {str(exc).splitlines()[0]}", int(line)) from None
    sections = {name: dict(parser.items(name, raw=True)) for name in parser.sections()}
    return IniDocument(sections)


@dataclass
class GitignoreDocument:
    spec: Any  # pathspec.GitIgnoreSpec
    lines: list[str]


def parse_gitignore(text: str) -> GitignoreDocument:
    import pathspec

    lines = text.splitlines()
    return GitignoreDocument(pathspec.GitIgnoreSpec.from_lines(lines), lines)
