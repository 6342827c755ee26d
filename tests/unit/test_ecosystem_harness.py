"""bench/ecosystem/run.py: precision over judged findings, --compare, and the rules' measured
precision bands (issue #15)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bastion.registry import load_registry

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "bench" / "ecosystem" / "run.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("ecosystem_run", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["ecosystem_run"] = module
    spec.loader.exec_module(module)
    return module


eco = _load()


def _finding(rule: str, path: str, fp: str, severity: str = "warning") -> dict[str, Any]:
    return {
        "rule": rule,
        "severity": severity,
        "path": path,
        "line": 1,
        "message": "m",
        "fingerprint": fp,
    }


def _result(repo: str, findings: list[dict[str, Any]], exit_code: int = 1) -> dict[str, Any]:
    by_severity = {
        s: sum(f["severity"] == s for f in findings) for s in ("error", "warning", "info")
    }
    return {
        "repo": repo,
        "commit": "0" * 40,
        "exit_code": exit_code,
        "files": 1,
        "by_severity": by_severity,
        "by_rule": {},
        "findings": findings,
    }


def _write(directory: Path, *results: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for result in results:
        eco.write_result(directory, result)
    return directory


def _verdicts(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    lines = [
        json.dumps(
            {"repo": r, "rule": ru, "path": p, "fingerprint": f, "verdict": v, "reason": "x"}
        )
        for r, ru, p, f, v in rows
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_precision_band_edges() -> None:
    assert eco.precision_band(1.0) == "very-high"
    assert eco.precision_band(0.95) == "very-high"
    assert eco.precision_band(0.949) == "high"
    assert eco.precision_band(0.90) == "high"
    assert eco.precision_band(0.80) == "medium"
    assert eco.precision_band(0.79) == "low"


def test_rule_stats_counts_judged_and_unjudged(tmp_path: Path) -> None:
    results = eco.load_results(
        _write(
            tmp_path / "r",
            _result(
                "app",
                [
                    _finding("SEC001", "a.py", "1", "error"),
                    _finding("SEC001", "b.py", "2", "error"),
                    _finding("SEC001", "c.py", "3", "error"),
                    _finding("LOG001", "a.py", "4"),
                ],
            ),
            _result("other", [_finding("SEC001", "a.py", "1", "error")]),
        )
    )
    verdicts = eco.load_verdicts(
        _verdicts(
            tmp_path / "v.jsonl",
            [
                ("app", "SEC001", "a.py", "1", "tp"),
                ("app", "SEC001", "b.py", "2", "fp"),
                ("other", "SEC001", "a.py", "1", "tp"),
                ("gone", "SEC001", "a.py", "1", "fp"),  # a verdict for no current finding
            ],
        )
    )
    stats = eco.rule_stats(results, verdicts)
    sec = stats["SEC001"]
    assert (sec.found, sec.judged, sec.tp, sec.severity) == (4, 3, 2, "error")
    assert sec.precision == pytest.approx(2 / 3)
    assert sec.meets_bar is False  # error needs 95%
    log = stats["LOG001"]
    assert (log.found, log.judged, log.precision, log.meets_bar) == (1, 0, None, None)
    report = eco.format_report(results, verdicts)
    assert "5 findings, 3 judged (2 tp, 67%), 2 unjudged" in report


def test_later_verdict_line_replaces_earlier(tmp_path: Path) -> None:
    path = _verdicts(
        tmp_path / "v.jsonl",
        [("app", "SEC001", "a.py", "1", "fp"), ("app", "SEC001", "a.py", "1", "tp")],
    )
    verdicts = eco.load_verdicts(path)
    assert len(verdicts) == 1
    assert next(iter(verdicts.values())).tp is True


def test_bad_verdict_value_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "v.jsonl"
    path.write_text(
        json.dumps({"repo": "a", "rule": "X", "path": "p", "fingerprint": "f", "verdict": "ok"})
        + "\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="verdict must be"):
        eco.load_verdicts(path)


def test_repo_stats_judge_only_what_fails_ci(tmp_path: Path) -> None:
    results = eco.load_results(
        _write(
            tmp_path / "r",
            _result(
                "app",
                [
                    _finding("SEC001", "a.py", "1", "error"),
                    _finding("LOG001", "a.py", "2", "warning"),
                    _finding("API011", "a.py", "3", "info"),
                ],
            ),
        )
    )
    verdicts = eco.load_verdicts(
        _verdicts(
            tmp_path / "v.jsonl",
            [
                ("app", "SEC001", "a.py", "1", "tp"),
                ("app", "LOG001", "a.py", "2", "fp"),
                ("app", "API011", "a.py", "3", "fp"),  # info: does not fail CI
            ],
        )
    )
    (entry,) = eco.repo_stats(results, verdicts)
    assert (entry.failing, entry.failing_judged, entry.failing_tp) == (2, 2, 1)
    assert entry.failing_precision == pytest.approx(0.5)
    (strict,) = eco.repo_stats(results, verdicts, fail_on="error")
    assert (strict.failing, strict.failing_tp) == (1, 1)


def test_compare_reports_added_and_removed_per_rule(tmp_path: Path) -> None:
    old = eco.load_results(
        _write(
            tmp_path / "old",
            _result("app", [_finding("SEC001", "a.py", "1"), _finding("SEC001", "b.py", "2")]),
            _result("only-old", [_finding("LOG001", "x.py", "9")]),
        )
    )
    new = eco.load_results(
        _write(
            tmp_path / "new",
            _result("app", [_finding("SEC001", "a.py", "1"), _finding("SEC007", "c.py", "3")]),
        )
    )
    assert eco.compare(old, new) == {"SEC001": (0, 1), "SEC007": (1, 0)}
    text = eco.format_compare(old, new)
    assert "SEC007" in text and "SEC001" in text


def test_compare_counts_duplicate_keys(tmp_path: Path) -> None:
    twice = [_finding("SEC001", "a.py", "1"), _finding("SEC001", "a.py", "1")]
    old = eco.load_results(_write(tmp_path / "old", _result("app", twice)))
    new = eco.load_results(_write(tmp_path / "new", _result("app", twice[:1])))
    assert eco.compare(old, new) == {"SEC001": (0, 1)}


def test_summarise_keeps_no_code_frames() -> None:
    repo = eco.Repo("app", "https://example.invalid/app", "0" * 40, "fastapi")
    report = {
        "summary": {"files": 2},
        "findings": [
            {
                **_finding("SEC001", "a.py", "1", "error"),
                "code": "PASSWORD = 'hunter2'",
                "fix_hint": "h",
            }
        ],
    }
    result = eco.summarise(repo, 1, report)
    assert result["by_severity"] == {"error": 1, "warning": 0, "info": 0}
    assert set(result["findings"][0]) == {
        "rule",
        "severity",
        "path",
        "line",
        "message",
        "fingerprint",
    }


def test_repos_toml_pins_real_commits() -> None:
    repos = eco.load_repos()
    assert len(repos) >= 12
    assert all(len(r.commit) == 40 for r in repos)
    frameworks = " ".join(r.framework for r in repos)
    for framework in ("fastapi", "flask", "django", "drf"):
        assert framework in frameworks


def test_rules_state_their_measured_precision_band() -> None:
    """A rule with enough judged findings on the committed ecosystem results declares the band
    it measured (its SARIF `precision`) and says so in its docs."""
    results = eco.load_results(eco.RESULTS)
    stats = eco.rule_stats(results, eco.load_verdicts(eco.VERDICTS))
    measured = {
        rule: eco.precision_band(s.precision)
        for rule, s in stats.items()
        if s.judged >= eco.MIN_JUDGED_FOR_BAND and s.precision is not None
    }
    assert len(measured) >= 20
    by_id = {rule.id: rule for rule in load_registry().rules}
    wrong = {
        rule: (by_id[rule].precision, band)
        for rule, band in measured.items()
        if rule in by_id and by_id[rule].precision != band
    }
    assert wrong == {}
    unmeasured = [r for r in measured if r in by_id and not by_id[r].precision_measured]
    assert unmeasured == []


def test_every_rule_meets_the_bar_of_its_severity_on_real_applications() -> None:
    """Issue #15's target, on the committed results and verdicts: a rule with enough judged
    findings is right at least 95% of the time at error, 90% at warning, 80% at info (a rule
    that cannot be is narrowed, lowered or made opt-in, and its docs say so)."""
    results = eco.load_results(eco.RESULTS)
    stats = eco.rule_stats(results, eco.load_verdicts(eco.VERDICTS))
    below = {
        rule: f"{s.tp}/{s.judged} at {s.severity}"
        for rule, s in stats.items()
        if s.judged >= eco.MIN_JUDGED_FOR_BAND and s.meets_bar is False
    }
    assert below == {}
