from __future__ import annotations

import os
from pathlib import Path

import pytest

from bastion.config import Config
from bastion.discovery import discover, file_kind
from bastion.selection import parse_table


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("app/main.py", "python"),
        ("Dockerfile", "dockerfile"),
        ("docker/api.Dockerfile", "dockerfile"),
        ("Dockerfile.prod", "dockerfile"),
        ("requirements.txt", "requirements"),
        ("requirements-dev.txt", "requirements"),
        ("requirements/base.txt", "requirements"),
        (".env", "dotenv"),
        (".env.production", "dotenv"),
        ("pyproject.toml", "pyproject"),
        ("docker-compose.yml", "compose"),
        (".pre-commit-config.yaml", "precommit"),
        ("Procfile", "procfile"),
        ("README.md", None),
        ("image.png", None),
    ],
)
def test_file_kind(name: str, kind: str | None) -> None:
    assert file_kind(name) == kind


def make_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def paths_of(root: Path, config: Config | None = None) -> list[str]:
    config = config or Config(root=root)
    return [f.path for f in discover([root], config).files]


def test_gitignore_and_default_excludes(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {
            ".gitignore": "generated/\n*.local.py\n!keep.local.py\n",
            "app/main.py": "",
            "app/generated/out.py": "",
            "app/x.local.py": "",
            "app/keep.local.py": "",
            ".venv/lib/site.py": "",
            "node_modules/pkg/a.py": "",
            "sub/.gitignore": "secret.py\n",
            "sub/secret.py": "",
            "sub/ok.py": "",
            "notes.txt": "",
        },
    )
    assert paths_of(tmp_path) == [
        ".gitignore",
        "app/keep.local.py",
        "app/main.py",
        "sub/.gitignore",
        "sub/ok.py",
    ]


def test_gitignore_can_be_disabled(tmp_path: Path) -> None:
    make_tree(tmp_path, {".gitignore": "gen.py\n", "gen.py": ""})
    config = parse_table({"respect-gitignore": False}, root=tmp_path)
    assert "gen.py" in paths_of(tmp_path, config)


def test_extend_exclude(tmp_path: Path) -> None:
    make_tree(tmp_path, {"migrations/0001.py": "", "app.py": ""})
    config = parse_table({"extend-exclude": ["migrations/"]}, root=tmp_path)
    assert paths_of(tmp_path, config) == ["app.py"]


def test_symlinks_never_leave_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    root = tmp_path / "root"
    make_tree(outside, {"secret.py": "KEY = 1\n", "pkg/mod.py": ""})
    make_tree(root, {"app.py": "", "real/inner.py": ""})
    os.symlink(outside / "secret.py", root / "link.py")
    os.symlink(outside / "pkg", root / "linkdir")
    os.symlink(root / "real" / "inner.py", root / "inside_link.py")
    os.symlink(root / "loop", root / "loop")
    config = Config(root=root)
    found = discover([root], config)
    assert [f.path for f in found.files] == ["app.py", "inside_link.py", "real/inner.py"]
    text = "\n".join(found.notices)
    assert "link.py: skipped: symlink points outside the scanned root" in text
    assert "loop: skipped: broken or looping symlink" in text


def test_explicit_file_is_checked_and_excludes_still_apply(tmp_path: Path) -> None:
    make_tree(tmp_path, {"a.py": "", ".venv/b.py": ""})
    config = Config(root=tmp_path)
    assert [f.path for f in discover([tmp_path / "a.py"], config).files] == ["a.py"]
    assert discover([tmp_path / ".venv" / "b.py"], config).files == []


def test_a_named_folder_is_checked_even_if_a_parent_gitignore_ignores_it(tmp_path: Path) -> None:
    make_tree(
        tmp_path,
        {".gitignore": "vendor/\n*.gen.py\n", "vendor/lib/a.py": "", "vendor/lib/b.gen.py": ""},
    )
    config = Config(root=tmp_path)
    found = [f.path for f in discover([tmp_path / "vendor" / "lib"], config).files]
    assert found == ["vendor/lib/a.py", "vendor/lib/b.gen.py"]
    assert [f.path for f in discover([tmp_path], config).files] == [".gitignore"]
