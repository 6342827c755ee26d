"""Known vulnerabilities in pinned dependencies (DEP001, `bastion audit-deps`).

Two sources, one result shape:
- offline: an OSV-format database directory (JSON or YAML records, as published by osv.dev
  and the PyPA advisory database), matched with `packaging` versions;
- online: pip-audit's vulnerability services (PyPI's JSON API, or OSV's).

Only exact pins (`name==1.2.3`, lock file entries) can be audited; anything else is returned as
skipped, with the reason. Failures (network down, timeout, malformed database) are returned as
errors, never raised, so the caller decides the exit code.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bastion.safe_fs import read_tree_text

# packaging is imported when an audit runs, not when the rules are loaded (start-up time)
if TYPE_CHECKING:
    from packaging.version import Version


@dataclass(frozen=True)
class Pin:
    """One exact pin, where it is declared."""

    name: str  # canonical
    version: str
    path: str  # relative to the project root, posix
    line: int
    raw: str


@dataclass(frozen=True)
class Advisory:
    id: str
    aliases: tuple[str, ...]
    summary: str
    fixed: tuple[str, ...]


@dataclass
class AuditResult:
    hits: list[tuple[Pin, Advisory]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # informational
    errors: list[str] = field(default_factory=list)  # the audit is incomplete


class AuditError(Exception):
    pass


# -- offline: an OSV directory ----------------------------------------------------------------


MAX_RECORD_BYTES = 32 * 1024 * 1024  # the largest OSV record published is ~1 MB


class MalformedRecord(ValueError):
    """A record that is not OSV-shaped: the message names the field."""


def _load_record(path: Path) -> list[dict[str, Any]]:
    text = read_tree_text(path, None, MAX_RECORD_BYTES)  # regular files only, capped
    if path.suffix.lower() == ".json":
        data = json.loads(text)
    else:
        import yaml

        data = yaml.safe_load(text)
    items = data if isinstance(data, list) else [data]
    return [_checked_record(item) for item in items]


def _checked_record(record: Any) -> dict[str, Any]:
    """`record` if it has the OSV shape the audit reads (every field optional, but of the
    right type), else MalformedRecord naming the first wrong field."""

    def expect(value: Any, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(value, kind):
            raise MalformedRecord(f"{where} is a {type(value).__name__}")
        return value

    expect(record, dict, "the record")
    for key in ("id", "summary", "details"):
        if record.get(key) is not None:
            expect(record[key], (str, int, float), key)
    for alias in expect(record.get("aliases") or [], list, "aliases"):
        expect(alias, (str, int), "an alias")
    for affected in expect(record.get("affected") or [], list, "affected"):
        expect(affected, dict, "an `affected` entry")
        expect(affected.get("package") or {}, dict, "affected.package")
        expect(affected.get("versions") or [], list, "affected.versions")
        for version in affected.get("versions") or []:
            expect(version, (str, int, float), "an affected version")
        for range_ in expect(affected.get("ranges") or [], list, "affected.ranges"):
            expect(range_, dict, "a range")
            for event in expect(range_.get("events") or [], list, "range.events"):
                expect(event, dict, "a range event")
                for value in event.values():
                    expect(value, (str, int, float), "a range event's version")
    checked: dict[str, Any] = record
    return checked


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return str(canonicalize_name(name))


def _version(text: str) -> Version | None:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(text)
    except (InvalidVersion, TypeError):
        return None


def _in_range(version: Version, events: list[dict[str, str]]) -> bool:
    """OSV ECOSYSTEM range semantics: events sorted by version; `introduced` opens,
    `fixed` closes (exclusive), `last_affected` closes (inclusive)."""
    ordered: list[tuple[Version, str]] = []
    for event in events:
        for kind, value in event.items():
            if kind not in {"introduced", "fixed", "last_affected"}:
                continue
            parsed = _version("0" if value == "0" else str(value))
            if parsed is not None:
                ordered.append((parsed, kind))
    ordered.sort(key=lambda item: item[0])
    affected = False
    for at, kind in ordered:
        if kind == "introduced" and version >= at:
            affected = True
        elif (kind == "fixed" and version >= at) or (kind == "last_affected" and version > at):
            affected = False
    return affected


class OsvDatabase:
    """An OSV directory: every `*.json`, `*.yaml`, `*.yml` below it, PyPI entries only."""

    def __init__(self, directory: Path) -> None:
        self.by_package: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        self.errors: list[str] = []
        if not directory.is_dir():
            raise AuditError(f"--vuln-db: {directory} is not a folder")
        for path in _record_files(directory):
            try:
                records = _load_record(path)
            except MalformedRecord as exc:
                self.errors.append(f"{path}: not an OSV record: {exc}")
                continue
            except Exception as exc:  # any unreadable record: say which, keep going
                self.errors.append(f"{path}: cannot read OSV record: {type(exc).__name__}")
                continue
            for record in records:
                if record.get("withdrawn"):
                    continue
                for affected in record.get("affected") or []:
                    package = affected.get("package") or {}
                    if str(package.get("ecosystem", "")).lower() != "pypi":
                        continue
                    name = _canonical(str(package.get("name", "")))
                    self.by_package.setdefault(name, []).append((record, affected))

    def query(self, name: str, version: str) -> list[Advisory]:
        """The advisories of `name` that affect `version` (records are `_checked_record`)."""
        parsed = _version(version)
        found: dict[str, Advisory] = {}
        for record, affected in self.by_package.get(name, []):
            hit = version in [str(v) for v in affected.get("versions") or []]
            if not hit and parsed is not None:
                hit = any(
                    _in_range(parsed, r.get("events") or [])
                    for r in affected.get("ranges") or []
                    if r.get("type") in {"ECOSYSTEM", "SEMVER"}
                )
            if not hit:
                continue
            fixed = [
                str(e["fixed"])
                for r in affected.get("ranges") or []
                for e in r.get("events") or []
                if "fixed" in e
            ]
            rid = str(record.get("id", "?"))
            previous = found.get(rid)
            fixes = tuple(sorted({*fixed, *(previous.fixed if previous else ())}, key=_sort_key))
            found[rid] = Advisory(
                rid,
                tuple(str(a) for a in record.get("aliases") or []),
                str(record.get("summary") or record.get("details") or "").split("\n")[0],
                fixes,
            )
        return sorted(found.values(), key=lambda a: a.id)


def _record_files(directory: Path) -> Iterator[Path]:
    """The JSON/YAML files below `directory`, in a stable order: regular files only (a FIFO
    would block the read for ever), never through a link that leaves the folder, never into
    a linked folder (a loop, or the whole file system)."""
    import os

    top = directory.resolve()
    for folder, subfolders, names in os.walk(directory, followlinks=False):
        subfolders.sort()
        for name in sorted(names):
            if Path(name).suffix.lower() not in {".json", ".yaml", ".yml"}:
                continue
            path = Path(folder) / name
            try:
                resolved = path.resolve(strict=True)
                regular = resolved.is_file()
            except (OSError, RuntimeError):  # a dangling link or a link loop
                continue
            if regular and (top == resolved or top in resolved.parents):
                yield path


def _sort_key(text: str) -> tuple[int, Any]:
    parsed = _version(text)
    return (0, parsed) if parsed is not None else (1, text)


def _merge_aliases(advisories: list[Advisory]) -> list[Advisory]:
    """Drop an advisory that is an alias of one already kept (GHSA vs PYSEC for one flaw)."""
    kept: list[Advisory] = []
    for adv in sorted(advisories, key=lambda a: (not a.id.startswith("GHSA"), a.id)):
        names = {adv.id, *adv.aliases}
        if any(names & {k.id, *k.aliases} for k in kept):
            continue
        kept.append(adv)
    return sorted(kept, key=lambda a: a.id)


def audit_offline(pins: Iterable[Pin], database: Path) -> AuditResult:
    result = AuditResult()
    try:
        db = OsvDatabase(database)
    except AuditError as exc:
        result.errors.append(str(exc))
        return result
    result.errors.extend(db.errors)
    for pin in pins:
        for advisory in _merge_aliases(db.query(pin.name, pin.version)):
            result.hits.append((pin, advisory))
    return result


# -- online: pip-audit's services -------------------------------------------------------------


def audit_online(pins: Iterable[Pin], service: str = "pypi", timeout: int = 15) -> AuditResult:
    result = AuditResult()
    try:
        from pip_audit._service import (
            OsvService,
            PyPIService,
            ResolvedDependency,
            SkippedDependency,
        )
    except ImportError as exc:  # pragma: no cover - pip-audit is a dependency
        result.errors.append(f"pip-audit is not installed: {exc}")
        return result
    client = OsvService(timeout=timeout) if service == "osv" else PyPIService(timeout=timeout)
    failures = 0
    for pin in pins:
        where = f"{pin.path}:{pin.line}: {pin.name}=={pin.version}"
        version = _version(pin.version)
        if version is None:
            result.skipped.append(f"{where}: not a valid version, not audited")
            continue
        try:
            dep, vulns = client.query(ResolvedDependency(name=pin.name, version=version))
        except Exception as exc:  # requests/pip-audit raise many types; all mean "no answer"
            detail = str(exc) or type(exc).__name__
            result.errors.append(f"{where}: cannot audit ({service} service): {detail}")
            failures += 1
            if failures >= 3 and not result.hits:
                result.errors.append(
                    f"giving up after {failures} failed queries: the {service} vulnerability "
                    "service is unreachable (offline? use --vuln-db DIR)"
                )
                return result
            continue
        if isinstance(dep, SkippedDependency):
            result.errors.append(f"{where}: {dep.skip_reason}")
            continue
        advisories = [
            Advisory(
                str(v.id),
                tuple(sorted(str(a) for a in v.aliases)),
                (v.description or "").split("\n")[0],
                tuple(str(f) for f in v.fix_versions),
            )
            for v in vulns
        ]
        for advisory in _merge_aliases(advisories):
            result.hits.append((pin, advisory))
    return result


# -- where pins come from ---------------------------------------------------------------------


def pins_from_requirements(path: Path, root: Path, seen: set[Path] | None = None) -> Iterator[Pin]:
    """Exact pins of a requirements file and the files it includes with `-r`/`-c`."""
    from bastion.analysis.deps import parse_requirements

    seen = seen if seen is not None else set()
    resolved = path.resolve()
    if resolved in seen or not _inside(resolved, root.resolve()):
        return
    seen.add(resolved)
    try:
        text = read_tree_text(path, root, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return
    doc = parse_requirements(text)
    rel = _rel(path, root)
    for dep in doc.dependencies:
        version = dep.pinned_version
        if version is not None:
            yield Pin(dep.name, version, rel, dep.line, dep.raw)
    for include in doc.includes:
        target = path.parent / include.target
        if target.is_file():
            yield from pins_from_requirements(target, root, seen)


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _rel(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def describe(pin: Pin, advisory: Advisory) -> tuple[str, str]:
    """(message, hint) of a DEP001 finding."""
    aliases = f" ({', '.join(advisory.aliases)})" if advisory.aliases else ""
    summary = f": {advisory.summary}" if advisory.summary else ""
    message = f"{pin.name} {pin.version} is affected by {advisory.id}{aliases}{summary}"
    current = _version(pin.version)
    later = [f for f in advisory.fixed if current is None or (_version(f) or current) > current]
    if later:
        target = min(later, key=_sort_key)
        hint = (
            f"Upgrade {pin.name} to {target} or later (fixed in: {', '.join(advisory.fixed)}), "
            "then re-lock."
        )
    else:
        hint = f"No fixed release of {pin.name} is known: replace it or mitigate {advisory.id}."
    return message, hint


def collect_pins(files: Iterable[tuple[str, str, Path]], root: Path) -> tuple[list[Pin], list[str]]:
    """Pins from discovered files given as (kind, relative path, absolute path): requirements
    files (with their includes), pyproject.toml exact pins, and lock files. Returns the pins
    (deduplicated) and notes about what cannot be audited."""
    from bastion.analysis.deps import parse_lockfile, parse_pyproject

    pins: dict[tuple[str, int, str], Pin] = {}
    notes: list[str] = []
    seen: set[Path] = set()
    for kind, rel, abspath in files:
        try:
            if kind == "requirements":
                found = list(pins_from_requirements(abspath, root, seen))
            elif kind == "pyproject":
                doc = parse_pyproject(read_tree_text(abspath, root, encoding="utf-8-sig"))
                found = []
                for dep in doc.dependencies:
                    version = dep.pinned_version
                    if version is None:
                        continue
                    found.append(Pin(dep.name, version, rel, dep.line, dep.raw))
            elif kind == "lockfile":
                lock = parse_lockfile(read_tree_text(abspath, root, encoding="utf-8-sig"))
                found = [Pin(n, v, rel, line, f"{n}=={v}") for n, v, line in lock.packages]
            else:
                continue
        except Exception as exc:  # unreadable or malformed: say so, audit the rest
            notes.append(f"{rel}: cannot read dependencies: {type(exc).__name__}: {exc}")
            continue
        for pin in found:
            pins.setdefault((pin.path, pin.line, pin.name), pin)
    return sorted(pins.values(), key=lambda p: (p.path, p.line)), notes
