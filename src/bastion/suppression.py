"""Inline suppressions.

    x = eval(data)  # bastion: ignore[SEC013] input is a literal from our own config
    # bastion: ignore[SEC001] test key, revoked
    API_KEY = "AKIA..."
    # bastion: ignore-file[LOG001]

A line comment silences the named rules on its own line; a comment alone on a line silences the
next statement; a comment on the first line of a multi-line statement covers the whole
statement. Ids must be named: a bare `# bastion: ignore` or an unknown id is itself reported, so
that a typo never silences nothing (or everything) by accident.

Comments written for other linters count too (unless `external-suppressions = false`), on the
finding's line or the first line of its statement:

    except:  # noqa: E722          the ruff/flake8 code of an equivalent rule (`aliases`)
    pickle.loads(data)  # nosec B301   a bandit test id of an equivalent rule (`bandit`)
    pickle.loads(data)  # nosec         bandit's bare form: every rule with a bandit equivalent

A blanket `# noqa` (no codes) silences nothing here: it was written for another linter's finding
on that line (mostly style), and silencing security findings by it would hide what bastion is
for (ruff itself discourages it: PGH004).
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from bastion.redact import redact

_DIRECTIVE = re.compile(
    # the id list stops at `#` too: an ignore directive with an open `[` repeated along a
    # line, and no `]`, otherwise rescanned the rest of the line from each one (quadratic)
    r"#\s*bastion:\s*(?P<kind>ignore-file|ignore)\b(?:\[(?P<ids>[^\]#]*)\])?(?P<reason>[^#]*)"
)


@dataclass(frozen=True)
class Directive:
    line: int
    column: int
    file_level: bool
    ids: tuple[str, ...]
    reason: str
    own_line: bool  # the comment is alone on its line
    # "bastion" for bastion's own directive; "noqa"/"nosec" for another linter's comment, whose
    # ids are that linter's codes (empty for a bare `# nosec`)
    origin: str = "bastion"

    def silences(self, rule_id: str) -> bool:
        if self.origin == "bastion":
            return rule_id in self.ids
        noqa, bandit = external_codes().get(rule_id, ((), ()))
        if self.origin == "noqa":
            return any(code in self.ids for code in noqa)
        return bool(bandit) and (not self.ids or any(code in self.ids for code in bandit))


@dataclass
class Suppressions:
    by_line: dict[int, list[Directive]] = field(default_factory=dict)
    file_level: list[Directive] = field(default_factory=list)
    directives: list[Directive] = field(default_factory=list)

    def match(self, rule_id: str, line: int, statement_line: int | None) -> Directive | None:
        """The directive that silences `rule_id` at this place, if any."""
        for d in self.file_level:
            if rule_id in d.ids:
                return d
        candidates = [line, line - 1]
        if statement_line is not None and statement_line != line:
            candidates += [statement_line, statement_line - 1]
        for number in candidates:
            for d in self.by_line.get(number, ()):
                # another linter's comment counts on the line itself only (its own convention)
                applies = number in (line, statement_line) or (d.own_line and d.origin == "bastion")
                if applies and d.silences(rule_id):
                    return d
        return None


ExternalCodes = dict[str, tuple[tuple[str, ...], tuple[str, ...]]]
# Where the rules' codes come from: the registry registers itself when it loads (this module
# is below the rules and must not import them).
_codes_provider: Callable[[], ExternalCodes] | None = None


def use_external_codes(provider: Callable[[], ExternalCodes]) -> None:
    global _codes_provider
    _codes_provider = provider
    external_codes.cache_clear()


@functools.cache
def external_codes() -> ExternalCodes:
    """{rule id: (ruff/flake8 codes, bandit test ids)} from the rules' metadata."""
    return _codes_provider() if _codes_provider is not None else {}


_MARKERS = re.compile(r"bastion:|noqa|nosec", re.IGNORECASE)
_EXTERNAL = re.compile(
    r"#\s*(?P<kind>noqa|nosec)\b(?P<rest>[^#]*)",
    re.IGNORECASE,
)
_NOQA_CODES = re.compile(r"^\s*:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)", re.IGNORECASE)
_BANDIT_ID = re.compile(r"\bB[0-9]{3}\b", re.IGNORECASE)


def may_suppress(text: str | bytes, external: bool = True) -> bool:
    """Cheap pre-check: could `text` hold a directive at all?"""
    if not external:
        if isinstance(text, bytes):
            return b"bastion:" in text
        return "bastion:" in text
    if text.isascii():
        # ~9x faster than the case-insensitive search on django's sources; only for ASCII,
        # where lower-casing matches exactly what IGNORECASE does (U+017F matches `s` there)
        low = text.lower()
        if isinstance(low, bytes):
            return b"bastion:" in low or b"noqa" in low or b"nosec" in low
        return "bastion:" in low or "noqa" in low or "nosec" in low
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _MARKERS.search(text) is not None


def _external_directives(text: str, number: int, start: int) -> list[Directive]:
    """`# noqa: CODE, CODE` and `# nosec [BXXX ...]` comments in a line (from column `start`).
    A blanket `# noqa` yields nothing (see the module docstring)."""
    found: list[Directive] = []
    for m in _EXTERNAL.finditer(text, start):
        kind = m.group("kind").lower()
        rest = m.group("rest")
        if kind == "noqa":
            codes = _NOQA_CODES.match(rest)
            if codes is None:
                continue
            ids = tuple(c.upper() for c in re.split(r"[\s,]+", codes.group("codes")) if c)
        else:
            ids = tuple(c.upper() for c in _BANDIT_ID.findall(rest))
        found.append(
            Directive(
                line=number,
                column=m.start() + 1,
                file_level=False,
                ids=ids,
                reason=m.group(0).strip(),
                own_line=text[: m.start()].strip() == "",
                origin=kind,
            )
        )
    return found


def python_comments(text: str, *, parses: bool | None = None) -> dict[int, int] | None:
    """{line: column where its comment starts} for the comments that may hold a directive, as
    Python's tokenizer sees them, so that a directive quoted in a string or a docstring is not
    taken for one; None if the text does not tokenize (then every `#` counts, as in other file
    kinds).

    For text that parses (`parses`: the caller knows, e.g. it has the tree; None: find out, at
    a fraction of tokenize's cost), a scan of its strings and comments alone gives tokenize's
    answer about ten times faster: tokenize runs every token through Python code."""
    if parses is None:
        parses = _parses(text)
    if parses:
        found = _scan_comments(text)
        if found is not None:
            return found
    return _tokenize_comments(text)


def _parses(text: str) -> bool:
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the compiler's SyntaxWarnings are not ours
            ast.parse(text, type_comments=False)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _tokenize_comments(text: str) -> dict[int, int] | None:
    import io
    import tokenize

    comments: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and _MARKERS.search(token.string):
                comments[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return comments


# Comments and string literals, as tokenize delimits them (its own string patterns, matched over
# the whole text: a backslash escapes any character, a newline included). A string's prefix does
# not change where it ends, so a match starts at the quote (only an f-string's does, from 3.12
# on: checked apart). An unterminated string runs to the end of its line (of the text, for
# triple quotes) and sets a group `open<n>`: a quote always starts a match, so no part of the
# text is scanned twice.
_LEXEMES = re.compile(
    r"(?P<comment>#[^\r\n]*)"
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*(?:'''|(?P<open1>))"
    r'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*(?:"""|(?P<open2>))'
    r"|'[^\n'\\]*(?:\\(?:\r\n|.)[^\n'\\]*)*(?:'|(?P<open3>))"
    r'|"[^\n"\\]*(?:\\(?:\r\n|.)[^\n"\\]*)*(?:"|(?P<open4>))',
    re.DOTALL,
)
_NEW_FSTRINGS = sys.version_info >= (3, 12)  # PEP 701: quotes and comments inside `{...}`
# an f- or t-string's prefix, in the three characters before its quote: a whole word
# (`elif"x"` is a keyword and a plain string)
_FSTRING_PREFIX = re.compile(r"(?:^|\W)([rR][fFtT]|[fFtT][rR]?)\Z")


def _scan_comments(text: str) -> dict[int, int] | None:
    """python_comments for text that parses: every `#` outside a string literal opens a comment,
    and in valid code a quote outside one opens a string. None where that shortcut could differ
    from tokenize (which then decides): a lone carriage return (tokenize reads lines by
    newline, the parser by either), an unterminated string (not valid Python) or, from 3.12,
    an f-string whose fields it cannot vouch for."""
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None
    new_fstrings = _NEW_FSTRINGS
    comments: dict[int, int] = {}
    line, counted = 1, 0
    for m in _LEXEMES.finditer(text):
        kind = m.lastgroup
        if kind is None:  # a string
            if new_fstrings and text[m.start() - 1] in "fFtTrR" and not _plain_fstring(text, m):
                return None
        elif kind == "comment":
            if _MARKERS.search(m.group()):
                start = m.start()
                line += text.count("\n", counted, start)
                counted = start
                comments[line] = start - text.rfind("\n", 0, start) - 1
        else:
            return None
    return comments


def _plain_fstring(text: str, string: re.Match[str]) -> bool:
    """True unless `string` is an f-string (or t-string) with fields `_plain_fields` cannot
    vouch for."""
    start = string.start()
    prefix = _FSTRING_PREFIX.search(text, max(0, start - 3), start)
    if prefix is None:
        return True
    return _plain_fields(string.group(), raw="r" in prefix.group(1).lower())


_FIELD_LITERAL = re.compile(r"[\\{}]")
_FIELD_CODE = re.compile(r"[\\{}'\"#]")


def _plain_fields(literal: str, *, raw: bool) -> bool:
    """For an f-string literal as the pre-3.12 rules delimit it (quotes included, prefix not):
    does PEP 701's tokenizer see it end at the same quote, with no comment inside? Yes when
    every replacement field closes before that quote and holds no `#`, no backslash, no `{{`,
    and only quoted strings without braces or backslashes. Conservative: False sends the file
    to tokenize."""
    quote = 3 if literal[:3] in ("'''", '"""') else 1
    body = literal[quote:-quote]
    if "{" not in body:
        return True
    depth, i = 0, 0  # depth 0: literal text
    while True:
        m = (_FIELD_CODE if depth else _FIELD_LITERAL).search(body, i)
        if m is None:
            return depth == 0
        c, i = m.group(), m.end()
        if depth == 0:
            if c == "\\":
                if body.startswith("N{", i) and not raw:  # a named escape: \N{DASH}
                    i = body.find("}", i) + 1
                    if i == 0:
                        return False
                elif body[i : i + 1] not in ("{", "}"):  # `\{` opens a field all the same
                    i += 1
            elif body.startswith(c, i):  # `{{` and `}}` stand for a brace
                i += 1
            elif c == "{":
                depth = 1
            else:
                return False
        elif c in "\"'":
            end = body.find(c, i)
            if end < 0 or any(ch in body[i:end] for ch in "{}\\\n"):
                return False
            i = end + 1
        elif c == "{" and not body.startswith("{", i):
            depth += 1
        elif c == "}":
            depth -= 1
        else:  # a backslash, a `#` or a `{{` in a field
            return False


def parse_suppressions(
    lines: list[str], comments: dict[int, int] | None = None, *, external: bool = True
) -> Suppressions:
    """Directives in `lines`; with `comments` (Python files), only those inside a comment.
    `external`: also another linter's `# noqa: CODE` / `# nosec` comments."""
    result = Suppressions()
    for number, text in enumerate(lines, start=1):
        if comments is not None and number not in comments:
            continue
        if external and (comments is not None or "#" in text):
            start = comments[number] if comments is not None else 0
            for d in _external_directives(text, number, start):
                result.by_line.setdefault(number, []).append(d)
        if "bastion:" not in text:
            continue
        for m in _DIRECTIVE.finditer(text):
            if comments is not None and m.start() < comments[number]:
                continue
            ids = tuple(i.strip().upper() for i in (m.group("ids") or "").split(",") if i.strip())
            directive = Directive(
                line=number,
                column=m.start() + 1,
                file_level=m.group("kind") == "ignore-file",
                ids=ids,
                # a justification is shown (SARIF, reports): never a secret it quotes
                reason=redact(m.group("reason").strip()),
                own_line=text[: m.start()].strip() == "",
            )
            result.directives.append(directive)
            if directive.file_level:
                result.file_level.append(directive)
            else:
                result.by_line.setdefault(number, []).append(directive)
    return result
