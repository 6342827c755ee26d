"""Lock files (uv.lock, poetry.lock, pdm.lock, Pipfile.lock): the pinned packages with lines."""

from __future__ import annotations

import sys
from dataclasses import dataclass

from bastion.kinds.common import DocumentError
from bastion.kinds.requirements import canonicalize_name
from bastion.kinds.toml import check_toml_keys, load_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


@dataclass
class LockDocument:
    """A lock file: its pinned packages (canonical name, version, 1-based line), for auditing."""

    packages: list[tuple[str, str, int]]


def _name_lines(text: str) -> dict[str, int]:
    """canonical name -> line of its first `name = "..."` line (each line read as TOML)."""
    lines: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.startswith("name"):
            continue
        try:
            value = tomllib.loads(line).get("name")
        except (ValueError, RecursionError):  # TOMLDecodeError is a ValueError
            continue
        if isinstance(value, str):
            lines.setdefault(canonicalize_name(value), number)
    return lines


def parse_lockfile(text: str) -> LockDocument:
    """uv.lock, poetry.lock and pdm.lock are TOML with `[[package]]` name/version tables;
    Pipfile.lock is JSON. Anything unreadable still counts as a lock file (presence)."""
    packages: list[tuple[str, str, int]] = []
    check_toml_keys(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return _pipfile_lock(text)
    except (RecursionError, ValueError):  # a 1500-deep array, a 5000-digit integer
        load_toml(text)  # raises the DocumentError (BAS001) that says which
        raise
    lines = _name_lines(text)
    for package in data.get("package", []):
        if isinstance(package, dict) and "name" in package and "version" in package:
            name = canonicalize_name(str(package["name"]))
            packages.append((name, str(package["version"]), lines.get(name, 1)))
    return LockDocument(packages)


def _pipfile_lock(text: str) -> LockDocument:
    import json

    from bastion.safe_fs import json_too_deep

    if json_too_deep(text):  # the same answer on every Python (see json_too_deep)
        raise DocumentError("invalid JSON: nested too deeply to read")
    try:
        data = json.loads(text)
    except ValueError:
        return LockDocument([])
    except RecursionError:
        raise DocumentError("invalid JSON: nested too deeply to read") from None
    packages: list[tuple[str, str, int]] = []
    if not isinstance(data, dict):
        return LockDocument([])
    text_lines = text.splitlines()
    for section in ("default", "develop"):
        for name, info in (data.get(section) or {}).items():
            version = str(info.get("version", "")) if isinstance(info, dict) else ""
            if version.startswith("=="):
                line = next(
                    (i for i, t in enumerate(text_lines, 1) if t.strip().startswith(f'"{name}"')),
                    1,
                )
                packages.append((canonicalize_name(name), version[2:], line))
    return LockDocument(packages)


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_lockfile
DOCUMENT = LockDocument
