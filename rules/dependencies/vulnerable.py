"""DEP001: pinned dependencies with known vulnerabilities (off by default: it may use the
network)."""

from __future__ import annotations

from pathlib import Path

from bastion.analysis.audit import AuditError, Pin, audit_offline, audit_online, describe
from bastion.findings import Severity
from bastion.rule import Example, ProjectRule


class VulnerableDependency(ProjectRule):
    """Flags exact pins (`name==1.2.3` in requirements files or pyproject.toml, and every
    package of `uv.lock`/`poetry.lock`/`pdm.lock`/`Pipfile.lock`) that a published advisory
    affects. The finding sits on the requirement's line and names the advisory, its aliases
    (CVE, PYSEC) and the fixed versions.

    Off by default so that `bastion check` stays offline: select it (`--select DEP001`) or run
    `bastion audit-deps`. With the option `vuln-db` (a folder of OSV records, JSON or YAML, as
    published by osv.dev and the PyPA advisory database) it never touches the network;
    otherwise it asks PyPI (or OSV, option `service = "osv"`) through pip-audit. A failed audit
    is an error of the run (exit 2), never a silent pass. Ranges that are not exact pins cannot
    be audited: lock them (see DEP002)."""

    id = "DEP001"
    needs = frozenset({"dependencies"})  # the facts it reads
    name = "vulnerable-dependency"
    severity = Severity.ERROR
    summary = "Pinned dependency with a known vulnerability"
    why = (
        "A known advisory is the easiest attack there is: the exploit is public, scanners look "
        "for it, and the fix is usually a patch release away. Auditing the pins on every build "
        "catches it the day it is published, not after the incident."
    )
    hint = "Upgrade to a fixed version (named in the message) and re-lock."
    cwe = (1395,)
    enabled_by_default = False
    reads = frozenset({"network", "advisory-db"})
    options = {"vuln-db": "", "service": "pypi", "timeout": 15}
    bad = [
        Example("django==3.2.0\n", path="requirements.txt"),
        Example("pyyaml==5.3\n", path="requirements.txt"),
        Example("requests==2.19.0\n", path="requirements.txt"),
    ]
    good = [
        Example("django==5.1.4\n", path="requirements.txt"),
        Example("pyyaml==6.0.2\n", path="requirements.txt"),
        Example("requests==2.32.3\n", path="requirements.txt"),
    ]

    def check_project(self) -> None:
        pins: dict[tuple[str, int, str], Pin] = {}
        for path, fact in self.project.facts("dependencies"):
            if fact["type"] == "dep" and fact.get("version"):
                pin = Pin(fact["name"], fact["version"], path, fact["line"], fact["raw"])
                pins[(path, pin.line, pin.name)] = pin
            elif fact["type"] == "lock":
                for name, version, line in fact.get("packages", []):
                    pins[(path, line, name)] = Pin(name, version, path, line, f"{name}=={version}")
        if not pins:
            return
        database = str(self.option("vuln-db"))
        if database:
            location = Path(database)
            if not location.is_absolute():
                location = self.project.config.root / location
            result = audit_offline(pins.values(), location)
        else:
            result = audit_online(
                pins.values(), str(self.option("service")), int(self.option("timeout"))
            )
        for pin, advisory in result.hits:
            message, hint = describe(pin, advisory)
            self.report_at(pin.path, pin.line, 1, message, hint=hint)
        if result.errors:
            raise AuditError("; ".join(result.errors))
