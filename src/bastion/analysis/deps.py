"""Dependency declarations: requirements files, pyproject.toml (PEP 621, PEP 735, Poetry, PDM,
uv) and lock files, parsed into `Dependency` records with the 1-based line they are declared on.

Requirement strings are parsed with `packaging.requirements` (PEP 508), the same grammar pip
uses; requirements-file syntax (options, `-r`/`-c` includes, `--hash`, `-e`, bare URLs, line
continuations, comments) is handled line by line here, following pip's documented format.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from bastion.parsers import DocumentError, check_toml_keys, load_toml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

if TYPE_CHECKING:
    from packaging.requirements import Requirement


# packaging (its PEP 508 grammar compiles many regexes) is imported the first time a dependency
# file is read, not when the rules are loaded: `bastion check one_file.py` starts faster.
def canonicalize_name(name: str) -> str:
    from packaging.utils import canonicalize_name as canonical

    return str(canonical(name))


def _requirement(text: str) -> Requirement:
    """`packaging.requirements.Requirement(text)`; raises ValueError (InvalidRequirement)."""
    from packaging.requirements import Requirement

    return Requirement(text)


@dataclass(frozen=True)
class Dependency:
    name: str  # canonical (PEP 503) name
    specifier: str  # "" when none; for Poetry, the Poetry constraint as written
    line: int
    group: str  # "main" for what production installs; else the group/extra/file role
    raw: str = ""
    url: str | None = None
    editable: bool = False
    marker: str | None = None
    poetry: bool = False  # a Poetry constraint (`^1.2`, `~1.2`, `*`), not a PEP 440 one

    @property
    def pinned_version(self) -> str | None:
        """The exact version for `name==1.2.3` / `===`, else None."""
        if self.url or self.poetry:
            if self.poetry and re.fullmatch(r"=?=?\s*\d[\w.!+-]*", self.specifier.strip()):
                return self.specifier.strip().lstrip("=").strip()
            return None
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            specs = list(SpecifierSet(self.specifier))
        except InvalidSpecifier:
            return None
        for spec in specs:
            if spec.operator in {"==", "==="} and "*" not in spec.version:
                return spec.version
        return None

    @property
    def has_upper_bound(self) -> bool:
        """Pinned exactly, or capped (`<2`, `~=1.4`, `==1.*`, Poetry `^1.2`/`~1.2`)."""
        if self.url:
            return True  # a URL or VCS reference names one artifact
        if self.poetry:
            text = self.specifier.strip()
            return (
                bool(text)
                and text != "*"
                and (
                    text[0] in "^~"
                    or "<" in text
                    or re.fullmatch(r"=?=?\s*\d[\w.!+-]*", text) is not None
                )
            )
        from packaging.specifiers import InvalidSpecifier, SpecifierSet

        try:
            specs = list(SpecifierSet(self.specifier))
        except InvalidSpecifier:
            return True  # not ours to judge
        return any(s.operator in {"==", "===", "<", "<=", "~="} for s in specs)


@dataclass(frozen=True)
class Include:
    option: str  # "-r" or "-c"
    target: str
    line: int


@dataclass
class RequirementsDocument:
    dependencies: list[Dependency] = field(default_factory=list)
    includes: list[Include] = field(default_factory=list)
    invalid: list[tuple[int, str]] = field(default_factory=list)  # (line, message)
    generated_by_pip_compile: bool = False


_INCLUDE_OPTIONS = {
    "-r": "-r",
    "--requirement": "-r",
    "-c": "-c",
    "--constraint": "-c",
}
_EDITABLE = {"-e", "--editable"}


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with `\\` continuations joined and comments removed."""
    out: list[tuple[int, str]] = []
    buffer = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        # pip: a comment starts at `#` at line start or after whitespace
        line = re.split(r"(?:^|\s)#", raw, maxsplit=1)[0]
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        buffer += line
        if buffer.strip():
            out.append((start, buffer.strip()))
        buffer = ""
    if buffer.strip():
        out.append((start, buffer.strip()))
    return out


def _egg_name(url: str) -> str | None:
    match = re.search(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)", url)
    return match.group(1) if match else None


def parse_requirements(text: str) -> RequirementsDocument:
    doc = RequirementsDocument()
    doc.generated_by_pip_compile = "autogenerated by pip-compile" in text[:2000] or (
        "uv pip compile" in text[:2000]
    )
    for line, content in _logical_lines(text):
        words = content.split()
        head = words[0]
        option, _, attached = head.partition("=")
        if option in _INCLUDE_OPTIONS or (head[:2] in {"-r", "-c"} and len(head) > 2):
            key = option if option in _INCLUDE_OPTIONS else head[:2]
            target = attached or (head[2:] if key == head[:2] and len(head) > 2 else "")
            if not target and len(words) > 1:
                target = words[1]
            if target:
                doc.includes.append(Include(_INCLUDE_OPTIONS.get(key, key), target, line))
            continue
        if option in _EDITABLE:
            target = attached or (words[1] if len(words) > 1 else "")
            name = _egg_name(target)
            if name:
                doc.dependencies.append(
                    Dependency(canonicalize_name(name), "", line, "main", content, target, True)
                )
            continue
        if head.startswith("-"):
            continue  # --index-url, --find-links, --pre, --no-binary...: not a requirement
        # per-requirement options (`--hash=...`, `--config-settings`) follow the requirement
        requirement_text = re.split(r"\s--?[a-zA-Z]", " " + content, maxsplit=1)[0].strip()
        if re.match(
            r"^[a-zA-Z][a-zA-Z0-9+.-]*://", requirement_text
        ) or requirement_text.startswith(("./", "../", "/", ".")):
            name = _egg_name(requirement_text)
            if name:
                doc.dependencies.append(
                    Dependency(canonicalize_name(name), "", line, "main", content, requirement_text)
                )
            continue
        try:
            req = _requirement(requirement_text)
        except ValueError as exc:  # packaging's InvalidRequirement
            doc.invalid.append((line, str(exc).splitlines()[0]))
            continue
        doc.dependencies.append(
            Dependency(
                canonicalize_name(req.name),
                str(req.specifier),
                line,
                "main",
                content,
                req.url,
                False,
                str(req.marker) if req.marker else None,
            )
        )
    return doc


# -- which requirements are for production ---------------------------------------------------------

_PRODUCTION_WORDS = frozenset(
    {"", "prod", "production", "base", "common", "main", "deploy", "runtime", "app", "core"}
)


_NON_PRODUCTION_FOLDERS = frozenset(
    {
        "docs",
        "doc",
        "test",
        "tests",
        "ci",
        ".github",
        ".gitlab",
        "dev",
        "tools",
        "scripts",
        "examples",
        "example",
        "benchmarks",
        "bench",
    }
)


def requirements_role(path: str) -> str:
    """ "main" for a production requirements file (`requirements.txt`,
    `requirements/prod.txt`, `requirements-base.txt`), else the word that names its role
    (`dev`, `test`, `docs`...). Input files of pip-compile (`*.in`) keep the role of their name."""
    posix = PurePosixPath(path.lower())
    stem = posix.stem
    for folder in posix.parent.parts:
        if folder in _NON_PRODUCTION_FOLDERS:
            return folder  # docs/requirements.txt, tests/requirements.txt, .github/...
    word = stem
    for prefix in ("requirements", "requirement", "reqs"):
        if word.startswith(prefix):
            word = word[len(prefix) :]
            break
    word = word.strip("-_.")
    if posix.parent.name == "requirements" and stem not in {"requirements"}:
        word = stem
    if stem.startswith("constraints"):
        return "constraints"
    if stem.endswith(("-requirements", "_requirements")):
        word = stem.rsplit("requirements", 1)[0].strip("-_")
    return "main" if word in _PRODUCTION_WORDS else word


# -- pyproject.toml ------------------------------------------------------------------------------


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


# -- lock files -----------------------------------------------------------------------------------


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
