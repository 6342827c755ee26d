"""docs/ci.md stays true: its YAML parses and every flag it shows exists."""

from __future__ import annotations

import re
from pathlib import Path

import click
import yaml

from bastion.cli import cli

DOC = Path(__file__).resolve().parent.parent.parent / "docs" / "ci.md"


def _options(command: click.Command) -> set[str]:
    found = {"--help", "-h"}
    for param in command.params:
        found.update(getattr(param, "opts", []))
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            found |= _options(sub)
    return found


def test_yaml_examples_parse() -> None:
    text = DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 3
    for block in blocks:
        assert yaml.safe_load(block)


def test_every_flag_shown_exists() -> None:
    text = DOC.read_text(encoding="utf-8")
    known = _options(cli)
    shown = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", text))
    unknown = shown - known
    assert not unknown, f"docs/ci.md shows flags bastion does not have: {sorted(unknown)}"
