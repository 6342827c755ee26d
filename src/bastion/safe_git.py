"""The one way bastion runs git: with the scanned repository's power to run programs removed.

A repository's own config (`.git/config`, and anything it includes) is as untrusted as its
files - an archive or a CI workspace can ship one - and git runs programs it names:
`core.fsmonitor` on any command that reads the index, the clean filter of a `.gitattributes`
`filter=` driver and a `diff=` driver's `textconv`/`command` when `git diff` looks at the work
tree, hooks, a pager, and ssh or a credential helper when a partial clone fetches a missing
object. So every call:

- overrides, with the highest precedence git has (`GIT_CONFIG_COUNT`/`KEY`/`VALUE`, which
  also takes driver names that `-c` cannot parse), `core.fsmonitor`, `core.hooksPath`,
  `core.pager`, `core.sshCommand`, `protocol.allow` (no transport at all: no lazy fetch), and
  for every `filter.<driver>` and `diff.<driver>` named anywhere in the config, its programs
  (`clean`, `smudge`, `process`, `textconv`, `command`) and its regexes (`xfuncname`);
- passes `--no-pager`, and the caller passes `--no-ext-diff --no-textconv` to `git diff`;
- lists the drivers (one more git process) only for commands that may read a file's content:
  `rev-parse`, `merge-base`, `check-ignore` and `ls-files` without `-m`/`-d`/`-t`/`-k` never
  do, so they run with the fixed overrides alone;
- reads nothing from stdin, has a timeout, and keeps at most `limit` bytes of output (spooled
  to a temporary file, not memory, while git runs).

The driver names come from `git config --list -z`, which reads config and runs nothing.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

GIT_TIMEOUT = 60.0
OUTPUT_LIMIT = 256 * 1024 * 1024

_FIXED: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.useBuiltinFSMonitor", "false"),
    ("core.untrackedCache", "false"),
    ("core.hooksPath", os.devnull),
    ("core.pager", "cat"),
    ("core.sshCommand", "false"),
    ("core.askPass", "false"),
    ("credential.helper", ""),
    ("protocol.allow", "never"),
    ("diff.external", ""),
    ("diff.relative", "false"),
    ("core.quotePath", "false"),
)
_DRIVER_KEYS = {
    "filter": ("clean", "smudge", "process"),
    "diff": ("textconv", "command", "xfuncname", "funcname"),
    "merge": ("driver",),
}


class GitUnavailable(Exception):
    """git is missing, too slow, or wrote more than bastion keeps."""


@dataclass(frozen=True)
class GitResult:
    returncode: int
    stdout: bytes
    stderr: bytes

    @property
    def text(self) -> str:
        return self.stdout.decode("utf-8", "surrogateescape")

    @property
    def error(self) -> str:
        lines = self.stderr.decode("utf-8", "replace").strip().splitlines()
        return lines[-1] if lines else ""


def run_git(
    args: Sequence[str],
    cwd: Path,
    *,
    timeout: float = GIT_TIMEOUT,
    limit: int = OUTPUT_LIMIT,
) -> GitResult:
    """Run `git args...` in `cwd` with the repository's programs neutralised (see above)."""
    pairs = _overrides(str(cwd)) if _reads_content(args) else _FIXED
    env = _environment(pairs)
    return _run(["git", "--no-pager", *args], cwd, env, timeout, limit)


def _run(
    command: list[str], cwd: Path, env: dict[str, str], timeout: float, limit: int
) -> GitResult:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            done = subprocess.run(
                command,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                timeout=timeout,
                check=False,
            )
        except FileNotFoundError:
            raise GitUnavailable("git was not found on PATH") from None
        except subprocess.TimeoutExpired:
            shown = " ".join(command)
            raise GitUnavailable(f"`{shown}` did not finish in {timeout:.0f} s") from None
        except OSError as exc:
            raise GitUnavailable(f"cannot run git: {exc.strerror or exc}") from None
        if os.fstat(out.fileno()).st_size > limit:
            raise GitUnavailable(f"`{' '.join(command)}` wrote more than {limit:,} bytes")
        out.seek(0)
        err.seek(0)
        return GitResult(done.returncode, out.read(), err.read(64 * 1024))


def _environment(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_CONFIG_")}
    # the caller's own GIT_CONFIG_* settings are dropped: the count would clash with ours
    env.update(
        {
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_PAGER": "cat",
            "GIT_OPTIONAL_LOCKS": "0",  # a read must not rewrite the repository's index
            "GIT_CONFIG_COUNT": str(len(pairs)),
        }
    )
    env.pop("GIT_EXTERNAL_DIFF", None)
    env.pop("GIT_SSH_COMMAND", None)
    env.pop("GIT_SSH", None)
    for index, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


# Commands that read the index, refs or ignore files but never a file's content: no filter or
# diff driver can run, so the config need not be listed first (one git process, not two).
_NO_CONTENT = frozenset({"rev-parse", "merge-base", "check-ignore", "ls-files"})
# ls-files options that compare work-tree content with the index (and so run clean filters)
_LS_FILES_CONTENT = frozenset({"-m", "--modified", "-d", "--deleted", "-t", "-k", "--killed"})


def _reads_content(args: Sequence[str]) -> bool:
    command = args[0] if args else ""
    if command not in _NO_CONTENT:
        return True
    return command == "ls-files" and any(a in _LS_FILES_CONTENT for a in args[1:])


@lru_cache(maxsize=16)
def _overrides(cwd: str) -> tuple[tuple[str, str], ...]:
    """The fixed overrides and, for every driver the config names, its programs emptied."""
    pairs = list(_FIXED)
    try:
        listed = _run(
            ["git", "--no-pager", "config", "--list", "-z"],
            Path(cwd),
            _environment(_FIXED),
            GIT_TIMEOUT,
            16 * 1024 * 1024,
        )
    except GitUnavailable:
        return tuple(pairs)
    drivers: set[tuple[str, str]] = set()
    for item in listed.stdout.split(b"\0"):
        key = item.split(b"\n", 1)[0].decode("utf-8", "surrogateescape")
        section, dot, rest = key.partition(".")
        if dot and section.lower() in _DRIVER_KEYS and "." in rest:
            drivers.add((section.lower(), rest.rpartition(".")[0]))
    for section, name in sorted(drivers):
        pairs.extend((f"{section}.{name}.{key}", "") for key in _DRIVER_KEYS[section])
        if section == "filter":
            pairs.append((f"filter.{name}.required", "false"))
    return tuple(pairs)
