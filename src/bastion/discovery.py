"""Which files to check, and what kind each one is.

- `.gitignore` files are honoured at every level, with git's own semantics (pathspec);
- default and configured excludes prune whole directories before they are read;
- symlinked directories are never followed, and a symlinked file is only read when it points
  inside the root: a scanned repository cannot make bastion read outside itself;
- every skip that a user might not expect is returned as a notice.
"""

from __future__ import annotations

import fnmatch
import operator
import os
import re
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from bastion.config import Config
from bastion.kinds import KINDS
from bastion.kinds.gitignore import gitignore_spec as gitignore_spec  # moved there; re-exported
from bastion.safe_fs import read_tree_text, special_file
from bastion.source import SourceFile as SourceFile  # moved there; re-exported

# Deeper folders are skipped with a notice (a 1500-deep tree must not exhaust the stack).
MAX_DEPTH = 200


@dataclass
class Discovery:
    files: list[SourceFile]
    notices: list[str]


# Ordered: the first match wins. Names are compared lower-cased. The table of the kinds
# (`bastion.kinds.KINDS`), flattened: (pattern, kind name).
_KIND_BY_NAME: tuple[tuple[str, str], ...] = tuple(
    (pattern, kind.name) for kind in KINDS for pattern in kind.patterns
)
# Files named by their folder alone (`requirements/base.txt`): folder -> (suffixes, kind name).
_KIND_BY_FOLDER = {k.folder: (k.folder_suffixes, k.name) for k in KINDS if k.folder}
_FOLDER_SUFFIXES = tuple(suffix for suffixes, _ in _KIND_BY_FOLDER.values() for suffix in suffixes)


# Names without wildcards are looked up directly; the first match in table order wins, and no
# exact name comes after a wildcard that would also match it.
_EXACT_KINDS = {p: k for p, k in reversed(_KIND_BY_NAME) if not any(c in p for c in "*?[")}
_WILDCARD_KINDS = tuple((p, k) for p, k in _KIND_BY_NAME if any(c in p for c in "*?["))
# One regex that tells, in one call, whether any wildcard could match (most files: none).
_ANY_WILDCARD = re.compile("|".join(fnmatch.translate(p) for p, _ in _WILDCARD_KINDS))


def file_kind(path: str) -> str | None:
    """The kind of a file from its name (and, for requirements, its folder)."""
    if path.endswith(".py"):
        return "python"  # the common case, decided without the table (no named kind ends so)
    # plain string slicing: this runs for every file of the tree, and PurePosixPath is slow
    slash = path.rfind("/")
    name = path[slash + 1 :].lower()
    exact = _EXACT_KINDS.get(name)
    if name.endswith(_FOLDER_SUFFIXES):
        parent = path[path.rfind("/", 0, slash) + 1 : slash] if slash >= 0 else ""
        by_folder = _KIND_BY_FOLDER.get(parent.lower())
        if by_folder is not None and name.endswith(by_folder[0]):
            return by_folder[1]
    if exact is not None:
        return exact
    if not _ANY_WILDCARD.match(name):
        return None
    for pattern, kind in _WILDCARD_KINDS:
        if fnmatch.fnmatchcase(name, pattern):
            return kind
    return None


_NAME = operator.attrgetter("name")
# a folder name, maybe with `*` wildcards, and a trailing slash: `.git/`, `*.egg-info/`
_FOLDER_NAME = re.compile(r"[\w.*-]+/")


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class _Walker:
    def __init__(self, config: Config, boundary: Path) -> None:
        self.config = config
        self.root = config.root
        self.boundary = boundary
        self.exclude = config.exclude_spec()
        self.files_excludable = any(
            not pattern.strip().endswith("/")
            for pattern in (*config.exclude, *config.extend_exclude)
            if pattern.strip() and not pattern.startswith("#")
        )
        self.notices: list[str] = []
        self._tracked: tuple[frozenset[str], frozenset[str]] | None = None
        # Patterns like `node_modules/` or `*.egg-info/` (every default exclude) name a folder
        # at any depth by its name alone: matched on the name, without pathspec's regexes.
        patterns = [p.strip() for p in (*config.exclude, *config.extend_exclude) if p.strip()]
        self.folder_names: re.Pattern[str] | None = (
            re.compile("|".join(fnmatch.translate(p[:-1]) for p in patterns) or "(?!)")
            if all(_FOLDER_NAME.fullmatch(p) for p in patterns)
            else None
        )

    def dir_excluded(self, name: str, rel: str) -> bool:
        if self.folder_names is not None:
            return self.folder_names.match(name) is not None
        return self.excluded(rel, True)

    def rel(self, path: Path) -> str:
        try:
            return path.relative_to(self.root).as_posix()
        except ValueError:
            return path.as_posix()

    def excluded(self, rel: str, is_dir: bool, *, parents_checked: bool = False) -> bool:
        if parents_checked and not is_dir and not self.files_excludable:
            # every pattern names folders only (the default excludes), and the walk already
            # left out excluded folders: a file in a walked folder cannot match
            return False
        return self.exclude.match_file(rel + "/" if is_dir else rel)

    def walk(self, top: Path) -> Iterator[SourceFile]:
        ignores: list[tuple[str, pathspec.PathSpec[Any]]] = []
        if self.config.respect_gitignore:
            # .gitignore files above the walked folder, up to the root, apply too - unless they
            # ignore the folder itself: a folder named on the command line is always checked.
            for parent in reversed([p for p in top.parents if _inside(p, self.root)]):
                ignores.extend(self._load_gitignore(parent / ".gitignore", self.rel(parent)))
            top_rel = self.rel(top)
            if top_rel != "." and self.gitignored(top_rel, True, ignores):
                ignores = []
        yield from self._walk_dir(str(top), self.rel(top), ignores)

    def _load_gitignore(
        self, gitignore: Path, base: str
    ) -> list[tuple[str, pathspec.PathSpec[Any]]]:
        if not gitignore.is_file() or gitignore.is_symlink():
            return []
        try:
            text = read_tree_text(
                gitignore, None, self.config.max_file_bytes, errors="replace", walked=True
            )
        except OSError:
            return []
        lines = text.splitlines()
        return [("" if base == "." else base, gitignore_spec(lines))]

    def gitignored(
        self, rel: str, is_dir: bool, ignores: list[tuple[str, pathspec.PathSpec[Any]]]
    ) -> bool:
        """Whether the `.gitignore` files ignore `rel` - and git does not track it: a file
        committed before the line that ignores it (the classic leaked `.env`) is in the
        repository, so it is checked."""
        if not self._gitignore_says(rel, is_dir, ignores):
            return False
        if self._tracked is None:
            self._tracked = tracked_paths(self.root)  # once, and only when something is ignored
        files, folders = self._tracked
        return rel not in (folders if is_dir else files)

    def _gitignore_says(
        self, rel: str, is_dir: bool, ignores: list[tuple[str, pathspec.PathSpec[Any]]]
    ) -> bool:
        result = False
        for base, spec in ignores:
            if base and not rel.startswith(base + "/"):
                continue
            sub = rel[len(base) + 1 :] if base else rel
            outcome = spec.check_file(sub + "/" if is_dir else sub)
            if outcome.include is not None:
                result = outcome.include
        return result

    def _walk_dir(
        self,
        directory: str,
        directory_rel: str,
        ignores: list[tuple[str, pathspec.PathSpec[Any]]],
        depth: int = 0,
    ) -> Iterator[SourceFile]:
        # Strings, not Path objects, until a file is yielded: this loop sees every entry of the
        # tree, and on a warm cached run discovery is most of the time bastion takes.
        if depth > MAX_DEPTH:
            self.notices.append(
                f"{directory_rel}: skipped: folders nested more than {MAX_DEPTH} levels deep "
                "are not checked"
            )
            return
        try:
            with os.scandir(directory) as listing:
                entries = sorted(listing, key=_NAME)
        except OSError as exc:
            self.notices.append(f"{directory_rel}: cannot list folder: {exc.strerror}")
            return
        if self.config.respect_gitignore and any(e.name == ".gitignore" for e in entries):
            gitignore = Path(directory, ".gitignore")
            ignores = ignores + self._load_gitignore(gitignore, directory_rel)
        prefix = "" if directory_rel == "." else directory_rel + "/"
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_link = entry.is_symlink()
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                continue
            if is_dir and not is_link:
                if not self.dir_excluded(entry.name, rel) and not (
                    ignores and self.gitignored(rel, True, ignores)
                ):
                    yield from self._walk_dir(entry.path, rel, ignores, depth + 1)
                continue
            kind = file_kind(rel)
            if kind is None and not is_link:
                continue  # never checked: no need to ask the excludes, .gitignore or git
            if self.excluded(rel, is_dir, parents_checked=True) or (
                ignores and self.gitignored(rel, is_dir, ignores)
            ):
                continue
            if is_link:
                found = self._symlink(Path(entry.path), rel)
                if found:
                    yield found
                continue
            if kind is None:
                continue
            if entry.is_file(follow_symlinks=False):
                yield SourceFile(rel, Path(entry.path), kind)
            else:  # a FIFO, a device, a socket: never opened
                what = special_file(entry.path) or "not a regular file"
                self.notices.append(f"{rel}: skipped: {what}, not a regular file")

    def _symlink(self, path: Path, rel: str) -> SourceFile | None:
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            self.notices.append(f"{rel}: skipped: broken or looping symlink")
            return None
        if not _inside(target, self.boundary):
            self.notices.append(f"{rel}: skipped: symlink points outside the scanned root")
            return None
        if target.is_dir():
            # its target is inside the root and is walked there (or excluded there on purpose)
            return None
        kind = file_kind(rel)
        return SourceFile(rel, path, kind) if kind is not None else None

    def explicit_file(self, path: Path) -> SourceFile | None:
        rel = self.rel(path)
        if self.excluded(rel, False):
            return None
        if path.is_symlink():
            return self._symlink(path, rel)
        kind = file_kind(rel)
        if kind is None:
            return None
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            self.notices.append(f"{rel}: cannot read: {exc.strerror}")
            return None
        if not stat.S_ISREG(mode):
            self.notices.append(f"{rel}: skipped: not a regular file")
            return None
        return SourceFile(rel, path, kind)


def tracked_paths(root: Path) -> tuple[frozenset[str], frozenset[str]]:
    """The files git tracks under `root` (posix, relative to it) and their folders; empty
    when `root` is not in a git work tree or git cannot answer."""
    from bastion.safe_git import GitUnavailable, run_git  # subprocess: only when needed

    try:
        done = run_git(["ls-files", "-z"], root)
    except GitUnavailable:
        return frozenset(), frozenset()
    if done.returncode != 0:
        return frozenset(), frozenset()
    files = frozenset(p for p in done.text.split("\0") if p)
    folders = {path[:i] for path in files for i, c in enumerate(path) if c == "/"}
    return files, frozenset(folders)


def discover(paths: Iterable[Path], config: Config) -> Discovery:
    files: dict[str, SourceFile] = {}
    notices: list[str] = []
    for raw in paths:
        path = Path(os.path.abspath(raw))  # keep symlinks in the given path visible
        boundary = config.root if _inside(path, config.root) else path
        walker = _Walker(config, boundary.resolve())
        if not path.exists() and not path.is_symlink():
            notices.append(f"{raw}: no such file or folder")
            continue
        if path.is_dir() and not path.is_symlink():
            found: Iterable[SourceFile] = walker.walk(path)
        else:
            one = walker.explicit_file(path)
            found = [one] if one else []
        for source in found:
            files.setdefault(source.path, source)
        notices.extend(walker.notices)
    return Discovery(sorted(files.values()), notices)
