"""TOML settings files: tomllib's data, each scalar with the line it is written on."""

from __future__ import annotations

import re
import sys
from typing import Any

from bastion.kinds.common import DocumentError, SettingsDocument, SettingValue, safe_reason

# A bare key only where a run of key characters begins: tried from inside the run as well, a
# long run not followed by `=` was rescanned from each of its characters (quadratic).
_TOML_KEY = re.compile(r"""((?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]+|"[^"\n]*"|'[^'\n]*')\s*=(?!=)""")


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


_TOML_POSITION = re.compile(r"line (\d+), column (\d+)")


def load_toml(text: str) -> dict[str, Any]:
    """`tomllib.loads`, with every way it can fail on a hostile file as a `DocumentError`:
    invalid TOML, an integer over Python's 4300-digit limit (ValueError), arrays nested
    deeper than the interpreter's stack (RecursionError). Never a traceback."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    check_toml_keys(text)
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's messages name a position, never the file's content
        found = _TOML_POSITION.search(str(exc))
        line, column = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        raise DocumentError(f"invalid TOML: {str(exc).split(' (at')[0]}", line, column) from None
    except RecursionError:
        raise DocumentError("invalid TOML: nested too deeply to read") from None
    except ValueError as exc:  # int("9" * 5000): over Python's integer digit limit
        line = _first_line_with(text, _LONG_DIGITS)
        raise DocumentError(f"invalid TOML: {safe_reason(exc)}", line) from None
    return data


# A dotted key of 512 parts (`a.a.a...` or `[a.a.a...]`). tomllib's time and memory grow with
# the square of a key's depth (a 50 KB line `a.a.a...a = 1` took 10 s and 2.4 GB): such keys are
# refused before it sees them. A part starts where no key character precedes it, so that each
# character is looked at by a bounded number of attempts.
_DEEP_TOML_KEY = re.compile(
    r"""(?:(?<![A-Za-z0-9_\-])[A-Za-z0-9_\-]+|"[^"\n]{0,256}"|'[^'\n]{0,256}')"""
    r"""(?:[ \t]*\.[ \t]*(?:[A-Za-z0-9_\-]+|"[^"\n]{0,256}"|'[^'\n]{0,256}')){511}"""
)
MAX_TOML_KEY_PARTS = 512


def check_toml_keys(text: str) -> None:
    """DocumentError when a dotted key of `text` has `MAX_TOML_KEY_PARTS` parts or more (no
    real file comes close; tomllib would need quadratic time and memory to read it)."""
    if text.count(".") < MAX_TOML_KEY_PARTS - 1:
        return
    found = _DEEP_TOML_KEY.search(text)
    if found is not None:
        line = text.count("\n", 0, found.start()) + 1
        raise DocumentError(
            f"invalid TOML: a dotted key of {MAX_TOML_KEY_PARTS} parts or more (too deep to "
            "read safely)",
            line,
        )


# more digits than `int()` takes (sys.int_info.str_digits_check_threshold: 640 and up)
_LONG_DIGITS = re.compile(r"\d{640}")


def _first_line_with(text: str, pattern: re.Pattern[str]) -> int:
    found = pattern.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else 1


def parse_toml(text: str) -> SettingsDocument:
    data = load_toml(text)
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


# `[^\]]+?` then `\s*\]` rescanned trailing blanks at each step (quadratic on `[` and spaces):
# the name is taken whole and its blanks stripped in code
_TOML_TABLE = re.compile(r"^\s*\[\[?([^\]]+)\]")


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
