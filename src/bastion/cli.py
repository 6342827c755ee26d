"""The command line: `bastion check|audit-deps|rules|rule`.

Exit codes (public contract): 0 nothing at or above --fail-on, 1 findings, 2 usage, config or
internal error.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import click

from bastion import __version__
from bastion.config import FAIL_ON_CHOICES, ConfigError, load_config

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: Sequence[str]) -> list[str]:
    """`--select ERR001,SEC --select API` -> [ERR001, SEC, API]."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _use_color(out: TextIO, no_color: bool) -> bool:
    import os

    if no_color or os.environ.get("NO_COLOR"):
        return False
    return hasattr(out, "isatty") and out.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="bastion")
def cli() -> None:
    """bastion: a best-practice linter and audit tool for Python backends."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--select", multiple=True, help="Rules to run: ids, prefixes (SEC) or names; ALL.")
@click.option("--ignore", multiple=True, help="Rules to skip (added to the config's ignore).")
@click.option("--extend-exclude", multiple=True, help="More gitignore-style paths to skip.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report to FILE instead of stdout.",
)
@click.option(
    "--fail-on",
    type=click.Choice(FAIL_ON_CHOICES),
    help="Lowest severity that makes the exit code 1 (default: warning).",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read settings from this TOML file instead of the nearest pyproject.toml.",
)
@click.option("--quiet", "-q", is_flag=True, help="Print findings only: no notices.")
@click.option("--no-color", is_flag=True, help="Plain text, no colour or code frames.")
def check(
    paths: tuple[Path, ...],
    select: tuple[str, ...],
    ignore: tuple[str, ...],
    extend_exclude: tuple[str, ...],
    output_format: str,
    output: Path | None,
    fail_on: str | None,
    config_file: Path | None,
    quiet: bool,
    no_color: bool,
) -> None:
    """Check PATHS (default: the current folder) and report findings."""
    from bastion.engine import run
    from bastion.reporters import get_reporter

    targets = list(paths) or [Path(".")]
    overrides: dict[str, Any] = {
        "select": _split(select),
        "ignore": _split(ignore),
        "extend_exclude": list(extend_exclude),
        "fail_on": fail_on,
    }
    try:
        config = load_config(targets, config_file, overrides)
    except ConfigError as exc:
        click.echo(f"bastion: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)

    result = run(targets, config)
    reporter = get_reporter(output_format)
    if output is not None:
        try:
            with output.open("w", encoding="utf-8") as handle:
                reporter(result, config, handle, color=False)
        except OSError as exc:
            click.echo(f"bastion: error: cannot write {output}: {exc.strerror}", err=True)
            sys.exit(EXIT_ERROR)
    else:
        stdout = sys.stdout
        reporter(result, config, stdout, color=_use_color(stdout, no_color))
    if not quiet:
        for notice in result.notices:
            click.echo(f"bastion: {notice}", err=True)
    for error in result.internal_errors:
        click.echo(f"bastion: {error} (please report this bug)", err=True)
    sys.exit(result.exit_code(config))


@cli.command(name="audit-deps")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option(
    "--vuln-db",
    type=click.Path(file_okay=False, path_type=Path),
    help="Audit offline against this folder of OSV records (JSON/YAML); no network.",
)
@click.option(
    "--service",
    type=click.Choice(["pypi", "osv"]),
    default="pypi",
    show_default=True,
    help="Online vulnerability service (through pip-audit) when no --vuln-db is given.",
)
@click.option("--timeout", type=click.IntRange(1, 600), default=15, show_default=True)
@click.option(
    "--ignore-audit-errors",
    is_flag=True,
    help="Report what could be audited and exit 0/1 even if part of the audit failed.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES))
@click.option("--quiet", "-q", is_flag=True, help="Print findings only: no notices.")
@click.option("--no-color", is_flag=True, help="Plain text, no colour or code frames.")
def audit_deps(
    paths: tuple[Path, ...],
    vuln_db: Path | None,
    service: str,
    timeout: int,
    ignore_audit_errors: bool,
    output_format: str,
    output: Path | None,
    fail_on: str | None,
    quiet: bool,
    no_color: bool,
) -> None:
    """Audit the pinned dependencies of PATHS (requirements files with their -r/-c includes,
    pyproject.toml, lock files) for known vulnerabilities (DEP001)."""
    from bastion.audit_command import run_audit
    from bastion.reporters import get_reporter

    targets = list(paths) or [Path(".")]
    try:
        config = load_config(targets, None, {"fail_on": fail_on})
    except ConfigError as exc:
        click.echo(f"bastion: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    result, errors = run_audit(targets, config, vuln_db, service, timeout)
    reporter = get_reporter(output_format)
    try:
        if output is not None:
            with output.open("w", encoding="utf-8") as handle:
                reporter(result, config, handle, color=False)
        else:
            reporter(result, config, sys.stdout, color=_use_color(sys.stdout, no_color))
    except OSError as exc:
        click.echo(f"bastion: error: cannot write {output}: {exc.strerror}", err=True)
        sys.exit(EXIT_ERROR)
    if not quiet:
        for notice in result.notices:
            click.echo(f"bastion: {notice}", err=True)
    for error in errors:
        click.echo(f"bastion: audit error: {error}", err=True)
    if errors and not ignore_audit_errors:
        click.echo(
            "bastion: the audit is incomplete (use --ignore-audit-errors to accept that)",
            err=True,
        )
        sys.exit(EXIT_ERROR)
    sys.exit(result.exit_code(config))


@cli.command(name="rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text")
def list_rules(output_format: str) -> None:
    """List every rule: id, name, area, severity and fix availability."""
    from bastion.registry import load_registry

    rules = load_registry().rules
    if output_format == "json":
        import json

        click.echo(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "name": r.name,
                        "area": r.area().value,
                        "severity": r.severity.label,
                        "fix": r.fix_safety.value,
                        "enabled_by_default": r.enabled_by_default,
                        "summary": r.summary,
                    }
                    for r in rules
                ],
                indent=2,
            )
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"bastion {__version__}: {len(rules)} rules")
    for column in ("id", "name", "area", "severity", "fix", "summary"):
        table.add_column(column)
    for r in rules:
        table.add_row(r.id, r.name, r.area().value, r.severity.label, r.fix_safety.value, r.summary)
    Console(soft_wrap=False).print(table)


@cli.command(name="rule")
@click.argument("rule_id")
def show_rule(rule_id: str) -> None:
    """Show the documentation of one rule (by id or name)."""
    from bastion.docs import render_markdown
    from bastion.registry import load_registry

    rule = load_registry().by_id(rule_id)
    if rule is None:
        click.echo(f"bastion: error: unknown rule {rule_id!r} (see `bastion rules`)", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(render_markdown(rule), nl=False)


def main() -> None:
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:  # pragma: no cover
        click.echo("bastion: interrupted", err=True)
        sys.exit(EXIT_ERROR)
