"""Benchmark bastion on real code: the sources of popular projects, downloaded from PyPI.

    python bench/run.py                      # django only (the foundation's reference corpus)
    python bench/run.py django fastapi flask # several corpora
    python bench/run.py --runs 5 --json out.json

For each corpus it reports, as the median of `--runs` runs: the floor (`ast.parse` of every
Python file, in this process), bastion's wall and CPU time as a subprocess over the same tree
(cold: no cache exists yet), files/second, and the findings per rule of the last run. Nothing
here is asserted: numbers go in bench/RESULTS.md and the issue notes.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"

# Pinned so that numbers are comparable across runs and sessions.
CORPORA: dict[str, str] = {
    "django": "django==5.2.8",
    "fastapi": "fastapi==0.115.6",
    "flask": "flask==3.1.0",
    "starlette": "starlette==0.41.3",
    "sqlalchemy": "sqlalchemy==2.0.36",
    "werkzeug": "werkzeug==3.1.3",
    "pydantic": "pydantic==2.10.4",
    "celery": "celery==5.4.0",
    "djangorestframework": "djangorestframework==3.15.2",
    "httpx": "httpx==0.28.1",
}


def fetch(name: str) -> Path:
    """Download the pinned wheel (sources included) once and unpack it under bench/.cache."""
    target = CACHE / name
    if target.is_dir() and any(target.iterdir()):
        return target
    download = CACHE / "_downloads"
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--dest",
            str(download),
            CORPORA[name],
        ],
        check=True,
    )
    wanted = CORPORA[name].split("==")[0].replace("-", "_").lower()
    wheel = next(
        w for w in sorted(download.glob("*.whl")) if w.name.lower().startswith(wanted + "-")
    )
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.is_file())


def floor_seconds(files: list[Path]) -> float:
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for path in files:
            with contextlib.suppress(SyntaxError, ValueError):
                ast.parse(path.read_bytes())
    return time.perf_counter() - start


def run_bastion(root: Path) -> tuple[float, float, dict[str, object]]:
    """Wall and CPU seconds of one `bastion check` subprocess, and its JSON report."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bastion",
            "check",
            str(root),
            "--format",
            "json",
            "--fail-on",
            "never",
            "--select",
            "ALL",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"bastion failed on {root}: {proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(proc.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("corpora", nargs="*", default=["django"], choices=sorted(CORPORA))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()

    results = []
    for name in args.corpora:
        root = fetch(name)
        files = python_files(root)
        floors = [floor_seconds(files) for _ in range(args.runs)]
        walls, cpus = [], []
        report: dict[str, object] = {}
        for _ in range(args.runs):
            wall, cpu, report = run_bastion(root)
            walls.append(wall)
            cpus.append(cpu)
        summary = report["summary"]
        assert isinstance(summary, dict)
        wall = statistics.median(walls)
        row = {
            "corpus": CORPORA[name],
            "python_files": len(files),
            "files_checked": summary["files"],
            "floor_ast_parse_s": round(statistics.median(floors), 3),
            "bastion_wall_s": round(wall, 3),
            "bastion_cpu_s": round(statistics.median(cpus), 3),
            "files_per_s": round(int(summary["files"]) / wall, 1),
            "ratio_to_floor": round(wall / statistics.median(floors), 1),
            "findings": summary["findings"],
            "by_rule": summary["by_rule"],
        }
        results.append(row)
        print(
            f"{row['corpus']:<32} {row['files_checked']:>5} files  floor "
            f"{row['floor_ast_parse_s']:.2f}s  bastion {row['bastion_wall_s']:.2f}s wall "
            f"{row['bastion_cpu_s']:.2f}s cpu  {row['files_per_s']:.0f} files/s  "
            f"x{row['ratio_to_floor']} floor  {row['findings']} findings"
        )
        print(f"    by rule: {row['by_rule']}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
