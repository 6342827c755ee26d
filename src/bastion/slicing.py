"""Choosing a shard's files: a stable slice of the discovered files by a hash of each path,
and a digest of the whole tree that every shard of one run must agree on (`bastion.shard`
writes and merges the shards; the engine only takes the slice)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from bastion.source import SourceFile


def in_shard(path: str, index: int, count: int) -> bool:
    """Whether the file at `path` (relative, posix) belongs to shard `index` of `count`. A hash
    of the path, not a position in a list: adding or removing a file elsewhere moves no other
    file to another shard."""
    digest = hashlib.sha256(path.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count == index - 1


def tree_digest_of(files: Iterable[SourceFile]) -> str:
    """Every shard discovers the whole tree before taking its slice: this digest of what it
    found tells shards of different commits (or checkouts) apart."""
    digest = hashlib.sha256()
    for source in files:
        digest.update(f"{source.path}\0{source.kind}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:24]
