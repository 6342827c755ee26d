"""Code that runs once, by hand or at deploy time, not per request: a query per row there costs
a few seconds once, and the findings were judged noise on real applications (bench/ecosystem).
Shared by PERF003 and PERF004 (on top of tests and `migrations/` folders, which they skip)."""

from __future__ import annotations

from pathlib import PurePosixPath

# test-support packages outside `tests/` (netbox's `utilities/testing/`, DefectDojo's
# `unittests/`): their helpers run in the test suite only
_TEST_SUPPORT_DIRS = frozenset({"testing", "unittests", "test_utils", "testutils"})
# demo-data generators (saleor's `core/utils/random_data.py` behind `populatedb`)
_DEMO_DATA = ("random_data", "sample_data", "demo_data", "fake_data", "dummy_data")


def is_one_off(path: str) -> bool:
    """A data migration or migration fix-up outside a `migrations/` folder (lnbits'
    `core/migrations.py`, DefectDojo's `jira_refactor_data_migration.py` command, mealie's
    `db/fixes/fix_migration_data.py`), a demo-data generator, or a test-support module."""
    parts = PurePosixPath(path.lower()).parts
    if not parts:
        return False
    name = parts[-1]
    if "migration" in name:
        return True
    if any(word in name for word in _DEMO_DATA):
        return True
    return any(folder in _TEST_SUPPORT_DIRS for folder in parts[:-1])


def is_command(path: str) -> bool:
    """A Django management command (`management/commands/`) or a module of a `cli` package:
    run by hand or by cron, where a query per row costs seconds once, not per request
    (PERF003's findings there were judged mostly noise in bench/ecosystem)."""
    parts = PurePosixPath(path.lower()).parts
    folders = parts[:-1]
    joined = "/" + "/".join(folders) + "/"
    return "/management/commands/" in joined or "cli" in folders
