"""Where a cold run's time goes, rule by rule: every visitor method, route hook, `finish`,
`check` and `review` of every rule and fact collector is timed, and the run's total is split
into parsing, the engine's own walk and bookkeeping, and each rule.

    python bench/rule_costs.py                       # the whole bench corpus, --select ALL
    python bench/rule_costs.py --corpus django --top 15
    python bench/rule_costs.py -- --select ERR,SEC   # options after `--` go to `bastion check`

Each call is timed in the thread's CPU time, so a machine busy with other work changes the
numbers less than it changes wall time. The timing wrapper costs about a microsecond per call,
so rules called for many nodes look a little dearer than they are; compare rules with each
other and one commit with the next, not with `bench/run.py`'s wall times. Nothing is
asserted: the numbers go in the issue notes.
"""

from __future__ import annotations

import argparse
import ast
import functools
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / ".cache" / "corpus"
_HOOKS = ("__init__", "finish", "check", "review", "visit_route")

spent: dict[str, float] = defaultdict(float)
calls: dict[str, int] = defaultdict(int)


def _timed(owner: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[owner] += time.thread_time() - start
            calls[owner] += 1

    return timed


def instrument() -> None:
    """Wrap the methods the engine calls on every registered rule and collector class."""
    import bastion.engine as engine
    from bastion.registry import load_registry

    registry = load_registry()
    classes = [*registry.rules, *registry.collectors]
    for cls in classes:
        owner = getattr(cls, "id", "") or f"{cls.__module__.rpartition('.')[2]}.{cls.__name__}"
        for name in dir(cls):
            if not (name.startswith(("visit_", "leave_")) or name in _HOOKS):
                continue
            value = getattr(cls, name)
            # inherited methods are wrapped too (rules share visitors through base classes);
            # the base classes' own `__init__` is not worth a wrapper per rule and file
            if name == "__init__" and "__init__" not in vars(cls):
                continue
            if callable(value) and not getattr(value, "__wrapped__", None):
                setattr(cls, name, _timed(owner, value))
    parse = ast.parse
    engine.ast.parse = _timed("(parse)", parse)  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="", help="one project of bench/.cache/corpus")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("bastion_args", nargs="*", help="after --: options for bastion check")
    options = parser.parse_args()
    target = CORPUS / options.corpus if options.corpus else CORPUS
    if not target.is_dir():
        print(f"no corpus at {target}: run bench/run.py once to download it", file=sys.stderr)
        return 2
    instrument()
    from click.testing import CliRunner

    from bastion.cli import cli as bastion_main

    args = options.bastion_args or ["--select", "ALL"]
    command = ["check", "--no-cache", "--jobs", "1", "--quiet", *args, str(target)]
    start = time.process_time()
    CliRunner().invoke(bastion_main, command, catch_exceptions=False)
    total = time.process_time() - start
    rules = sum(v for k, v in spent.items() if k != "(parse)")
    parses = calls["(parse)"]
    print(f"total CPU {total:.2f} s; parse {spent['(parse)']:.2f} s ({parses} calls); ", end="")
    print(f"rules {rules:.2f} s")
    print(f"engine and the rest {total - rules - spent['(parse)']:.2f} s\n")
    print(f"{'owner':<28} {'seconds':>8} {'calls':>9}")
    ranked = sorted(((v, k) for k, v in spent.items() if k != "(parse)"), reverse=True)
    for seconds, owner in ranked[: options.top]:
        print(f"{owner:<28} {seconds:8.3f} {calls[owner]:9d}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
