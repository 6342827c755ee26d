"""Real parsers for the non-Python file kinds, one per kind, imported only when needed.

Each parser takes the decoded text and returns the document rules read from
`ctx.document`; a parser raises `DocumentError` (with a 1-based line when known) for a file it
cannot read, which the engine turns into a `parse-error` finding.
"""

from __future__ import annotations

import functools
import io
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class DocumentError(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1) -> None:
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str | None
    line: int  # 1-based line of the `KEY=value` binding


def parse_dotenv(text: str) -> list[EnvEntry]:
    # python-dotenv's own parser: the same quoting, `export`, comments and multi-line values
    # that applications loading the file will see.
    from dotenv.parser import parse_stream

    return [
        EnvEntry(binding.key, binding.value, binding.original.line)
        for binding in parse_stream(io.StringIO(text))
        if binding.key is not None and not binding.error
    ]


@dataclass(frozen=True)
class SettingValue:
    """One scalar leaf of a settings file, with where it is written.

    `path` holds the keys from the root (`("tool", "poetry", "name")`; list items add their
    index as a string; INI files give `(section, option)`); `value` is the scalar as the
    file's own loader builds it (str, int, float, bool, None, dates...)."""

    path: tuple[str, ...]
    value: Any
    line: int  # 1-based

    @property
    def key(self) -> str:
        """The nearest non-index key: `("servers", "0", "password")` -> `password`,
        `("tokens", "1")` -> `tokens`."""
        for part in reversed(self.path):
            if not part.isdigit():
                return part
        return ""


@dataclass
class SettingsDocument:
    """A parsed TOML/YAML/INI file: the data as its loader builds it (for YAML, `documents`
    holds each `---` document and `data` the first one; for INI, `{section: {option: value}}`)
    and every scalar leaf with its line (`values`)."""

    data: Any
    values: list[SettingValue]
    documents: list[Any]


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
        raise DocumentError(f"invalid TOML: {_safe_reason(exc)}", line) from None
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


def _safe_reason(exc: BaseException) -> str:
    """The loader's own words, unless they quote the file's text (which may be a secret)."""
    reason = str(exc).split("\n")[0]
    if "'" in reason or '"' in reason or len(reason) > 160:
        return type(exc).__name__
    return reason


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


_TEMPLATE_MARKERS = ("{{", "{%")


@functools.cache
def _yaml_loader_class() -> Any:
    """A SafeLoader that builds plain data for tags it does not know (CloudFormation's `!Ref`,
    Ansible's `!vault`, ...) instead of failing: safe, since nothing is ever instantiated."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def plain(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("", plain)
    return Loader


def parse_yaml(text: str) -> SettingsDocument:
    """YAML documents. A file that is a template rather than YAML (Helm charts, Jinja:
    `{{ ... }}` / `{% ... %}` outside strings) and does not parse yields an empty document,
    not a parse error: it only becomes YAML once rendered."""
    try:
        return _parse_yaml(text)
    except DocumentError:
        if any(marker in text for marker in _TEMPLATE_MARKERS):
            return SettingsDocument(None, [], [])
        raise


def _parse_yaml(text: str) -> SettingsDocument:
    import yaml

    values: list[SettingValue] = []
    documents: list[Any] = []
    loader = None
    node = None
    try:
        loader = _yaml_loader_class()(text)  # its reader rejects control characters at once
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            _yaml_leaves(node, (), values, set(), loader.construct_object)
            documents.append(loader.construct_document(node))
    except RecursionError:
        raise DocumentError("invalid YAML: nested too deeply to read") from None
    except (ValueError, OverflowError, TypeError) as exc:
        # a value its loader resolves but cannot build (its leaves were built above: a
        # key, a merge)
        mark = getattr(node, "start_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise DocumentError(
            f"invalid YAML: a value its loader cannot build ({_safe_reason(exc)})", line
        ) from None
    except yaml.MarkedYAMLError as exc:
        # only the problem and its position: the text around it may hold a secret
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise DocumentError(f"invalid YAML: {exc.problem or exc.context}", line, column) from None
    except yaml.YAMLError as exc:
        line = 1
        if isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, exc.position) + 1
            return_message = "invalid YAML: control character in the text"
        else:
            return_message = f"invalid YAML: {type(exc).__name__}"
        raise DocumentError(return_message, line) from None
    finally:
        if loader is not None:
            loader.dispose()
    return SettingsDocument(documents[0] if documents else None, values, documents)


def _yaml_leaves(
    node: Any,
    path: tuple[str, ...],
    out: list[SettingValue],
    seen: set[int],
    construct: Callable[[Any], Any],
) -> None:
    import yaml

    if id(node) in seen:
        return  # an alias to a node already walked (and the cure for "billion laughs")
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            _yaml_leaves(value_node, (*path, key), out, seen, construct)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _yaml_leaves(child, (*path, str(index)), out, seen, construct)
    elif isinstance(node, yaml.ScalarNode):
        value: Any = node.value
        if node.tag != "tag:yaml.org,2002:str":
            try:
                value = construct(node)
            except yaml.YAMLError:
                value = node.value
            except (ValueError, OverflowError, TypeError) as exc:
                # `2023-02-30`, a 5000-digit integer: `yaml.safe_load` fails on the file too
                raise DocumentError(
                    f"invalid YAML: a value its loader cannot build ({_safe_reason(exc)})",
                    node.start_mark.line + 1,
                    node.start_mark.column + 1,
                ) from None
        out.append(SettingValue(path, value, node.start_mark.line + 1))


_INI_SECTION = re.compile(r"^\s*\[([^\]]+)\]")
# the option name up to the first `=`/`:` (its trailing blanks are stripped in code: a lazy
# name followed by `\s*` rescanned the blanks at every step)
_INI_OPTION = re.compile(r"^([^\s=:#;][^=:]*)[=:]")


def parse_ini(text: str) -> SettingsDocument:
    import configparser

    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error as exc:
        # configparser quotes the offending lines: keep only where it happened
        line = getattr(exc, "lineno", None) or 1
        errors = getattr(exc, "errors", None)
        if errors:
            line = errors[0][0]
        raise DocumentError(f"invalid INI file: {type(exc).__name__}", line) from None
    lines = text.splitlines()
    section_lines: dict[str, int] = {}
    option_lines: dict[tuple[str, str], int] = {}
    section = configparser.DEFAULTSECT
    for index, line in enumerate(lines):
        header = _INI_SECTION.match(line)
        if header:
            section = header.group(1).strip()
            section_lines.setdefault(section, index + 1)
            continue
        found = _INI_OPTION.match(line)
        if found:
            option_lines.setdefault(
                (section, parser.optionxform(found.group(1).strip())), index + 1
            )
    data: dict[str, dict[str, str]] = {}
    values: list[SettingValue] = []
    for name in [configparser.DEFAULTSECT, *parser.sections()]:
        items = parser.defaults() if name == configparser.DEFAULTSECT else parser[name]
        own = (
            dict(items)
            if name == configparser.DEFAULTSECT
            else {k: v for k, v in parser.items(name, raw=True) if k not in parser.defaults()}
        )
        data[name] = dict(items)
        for option, value in own.items():
            line = option_lines.get((name, option), section_lines.get(name, 1))
            values.append(SettingValue((name, option), value, line))
    return SettingsDocument(data, values, [data])


def _dockerfile(text: str) -> Any:
    from bastion.analysis.deploy import parse_dockerfile

    return parse_dockerfile(text)


def _compose(text: str) -> Any:
    from bastion.analysis.deploy import parse_compose

    return parse_compose(text)


def _procfile(text: str) -> Any:
    from bastion.analysis.deploy import parse_procfile

    return parse_procfile(text)


def _requirements(text: str) -> Any:
    from bastion.analysis.deps import parse_requirements

    return parse_requirements(text)


def _pyproject(text: str) -> Any:
    from bastion.analysis.deps import parse_pyproject

    return parse_pyproject(text)


def _lockfile(text: str) -> Any:
    from bastion.analysis.deps import parse_lockfile

    return parse_lockfile(text)


def _precommit(text: str) -> Any:
    from bastion.analysis.tooling import parse_precommit

    return parse_precommit(text)


def _ini(text: str) -> Any:
    from bastion.analysis.tooling import parse_ini

    return parse_ini(text)


def _gitignore(text: str) -> Any:
    from bastion.analysis.tooling import parse_gitignore

    return parse_gitignore(text)


# The parsers of the deployment, dependency and tooling kinds live next to the documents they
# build (`bastion.analysis.deploy`, `.deps`, `.tooling`) and are imported on first use. An INI
# file is one document for every rule: its settings with lines (SEC001) and its sections
# (tooling facts).
PARSERS: dict[str, Callable[[str], Any]] = {
    "dotenv": parse_dotenv,
    "toml": parse_toml,
    "yaml": parse_yaml,
    "ini": _ini,
    "dockerfile": _dockerfile,
    "compose": _compose,
    "procfile": _procfile,
    "requirements": _requirements,
    "pyproject": _pyproject,
    "lockfile": _lockfile,
    "precommit": _precommit,
    "gitignore": _gitignore,
}


def parse_document(kind: str, text: str) -> Any:
    """The parsed document, or the text itself for kinds without a parser (yet)."""
    parser = PARSERS.get(kind)
    return parser(text) if parser else text
