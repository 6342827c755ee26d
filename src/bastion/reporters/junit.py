"""`--format junit`: a JUnit XML report, for CI systems that show test results (GitLab's
`artifacts: reports: junit:`, Jenkins, Azure Pipelines, CircleCI).

One `<testsuite>` per checked file with findings (the file is the suite, as ruff does), one
`<testcase>` per finding with a `<failure>` that says where and what; files without findings are
one passing `<testcase>` each in a `bastion` suite, so the pass count is the number of clean
files. Counts (`tests`, `failures`, `errors`) are on every suite and on `<testsuites>`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import TextIO

from bastion.config import Config
from bastion.engine import RunResult
from bastion.findings import Finding
from bastion.reporters.json import redacted
from bastion.reporters.paths import repo_path

# characters XML 1.0 cannot carry at all (escaping does not help)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


def _case(finding: Finding, path: str) -> ET.Element:
    shown = redacted(finding)
    case = ET.Element(
        "testcase",
        {
            "name": _text(f"{shown.rule} {shown.name} at line {shown.line}"),
            "classname": _text(path),
            "file": _text(path),
            "line": str(shown.line),
        },
    )
    failure = ET.SubElement(
        case,
        "failure",
        {"message": _text(shown.message), "type": f"{shown.rule} ({shown.severity.label})"},
    )
    body = f"{path}:{shown.line}:{shown.column}: {shown.rule} {shown.message}"
    if shown.fix_hint:
        body += f"\nhint: {shown.fix_hint}"
    failure.text = _text(body)
    return case


def build_junit(result: RunResult, config: Config) -> ET.Element:
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in result.findings:
        by_path[repo_path(config.root, finding.path) or finding.path].append(finding)
    suites = ET.Element("testsuites", {"name": "bastion"})
    for path in sorted(by_path):
        findings = by_path[path]
        suite = ET.SubElement(
            suites,
            "testsuite",
            {
                "name": _text(path),
                "tests": str(len(findings)),
                "failures": str(len(findings)),
                "errors": "0",
                "skipped": "0",
            },
        )
        suite.extend(_case(f, path) for f in findings)
    clean = sorted({repo_path(config.root, s.path) or s.path for s in result.files} - set(by_path))
    errors = len(result.internal_errors)
    if clean or errors or not by_path:
        suite = ET.SubElement(
            suites,
            "testsuite",
            {
                "name": "bastion",
                "tests": str(len(clean) + errors),
                "failures": "0",
                "errors": str(errors),
                "skipped": "0",
            },
        )
        for path in clean:
            ET.SubElement(
                suite,
                "testcase",
                {"name": "no findings", "classname": _text(path), "file": _text(path)},
            )
        for index, message in enumerate(result.internal_errors, start=1):
            case = ET.SubElement(
                suite, "testcase", {"name": f"internal error {index}", "classname": "bastion"}
            )
            ET.SubElement(case, "error", {"message": _text(message)}).text = _text(message)
    total = sum(int(s.get("tests", "0")) for s in suites)
    suites.set("tests", str(total))
    suites.set("failures", str(len(result.findings)))
    suites.set("errors", str(errors))
    return suites


def report_junit(result: RunResult, config: Config, out: TextIO, *, color: bool) -> None:
    root = build_junit(result, config)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
