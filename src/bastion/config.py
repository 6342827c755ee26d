"""Configuration: `[tool.bastion]` in the nearest pyproject.toml, overridden by CLI flags.

Every key is validated: an unknown key, an unknown rule id or a value of the wrong type is a
`ConfigError` naming the offending key (exit 2). Nothing is silently ignored.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import pathspec

from bastion import plugins
from bastion.findings import Severity
from bastion.linear_glob import linear_spec
from bastion.plugins import PluginError
from bastion.rulemeta import RuleMeta
from bastion.safe_fs import read_tree_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]


class ConfigError(Exception):
    """A user error in configuration or flags; the message names the key and the fix."""


DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git/",
    ".hg/",
    ".svn/",
    ".venv/",
    "venv/",
    ".tox/",
    ".nox/",
    "node_modules/",
    "__pycache__/",
    ".mypy_cache/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".bastion_cache/",
    "build/",
    "dist/",
    "*.egg-info/",
    "site-packages/",
)

DEFAULT_TEST_PATHS: tuple[str, ...] = (
    "tests/",
    "test/",
    "test_*.py",
    "*_test.py",
    "conftest.py",
)

# Scripts and command-line entry points: code that talks to a terminal, not application code
# (LOG001 allows `print` there, ORG003 allows reading the environment). gitignore-style globs.
DEFAULT_SCRIPT_PATHS: tuple[str, ...] = (
    "scripts/",
    "script/",
    "bin/",
    "tools/",
    "examples/",
    "docs/",
    "manage.py",
    "setup.py",
    "noxfile.py",
    "fabfile.py",
    "__main__.py",
    "cli.py",
    "_cli.py",
    "*_cli.py",
    "cli/",
    "**/management/",
)

FAIL_ON_CHOICES = ("error", "warning", "info", "never")

# Bounds of the numeric settings: a scanned tree's own config must not be able to turn the
# budgets off (`inf`, `nan`, 10**30).
MAX_FILE_BYTES_LIMIT = 1024 * 1024 * 1024
MAX_FILE_TIMEOUT = 3600.0
PHASE_TIMEOUT_FACTOR = 10  # each whole-run phase gets ten times one file's budget
DEFAULT_MAX_PYTHON_BYTES = 1024 * 1024

# Rules whose options name a path: such a path from a config file must stay inside the
# project root (a scanned tree's `vuln-db = "/"` walked the whole file system).
_PATH_OPTIONS = {("DEP001", "vuln-db")}

_KNOWN_KEYS = {
    "max-file-bytes",
    "file-timeout",
    "select",
    "ignore",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "severity",
    "fail-on",
    "test-paths",
    "script-paths",
    "respect-gitignore",
    "rules",
    "plugins",
    "target-version",
    "external-suppressions",
}


@dataclass(frozen=True)
class Config:
    root: Path
    source: Path | None = None  # the file the settings came from, if any
    select: tuple[str, ...] | None = None  # None: every rule enabled by default
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    extend_exclude: tuple[str, ...] = ()
    per_file_ignores: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    severity: Mapping[str, Severity] = field(default_factory=dict)
    fail_on: str = "warning"
    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS
    script_paths: tuple[str, ...] = DEFAULT_SCRIPT_PATHS
    respect_gitignore: bool = True
    # Larger files are not analysed (a BAS003 finding says so). Python's own parser needs
    # ~400 bytes of memory per byte of dense code (a 10 MB module: 4 GB, a minute), so Python
    # files have a lower default; setting `max-file-bytes` sets both.
    max_file_bytes: int = 10 * 1024 * 1024
    max_python_bytes: int | None = None  # None: `max_file_bytes`, at most 1 MiB
    file_timeout: float = 20.0  # seconds one file may take before it is given up (BAS003)
    rule_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    plugins: tuple[str, ...] = ()  # local rule modules (paths in the project), see bastion.plugins
    # The Python the project is written for, (3, 14): `target-version`, else the lower bound of
    # the project's `requires-python`; None when neither says. `target_origin` says which.
    target_version: tuple[int, int] | None = None
    target_origin: str = ""
    # honour noqa and nosec comments written for ruff, flake8 and bandit (bastion.suppression)
    external_suppressions: bool = True

    # -- derived ------------------------------------------------------------------------------
    def max_bytes_for(self, kind: str) -> int:
        """The size over which a file of this kind is not analysed (nor fixed)."""
        if kind != "python":
            return self.max_file_bytes
        if self.max_python_bytes is not None:
            return self.max_python_bytes
        return min(self.max_file_bytes, DEFAULT_MAX_PYTHON_BYTES)

    @property
    def phase_timeout(self) -> float:
        """Seconds a whole-run phase (discovery, one project rule, the report) may take."""
        return PHASE_TIMEOUT_FACTOR * self.file_timeout

    def severity_for(self, rule: RuleMeta | type[RuleMeta]) -> Severity:
        return self.severity.get(rule.id, rule.severity)

    def rule_option(self, rule: RuleMeta | type[RuleMeta], key: str) -> Any:
        if key not in rule.options:
            raise KeyError(f"{rule.id} has no option {key!r}")
        return self.rule_options.get(rule.id, {}).get(key, rule.options[key])

    def fail_threshold(self) -> Severity | None:
        return None if self.fail_on == "never" else Severity.parse(self.fail_on)

    def is_test_path(self, path: str) -> bool:
        return _spec(self.test_paths).match_file(path)

    def is_script_path(self, path: str) -> bool:
        return _spec(self.script_paths).match_file(path)

    def ignored_for_path(self, path: str) -> set[str]:
        """Rule ids (or selectors) ignored for this path by `per-file-ignores`."""
        ignored: set[str] = set()
        for pattern, ids in self.per_file_ignores.items():
            if _spec((pattern,)).match_file(path):
                ignored.update(ids)
        return ignored

    def exclude_spec(self) -> pathspec.PathSpec[Any]:
        return _spec((*self.exclude, *self.extend_exclude))


def _spec(patterns: Sequence[str]) -> pathspec.PathSpec[Any]:
    return _cached_spec(tuple(patterns))


_SPEC_CACHE: dict[tuple[str, ...], pathspec.PathSpec[Any]] = {}


def _cached_spec(patterns: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    spec = _SPEC_CACHE.get(patterns)
    if spec is None:
        spec = linear_spec(pathspec.GitIgnoreSpec.from_lines(patterns))  # tree patterns: no ReDoS
        _SPEC_CACHE[patterns] = spec
    return spec


class RuleCheck(Protocol):
    """Checks what the settings say about rules (selectors, ids, options) against the known
    rules. `bastion.selection` has the registry's; without one (`UNCHECKED`) every name is
    taken as written: only for settings a checked run saw before (`bastion.replay`)."""

    def selector(self, selector: str, where: str) -> None: ...

    def rule_key(self, rule_id: str, where: str) -> str: ...

    def rule_options(self, rule_id: str, options: Any, where: str) -> tuple[str, dict[str, Any]]:
        """(the rule's id, its options) for one `[tool.bastion.rules.<ID>]` table."""
        ...


class _Unchecked:
    def selector(self, selector: str, where: str) -> None:
        return None

    def rule_key(self, rule_id: str, where: str) -> str:
        return str(rule_id).upper()

    def rule_options(self, rule_id: str, options: Any, where: str) -> tuple[str, dict[str, Any]]:
        return str(rule_id).upper(), dict(options) if isinstance(options, dict) else {}


UNCHECKED: RuleCheck = _Unchecked()


# -- loading ------------------------------------------------------------------------------------


def find_config_file(start: Path) -> Path | None:
    """The nearest pyproject.toml (from `start` upwards) that has a [tool.bastion] table."""
    current = start if start.is_dir() else start.parent
    for directory in (current, *current.parents):
        candidate = directory / "pyproject.toml"
        if candidate.is_file():
            try:
                data = _read_toml(candidate)
            except ConfigError:
                # a broken pyproject.toml that we would have used is an error; one without
                # our table is only reported if it is the one we pick
                raise
            if "bastion" in data.get("tool", {}):
                return candidate
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    from bastion.kinds.common import DocumentError
    from bastion.kinds.toml import check_toml_keys

    try:
        # regular files only and capped: a FIFO named pyproject.toml must not hang the run
        text = read_tree_text(path, None)
        check_toml_keys(text)
        data: dict[str, Any] = tomllib.loads(text)
        return data
    except DocumentError as exc:
        raise ConfigError(f"{path}:{exc.line}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply to read") from None
    except (ValueError, MemoryError) as exc:  # an integer over Python's 4300-digit limit
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_config(
    paths: Iterable[Path],
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    rules: Callable[[], RuleCheck] | None = None,
) -> Config:
    """Build the effective config: file settings first, then CLI overrides.

    `rules` gives the checker of rule ids and options once the config's plugins are active
    (`bastion.selection.load_config` passes the registry's, which means importing every rule
    module); None checks nothing: only for a config whose exact inputs a checked run saw
    before (`bastion.replay`).

    The project root is the directory of the config file; without one, the current directory
    when every path is inside it, else the common parent of the paths.
    """
    paths = [p.resolve() for p in paths]
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"--config: no such file: {config_file}")
        data = _read_toml(config_file)
        table = data.get("tool", {}).get("bastion", data if "tool" not in data else None)
        if table is None:
            raise ConfigError(f"{config_file}: no [tool.bastion] table")
        source: Path | None = config_file.resolve()
    else:
        start = paths[0] if paths else Path.cwd()
        source = find_config_file(start)
        table = _read_toml(source)["tool"]["bastion"] if source else {}
    root = source.parent if source else _default_root(paths)
    config = parse_table(table, root=root, source=source, rules=rules)
    if overrides:
        config = apply_overrides(config, overrides, rules=rules)
    return config


def _default_root(paths: Sequence[Path]) -> Path:
    cwd = Path.cwd().resolve()
    if all(p == cwd or cwd in p.parents for p in paths):
        return cwd
    if len(paths) == 1:
        return paths[0] if paths[0].is_dir() else paths[0].parent
    common = Path(*_common_parts(paths))
    return common


def _common_parts(paths: Sequence[Path]) -> list[str]:
    parts = list(paths[0].parts)
    for p in paths[1:]:
        i = 0
        while i < min(len(parts), len(p.parts)) and parts[i] == p.parts[i]:
            i += 1
        parts = parts[:i]
    return parts or ["/"]


def _expect_str_list(value: Any, key: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"tool.bastion.{key}: expected a list of strings, got {value!r}")
    return tuple(value)


def _expect_patterns(value: Any, key: str, where: str, label: str = "") -> tuple[str, ...]:
    """A list of gitignore-style patterns, each one valid (`\\` alone, `[z-a]` are not)."""
    patterns = _expect_str_list(value, key)
    label = label or f"{where}tool.bastion.{key}"
    for pattern in patterns:
        try:
            linear_spec(pathspec.GitIgnoreSpec.from_lines([pattern]))
        except (ValueError, re.error, RecursionError) as exc:
            reason = str(exc).split("\n")[0]
            raise ConfigError(f"{label}: invalid pattern {pattern!r} ({reason})") from None
    return patterns


def _expect_number(value: Any, key: str, where: str, upper: float) -> float:
    """A finite number in (0, upper]: `nan`, `inf` and booleans are refused."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 0 < value <= upper
    ):
        raise ConfigError(
            f"{where}tool.bastion.{key}: expected a positive number up to {upper:g}, got {value!r}"
        )
    return float(value)


def _check_option_paths(options: Mapping[str, Mapping[str, Any]], root: Path, where: str) -> None:
    """A path named in a config file stays inside the project root (the file's folder): the
    config is part of the scanned tree, and the tree must not send bastion elsewhere. A path
    given on the command line (`audit-deps --vuln-db`) is the user's own choice."""
    for rule_id, key in _PATH_OPTIONS:
        value = options.get(rule_id, {}).get(key)
        if not value:
            continue
        base = root.resolve()
        target = (base / str(value)).resolve()
        if target != base and base not in target.parents:
            raise ConfigError(
                f"{where}tool.bastion.rules.{rule_id}.{key}: {value!r} is outside the project "
                f"root {base} (a path in the config must stay inside the project; give an "
                "outside folder on the command line instead)"
            )


def parse_table(
    table: Mapping[str, Any],
    *,
    root: Path,
    source: Path | None = None,
    rules: Callable[[], RuleCheck] | None = None,
) -> Config:
    where = f"{source}: " if source else ""
    unknown = sorted(set(table) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}unknown key tool.bastion.{unknown[0]} "
            f"(known keys: {', '.join(sorted(_KNOWN_KEYS))})"
        )
    kwargs: dict[str, Any] = {"root": root, "source": source}
    # plugins first: their rules are part of what the other keys may name
    kwargs["plugins"] = _expect_str_list(table.get("plugins", []), "plugins")
    try:
        plugins.activate(root, kwargs["plugins"])
        check = rules() if rules is not None else UNCHECKED
    except PluginError as exc:
        raise ConfigError(f"{where}{exc}") from None
    if "select" in table:
        kwargs["select"] = _expect_str_list(table["select"], "select")
        for s in kwargs["select"]:
            check.selector(s, f"{where}tool.bastion.select")
    if "ignore" in table:
        kwargs["ignore"] = _expect_str_list(table["ignore"], "ignore")
        for s in kwargs["ignore"]:
            check.selector(s, f"{where}tool.bastion.ignore")
    for key in ("exclude", "extend-exclude", "test-paths", "script-paths"):
        if key in table:
            kwargs[key.replace("-", "_")] = _expect_patterns(table[key], key, where)
    if "respect-gitignore" in table:
        if not isinstance(table["respect-gitignore"], bool):
            raise ConfigError(f"{where}tool.bastion.respect-gitignore: expected true or false")
        kwargs["respect_gitignore"] = table["respect-gitignore"]
    if "max-file-bytes" in table:
        limit = _expect_number(
            table["max-file-bytes"], "max-file-bytes", where, MAX_FILE_BYTES_LIMIT
        )
        kwargs["max_file_bytes"] = kwargs["max_python_bytes"] = max(1, int(limit))
    if "file-timeout" in table:
        timeout = _expect_number(table["file-timeout"], "file-timeout", where, MAX_FILE_TIMEOUT)
        kwargs["file_timeout"] = timeout
    if "fail-on" in table:
        kwargs["fail_on"] = _check_fail_on(table["fail-on"], f"{where}tool.bastion.fail-on")
    if "per-file-ignores" in table:
        pfi = table["per-file-ignores"]
        if not isinstance(pfi, dict):
            raise ConfigError(f"{where}tool.bastion.per-file-ignores: expected a table")
        parsed: dict[str, tuple[str, ...]] = {}
        for pattern, ids in pfi.items():
            key = f'per-file-ignores."{pattern}"'
            _expect_patterns(pattern, key, where)
            parsed[pattern] = _expect_str_list(ids, key)
            for s in parsed[pattern]:
                check.selector(s, f"{where}tool.bastion.{key}")
        kwargs["per_file_ignores"] = parsed
    if "severity" in table:
        sev = table["severity"]
        if not isinstance(sev, dict):
            raise ConfigError(f"{where}tool.bastion.severity: expected a table of ID = level")
        parsed_sev: dict[str, Severity] = {}
        for rule_id, level in sev.items():
            rule_key = check.rule_key(rule_id, f"{where}tool.bastion.severity")
            try:
                parsed_sev[rule_key] = Severity.parse(str(level))
            except ValueError as exc:
                raise ConfigError(f"{where}tool.bastion.severity.{rule_id}: {exc}") from None
        kwargs["severity"] = parsed_sev
    if "external-suppressions" in table:
        if not isinstance(table["external-suppressions"], bool):
            raise ConfigError(f"{where}tool.bastion.external-suppressions: expected true or false")
        kwargs["external_suppressions"] = table["external-suppressions"]
    if "rules" in table:
        kwargs["rule_options"] = _parse_rule_options(table["rules"], check, where)
        _check_option_paths(kwargs["rule_options"], root, where)
    kwargs.update(_target_version(table, root, where))
    return Config(**kwargs)


def _target_version(table: Mapping[str, Any], root: Path, where: str) -> dict[str, Any]:
    """`target-version = "py314"`, else the floor of `[project] requires-python` in the
    project's pyproject.toml."""
    from bastion.syntax_version import parse_target, requires_python_floor, target_names

    if "target-version" in table:
        version = parse_target(table["target-version"])
        if version is None:
            raise ConfigError(
                f"{where}tool.bastion.target-version: expected one of {target_names()}, "
                f"got {table['target-version']!r}"
            )
        return {"target_version": version, "target_origin": "target-version"}
    try:
        project = _read_toml(root / "pyproject.toml").get("project", {})
    except ConfigError:
        return {}
    spec = project.get("requires-python") if isinstance(project, dict) else None
    if not isinstance(spec, str) or (version := requires_python_floor(spec)) is None:
        return {}
    return {"target_version": version, "target_origin": f"requires-python {spec.strip()}"}


def _check_fail_on(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.lower() not in FAIL_ON_CHOICES:
        raise ConfigError(f"{where}: expected one of {', '.join(FAIL_ON_CHOICES)}, got {value!r}")
    return value.lower()


def _parse_rule_options(value: Any, check: RuleCheck, where: str) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}tool.bastion.rules: expected a table of rule tables")
    out: dict[str, dict[str, Any]] = {}
    for rule_id, options in value.items():
        key, parsed = check.rule_options(rule_id, options, where)
        out[key] = parsed
    return out


def apply_overrides(
    config: Config, overrides: Mapping[str, Any], *, rules: Callable[[], RuleCheck] | None = None
) -> Config:
    """CLI flags: --select replaces, --ignore adds, --fail-on replaces."""
    check = rules() if rules is not None else UNCHECKED
    changes: dict[str, Any] = {}
    if overrides.get("select"):
        for s in overrides["select"]:
            check.selector(s, "--select")
        changes["select"] = tuple(overrides["select"])
    if overrides.get("ignore"):
        for s in overrides["ignore"]:
            check.selector(s, "--ignore")
        changes["ignore"] = (*config.ignore, *overrides["ignore"])
    if overrides.get("extend_exclude"):
        extra = _expect_patterns(
            list(overrides["extend_exclude"]), "extend-exclude", "", "--extend-exclude"
        )
        changes["extend_exclude"] = (*config.extend_exclude, *extra)
    if overrides.get("fail_on"):
        changes["fail_on"] = _check_fail_on(overrides["fail_on"], "--fail-on")
    return replace(config, **changes)
