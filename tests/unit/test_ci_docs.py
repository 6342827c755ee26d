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


def test_matrix_example_cuts_as_many_slices_as_it_runs() -> None:
    """The sharding example: the matrix lists shards 1..N and every `--shard` says `/N`."""
    text = DOC.read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.DOTALL) if "--shard" in b]
    assert len(blocks) == 1
    workflow = yaml.safe_load(blocks[0])
    shards = workflow["jobs"]["bastion-shard"]["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1))
    assert set(re.findall(r"--shard [^\n]*?}}/(\d+)", blocks[0])) == {str(len(shards))}
    assert workflow["jobs"]["bastion"]["needs"] == "bastion-shard"
    assert "bastion merge shards/*.json" in blocks[0]
