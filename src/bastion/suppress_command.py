"""`bastion suppress`: write `# bastion: ignore[ID] reason` on every current finding, the usual
way to adopt a linter on an existing codebase (ruff's `--add-noqa`).

In Python files the directive goes at the end of the flagged line (merged into a `# bastion:
ignore[...]` already there, after any other comment), or - when that line ends inside a
multi-line string or after a backslash continuation - alone on a line above the statement,
where it applies to the statement. Other files that allow `#` comments get it alone on the line
above. Files are rewritten atomically (refused if they changed meanwhile), keeping their
encoding, line endings and every existing comment; running it twice adds nothing.
"""

from __future__ import annotations

import io
import re
import tokenize
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bastion.config import Config
from bastion.discovery import SourceFile, file_kind
from bastion.findings import Finding

# file kinds whose syntax has `#` line comments (JSON and lock files have none)
COMMENT_KINDS = frozenset(
    {"python", "dotenv", "dockerfile", "requirements", "ini", "yaml", "toml", "compose",
     "precommit", "pyproject", "gitignore"}
)  # fmt: skip
_STRING_TOKENS = {tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", tokenize.STRING)}
# the id list stops at `#` too: linear on an open `[` repeated (docs/regex-audit.md)
_EXISTING = re.compile(r"#\s*bastion:\s*ignore\[(?P<ids>[^\]#]*)\]")


@dataclass
class SuppressRun:
    written: dict[str, int] = field(default_factory=dict)  # path -> directives added
    notices: list[str] = field(default_factory=list)


def _encoding(data: bytes, kind: str) -> str:
    if kind != "python":
        return "utf-8"
    try:
        return tokenize.detect_encoding(io.BytesIO(data).readline)[0]
    except SyntaxError:
        return "utf-8"


def _no_comment_lines(text: str) -> set[int]:
    """Lines (1-based) where a trailing comment is impossible: they end inside a string that
    goes on, or with a backslash continuation."""
    blocked: set[int] = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            # a string token (3.12+: an f-string middle) that goes on past its first line
            if token.type in _STRING_TOKENS and token.end[0] > token.start[0]:
                blocked.update(range(token.start[0], token.end[0]))
    except (tokenize.TokenError, SyntaxError):
        pass
    lines = text.splitlines()
    blocked.update(i for i, line in enumerate(lines, start=1) if line.rstrip().endswith("\\"))
    return blocked


def _ending(line: str) -> str:
    for end in ("\r\n", "\n", "\r"):
        if line.endswith(end):
            return end
    return "\n"


def _add_to_line(line: str, ids: list[str], reason: str) -> str:
    body = line.rstrip("\r\n")
    ending = line[len(body) :]
    existing = _EXISTING.search(body)
    if existing is not None:
        have = [i.strip() for i in existing.group("ids").split(",") if i.strip()]
        merged = ", ".join(sorted({*have, *ids}))
        return body[: existing.start("ids")] + merged + body[existing.end("ids") :] + ending
    stripped = body.rstrip()
    return f"{stripped}  # bastion: ignore[{', '.join(ids)}] {reason}".rstrip() + ending


def suppressed_text(text: str, kind: str, findings: list[Finding], reason: str) -> tuple[str, int]:
    """`text` with a directive for every finding, and how many directives were added."""
    lines = text.splitlines(keepends=True)
    blocked = _no_comment_lines(text) if kind == "python" else set()
    on_line: dict[int, set[str]] = defaultdict(set)
    above: dict[int, set[str]] = defaultdict(set)
    for finding in findings:
        if not 1 <= finding.line <= len(lines):
            continue
        if kind == "python" and finding.line not in blocked:
            on_line[finding.line].add(finding.rule)
            continue
        # a statement starts outside any string: the line above it is always free
        target = (finding.statement_line or finding.line) if kind == "python" else finding.line
        above[target].add(finding.rule)
    added = 0
    for number, ids in on_line.items():
        lines[number - 1] = _add_to_line(lines[number - 1], sorted(ids), reason)
        added += 1
    for number in sorted(above, reverse=True):
        line = lines[number - 1]
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        directive = f"{indent}# bastion: ignore[{', '.join(sorted(above[number]))}] {reason}"
        lines.insert(number - 1, directive.rstrip() + _ending(line))
        added += 1
    return "".join(lines), added


def suppress(findings: list[Finding], config: Config, reason: str) -> SuppressRun:
    """Write the directives for `findings` into their files."""
    from bastion.fixer import FileFix, WriteSkipped, write_atomic

    run = SuppressRun()
    by_path: dict[str, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_path[finding.path].append(finding)
    for path, found in sorted(by_path.items()):
        kind = file_kind(Path(path).name) or ""
        if kind not in COMMENT_KINDS:
            run.notices.append(f"{path}: not changed: this kind of file has no comments")
            continue
        source = SourceFile(path, config.root / path, kind)
        try:
            data = source.abspath.read_bytes()
            encoding = _encoding(data, kind)
            text = data.decode(encoding)
        except (OSError, UnicodeDecodeError, LookupError) as exc:
            run.notices.append(f"{path}: not changed: {exc}")
            continue
        new, added = suppressed_text(text, kind, found, reason)
        if not added or new == text:
            continue
        try:
            write_atomic(FileFix(source, data, new.encode(encoding)))
        except (WriteSkipped, OSError) as exc:
            run.notices.append(str(exc))
            continue
        run.written[path] = added
    return run
