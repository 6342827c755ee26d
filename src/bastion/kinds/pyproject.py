"""pyproject.toml (PEP 621, PEP 735, Poetry, PDM, uv): its data and its dependencies with lines."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from typing import Any

from bastion.kinds.common import DocumentError
from bastion.kinds.requirements import Dependency, _requirement, canonicalize_name
from bastion.kinds.toml import check_toml_keys, load_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


@dataclass
class PyprojectDocument:
    data: dict[str, Any]
    text: str
    dependencies: list[Dependency] = field(default_factory=list)

    def table(self, *keys: str) -> Any:
        value: Any = self.data
        for key in keys:
            if not isinstance(value, dict) or key not in value:
                return None
            value = value[key]
        return value

    @property
    def is_application(self) -> bool:
        """Declared not to be a package: Poetry `package-mode = false`, uv `package = false`,
        or no `[build-system]` and no `[project]` name at all."""
        if self.table("tool", "poetry", "package-mode") is False:
            return True
        return self.table("tool", "uv", "package") is False


def _line_locator(text: str) -> Any:
    lines = text.splitlines()

    def header_line(header: str) -> int:
        """1-based line of a `[table]` header, 0 when absent."""
        for number, line in enumerate(lines, start=1):
            stripped = line.strip().replace(" ", "")
            if stripped in {f"[{header}]", f"[[{header}]]"}:
                return number
        return 0

    def value_line(needle: str, after: int, key: bool = False) -> int:
        """1-based line of a quoted string (or a `key =`) after line `after`."""
        for number in range(max(after, 1), len(lines) + 1):
            line = lines[number - 1]
            if key:
                stripped = line.strip()
                if re.match(rf'^["\']?{re.escape(needle)}["\']?\s*=', stripped):
                    return number
            elif f'"{needle}"' in line or f"'{needle}'" in line:
                return number
        return after or 1

    return header_line, value_line


def parse_pyproject(text: str) -> PyprojectDocument:
    check_toml_keys(text)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else 1
        if match is None and "end of document" in str(exc):
            line = max(1, len(text.splitlines()))
        raise DocumentError(f"invalid TOML: {exc}", line) from None
    except (RecursionError, ValueError):  # 5000-deep arrays, 5000-digit integers
        load_toml(text)  # raises the DocumentError that says which
        raise
    doc = PyprojectDocument(data, text)
    header_line, value_line = _line_locator(text)

    def pep508(items: Any, group: str, header: str) -> None:
        if not isinstance(items, list):
            return
        start = header_line(header)
        for item in items:
            if not isinstance(item, str):
                continue  # PEP 735 `{include-group = ...}`
            line = value_line(item, start)
            try:
                req = _requirement(item)
            except ValueError:  # packaging's InvalidRequirement
                continue
            doc.dependencies.append(
                Dependency(
                    canonicalize_name(req.name),
                    str(req.specifier),
                    line,
                    group,
                    item,
                    req.url,
                    marker=str(req.marker) if req.marker else None,
                )
            )

    def poetry(items: Any, group: str, header: str) -> None:
        if not isinstance(items, dict):
            return
        start = header_line(header)
        for name, value in items.items():
            if canonicalize_name(name) == "python":
                continue
            line = value_line(name, start, key=True)
            url = None
            spec = ""
            if isinstance(value, str):
                spec = value
            elif isinstance(value, dict):
                spec = str(value.get("version", ""))
                url = value.get("git") or value.get("url") or value.get("path")
            elif isinstance(value, list):
                spec = "*"  # multiple-constraint form: do not judge
                url = "multiple"
            raw = f'{name} = "{spec}"' if spec and not url else name
            doc.dependencies.append(
                Dependency(canonicalize_name(name), spec, line, group, raw, url, poetry=True)
            )

    project = doc.table("project")
    if isinstance(project, dict):
        pep508(project.get("dependencies"), "main", "project")
        optional = project.get("optional-dependencies")
        if isinstance(optional, dict):
            for extra, items in optional.items():
                pep508(items, f"extra:{extra}", "project.optional-dependencies")
    groups = doc.table("dependency-groups")
    if isinstance(groups, dict):
        for name, items in groups.items():
            pep508(items, f"group:{name}", "dependency-groups")
    tool_poetry = doc.table("tool", "poetry")
    if isinstance(tool_poetry, dict):
        poetry(tool_poetry.get("dependencies"), "main", "tool.poetry.dependencies")
        poetry(tool_poetry.get("dev-dependencies"), "group:dev", "tool.poetry.dev-dependencies")
        poetry_groups = tool_poetry.get("group")
        for name, group in (poetry_groups if isinstance(poetry_groups, dict) else {}).items():
            if isinstance(group, dict):
                poetry(
                    group.get("dependencies"),
                    f"group:{name}",
                    f"tool.poetry.group.{name}.dependencies",
                )
    pdm_dev = doc.table("tool", "pdm", "dev-dependencies")
    if isinstance(pdm_dev, dict):
        for name, items in pdm_dev.items():
            pep508(items, f"group:{name}", "tool.pdm.dev-dependencies")
    uv_dev = doc.table("tool", "uv", "dev-dependencies")
    pep508(uv_dev, "group:dev", "tool.uv")
    return doc


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_pyproject
DOCUMENT = PyprojectDocument
