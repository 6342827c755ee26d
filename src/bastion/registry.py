"""Finds every rule and fact collector shipped in `bastion.rules`.

Adding a rule is adding a module: every module under the package is imported once and its
`Rule`, `ProjectRule` and `FactCollector` subclasses are registered. Ids and names must be
unique; a clash is a programming error and fails loudly (and in the test suite).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from dataclasses import dataclass

from bastion.rule import FactCollector, ProjectRule, Rule, RuleMeta


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


@functools.cache
def load_registry() -> Registry:
    # imported by name: the package lives in rules/ and is mapped in at install time
    package = importlib.import_module("bastion.rules")

    rules: dict[str, type[RuleMeta]] = {}
    names: dict[str, str] = {}
    collectors: dict[str, type[FactCollector]] = {}
    for info in pkgutil.walk_packages(package.__path__, prefix="bastion.rules."):
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if obj.__module__ != module.__name__:
                continue
            if issubclass(obj, FactCollector) and obj is not FactCollector:
                collectors[f"{obj.__module__}.{obj.__qualname__}"] = obj
            elif issubclass(obj, Rule | ProjectRule) and obj.id:
                _check_metadata(obj)
                if obj.id in rules:
                    raise RuntimeError(f"rule id {obj.id} defined twice: {obj}, {rules[obj.id]}")
                if obj.name in names:
                    raise RuntimeError(f"rule name {obj.name} used by {obj.id}, {names[obj.name]}")
                rules[obj.id] = obj
                names[obj.name] = obj.id
    return Registry(
        rules=tuple(sorted(rules.values(), key=lambda r: _id_key(r.id))),
        collectors=tuple(collectors[k] for k in sorted(collectors)),
    )


def _id_key(rule_id: str) -> tuple[str, int]:
    prefix = rule_id.rstrip("0123456789")
    return (prefix, int(rule_id[len(prefix) :] or 0))


def _check_metadata(rule: type[RuleMeta]) -> None:
    missing = [a for a in ("name", "summary", "why", "hint") if not getattr(rule, a)]
    if missing:
        raise RuntimeError(f"rule {rule.id} lacks metadata: {', '.join(missing)}")
