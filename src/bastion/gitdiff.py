"""Changed-lines mode (`bastion check --diff-base REV`): keep only findings on lines added or
changed since REV.

The lines come from `git diff -U0` between the merge base of REV and HEAD and the working tree
(what a pull request adds, not what landed on the base branch meanwhile), plus untracked files,
which are new in full. A finding from a file rule is kept when its span touches a changed line;
a project-level finding (no route for health checks, no tests...) is kept when its file changed.
git runs through `bastion.safe_git` (the repository's config can make it run no program), with
a timeout and bounded output; nothing here writes to the repository.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bastion.findings import Finding
from bastion.results import RunResult
from bastion.rule import ProjectRule
from bastion.safe_git import GitUnavailable, run_git

GIT_TIMEOUT = 60.0
WHOLE_FILE = -1  # marker in a line set: every line of the file is new

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")
_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r"}


class GitError(Exception):
    """git is missing, the folder is not a repository, or REV is unknown (exit 2)."""


def _git(args: Sequence[str], cwd: Path) -> str:
    # through the one git helper: the repository's config can name no program git would run
    try:
        done = run_git(args, cwd, timeout=GIT_TIMEOUT)
    except GitUnavailable as exc:
        raise GitError(f"--diff-base needs git: {exc}") from None
    if done.returncode != 0:
        raise GitError(done.error or f"`git {' '.join(args)}` failed")
    return done.text


def unquote_path(text: str) -> str:
    """git's C-style quoting of unusual paths (`"a\\tb.py"`, octal UTF-8 bytes)."""
    if not (len(text) >= 2 and text[0] == '"' and text[-1] == '"'):
        return text
    body = text[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\" or i + 1 >= len(body):
            out += char.encode("utf-8", "surrogateescape")
            i += 1
            continue
        nxt = body[i + 1]
        if nxt in "01234567" and i + 4 <= len(body):
            out.append(int(body[i + 1 : i + 4], 8) & 0xFF)
            i += 4
        else:
            out += _ESCAPES.get(nxt, nxt).encode("utf-8")
            i += 2
    return out.decode("utf-8", "surrogateescape")


def parse_diff(diff: str) -> dict[str, set[int]]:
    """{path: changed line numbers (new side)} from `git diff -U0` output."""
    changed: dict[str, set[int]] = {}
    current: set[int] | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = unquote_path(line[4:].rstrip("\t"))
            if target == "/dev/null":
                current = None
            else:
                path = target[2:] if target.startswith("b/") else target
                current = changed.setdefault(path, set())
            continue
        if current is None:
            continue
        match = _HUNK.match(line)
        if match:
            start = int(match.group(1))
            count = int(match.group(2)) if match.group(2) is not None else 1
            current.update(range(start, start + count))
    return changed


@dataclass(frozen=True)
class ChangedLines:
    top: Path  # the repository's top-level folder
    lines: dict[str, set[int]]  # posix path relative to `top` -> changed lines (or WHOLE_FILE)

    def touches(self, path: str, first: int, last: int) -> bool:
        changed = self.lines.get(path)
        if not changed:
            return False
        if WHOLE_FILE in changed:
            return True
        last = max(first, last)
        if last - first > len(changed):  # a long span (or a forged one): walk the set instead
            return any(first <= n <= last for n in changed)
        return any(n in changed for n in range(first, last + 1))

    def file_changed(self, path: str) -> bool:
        return bool(self.lines.get(path))


def changed_lines(base: str, where: Path) -> ChangedLines:
    """Lines added or changed since `base` in the repository that contains `where`."""
    where = where if where.is_dir() else where.parent
    if base.startswith("-") or "\0" in base:
        # a revision, never an option for git (it can come from CI metadata)
        raise GitError(f"--diff-base: {base!r} is not a revision")
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], where).strip())
    except GitError as exc:
        raise GitError(
            f"--diff-base needs a git repository: {where} is not in one ({exc})"
        ) from None
    try:
        _git(["rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"], top)
    except GitError:
        raise GitError(
            f"--diff-base: unknown revision {base!r} (in CI, fetch it first, e.g. "
            f"`git fetch origin {base}` or a checkout with fetch-depth: 0)"
        ) from None
    try:
        since = _git(["merge-base", base, "HEAD"], top).strip() or base
    except GitError:
        since = base  # no common history (or no HEAD yet): compare with REV itself
    diff = _git(
        [
            "diff",
            "-U0",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--find-renames",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            since,
            "--",
        ],
        top,
    )
    lines = parse_diff(diff)
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top)
    for path in untracked.split("\0"):
        if path:
            lines[path] = {WHOLE_FILE}
    return ChangedLines(top.resolve(), lines)


def _repo_path(root: Path, path: str, top: Path) -> str | None:
    # the folder is resolved like git's top level; the file is not (a symlink is its own path)
    full = Path(os.path.normpath(root.resolve() / path))
    try:
        return full.relative_to(top).as_posix()
    except ValueError:
        return None


def filter_changed(result: RunResult, changes: ChangedLines, root: Path) -> tuple[RunResult, int]:
    """The run with only the findings on changed lines, and how many were left out."""
    project_ids = {r.id for r in result.rules if issubclass(r, ProjectRule)}

    def keep(finding: Finding) -> bool:
        path = _repo_path(root, finding.path, changes.top)
        if path is None:
            return False
        if finding.rule in project_ids:
            return changes.file_changed(path)
        return changes.touches(path, finding.line, finding.end_line)

    kept = [f for f in result.findings if keep(f)]
    suppressed = [f for f in result.suppressed if keep(f)]
    dropped = len(result.findings) - len(kept)
    return replace(result, findings=kept, suppressed=suppressed), dropped
