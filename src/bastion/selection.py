"""Which rules run: the configuration (plain data, `bastion.config`) read against the registry.

- `enabled_rules(config, registry)`: the rules that `select`/`ignore` choose;
- `RegistryCheck`: the settings' rule selectors, ids and options checked against the known
  rules (`bastion.config.RuleCheck`); a wrong one is a `ConfigError` naming the key;
- `load_config`, `parse_table`, `apply_overrides`: `bastion.config`'s loaders with that check
  (the ones the command line and the tests use; `validate=False` is `bastion.config`'s own,
  unchecked, for the replay).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from bastion import config as _config
from bastion.config import Config, ConfigError, RuleCheck
from bastion.registry import Registry, load_registry
from bastion.rulemeta import RuleMeta


def enabled_rules(config: Config, registry: Registry | None = None) -> list[type[RuleMeta]]:
    registry = registry or load_registry()
    selected: list[type[RuleMeta]] = []
    for rule in registry.rules:
        if config.select is None or getattr(rule, "always_on", False):
            # BAS003 (a file not analysed) is on whatever `select` says: a narrow selection
            # must not let an unreadable file pass the gate
            chosen = rule.enabled_by_default
        else:
            chosen = any(_selects(s, rule) for s in config.select)
        if chosen and not any(_selects(s, rule, explicit_only=False) for s in config.ignore):
            selected.append(rule)
    return selected


def _selects(selector: str, rule: type[RuleMeta], *, explicit_only: bool = True) -> bool:
    """`ALL`, an id (`ERR001`), an id prefix (`ERR`, `SEC0`) or a rule name (`bare-except`).

    Rules off by default (they need the network) are only chosen by their exact id or name."""
    sel = selector.strip()
    exact = sel.upper() == rule.id or sel.lower() == rule.name
    if exact:
        return True
    if explicit_only and not rule.enabled_by_default:
        return False
    return sel.upper() == "ALL" or rule.id.startswith(sel.upper())


def validate_selector(selector: str, registry: Registry | None, where: str) -> None:
    sel = selector.strip()
    if registry is None or sel.upper() == "ALL":
        return
    if any(_selects(sel, rule, explicit_only=False) for rule in registry.rules):
        return
    raise ConfigError(
        f"{where}: unknown rule id or prefix {selector!r} (see `bastion rules` for the list)"
    )


def _rule_key(registry: Registry | None, rule_id: str, where: str) -> str:
    if registry is None:
        return str(rule_id).upper()
    rule = registry.by_id(rule_id)
    if rule is None:
        raise ConfigError(f"{where}: unknown rule id {rule_id!r}")
    return rule.id


class RegistryCheck:
    """`bastion.config.RuleCheck` against a registry."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def selector(self, selector: str, where: str) -> None:
        validate_selector(selector, self.registry, where)

    def rule_key(self, rule_id: str, where: str) -> str:
        return _rule_key(self.registry, rule_id, where)

    def rule_options(self, rule_id: str, options: Any, where: str) -> tuple[str, dict[str, Any]]:
        rule = self.registry.by_id(rule_id)
        if rule is None:
            raise ConfigError(f"{where}tool.bastion.rules: unknown rule id {rule_id!r}")
        if not isinstance(options, dict):
            raise ConfigError(f"{where}tool.bastion.rules.{rule_id}: expected a table")
        for key, val in options.items():
            if key not in rule.options:
                known = ", ".join(sorted(rule.options)) or "none"
                raise ConfigError(
                    f"{where}tool.bastion.rules.{rule_id}: unknown option {key!r} "
                    f"(options of {rule.id}: {known})"
                )
            default = rule.options[key]
            if not _same_type(default, val):
                raise ConfigError(
                    f"{where}tool.bastion.rules.{rule_id}.{key}: expected "
                    f"{type(default).__name__}, got {val!r}"
                )
        return rule.id, dict(options)


def _same_type(default: Any, value: Any) -> bool:
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, list | tuple):
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, type(default))


def registry_check() -> RuleCheck:
    """The check for the plugins active now (call it after `plugins.activate`)."""
    return RegistryCheck(load_registry())


# -- the checked loaders --------------------------------------------------------------------------


def load_config(
    paths: Iterable[Path],
    config_file: Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    validate: bool = True,
) -> Config:
    """`bastion.config.load_config`, with every rule id and option checked (`validate=False`:
    nothing checked and no rule imported, for a config whose exact inputs a checked run saw
    before: `bastion.replay`)."""
    rules = registry_check if validate else None
    return _config.load_config(paths, config_file, overrides, rules=rules)


def parse_table(
    table: Mapping[str, Any], *, root: Path, source: Path | None = None, validate: bool = True
) -> Config:
    rules = registry_check if validate else None
    return _config.parse_table(table, root=root, source=source, rules=rules)


def apply_overrides(
    config: Config, overrides: Mapping[str, Any], *, validate: bool = True
) -> Config:
    return _config.apply_overrides(config, overrides, rules=registry_check if validate else None)
