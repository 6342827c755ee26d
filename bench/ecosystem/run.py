"""Ecosystem check: run bastion over real application repositories and measure its precision.

    python bench/ecosystem/run.py --repos-dir /work/eco            # run, write results/, report
    python bench/ecosystem/run.py --repos-dir DIR --only fief,CTFd  # some repos only
    python bench/ecosystem/run.py --report                          # report on results/ as is
    python bench/ecosystem/run.py --compare OLD_DIR NEW_DIR         # per rule: added / removed

`repos.toml` pins each repository to a commit; the checkout of that commit must be at
`<repos-dir>/<name>` (the check needs no network: fetch the repositories by hand). Each run
writes `results/<name>.json`: the exit code, the counts by severity and rule, and every finding
(rule, severity, path, line, message, fingerprint; bastion redacts secrets in messages).

`verdicts.jsonl` holds one judgement per line, keyed by (repo, rule, path, fingerprint), which
is stable across runs as long as the flagged line is unchanged:

    {"repo": "fief", "rule": "SEC001", "path": "...", "fingerprint": "...", "line": 3,
     "verdict": "tp", "reason": "one line, written after reading the code"}

The report prints, per rule, found / judged / true positives / precision and its band, with
the bar of the rule's severity (error 95%, warning 90%, info 80%); and per repository the exit
code and the judged precision of the findings that fail CI (severity >= the fail-on level).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

HERE = Path(__file__).resolve().parent
REPOS_TOML = HERE / "repos.toml"
RESULTS = HERE / "results"
VERDICTS = HERE / "verdicts.jsonl"

SEVERITY_ORDER = {"info": 0, "warning": 1, "error": 2}
# Judged precision a rule must reach at its severity (issue #15).
BARS = {"error": 0.95, "warning": 0.90, "info": 0.80}
# Fewer judged findings than this and a rule's precision band is not asserted.
MIN_JUDGED_FOR_BAND = 5

Key = tuple[str, str, str, str]  # (repo, rule, path, fingerprint)


@dataclass(frozen=True)
class Repo:
    name: str
    url: str
    commit: str
    framework: str


@dataclass(frozen=True)
class Verdict:
    key: Key
    tp: bool
    reason: str


@dataclass
class RuleStats:
    rule: str
    severity: str
    found: int = 0
    judged: int = 0
    tp: int = 0

    @property
    def precision(self) -> float | None:
        return self.tp / self.judged if self.judged else None

    @property
    def meets_bar(self) -> bool | None:
        p = self.precision
        return None if p is None else p >= BARS[self.severity]


def precision_band(precision: float) -> str:
    """The SARIF `precision` band of a measured precision."""
    if precision >= 0.95:
        return "very-high"
    if precision >= 0.90:
        return "high"
    if precision >= 0.80:
        return "medium"
    return "low"


def load_repos(path: Path = REPOS_TOML) -> list[Repo]:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    return [Repo(r["name"], r["url"], r["commit"], r.get("framework", "")) for r in data["repo"]]


def finding_key(repo: str, finding: Mapping[str, Any]) -> Key:
    return (repo, str(finding["rule"]), str(finding["path"]), str(finding["fingerprint"]))


def load_results(directory: Path) -> dict[str, dict[str, Any]]:
    """Every `<repo>.json` of a results directory, by repository name."""
    results: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        results[str(data["repo"])] = data
    return results


def load_verdicts(path: Path = VERDICTS) -> dict[Key, Verdict]:
    """The judgements, by key; a later line for the same key replaces an earlier one."""
    verdicts: dict[Key, Verdict] = {}
    if not path.exists():
        return verdicts
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("verdict") not in ("tp", "fp"):
            raise ValueError(f"{path}:{number}: verdict must be 'tp' or 'fp'")
        key = finding_key(str(row["repo"]), row)
        verdicts[key] = Verdict(key, row["verdict"] == "tp", str(row.get("reason", "")))
    return verdicts


def rule_stats(
    results: Mapping[str, Mapping[str, Any]], verdicts: Mapping[Key, Verdict]
) -> dict[str, RuleStats]:
    """Per rule: findings, judged findings and true positives over every repository.
    A rule's severity is the one most of its findings carry."""
    severities: dict[str, Counter[str]] = defaultdict(Counter)
    stats: dict[str, RuleStats] = {}
    for repo, data in results.items():
        for finding in data["findings"]:
            rule = str(finding["rule"])
            severities[rule][str(finding["severity"])] += 1
            entry = stats.setdefault(rule, RuleStats(rule, "info"))
            entry.found += 1
            verdict = verdicts.get(finding_key(repo, finding))
            if verdict is not None:
                entry.judged += 1
                entry.tp += verdict.tp
    for rule, entry in stats.items():
        entry.severity = severities[rule].most_common(1)[0][0]
    return dict(sorted(stats.items()))


@dataclass
class RepoStats:
    repo: str
    exit_code: int
    by_severity: dict[str, int]
    failing: int = 0
    failing_judged: int = 0
    failing_tp: int = 0

    @property
    def failing_precision(self) -> float | None:
        return self.failing_tp / self.failing_judged if self.failing_judged else None


def repo_stats(
    results: Mapping[str, Mapping[str, Any]],
    verdicts: Mapping[Key, Verdict],
    fail_on: str = "warning",
) -> list[RepoStats]:
    """Per repository: exit code, findings by severity, and the judged precision of the
    findings at or above `fail_on` (those that make CI fail)."""
    out: list[RepoStats] = []
    for repo, data in sorted(results.items()):
        entry = RepoStats(repo, int(data["exit_code"]), dict(data["by_severity"]))
        for finding in data["findings"]:
            if SEVERITY_ORDER[str(finding["severity"])] < SEVERITY_ORDER[fail_on]:
                continue
            entry.failing += 1
            verdict = verdicts.get(finding_key(repo, finding))
            if verdict is not None:
                entry.failing_judged += 1
                entry.failing_tp += verdict.tp
        out.append(entry)
    return out


def compare(
    old: Mapping[str, Mapping[str, Any]], new: Mapping[str, Mapping[str, Any]]
) -> dict[str, tuple[int, int]]:
    """Per rule: (findings added, findings removed) from OLD to NEW, matched by key.
    Repositories present in only one of the two runs are left out."""
    changes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for repo in sorted(set(old) & set(new)):
        before = Counter(finding_key(repo, f) for f in old[repo]["findings"])
        after = Counter(finding_key(repo, f) for f in new[repo]["findings"])
        for key, count in (after - before).items():
            changes[key[1]][0] += count
        for key, count in (before - after).items():
            changes[key[1]][1] += count
    return {rule: (a, r) for rule, (a, r) in sorted(changes.items())}


def counts_by_rule(results: Mapping[str, Mapping[str, Any]]) -> Counter[str]:
    return Counter(str(f["rule"]) for data in results.values() for f in data["findings"])


def format_compare(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    before, after = counts_by_rule(old), counts_by_rule(new)
    lines = [f"{'rule':<8} {'before':>7} {'after':>7} {'added':>7} {'removed':>8}"]
    for rule, (added, removed) in compare(old, new).items():
        lines.append(f"{rule:<8} {before[rule]:>7} {after[rule]:>7} {added:>7} {removed:>8}")
    total_added = sum(a for a, _ in compare(old, new).values())
    total_removed = sum(r for _, r in compare(old, new).values())
    lines.append(
        f"{'total':<8} {sum(before.values()):>7} {sum(after.values()):>7} "
        f"{total_added:>7} {total_removed:>8}"
    )
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def format_report(results: Mapping[str, Mapping[str, Any]], verdicts: Mapping[Key, Verdict]) -> str:
    stats = rule_stats(results, verdicts)
    lines = [
        f"{'rule':<8} {'severity':<8} {'found':>6} {'judged':>6} {'tp':>5} {'prec.':>6} "
        f"{'band':<9} bar"
    ]
    for entry in stats.values():
        band = "-" if entry.precision is None else precision_band(entry.precision)
        bar = {None: "-", True: "ok", False: "BELOW"}[entry.meets_bar]
        lines.append(
            f"{entry.rule:<8} {entry.severity:<8} {entry.found:>6} {entry.judged:>6} "
            f"{entry.tp:>5} {_pct(entry.precision):>6} {band:<9} {bar}"
        )
    found = sum(s.found for s in stats.values())
    judged = sum(s.judged for s in stats.values())
    tp = sum(s.tp for s in stats.values())
    lines.append(
        f"total: {found} findings, {judged} judged ({tp} tp, "
        f"{_pct(tp / judged if judged else None)}), {found - judged} unjudged"
    )
    lines.append("")
    lines.append(
        f"{'repo':<28} {'exit':>4} {'error':>6} {'warn':>6} {'info':>6} "
        f"{'fail-CI':>7} {'judged':>6} {'prec.':>6}"
    )
    for entry in repo_stats(results, verdicts):
        sev = entry.by_severity
        lines.append(
            f"{entry.repo:<28} {entry.exit_code:>4} {sev.get('error', 0):>6} "
            f"{sev.get('warning', 0):>6} {sev.get('info', 0):>6} {entry.failing:>7} "
            f"{entry.failing_judged:>6} {_pct(entry.failing_precision):>6}"
        )
    return "\n".join(lines)


def bastion_command(spec: str | None) -> list[str]:
    if spec:
        return shlex.split(spec)
    found = shutil.which("bastion")
    return [found] if found else [sys.executable, "-m", "bastion"]


def run_repo(
    repo: Repo, checkout: Path, command: Sequence[str], select: str | None
) -> dict[str, Any]:
    """Run bastion with its defaults (plus --select) at the root of one checkout."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = [*command, "check", ".", "--format", "json", "--no-cache", "--quiet"]
        args += ["-o", str(report)]
        if select:
            args += ["--select", select]
        env = {**os.environ, "NO_COLOR": "1"}
        proc = subprocess.run(args, cwd=checkout, capture_output=True, text=True, env=env)
        if proc.returncode not in (0, 1) or not report.exists():
            raise RuntimeError(f"{repo.name}: bastion failed ({proc.returncode}): {proc.stderr}")
        data = json.loads(report.read_text(encoding="utf-8"))
    return summarise(repo, proc.returncode, data)


def summarise(repo: Repo, exit_code: int, report: Mapping[str, Any]) -> dict[str, Any]:
    """What is kept of a bastion JSON report: no code frames, only redacted messages."""
    findings = [
        {
            "rule": f["rule"],
            "severity": f["severity"],
            "path": f["path"],
            "line": f["line"],
            "message": f["message"],
            "fingerprint": f["fingerprint"],
        }
        for f in report["findings"]
    ]
    findings.sort(key=lambda f: (f["path"], f["line"], f["rule"], f["fingerprint"]))
    return {
        "repo": repo.name,
        "commit": repo.commit,
        "exit_code": exit_code,
        "files": report["summary"]["files"],
        "by_severity": {
            s: sum(1 for f in findings if f["severity"] == s) for s in ("error", "warning", "info")
        },
        "by_rule": dict(sorted(Counter(f["rule"] for f in findings).items())),
        "findings": findings,
    }


def write_result(directory: Path, result: Mapping[str, Any]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
    (directory / f"{result['repo']}.json").write_text(text, encoding="utf-8")


def check_commit(checkout: Path, repo: Repo) -> str | None:
    """A warning when the checkout is a git work tree at another commit than the pinned one."""
    if not (checkout / ".git").exists():
        return None
    proc = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True
    )
    head = proc.stdout.strip()
    if proc.returncode == 0 and head != repo.commit:
        return f"{repo.name}: checkout is at {head[:12]}, repos.toml pins {repo.commit[:12]}"
    return None


def run_all(
    repos: Iterable[Repo],
    repos_dir: Path,
    out: Path,
    command: Sequence[str],
    select: str | None,
) -> None:
    for repo in repos:
        checkout = repos_dir / repo.name
        if not checkout.is_dir():
            print(f"skip {repo.name}: no checkout at {checkout}", file=sys.stderr)
            continue
        warning = check_commit(checkout, repo)
        if warning:
            print(warning, file=sys.stderr)
        result = run_repo(repo, checkout, command, select)
        write_result(out, result)
        print(
            f"{repo.name}: exit {result['exit_code']}, {len(result['findings'])} findings",
            file=sys.stderr,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repos-dir", type=Path, help="where the checkouts are (<dir>/<name>)")
    parser.add_argument("--bastion", help="command that runs bastion (default: the installed one)")
    parser.add_argument("--select", help="passed to `bastion check --select` (e.g. ALL)")
    parser.add_argument("--only", help="comma-separated repository names")
    parser.add_argument("--out", type=Path, default=RESULTS, help="results directory")
    parser.add_argument("--verdicts", type=Path, default=VERDICTS)
    parser.add_argument("--report", action="store_true", help="only report on --out")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("OLD", "NEW"))
    args = parser.parse_args(argv)

    if args.compare:
        old, new = (load_results(d) for d in args.compare)
        print(format_compare(old, new))
        return 0
    if not args.report:
        if args.repos_dir is None:
            parser.error("--repos-dir is required to run (or pass --report / --compare)")
        repos = load_repos()
        if args.only:
            wanted = set(args.only.split(","))
            repos = [r for r in repos if r.name in wanted]
        run_all(repos, args.repos_dir, args.out, bastion_command(args.bastion), args.select)
    print(format_report(load_results(args.out), load_verdicts(args.verdicts)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
