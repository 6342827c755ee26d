"""Every byte bastion reads from the scanned tree and every file it writes goes through here.

The scanned tree is attacker-controlled (a pull request, an archive): it can hold symbolic links
to anywhere, FIFOs, device nodes and a ready-made `.bastion_cache/`. So:

- `read_tree_file` reads regular files only (a FIFO, a device or a socket is refused without
  blocking: `O_NONBLOCK`), never through a link whose target leaves the root, and never more
  than a byte limit (`max-file-bytes`);
- `CacheFolder` is the cache's folder opened by file descriptor, each component with
  `O_NOFOLLOW`: a link anywhere in or to the cache is refused, never followed; files are created
  with `O_EXCL` and replaced atomically by a rename inside the folder; the cache only deletes
  entries whose names it gives (`remove` is asked for a name, and a sub-folder is emptied
  through descriptors without following any link);
- `write_output` writes a report, shard or baseline atomically and never through a symbolic
  link (except the system's own `/dev/...` and `/proc/...` ones, like `/dev/stdout`);
- `load_json` parses JSON from the tree or from shard/baseline files with a depth guard and
  without `NaN`/`Infinity`.

A refusal is an `UnsafeFileError`, an `OSError` whose `strerror` says why, so that callers that
already report "cannot read: <reason>" need no new branch.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_LIMIT = 10 * 1024 * 1024  # the default `max-file-bytes`
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_CHUNK = 1 << 20


class UnsafeFileError(OSError):
    """A file bastion refuses to read or write (not regular, a link out of the root, too big)."""

    def __init__(self, reason: str, code: int = errno.EPERM) -> None:
        super().__init__(code, reason)


# -- reading the tree -----------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _real(root: str) -> str:
    return os.path.realpath(root)


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def read_tree_file(
    path: Path | str, root: Path | str | None, limit: int = DEFAULT_LIMIT, *, walked: bool = False
) -> bytes:
    """The bytes of a regular file of the scanned tree.

    Refused (`UnsafeFileError`): a FIFO, device, socket or folder (without blocking on it), a
    file over `limit` bytes, and - when `root` is given - a path whose real location (every
    link resolved) is outside `root`. `walked=True` says discovery already walked the path's
    folders without following links: then only a link at the last component is resolved (the
    common case of a plain file costs one open, one fstat and the reads)."""
    name = os.fspath(path)
    if walked:
        try:
            fd = os.open(name, _READ_FLAGS)
        except OSError as exc:
            if exc.errno != errno.ELOOP:
                raise
            fd = _open_checked(name, root)
    else:
        fd = _open_checked(name, root)
    try:
        return _read_fd(fd, limit)
    finally:
        os.close(fd)


def read_tree_text(
    path: Path | str,
    root: Path | str | None,
    limit: int = DEFAULT_LIMIT,
    *,
    encoding: str = "utf-8",
    errors: str = "strict",
    walked: bool = False,
) -> str:
    """`read_tree_file` decoded (universal newlines, as `Path.read_text` gives)."""
    data = read_tree_file(path, root, limit, walked=walked)
    text = data.decode(encoding, errors)
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _open_checked(name: str, root: Path | str | None) -> int:
    real = os.path.realpath(name)
    if root is not None and not _inside(real, _real(os.fspath(root))):
        raise UnsafeFileError("outside the scanned root (through a symbolic link or ..)")
    st = os.lstat(real)  # before opening: never open a device or a FIFO at all
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError(f"{_kind(st.st_mode)}, not a regular file")
    return os.open(real, _READ_FLAGS)


def _read_fd(fd: int, limit: int) -> bytes:
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        raise UnsafeFileError(f"{_kind(st.st_mode)}, not a regular file")
    if st.st_size > limit:
        raise UnsafeFileError(
            f"{st.st_size:,} bytes is over the {limit:,}-byte limit "
            "(`max-file-bytes` in [tool.bastion])",
            errno.EFBIG,
        )
    chunks = []
    left = limit + 1  # a file growing while it is read stops at the limit too
    want = st.st_size + 1  # the whole file and its end in one read, as a rule
    while left > 0:
        chunk = os.read(fd, min(want, left))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
        want = _CHUNK
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    if len(data) > limit:
        raise UnsafeFileError(f"over the {limit:,}-byte limit while it was read", errno.EFBIG)
    return data


def special_file(path: Path | str) -> str | None:
    """What a non-regular, non-link, non-folder entry is ("a FIFO"...), else None."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode) or stat.S_ISLNK(mode) or stat.S_ISDIR(mode):
        return None
    return _kind(mode)


# -- JSON -----------------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


JSON_MAX_DEPTH = 500


def json_too_deep(text: str, limit: int = JSON_MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than `limit`: one linear scan, the same
    answer on every Python (json's own limit is the recursion limit on some, none on others)."""
    if text.count("[") + text.count("{") <= limit:  # C-speed: most documents stop here
        return False
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def load_json(data: bytes | str) -> Any:
    """`json.loads` that raises ValueError on nesting deeper than `JSON_MAX_DEPTH` (never a
    RecursionError, on any Python), and refuses NaN and +/-Infinity."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    if json_too_deep(text):
        raise ValueError("nested too deeply")
    try:
        return json.loads(data, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("nested too deeply") from None


# -- the cache folder -----------------------------------------------------------------------------


def _check_name(name: str) -> None:
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        raise ValueError(f"not a plain file name: {name!r}")


class CacheFolder:
    """A folder opened by descriptor; every name is looked up in it without following links."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    @classmethod
    def open(cls, path: Path, root: Path | None = None) -> CacheFolder:
        """Open (creating them) the cache folder `path` and its parents below `root`.

        The parents at or above `root` (or, for a cache outside the root, the folder that holds
        it) are the caller's and followed as given; every component below is opened with
        `O_NOFOLLOW`. The cache folder itself must be a real folder owned by this user.
        Raises `UnsafeFileError` (a link, not a folder, not ours) or OSError."""
        path = Path(os.path.abspath(path))
        anchor = Path(os.path.abspath(root)) if root is not None else path.parent
        try:
            parts = path.relative_to(anchor).parts
        except ValueError:
            anchor, parts = path.parent, (path.name,)
        if not parts:
            raise UnsafeFileError("the cache folder cannot be the scanned root itself")
        fd = os.open(anchor, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for part in parts:
                next_fd = _subfolder(fd, part, os.path.join(anchor, part))
                os.close(fd)
                fd = next_fd
                anchor = anchor / part
            owner = os.fstat(fd).st_uid
            if owner != os.getuid():
                raise UnsafeFileError(f"owned by another user (uid {owner})")
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> CacheFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def child(self, name: str) -> CacheFolder:
        """The sub-folder `name`, created if missing; a link or a file there is refused."""
        _check_name(name)
        return CacheFolder(_subfolder(self.fd, name, str(self.path / name)), self.path / name)

    def read(self, name: str, limit: int) -> bytes:
        _check_name(name)
        fd = os.open(name, _READ_FLAGS, dir_fd=self.fd)
        try:
            return _read_fd(fd, limit)
        finally:
            os.close(fd)

    def create(self, name: str, data: bytes) -> bool:
        """Write a new file `name` unless something (even a dangling link) is there already."""
        _check_name(name)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        try:
            fd = os.open(name, flags, 0o644, dir_fd=self.fd)
        except FileExistsError:
            return False
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        return True

    def write_atomic(self, name: str, data: bytes, mode: int | None = None) -> None:
        """Replace `name` by a file holding `data`, through a temporary file and one rename
        inside this folder: a concurrent reader sees the old file or the new one, a link at
        `name` is replaced (never written through), and the temporary file never outlives a
        failure."""
        _check_name(name)
        tmp = f".{name}.{os.urandom(6).hex()}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(tmp, flags, 0o644, dir_fd=self.fd)
        try:
            try:
                if mode is not None:
                    os.fchmod(fd, mode)  # the replaced file's permissions, not the default
                _write_all(fd, data)
            finally:
                os.close(fd)
            os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            _unlink_quietly(tmp, self.fd)
            raise

    def entries(self) -> Iterator[tuple[str, os.stat_result]]:
        """(name, lstat) of every entry."""
        with os.scandir(self.fd) as listing:
            names = [entry.name for entry in listing]
        for name in names:
            try:
                yield name, os.stat(name, dir_fd=self.fd, follow_symlinks=False)
            except OSError:
                continue

    def remove(self, name: str) -> None:
        """Delete the entry `name` of this folder: a file or a link is unlinked (a link's
        target is never touched), a real folder is emptied through descriptors first."""
        _check_name(name)
        _remove(self.fd, name, 0)


def _subfolder(parent_fd: int, name: str, shown: str) -> int:
    with contextlib.suppress(FileExistsError):
        os.mkdir(name, 0o755, dir_fd=parent_fd)
    try:
        return os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            mode = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
            what = "a symbolic link" if stat.S_ISLNK(mode) else "not a folder"
            raise UnsafeFileError(f"{shown} is {what}") from None
        raise


_MAX_DEPTH = 16  # the cache's own layout is two levels deep; deeper is not ours to empty


def _remove(parent_fd: int, name: str, depth: int) -> None:
    try:
        mode = os.stat(name, dir_fd=parent_fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        _unlink_quietly(name, parent_fd)
        return
    if depth >= _MAX_DEPTH:
        return
    try:
        fd = os.open(name, _DIR_FLAGS, dir_fd=parent_fd)
    except OSError:
        return  # replaced by a link meanwhile: leave it
    try:
        with os.scandir(fd) as listing:
            names = [entry.name for entry in listing]
        for child in names:
            _remove(fd, child, depth + 1)
    finally:
        os.close(fd)
    with contextlib.suppress(OSError):
        os.rmdir(name, dir_fd=parent_fd)  # not empty: something new came in meanwhile


def _unlink_quietly(name: str, dir_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.unlink(name, dir_fd=dir_fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# -- reports, shards, baselines -------------------------------------------------------------------

_SYSTEM_LINKS = ("/dev/", "/proc/")


def write_output(path: Path, text: str) -> None:
    """Write a report (or a shard, or a baseline) to `path`, atomically, never through a link.

    A symbolic link at `path` is refused (a committed `report.sarif -> ~/.bashrc` must not be
    overwritten), except links under /dev/ and /proc/ (`-o /dev/stdout`), and so is a folder
    below the working directory that is a link leading out of it. A FIFO or a device (and the
    targets of those system links) is written in place; a regular file is replaced by a
    rename, so a reader never sees half a report. Raises OSError."""
    absolute = os.path.abspath(path)
    data = text.encode("utf-8")
    try:
        st: os.stat_result | None = os.lstat(absolute)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISLNK(st.st_mode):
        if not absolute.startswith(_SYSTEM_LINKS):
            raise UnsafeFileError("a symbolic link: bastion does not write through links")
        st = os.stat(absolute)
    if st is not None and not stat.S_ISREG(st.st_mode):
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "a folder")
        fd = os.open(absolute, os.O_WRONLY | os.O_CLOEXEC)  # a pipe, a terminal, /dev/null
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        return
    parent = os.path.dirname(absolute)
    cwd = os.getcwd()
    if _inside(parent, cwd) and not _inside(os.path.realpath(parent), _real(cwd)):
        raise UnsafeFileError("its folder is a symbolic link leading out of the working folder")
    folder = CacheFolder(os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC), Path(parent))
    with folder:
        mode = stat.S_IMODE(st.st_mode) if st is not None else None
        folder.write_atomic(os.path.basename(absolute), data, mode)
