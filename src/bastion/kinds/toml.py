"""TOML settings files: tomllib's data, each scalar with the line it is written on."""

from __future__ import annotations

import re
import sys
from typing import Any

from bastion.kinds.common import DocumentError, SettingsDocument, SettingValue

_TOML_KEY = re.compile(r"""([A-Za-z0-9_\-]+|"[^"\n]*"|'[^'\n]*')\s*=(?!=)""")


def _toml_key_lines(lines: list[str]) -> dict[str, list[int]]:
    """key -> 0-based indexes of the lines where `key =` is written (dotted keys and inline
    tables included: each segment right before `=` counts), built in one pass."""
    index: dict[str, list[int]] = {}
    for number, line in enumerate(lines):
        if "=" not in line:
            continue
        for found in _TOML_KEY.finditer(line):
            key = found.group(1).strip("\"'")
            entries = index.setdefault(key, [])
            if not entries or entries[-1] != number:
                entries.append(number)
    return index


def _locate(
    lines: list[str], key_lines: dict[str, list[int]], key: str, value: Any, start: int
) -> int:
    """Best 1-based line for `key = value` when the loader keeps no positions (tomllib): the
    first line from `start` where the key is written, preferring one that also holds the
    value's first line."""
    import bisect

    candidates = key_lines.get(key, [])
    first = bisect.bisect_left(candidates, start)
    text = str(value).splitlines()[0] if isinstance(value, str) and value else None
    for number in candidates[first : first + 50]:
        if text is None or text in lines[number]:
            return number + 1
    if first < len(candidates):
        return candidates[first] + 1
    if candidates:
        return candidates[0] + 1
    return 1


def parse_toml(text: str) -> SettingsDocument:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages name a position, never the file's content
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        raise DocumentError(f"invalid TOML: {str(exc).split(' (at')[0]}", line, column) from None
    lines = text.splitlines()
    tables = _toml_table_lines(lines)
    key_lines = _toml_key_lines(lines)
    # repeated keys (arrays of tables) are found in order: each search starts after the last
    cursor: dict[tuple[str, ...], int] = {}
    values: list[SettingValue] = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, (*path, str(key)))
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, (*path, str(index)))
        else:
            keys = [p for p in path if not p.isdigit()]
            start = 0
            for depth in range(len(keys) - 1, 0, -1):
                table = ".".join(keys[:depth])
                if table in tables:
                    start = tables[table]
                    break
            where = tuple(keys)
            start = max(start, cursor.get(where, 0))
            line = _locate(lines, key_lines, keys[-1] if keys else "", node, start)
            cursor[where] = line
            values.append(SettingValue(path, node, line))

    walk(data, ())
    return SettingsDocument(data, values, [data])


_TOML_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?")


def _toml_table_lines(lines: list[str]) -> dict[str, int]:
    """Table name (quotes dropped) -> 0-based index of its first header line."""
    tables: dict[str, int] = {}
    for index, line in enumerate(lines):
        found = _TOML_TABLE.match(line)
        if found:
            name = ".".join(p.strip().strip("\"'") for p in found.group(1).split("."))
            tables.setdefault(name, index)
    return tables


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_toml
DOCUMENT = SettingsDocument
