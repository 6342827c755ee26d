"""One table of file kinds (`bastion.kinds.KINDS`), read by discovery, the parsers, the
diagnostics rules and the pre-commit hooks' `files:` pattern: a new kind added to the table
reaches all four, and one that is not cannot hide in one of them."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bastion.discovery import _KIND_BY_NAME, file_kind
from bastion.kinds import KIND_NAMES, KINDS, Kind
from bastion.parsers import PARSERS, parse_document
from bastion.registry import load_registry

REPO = Path(__file__).resolve().parent.parent.parent
HOOKS: list[dict[str, Any]] = yaml.safe_load(
    (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
)
FIX = "update `files:` in .pre-commit-hooks.yaml to match bastion.kinds.KINDS"


def _samples(kind: Kind) -> list[str]:
    """File names that each pattern (and the folder rule) of a kind stands for."""
    names = []
    for pattern in kind.patterns:
        names += [pattern.replace("*", "x"), pattern.replace("*", ""), pattern.upper()]
        names[-1] = names[-1].replace("*", "X")
    names += [f"{kind.folder}/x{suffix}" for suffix in kind.folder_suffixes]
    return [n for n in names if n and not n.startswith("/")]


def test_each_kind_is_one_module_named_after_it() -> None:
    assert len(KIND_NAMES) == len(KINDS)
    for kind in KINDS:
        module = importlib.import_module(f"bastion.kinds.{kind.name}")
        assert (module.PARSER is not None) == kind.parses, kind.name
        assert (module.DOCUMENT is not None) == kind.parses, kind.name


def test_discovery_imports_no_kind_module() -> None:
    """The table is plain data: a replayed run (discovery, no parsing) pays for no parser
    module; a kind's module is imported when a file of that kind is first parsed."""
    probe = (
        "import sys\n"
        "from bastion.discovery import file_kind\n"
        "assert file_kind('Dockerfile') == 'dockerfile'\n"
        "print(sorted(m for m in sys.modules if m.startswith('bastion.kinds.')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    # the gitignore kind's module holds the .gitignore reader discovery itself uses
    assert out.strip() == "['bastion.kinds.gitignore']"


def test_discovery_reads_the_table() -> None:
    assert tuple((p, k.name) for k in KINDS for p in k.patterns) == _KIND_BY_NAME
    # the first kind with a matching pattern wins, whatever shortcut file_kind takes
    for kind in KINDS:
        for name in _samples(kind):
            expected = next(
                (
                    other.name
                    for other in KINDS
                    if any(re.fullmatch(_glob(p), name.lower()) for p in other.patterns)
                ),
                kind.name,  # the folder rule
            )
            found = file_kind(f"project/{name}")
            assert found == expected, (name, found, expected)


def _glob(pattern: str) -> str:
    return ".*".join(re.escape(part) for part in pattern.split("*"))


def test_the_parsers_read_the_table() -> None:
    assert {k.name: k.parse for k in KINDS if k.parses} == PARSERS
    assert "python" not in PARSERS  # the engine parses Python itself


@pytest.mark.parametrize("kind", [k for k in KINDS if k.parses], ids=lambda k: k.name)
def test_a_kind_parses_into_its_document_type(kind: Kind) -> None:
    document = kind.document_type()
    assert document is not None
    assert isinstance(parse_document(kind.name, ""), document)


def test_the_diagnostics_rules_read_every_kind() -> None:
    registry = load_registry()
    for rule_id in ("BAS001", "BAS002"):
        rule = registry.by_id(rule_id)
        assert rule is not None
        assert rule.kinds == KIND_NAMES  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.name)
def test_the_precommit_hooks_files_pattern_covers_every_kind(kind: Kind) -> None:
    pattern = re.compile(HOOKS[0]["files"])
    for hook in HOOKS:
        assert hook["files"] == HOOKS[0]["files"]
    for name in _samples(kind):
        for where in (name, f"some/dir/{name}"):
            assert bool(pattern.search(where)) == (file_kind(where) is not None), f"{where}: {FIX}"


@pytest.mark.parametrize("name", ["README.md", "notes.txt", "x.cfg", "package.json", "x.pyc"])
def test_the_precommit_hooks_files_pattern_leaves_out_what_no_kind_reads(name: str) -> None:
    assert file_kind(name) is None
    assert not re.compile(HOOKS[0]["files"]).search(name), f"{name}: {FIX}"


# -- rules declare the document type they take (issue #17) ------------------------------------


def test_the_table_names_each_kinds_document_type() -> None:
    """`Kind.document` (plain data, read without importing the kind's module) is the module's
    `DOCUMENT`."""
    for kind in KINDS:
        document = kind.document_type()
        expected = f"{document.__module__}.{document.__qualname__}" if document else ""
        assert kind.document == expected, kind.name


def test_kinds_taking_reads_the_table() -> None:
    from bastion.kinds import kinds_taking
    from bastion.kinds.common import SettingsDocument
    from bastion.kinds.dockerfile import DockerfileDocument
    from bastion.kinds.dotenv import DotenvDocument

    assert kinds_taking(DockerfileDocument) == {"dockerfile"}
    assert kinds_taking(SettingsDocument) == {"toml", "yaml"}
    assert kinds_taking(DotenvDocument) == {"dotenv"}


def test_a_rule_that_would_get_a_document_it_does_not_take_is_refused() -> None:
    from bastion.findings import Severity
    from bastion.kinds import WrongDocument
    from bastion.kinds.dockerfile import DockerfileDocument
    from bastion.rule import Rule

    with pytest.raises(WrongDocument, match="runs on dotenv files"):

        class Confused(Rule):  # a Dockerfile rule set to read `.env` files
            id = "XX001"
            severity = Severity.INFO
            takes = (DockerfileDocument,)
            kinds = frozenset({"dockerfile", "dotenv"})

    with pytest.raises(WrongDocument, match="runs on no kind"):

        class Unreachable(Rule):
            id = "XX002"
            takes = (DockerfileDocument,)
            kinds = frozenset({"python"})


def test_the_non_python_rules_declare_what_they_take() -> None:
    from bastion.kinds import check_takes

    areas = ("bastion.rules.production", "bastion.rules.dependencies", "bastion.rules.workflow")
    registry = load_registry()
    checked = []
    for rule in [*registry.file_rules, *registry.collectors]:
        documents = rule.kinds - {"python", "json"}  # json: no parser, rules read the text
        if rule.__module__.startswith(areas) and documents:
            takes = getattr(rule, "takes", ())
            assert takes, f"{rule.__name__} reads {sorted(documents)} but declares no `takes`"
            # collectors are no RuleMeta: their declaration is checked here
            check_takes(rule.__name__, rule.kinds - {"python"}, takes)
            checked.append(rule.__name__)
    assert {"PipCacheInImage", "DependencyFacts", "ToolingFacts"} <= set(checked)


def test_document_as_checks_the_type() -> None:
    from bastion.config import Config
    from bastion.context import FileContext
    from bastion.kinds import WrongDocument
    from bastion.kinds.dockerfile import DockerfileDocument
    from bastion.kinds.dotenv import DotenvDocument
    from bastion.source import SourceText

    ctx = FileContext(
        path=".env", kind="dotenv", source=SourceText("A=1\n"), config=Config(root=Path("."))
    )
    ctx.document = parse_document("dotenv", "A=1\n")
    assert isinstance(ctx.document_as(DotenvDocument), DotenvDocument)
    with pytest.raises(WrongDocument, match="not DockerfileDocument"):
        ctx.document_as(DockerfileDocument)
