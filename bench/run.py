"""Benchmark bastion on real code: the sources of popular projects, downloaded from PyPI.

    python bench/run.py                    # the whole corpus, every scenario, 3 runs each
    python bench/run.py --corpus django    # one project
    python bench/run.py --peers            # also bandit and Fixit (installed in bench/.venv)
    python bench/run.py --peers bandit     # only bandit (Fixit takes minutes per run)
    python bench/run.py --json results.json
    python bench/run.py --against /work/main/.venv/bin/python  # before/after, same run

Scenarios (median of `--runs`; wall and CPU seconds, peak RSS, files/second):
  floor-1 / floor-N  `ast.parse` of every Python file, in 1 and N processes (the lower bound);
                     floor-1 is measured again next to each cold-1 run, for the paired ratio
  cold-1 / cold-N    `bastion check --no-cache --jobs 1|N --select ALL`
  cold-1-against     with `--against PYTHON`: the same as cold-1 with the bastion that
                     interpreter imports (another checkout), its runs alternating with
                     cold-1's so that both see the same machine load (a before/after)
  warm               `bastion check` again over the unchanged tree (the report is replayed)
  warm-no-replay     the same with the recorded report removed: the per-file cache alone
  warm-touch-1       the same after one file was modified (re-analyses that file)
  three-files        `bastion check a.py b.py c.py` as a subprocess (the pre-commit case)
  bandit / fixit     peers on the same files (with --peers)

Nothing here is asserted: the numbers go in bench/RESULTS.md and the issue notes.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
TIME = shutil.which("time") or "/usr/bin/time"

# Pinned so that numbers are comparable across runs and sessions.
CORPORA: dict[str, str] = {
    "django": "django==5.2.8",
    "fastapi": "fastapi==0.115.6",
    "starlette": "starlette==0.41.3",
    "sqlalchemy": "sqlalchemy==2.0.36",
    "flask": "flask==3.1.0",
    "werkzeug": "werkzeug==3.1.3",
    "pydantic": "pydantic==2.10.4",
    "celery": "celery==5.4.0",
}


def fetch(name: str) -> Path:
    """Download the pinned wheel (it holds the sources) once and unpack it under bench/.cache."""
    target = CACHE / "corpus" / name
    if target.is_dir() and any(target.iterdir()):
        return target
    download = CACHE / "downloads"
    download.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--dest",
            str(download),
            CORPORA[name],
        ],
        check=True,
    )
    stem = CORPORA[name].split("==")[0].replace("-", "_").lower()
    wheel = next(w for w in sorted(download.glob("*.whl")) if w.name.lower().startswith(stem + "-"))
    target.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if p.is_file())


def _parse(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.suppress(SyntaxError, ValueError, RecursionError):
            ast.parse(path.read_bytes())


def _parse_many(paths: list[Path]) -> None:
    for path in paths:
        _parse(path)


def floor(files: list[Path], jobs: int) -> tuple[float, float]:
    """Wall and CPU seconds to `ast.parse` every file, in `jobs` processes."""
    start, cpu_start = time.perf_counter(), _cpu()
    if jobs == 1:
        _parse_many(files)
    else:
        chunks = [files[i::jobs] for i in range(jobs)]
        with ProcessPoolExecutor(jobs) as pool:
            list(pool.map(_parse_many, chunks))
    return time.perf_counter() - start, _cpu() - cpu_start


def _cpu() -> float:
    own = os.times()
    return own.user + own.system + own.children_user + own.children_system


def timed(command: Sequence[str], cwd: Path) -> tuple[float, float, float, str]:
    """Wall s, CPU s and peak RSS (MB) of one command, measured by GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        start = time.perf_counter()
        proc = subprocess.run(
            [TIME, "-f", "%U %S %M", "-o", report.name, *command],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        user, system, rss_kb = report.read().split()[-3:]
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{command[0]} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return wall, float(user) + float(system), int(rss_kb) / 1024, proc.stdout


def bastion(*args: str, python: str = sys.executable) -> list[str]:
    return [
        python,
        "-m",
        "bastion",
        "check",
        *args,
        "--select",
        "ALL",
        "--fail-on",
        "never",
        "--quiet",
    ]


def alternate(
    ours: list[str],
    theirs: list[str] | None,
    cwd: Path,
    runs: int,
    before: Callable[[], object] | None = None,
) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """`runs` timings of each command, taken in turns (ours, theirs, ours...): on a shared
    machine both then see the same load, which separate scenarios minutes apart do not.
    `before` runs at the start of each turn (the floor measured next to each cold run)."""
    mine: list[tuple[float, float, float]] = []
    other: list[tuple[float, float, float]] = []
    for _ in range(runs):
        if before is not None:
            before()
        for command, into in ((ours, mine), (theirs, other)):
            if command is None:
                continue
            wall, cpu, rss, _ = timed(command, cwd)
            into.append((wall, cpu, rss))
    return mine, other


def peers_venv() -> Path:
    venv = HERE / ".venv"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "bandit", "fixit"], check=True
        )
    return venv / "bin"


def median_row(name: str, runs: list[tuple[float, float, float]], files: int) -> dict[str, object]:
    wall = statistics.median(r[0] for r in runs)
    return {
        "scenario": name,
        "wall_s": round(wall, 3),
        "cpu_s": round(statistics.median(r[1] for r in runs), 3),
        "peak_rss_mb": round(max(r[2] for r in runs), 1),
        "files": files,
        "files_per_s": round(files / wall, 1) if wall else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--corpus",
        action="append",
        choices=sorted(CORPORA),
        help="only these projects (default: all)",
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--peers",
        nargs="?",
        const="bandit,fixit",
        default="",
        help="also time these peers (comma-separated; default when given: bandit,fixit)",
    )
    parser.add_argument("--json", type=Path, help="write the results as JSON")
    parser.add_argument(
        "--against",
        help="another Python with bastion installed (e.g. main's venv): its cold --jobs 1 "
        "runs alternate with this one's, for a before/after in the same run",
    )
    args = parser.parse_args()

    # Byte-compile bastion first, as `pip install` does: with PYTHONDONTWRITEBYTECODE set (as on
    # this project's machines) an editable install would recompile every module on every run.
    import bastion as bastion_package

    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(Path(bastion_package.__file__).parent)],
        check=True,
        capture_output=True,
    )
    rules_dir = Path(__file__).resolve().parents[1] / "rules"
    if rules_dir.is_dir():
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(rules_dir)],
            check=True,
            capture_output=True,
        )
    names = args.corpus or sorted(CORPORA)
    work = Path(tempfile.mkdtemp(prefix="bastion-bench-"))
    for name in names:
        shutil.copytree(fetch(name), work / name)
    files = python_files(work)
    n = len(files)
    jobs = args.jobs
    rows: list[dict[str, object]] = []
    print(f"corpus: {', '.join(CORPORA[x] for x in names)} - {n} Python files, {jobs} CPUs")

    def scenario(name: str, command: list[str], prepare: object = None) -> dict[str, object]:
        runs = []
        for _ in range(args.runs):
            if callable(prepare):
                prepare()
            wall, cpu, rss, _ = timed(command, work)
            runs.append((wall, cpu, rss))
        row = median_row(name, runs, n)
        rows.append(row)
        print(
            f"  {name:<14} {row['wall_s']:>7.2f}s wall {row['cpu_s']:>7.2f}s cpu "
            f"{row['peak_rss_mb']:>7.1f} MB  {row['files_per_s']:>8} files/s"
        )
        return row

    for jobs_n, label in ((1, "floor-1"), (jobs, f"floor-{jobs}")):
        runs = [(*floor(files, jobs_n), 0.0) for _ in range(args.runs)]
        row = median_row(label, runs, n)
        rows.append(row)
        print(
            f"  {label:<14} {row['wall_s']:>7.2f}s wall {row['cpu_s']:>7.2f}s cpu "
            f"{'':>10}  {row['files_per_s']:>8} files/s"
        )

    cache_dir = work / ".bench_cache"
    # the floor again next to each cold-1 run: the machine's speed drifts between scenarios
    # measured minutes apart, so the paired ratio is the steadier one (both see one machine)
    next_floor: list[float] = []
    if args.against:
        cold_1, against = alternate(
            bastion(".", "--no-cache", "--jobs", "1"),
            bastion(".", "--no-cache", "--jobs", "1", python=args.against),
            work,
            args.runs,
            before=lambda: next_floor.append(floor(files, 1)[1]),
        )
        for label, runs in (("cold-1", cold_1), ("cold-1-against", against)):
            row = median_row(label, runs, n)
            rows.append(row)
            print(
                f"  {label:<14} {row['wall_s']:>7.2f}s wall {row['cpu_s']:>7.2f}s cpu "
                f"{row['peak_rss_mb']:>7.1f} MB  {row['files_per_s']:>8} files/s"
            )
    else:
        cold_1, _ = alternate(
            bastion(".", "--no-cache", "--jobs", "1"),
            None,
            work,
            args.runs,
            before=lambda: next_floor.append(floor(files, 1)[1]),
        )
        rows.append(median_row("cold-1", cold_1, n))
        print(
            f"  {'cold-1':<14} {rows[-1]['wall_s']:>7.2f}s wall {rows[-1]['cpu_s']:>7.2f}s cpu "
            f"{rows[-1]['peak_rss_mb']:>7.1f} MB  {rows[-1]['files_per_s']:>8} files/s"
        )
    paired = statistics.median(c[1] / f for c, f in zip(cold_1, next_floor, strict=True))
    cold = scenario(f"cold-{jobs}", bastion(".", "--no-cache", "--jobs", str(jobs)))
    shutil.rmtree(cache_dir, ignore_errors=True)
    timed(bastion(".", "--cache-dir", str(cache_dir), "--jobs", str(jobs)), work)  # fill
    warm = scenario("warm", bastion(".", "--cache-dir", str(cache_dir), "--jobs", str(jobs)))

    def forget_reports() -> None:
        # the per-file cache alone: no recorded report to replay (see bastion.replay)
        for record in cache_dir.rglob("replay/*.json"):
            record.unlink()

    warm_files = scenario(
        "warm-no-replay",
        bastion(".", "--cache-dir", str(cache_dir), "--jobs", str(jobs)),
        prepare=forget_reports,
    )
    victim = files[len(files) // 2]

    def touch() -> None:
        with victim.open("a") as handle:
            handle.write("\n# touched\n")

    scenario(
        "warm-touch-1",
        bastion(".", "--cache-dir", str(cache_dir), "--jobs", str(jobs)),
        prepare=touch,
    )
    three = [str(p.relative_to(work)) for p in files[:: max(1, n // 3)][:3]]
    scenario("three-files", bastion(*three, "--no-cache"))

    peer_rows: dict[str, dict[str, object]] = {}
    peers = [p for p in args.peers.split(",") if p]
    if peers:
        bin_dir = peers_venv()
        commands = {
            "bandit": [str(bin_dir / "bandit"), "-r", "-q", "."],
            "fixit": [str(bin_dir / "fixit"), "lint", "."],
        }
        for peer in peers:
            peer_rows[peer] = scenario(peer, commands[peer])

    def ratio(a: dict[str, object], b: dict[str, object]) -> float:
        return round(float(str(a["wall_s"])) / float(str(b["wall_s"])), 2)

    floor_n = next(r for r in rows if r["scenario"] == f"floor-{jobs}")
    by_name = {str(r["scenario"]): r for r in rows}
    for label in ("cold-1", "cold-1-against"):
        if label in by_name:
            print(f"ratio: {label}/floor-1 = {ratio(by_name[label], by_name['floor-1'])}")
    print(
        f"ratio: cold-1/floor-1, paired (CPU, median of each run over the floor next to it) = "
        f"{paired:.2f}"
    )
    print(
        f"ratios: cold-{jobs}/floor-{jobs} = {ratio(cold, floor_n)}, "
        f"cold-{jobs}/warm = {ratio(cold, warm)}, cold-{jobs}/warm-no-replay = "
        f"{ratio(cold, warm_files)}",
        end="",
    )
    for peer, row in peer_rows.items():
        print(f", {peer}/bastion = {ratio(row, cold)}", end="")
    print()
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "files": n,
                    "jobs": jobs,
                    "rows": rows,
                    "paired_cold_1_over_floor_1": round(paired, 3),
                },
                indent=2,
            )
            + "\n"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
