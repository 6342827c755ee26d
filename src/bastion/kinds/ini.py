"""INI files (`setup.cfg`, `tox.ini`, `mypy.ini`, `.coveragerc`, `alembic.ini`): `configparser`.
One document for every rule: its settings with lines (SEC001) and its sections (tooling facts)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bastion.kinds.common import DocumentError, SettingsDocument, SettingValue

_INI_SECTION = re.compile(r"^\s*\[([^\]]+)\]")
# the option name up to the first `=`/`:` (its trailing blanks are stripped in code: a lazy
# name followed by `\s*` rescanned the blanks at every step)
_INI_OPTION = re.compile(r"^([^\s=:#;][^=:]*)[=:]")


def parse_ini_settings(text: str) -> SettingsDocument:
    import configparser

    # value-less flags (`master`, `strict` in a uwsgi.ini) are valid INI for many tools
    parser = configparser.ConfigParser(interpolation=None, strict=False, allow_no_value=True)
    for number, raw in enumerate(text.splitlines(), 1):
        # with value-less options allowed, configparser would take an unclosed `[section`
        # for an option: it is a broken header
        if raw.startswith("[") and not _INI_SECTION.match(raw):
            raise DocumentError("invalid INI file: unclosed section header", number)
    try:
        parser.read_string(text)
    except AttributeError:
        # an indented line continuing a value-less option: configparser (3.11) crashes on it
        raise DocumentError(
            "invalid INI file: continuation of an option without a value", 1
        ) from None
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
        data[name] = {k: "" if v is None else v for k, v in items.items()}
        for option, value in own.items():
            if value is None:
                continue  # a flag without a value
            line = option_lines.get((name, option), section_lines.get(name, 1))
            values.append(SettingValue((name, option), value, line))
    return SettingsDocument(data, values, [data])


@dataclass
class IniDocument(SettingsDocument):
    """An INI file (setup.cfg, tox.ini, mypy.ini, .coveragerc, alembic.ini): its settings with
    lines, as every settings file has, and its `sections` without the DEFAULT one."""

    sections: dict[str, dict[str, str]] = field(default_factory=dict)


def parse_ini(text: str) -> IniDocument:
    settings = parse_ini_settings(text)
    data = settings.data if isinstance(settings.data, dict) else {}
    sections = {name: dict(options) for name, options in data.items() if name != "DEFAULT"}
    return IniDocument(settings.data, settings.values, settings.documents, sections)


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_ini
DOCUMENT = IniDocument
