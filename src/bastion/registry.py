"""Finds every rule and fact collector: those shipped in `bastion.rules`, then the plugins'.

Adding a rule is adding a module: every module under the package is imported once and its
`Rule`, `ProjectRule` and `FactCollector` subclasses are registered. Ids and names must be
unique; a clash among built-ins is a programming error and fails loudly (and in the test
suite). Plugins (`bastion.plugins`: installed entry points, trusted local rule modules) go
through the same registration, with their own id prefix; their mistakes are `PluginError`s
that name the plugin.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

from bastion import plugins, suppression
from bastion.plugins import PluginError
from bastion.rule import AREA_BY_PREFIX, READS, FactCollector, ProjectRule, Rule, RuleMeta


@dataclass(frozen=True)
class Registry:
    rules: tuple[type[RuleMeta], ...]  # file rules and project rules, sorted by id
    collectors: tuple[type[FactCollector], ...]

    def by_id(self, rule_id: str) -> type[RuleMeta] | None:
        key = rule_id.upper()
        for rule in self.rules:
            if rule.id == key:
                return rule
        for rule in self.rules:
            if rule.name == rule_id.lower():
                return rule
        return None

    @property
    def file_rules(self) -> list[type[Rule]]:
        return [r for r in self.rules if issubclass(r, Rule)]

    @property
    def project_rules(self) -> list[type[ProjectRule]]:
        return [r for r in self.rules if issubclass(r, ProjectRule)]


def load_registry() -> Registry:
    """The registry for the plugins active now (built once per set of local plugins)."""
    return _load(plugins.active())


@functools.cache
def _load(local: plugins.LocalPlugins) -> Registry:
    # imported by name: the package lives in rules/ and is mapped in at install time
    package = importlib.import_module("bastion.rules")
    found = _Found()
    for info in pkgutil.walk_packages(package.__path__, prefix="bastion.rules."):
        found.add_module(importlib.import_module(info.name), origin=None)
    for origin, module in plugins.entry_point_modules():
        found.add_module(module, origin=f"plugin {origin}")
    if local.specs:
        for spec, module in plugins.local_modules():
            found.add_module(module, origin=f"tool.bastion.plugins {spec!r}")
    return Registry(
        rules=tuple(sorted(found.rules.values(), key=lambda r: _id_key(r.id))),
        collectors=tuple(found.collectors[k] for k in sorted(found.collectors)),
    )


class _Found:
    def __init__(self) -> None:
        self.rules: dict[str, type[RuleMeta]] = {}
        self.names: dict[str, str] = {}
        self.collectors: dict[str, type[FactCollector]] = {}

    def add_module(self, module: ModuleType, *, origin: str | None) -> None:
        """Register the module's own classes. `origin` None: built-in (a mistake is a bug,
        RuntimeError); else the plugin's name for its PluginError."""
        for obj in _own_classes(module):
            if issubclass(obj, FactCollector) and obj is not FactCollector:
                self.collectors[f"{obj.__module__}.{obj.__qualname__}"] = obj
            elif issubclass(obj, Rule | ProjectRule) and obj.id:
                try:
                    self._add_rule(obj, plugin=origin is not None)
                except RuntimeError as exc:
                    if origin is None:
                        raise
                    raise PluginError(f"{origin}: {exc}") from None

    def _add_rule(self, rule: type[RuleMeta], *, plugin: bool) -> None:
        _check_metadata(rule)
        if plugin:
            _check_plugin_id(rule)
        if rule.id in self.rules:
            raise RuntimeError(f"rule id {rule.id} defined twice: {rule}, {self.rules[rule.id]}")
        if rule.name in self.names:
            raise RuntimeError(f"rule name {rule.name} used by {rule.id}, {self.names[rule.name]}")
        self.rules[rule.id] = rule
        self.names[rule.name] = rule.id


def _own_classes(module: ModuleType) -> Iterable[type]:
    for _, obj in inspect.getmembers(module, inspect.isclass):
        if obj.__module__ == module.__name__:
            yield obj


def _check_plugin_id(rule: type[RuleMeta]) -> None:
    if not plugins.PLUGIN_ID.fullmatch(rule.id):
        raise RuntimeError(
            f"rule id {rule.id!r} ({rule.__name__}): a plugin's ids are its own prefix of 2-10 "
            "capitals and 3-4 digits, e.g. ACME001"
        )
    prefix = rule.id.rstrip("0123456789")
    if prefix in AREA_BY_PREFIX:
        raise RuntimeError(
            f"rule id {rule.id} ({rule.__name__}): the prefix {prefix} belongs to bastion's "
            "built-in rules; choose your own"
        )


def _id_key(rule_id: str) -> tuple[str, int]:
    prefix = rule_id.rstrip("0123456789")
    return (prefix, int(rule_id[len(prefix) :] or 0))


def _check_metadata(rule: type[RuleMeta]) -> None:
    missing = [a for a in ("name", "summary", "why", "hint") if not getattr(rule, a)]
    if missing:
        raise RuntimeError(f"rule {rule.id} lacks metadata: {', '.join(missing)}")
    unknown = sorted(set(rule.reads) - READS)
    if unknown:
        raise RuntimeError(
            f"rule {rule.id}: reads {', '.join(unknown)}: not one of {', '.join(sorted(READS))}"
        )


def _external_codes() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """{rule id: (ruff/flake8 codes, bandit test ids)}: what `# noqa:` / `# nosec` may name."""
    return {
        rule.id: (tuple(c.upper() for c in rule.aliases), tuple(c.upper() for c in rule.bandit))
        for rule in load_registry().rules
        if rule.aliases or rule.bandit
    }


suppression.use_external_codes(_external_codes)
