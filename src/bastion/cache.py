"""A cache of per-file results, so that a second run over an unchanged tree does almost nothing.

One pack file per configuration (`v2/<salt>/pack.json`) holds, per path, the file's content hash,
its stat signature and its results. A file whose size, mtime, ctime and inode are unchanged is
trusted without being read (as git's index does); any other file is read and hashed, and its
entry is used when the content hash matches. The salt changes with bastion's code, the enabled
rules and the effective configuration, so a changed setting never serves stale results.

Values are JSON - never pickle: the cache lives inside the scanned repository, which is
untrusted, so an entry is data validated on load, and a corrupted or forged entry is ignored and
rewritten. The folder is never followed through a link: it is opened by descriptor, component
by component, with `O_NOFOLLOW` (`bastion.safe_fs.CacheFolder`); a cache folder that is a link,
holds a link where the cache expects a folder, or belongs to another user disables the cache
for the run (with a notice), and pruning deletes only the names the cache gives its own
folders (`v<N>`, 24-hex salts). The pack is replaced atomically (a concurrent reader sees the
old or the new file, never half of one); two runs sharing the cache each merge their entries
into what is on disk, and at worst one run's new entries are lost and recomputed next time.

Never cached: results that carry a secret (a finding with redactions: the cache must not store
the secret) or an internal error (it should be seen again).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bastion import __version__
from bastion.config import Config
from bastion.context import FileFacts
from bastion.findings import Finding, Severity
from bastion.redact import redact_data
from bastion.safe_fs import DEFAULT_LIMIT, CacheFolder, load_json, read_tree_file

FORMAT = 2
_FINDING_FIELDS = {
    "rule",
    "name",
    "severity",
    "category",
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "message",
    "fix_hint",
    "fixable",
    "statement_line",
    "source_line",
    "suppressed_by",
}


def code_stamp(interpreter: str = sys.version) -> str:
    """Changes whenever bastion's or the rules' code changes (sizes and mtimes of the sources),
    so an edited rule never serves stale results."""
    import importlib

    from bastion import plugins

    # and with the interpreter: `ast` and `tokenize` differ between Pythons (a file that one
    # cannot parse, f-string tokens, parser limits), so a result is only reused by the same one;
    # and with the plugins' code (see `bastion.plugins.stamp`)
    digest = hashlib.sha256(f"{__version__}\0{interpreter}\0{plugins.stamp()}".encode())
    for package in ("bastion", "bastion.rules"):
        module = importlib.import_module(package)
        for folder in getattr(module, "__path__", []):
            for path in sorted(Path(folder).rglob("*.py")):
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def config_salt(config: Config, rule_ids: list[str]) -> str:
    described = repr(
        (
            sorted(rule_ids),
            sorted((k, v.label) for k, v in config.severity.items()),
            sorted((k, sorted(v.items())) for k, v in config.rule_options.items()),
            sorted(config.per_file_ignores.items()),
            config.test_paths,
            config.script_paths,
            config.max_file_bytes,
            config.external_suppressions,
            str(config.root),
            project_inputs(config.root),
        )
    )
    return hashlib.sha256(f"{FORMAT}:{code_stamp()}:{described}".encode()).hexdigest()[:24]


def project_inputs(root: Path) -> str:
    """Files outside a module that some rules read for it (the declared Pydantic version):
    when they change, every cached result may change."""
    from bastion.analysis.pydantic import dependency_files

    digest = hashlib.sha256()
    for path in dependency_files(root):
        try:
            # a committed `requirements-dev.txt -> /dev/zero` or a FIFO is refused, not read
            digest.update(path.name.encode() + b"\0" + read_tree_file(path, root, DEFAULT_LIMIT))
        except OSError as exc:
            digest.update(f"{path.name}\0unreadable: {exc.strerror}".encode())
    return digest.hexdigest()


# A file changed within this many nanoseconds of being looked at may change again within the
# same timestamp tick without its mtime moving ("racy" in git's words): never trust its stat.
_RACY_NS = 2_000_000_000

Signature = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
CachedResult = tuple[list[Finding], list[Finding], FileFacts | None, list[str]]


def signature(path: Path) -> Signature | None:
    """The stat signature of a file, or None when it cannot be trusted (racy or unreadable)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) < _RACY_NS:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


_PACK = "pack.json"
_PACK_LIMIT = 512 * 1024 * 1024
_VERSION_NAME = re.compile(r"v[0-9]{1,4}")  # the names the cache gives the folders it prunes
_SALT_NAME = re.compile(r"[0-9a-f]{24}")
_IGNORE = b"# created by bastion\n*\n"


def open_cache_folder(directory: Path, root: Path | None = None) -> CacheFolder:
    """The cache folder, opened without following links (see `CacheFolder.open`); its parents
    below `root` - or below the working folder, when `root` is not given or does not hold the
    cache - are opened the same way."""
    absolute = Path(os.path.abspath(directory))
    for anchor in (root, Path.cwd()):
        if anchor is not None and Path(os.path.abspath(anchor)) in absolute.parents:
            return CacheFolder.open(absolute, anchor)
    return CacheFolder.open(absolute)


class Cache:
    def __init__(self, directory: Path, salt: str, root: Path | None = None) -> None:
        self.base = directory
        self.root = root
        self.salt = salt
        self.directory = directory / f"v{FORMAT}" / salt
        self.pack = self.directory / _PACK
        self.usable = True
        self.notice: str | None = None
        self._entries: dict[str, dict[str, Any]] = {}
        self._changed: dict[str, dict[str, Any] | None] = {}  # path -> new entry, None: drop
        self._keys: dict[str, tuple[str, Signature | None]] = {}

    def prepare(self) -> None:
        """Create the folder (with its own .gitignore), prune other salts and formats, and
        load the pack."""
        try:
            with open_cache_folder(self.base, self.root) as base:
                base.create(".gitignore", _IGNORE)  # not over anything there, even a link
                current = f"v{FORMAT}"
                for name, _ in base.entries():
                    if name != current and _VERSION_NAME.fullmatch(name):
                        base.remove(name)
                with base.child(current) as version:
                    for name, _ in version.entries():
                        if name != self.salt and _SALT_NAME.fullmatch(name):
                            version.remove(name)
                    with version.child(self.salt) as folder:
                        self._entries = _read_pack(folder)
        except OSError as exc:
            self.usable = False
            self.notice = (
                f"cache disabled: cannot use {self.base}: {exc.strerror or exc} "
                "(the run goes on without a cache)"
            )

    @staticmethod
    def key(path: str, kind: str, data: bytes) -> str:
        digest = hashlib.sha256(data)
        digest.update(f"\0{path}\0{kind}".encode())
        return digest.hexdigest()

    def by_stat(self, path: str, stat: Signature | None) -> CachedResult | None:
        """The cached result of a file whose stat signature (`signature(...)`, taken now) is
        the recorded one: the file is not read."""
        entry = self._entries.get(path)
        if not self.usable or stat is None or entry is None or entry.get("stat") is None:
            return None
        if list(stat) != entry["stat"]:
            return None
        return _result(entry)

    def by_content(
        self, path: str, kind: str, data: bytes, stat: Signature | None
    ) -> CachedResult | None:
        """The cached result of a file with exactly these bytes. `stat` is the signature taken
        before `data` was read (so a change during the read is seen next time)."""
        if not self.usable:
            return None
        key = self.key(path, kind, data)
        self._keys[path] = (key, stat)
        entry = self._entries.get(path)
        if entry is None or entry.get("key") != key:
            return None
        hit = _result(entry)
        if hit is not None and entry.get("stat") != (list(stat) if stat else None):
            self._changed[path] = {**entry, "stat": list(stat) if stat else None}
        return hit

    def store(
        self,
        path: str,
        findings: list[Finding],
        suppressed: list[Finding],
        facts: FileFacts | None,
        notices: list[str],
    ) -> None:
        """Remember the result of a file looked up with `by_content` in this run."""
        if not self.usable or path not in self._keys:
            return
        if any(f.redact for f in (*findings, *suppressed)):
            if path in self._entries:
                self._changed[path] = None  # never keep an older result of a secret-holding file
            return
        key, stat = self._keys[path]
        self._changed[path] = {
            "key": key,
            "stat": list(stat) if stat else None,
            "findings": [_dump(f) for f in findings],
            "suppressed": [_dump(f) for f in suppressed],
            # facts and notices quote the file (a requirement's URL, a parse error's line):
            # masked like every other text bastion writes (findings mask themselves)
            "facts": redact_data(asdict(facts)) if facts is not None else None,
            "notices": redact_data(notices),
        }

    def save(self) -> None:
        """Merge this run's entries into the pack on disk and replace it atomically; entries of
        files that no longer exist are pruned."""
        if not self.usable or not self._changed:
            return
        try:
            with self._folder() as folder:
                entries = _read_pack(folder)  # another run may have written since we loaded it
                for path, entry in self._changed.items():
                    if entry is None:
                        entries.pop(path, None)
                    else:
                        entries[path] = entry
                write_json_atomic(folder, _PACK, {"format": FORMAT, "entries": entries})
        except OSError:
            self.usable = False
        self._changed.clear()

    def _folder(self) -> CacheFolder:
        with open_cache_folder(self.base, self.root) as base, base.child(f"v{FORMAT}") as version:
            return version.child(self.salt)

    def prune(self, root: Path, seen: set[str]) -> None:
        """Drop entries of files not seen in this run that no longer exist under `root`."""
        for path in self._entries:
            if path not in seen and not (root / path).exists():
                self._changed[path] = None


def write_json_atomic(folder: CacheFolder, name: str, payload: Any) -> None:
    """Write `payload` as JSON to `name` in the cache folder through a temporary file and one
    rename (`CacheFolder.write_atomic`): a concurrent reader sees the old file or the new one,
    never half of one, and a link at `name` is replaced, never written through."""
    folder.write_atomic(name, json.dumps(payload).encode("utf-8"))


def _read_pack(folder: CacheFolder) -> dict[str, dict[str, Any]]:
    try:
        raw = load_json(folder.read(_PACK, _PACK_LIMIT))
    except (OSError, ValueError):
        return {}  # missing, refused (a link, a FIFO) or corrupted: start afresh (overwrite)
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        return {}
    entries = raw.get("entries")
    if not isinstance(entries, dict):
        return {}
    return {k: v for k, v in entries.items() if isinstance(k, str) and isinstance(v, dict)}


def _result(entry: dict[str, Any]) -> CachedResult | None:
    """An entry as findings, facts and notices; None when it is malformed or forged."""
    try:
        findings = [_finding(f) for f in entry["findings"]]
        suppressed = [_finding(f) for f in entry["suppressed"]]
        facts = entry["facts"]
        file_facts = (
            FileFacts(str(facts["path"]), str(facts["kind"]), dict(facts["facts"]))
            if facts is not None
            else None
        )
        notices = [str(n) for n in entry["notices"]]
    except (ValueError, KeyError, TypeError):
        return None
    return findings, suppressed, file_facts, notices


def _dump(finding: Finding) -> dict[str, Any]:
    data = {k: v for k, v in asdict(finding).items() if k in _FINDING_FIELDS}
    data["severity"] = int(finding.severity)
    return data


def _finding(data: Any) -> Finding:
    if not isinstance(data, dict) or set(data) != _FINDING_FIELDS:
        raise ValueError("not a finding")
    values = dict(data)
    values["severity"] = Severity(int(values["severity"]))
    for key in ("line", "column", "end_line", "end_column"):
        if not isinstance(values[key], int):
            raise ValueError(key)
    return Finding(**values)
