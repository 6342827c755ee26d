"""Which Python a file's syntax needs, for the files the running interpreter cannot parse.

bastion parses with the interpreter it runs on (`ast.parse`), so a project written for a newer
Python than that one gets syntax errors. When a parse fails, `newer_syntax` looks at the tokens
(and, for PEP 701 f-strings, which older tokenizers read as plain strings, at the literal's
text) for constructs that only a newer Python accepts. It names one only when the syntax error
is on a line that uses it: the error is then that construct, not a typo elsewhere.

Only what the grammar changed is looked for (from Python 3.10, the oldest bastion runs on):

- 3.11: `except*` (PEP 654), `*Ts` in a subscript (PEP 646);
- 3.12: `type X = ...` and `def f[T]`/`class C[T]` (PEP 695), f-strings that reuse their
  quotes, hold a backslash, a comment or a line break in a replacement field (PEP 701);
- 3.13: type parameter defaults, `[T = int]` (PEP 696);
- 3.14: `except A, B:` without parentheses (PEP 758), template strings `t"..."` (PEP 750);
- 3.15: `lazy import` / `lazy from ... import` (PEP 810).
"""

from __future__ import annotations

import bisect
import io
import keyword
import re
import sys
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass

Version = tuple[int, int]

SUPPORTED_TARGETS: tuple[Version, ...] = ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14), (3, 15))


def running() -> Version:
    return (sys.version_info.major, sys.version_info.minor)


def version_text(version: Version) -> str:
    return f"{version[0]}.{version[1]}"


@dataclass(frozen=True)
class Construct:
    """A construct that needs Python `version` (made valid by PEP `pep`), on lines `line` to
    `end_line`."""

    version: Version
    what: str
    pep: int
    line: int
    end_line: int

    def describe(self) -> str:
        needs = f"PEP {self.pep}, Python {version_text(self.version)}"
        return f"line {self.line} uses {self.what} ({needs})"


@dataclass(frozen=True)
class NewerSyntax:
    """Why a file does not parse here: it needs Python `version`, the newest of `constructs`
    (those that the running interpreter does not accept); `at_error` is on the error's line."""

    version: Version
    at_error: Construct
    constructs: tuple[Construct, ...]

    def explain(self) -> str:
        shown = [self.at_error]
        newest = max(self.constructs, key=lambda c: c.version)
        if newest.version > self.at_error.version:
            shown.append(newest)
        return (
            f"this file needs Python {version_text(self.version)}: "
            f"{', '.join(c.describe() for c in shown)}; bastion runs on Python "
            f"{version_text(running())}"
        )


def run_under_hint(version: Version) -> str:
    """How to run bastion under Python `version`, in the three places people run it."""
    v = version_text(version)
    return (
        f"Run bastion under Python {v}: `uv tool run --python {v} --from bastion-lint bastion "
        f"check .`; in pre-commit, `language_version: python{v}` on the hook; in GitHub "
        f'Actions, `actions/setup-python` with `python-version: "{v}"` before it.'
    )


def syntax_error_message(text: str, error: SyntaxError) -> tuple[str, str | None]:
    """BAS001's message and hint for a Python file that does not parse here."""
    message = f"syntax error: {error.msg}"
    newer = newer_syntax(text, error.lineno)
    if newer is None:
        return message, None
    return f"{message} - {newer.explain()}", run_under_hint(newer.version)


_NEEDS = re.compile(r"this file needs Python (\d+)\.(\d+)")


def needed_by(message: str) -> Version | None:
    """The Python a BAS001 message says its file needs (see `syntax_error_message`)."""
    found = _NEEDS.search(message)
    return (int(found.group(1)), int(found.group(2))) if found else None


def newer_syntax(text: str, error_line: int | None) -> NewerSyntax | None:
    """The newer Python that the syntax error at `error_line` asks for, or None when the error
    is not one of the constructs this interpreter lacks (a real syntax error)."""
    found = [c for c in constructs(text) if c.version > running()]
    if not found or error_line is None:
        return None
    at_error = [c for c in found if c.line <= error_line <= c.end_line]
    if not at_error:
        return None
    first = max(at_error, key=lambda c: c.version)
    return NewerSyntax(max(c.version for c in found), first, tuple(found))


def constructs(text: str) -> list[Construct]:
    """Every construct of a Python newer than 3.10 found in `text`, in source order. It reads
    tokens with the running interpreter's tokenizer, which accepts more than its parser (a
    failing tokenizer keeps what it read up to the failure)."""
    found = list(_token_constructs(_tokens(text)))
    found += _fstring_constructs(text)
    return sorted(found, key=lambda c: (c.line, c.version))


# -- tokens ---------------------------------------------------------------------------------------

_SKIP = frozenset({tokenize.NL, tokenize.COMMENT, tokenize.ENCODING})
_STATEMENT_START = frozenset({tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT})
# String tokens of every version: older tokenizers read f-strings as STRING, newer ones as
# FSTRING_START ... FSTRING_END (and t-strings as TSTRING_START ...).
_STRING_STARTS = frozenset(
    getattr(tokenize, name)
    for name in ("STRING", "FSTRING_START", "TSTRING_START")
    if hasattr(tokenize, name)
)
_TEMPLATE_PREFIXES = frozenset({"t", "tr", "rt"})  # before 3.14: a NAME, then the string
_TSTRING_START: int = getattr(tokenize, "TSTRING_START", -1)


def _tokens(text: str) -> list[tokenize.TokenInfo]:
    tokens: list[tokenize.TokenInfo] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type not in _SKIP:
                tokens.append(token)
    except (tokenize.TokenError, SyntaxError, ValueError):
        pass  # what was read so far still counts
    return tokens


def _token_constructs(tokens: list[tokenize.TokenInfo]) -> Iterator[Construct]:
    for i, token in enumerate(tokens):
        after = tokens[i + 1 : i + 4]
        if token.type == tokenize.NAME:
            yield from _name_constructs(tokens, i, after)
        elif token.type == tokenize.OP and token.string == "[" and _subscript_at(tokens, i):
            yield from _star_in_subscript(tokens, i)
        elif token.type == _TSTRING_START:  # 3.14's tokenizer: `t"` is one token
            line = token.start[0]
            yield Construct((3, 14), 'a template string `t"..."`', 750, line, line)


def _name_constructs(
    tokens: list[tokenize.TokenInfo], i: int, after: list[tokenize.TokenInfo]
) -> Iterator[Construct]:
    token = tokens[i]
    word = token.string
    line = token.start[0]
    nxt = after[0] if after else None
    if word == "except" and nxt is not None:
        star = nxt.type == tokenize.OP and nxt.string == "*"
        if star:
            yield Construct((3, 11), "`except*`", 654, line, line)
        end = _unparenthesised_tuple_until_colon(tokens, i + (2 if star else 1))
        if end is not None:
            what = "`except A, B:` without parentheses"
            yield Construct((3, 14), what, 758, line, end)
    elif word == "type" and _starts_statement(tokens, i) and len(after) >= 2:
        name, then = after[0], after[1]
        if name.type == tokenize.NAME and then.type == tokenize.OP and then.string in "=[":
            yield Construct((3, 12), "a `type` statement", 695, line, line)
            if then.string == "[":
                yield from _type_parameter_defaults(tokens, i + 2)
    elif word in ("def", "class") and len(after) >= 2:
        name, bracket = after[0], after[1]
        if name.type == tokenize.NAME and bracket.type == tokenize.OP and bracket.string == "[":
            yield Construct((3, 12), f"type parameters on `{word}`", 695, line, line)
            yield from _type_parameter_defaults(tokens, i + 2)
    elif word.lower() in _TEMPLATE_PREFIXES and nxt is not None:
        if nxt.type in _STRING_STARTS and nxt.start == token.end:
            yield Construct((3, 14), 'a template string `t"..."`', 750, line, line)
    elif word == "lazy" and _starts_statement(tokens, i) and _is_import(nxt):
        assert nxt is not None
        yield Construct((3, 15), f"`lazy {nxt.string}`", 810, line, line)


def _is_import(token: tokenize.TokenInfo | None) -> bool:
    return token is not None and token.type == tokenize.NAME and token.string in ("import", "from")


def _starts_statement(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    if i == 0:
        return True
    before = tokens[i - 1]
    return before.type in _STATEMENT_START or (before.type == tokenize.OP and before.string == ";")


def _unparenthesised_tuple_until_colon(tokens: list[tokenize.TokenInfo], i: int) -> int | None:
    """The last line of `A, B` (a comma outside brackets, no `as`) before the `:` of an except
    clause starting at token `i`; None when the clause is not one."""
    depth = 0
    comma = False
    for token in tokens[i:]:
        if token.type == tokenize.OP:
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth -= 1
            elif depth == 0 and token.string == ",":
                comma = True
            elif depth == 0 and token.string == ":":
                return token.start[0] if comma else None
        elif token.type in _STATEMENT_START or depth < 0 or (token.string == "as" and depth == 0):
            return None
    return None


def _type_parameter_defaults(tokens: list[tokenize.TokenInfo], bracket: int) -> Iterator[Construct]:
    """`[T = int]`: an `=` directly inside the type parameter list opened at `bracket`."""
    depth = 0
    for token in tokens[bracket:]:
        if token.type != tokenize.OP:
            continue
        if token.string in "([{":
            depth += 1
        elif token.string in ")]}":
            depth -= 1
            if depth == 0:
                return
        elif token.string == "=" and depth == 1:
            line = token.start[0]
            yield Construct((3, 13), "a type parameter default", 696, line, line)
            return


def _subscript_at(tokens: list[tokenize.TokenInfo], i: int) -> bool:
    """Whether the `[` at `i` subscripts something (`x[`, `f()[`, `a[0][`) rather than opening
    a list display."""
    if i == 0:
        return False
    before = tokens[i - 1]
    if before.type == tokenize.NAME:
        return not keyword.iskeyword(before.string) or before.string in ("None", "True", "False")
    return before.type == tokenize.OP and before.string in (")", "]")


def _star_in_subscript(tokens: list[tokenize.TokenInfo], bracket: int) -> Iterator[Construct]:
    """`tuple[int, *Ts]`: a star at the top of the subscript opened at `bracket` (PEP 646)."""
    depth = 0
    previous = tokens[bracket]
    for token in tokens[bracket:]:
        if token.type == tokenize.OP:
            if token.string in "([{":
                depth += 1
            elif token.string in ")]}":
                depth -= 1
                if depth == 0:
                    return
            elif (
                token.string == "*"
                and depth == 1
                and previous.type == tokenize.OP
                and previous.string in ("[", ",")
            ):
                line = token.start[0]
                yield Construct((3, 11), "`*` unpacking in a subscript", 646, line, line)
                return
        previous = token


# -- f-strings (PEP 701) --------------------------------------------------------------------------
# Before 3.12 an f-string was first read as a plain string literal, so a replacement field could
# not reuse the string's quotes, hold a backslash or a comment, or (in a single-quoted string)
# span lines. Older tokenizers cut such a literal short, so this reads the text itself.

_PREFIX_LETTERS = frozenset("rRbBuUfFtT")


@dataclass
class _Scan:
    text: str
    found: list[Construct]
    newlines: list[int] | None = None

    def line(self, pos: int) -> int:
        if self.newlines is None:
            self.newlines = [i for i, char in enumerate(self.text) if char == "\n"]
        return bisect.bisect_left(self.newlines, pos) + 1

    def hit(self, start: int, pos: int, why: str) -> None:
        if len(self.found) >= _MAX_HITS:
            return  # enough to explain the file
        what = f"an f-string {why}"
        self.found.append(Construct((3, 12), what, 701, self.line(start), self.line(pos)))


_MAX_HITS = 100


def _fstring_constructs(text: str) -> list[Construct]:
    if "f" not in text.lower() and "t" not in text.lower():
        return []
    scan = _Scan(text, [])
    pos = 0
    end = len(text)
    while pos < end:
        char = text[pos]
        if char == "#":
            newline = text.find("\n", pos)
            pos = end if newline < 0 else newline
        elif char in "'\"":
            prefix = _prefix_before(text, pos)
            pos = _string(scan, pos, prefix)
        else:
            pos += 1
    return _first_per_string(scan.found)


def _first_per_string(found: list[Construct]) -> list[Construct]:
    seen: set[int] = set()
    kept = []
    for construct in found:
        if construct.line not in seen:
            seen.add(construct.line)
            kept.append(construct)
    return kept


def _prefix_before(text: str, pos: int) -> str:
    start = pos
    while start > 0 and text[start - 1] in _PREFIX_LETTERS and pos - start < 2:
        start -= 1
    if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        return ""  # `name"..."`: not a prefix (and not valid Python anyway)
    return text[start:pos].lower()


def _string(scan: _Scan, pos: int, prefix: str) -> int:
    """Skip the literal whose quote is at `pos`; returns the position after it."""
    text = scan.text
    quote = text[pos : pos + 3] if text[pos : pos + 3] in ('"""', "'''") else text[pos]
    body = pos + len(quote)
    if "f" in prefix or "t" in prefix:
        return _formatted(scan, pos, body, quote, "r" in prefix)
    return _plain(text, body, quote)


def _plain(text: str, pos: int, quote: str) -> int:
    end = len(text)
    while pos < end:
        if text[pos] == "\\":
            pos += 2
        elif text.startswith(quote, pos):
            return pos + len(quote)
        elif text[pos] == "\n" and len(quote) == 1:
            return pos  # unterminated: let the parser say so
        else:
            pos += 1
    return end


def _formatted(scan: _Scan, start: int, pos: int, quote: str, raw: bool) -> int:
    """Skip an f-string (or t-string) from its body at `pos`, noting PEP 701 constructs."""
    text = scan.text
    end = len(text)
    while pos < end:
        char = text[pos]
        if char == "\\" and not raw:
            pos += 2
        elif char == "\\":
            pos += 2 if text[pos + 1 : pos + 2] == quote[0] else 1
        elif text.startswith(quote, pos):
            return pos + len(quote)
        elif char == "\n" and len(quote) == 1:
            return pos
        elif text.startswith("{{", pos) or text.startswith("}}", pos):
            pos += 2
        elif char == "{":
            pos = _field(scan, start, pos + 1, quote)
        else:
            pos += 1
    return end


def _field(scan: _Scan, start: int, pos: int, quote: str) -> int:
    """Skip a replacement field from after its `{` to after its `}`."""
    text = scan.text
    end = len(text)
    depth = 0
    while pos < end:
        char = text[pos]
        if char in "'\"":
            nested = text[pos : pos + 3] if text[pos : pos + 3] in ('"""', "'''") else char
            if nested == quote or (len(quote) == 1 and nested[0] == quote):
                scan.hit(start, pos, "that reuses its quotes inside a replacement field")
            after = _string(scan, pos, _prefix_before(text, pos))
            if "\\" in text[pos:after]:  # before 3.12, not even inside a nested string
                scan.hit(start, pos, "with a backslash in a replacement field")
            pos = after
        elif char == "\\":
            scan.hit(start, pos, "with a backslash in a replacement field")
            pos += 1
        elif char == "#":
            scan.hit(start, pos, "with a comment in a replacement field")
            newline = text.find("\n", pos)
            pos = end if newline < 0 else newline
        elif char == "\n":
            if len(quote) == 1:
                scan.hit(start, pos, "with a replacement field over several lines")
            pos += 1
        elif char in "([{":
            depth += 1
            pos += 1
        elif char in ")]" or (char == "}" and depth > 0):
            depth -= 1
            pos += 1
        elif char == "}":
            return pos + 1
        elif char == ":" and depth == 0:
            return _format_spec(scan, start, pos + 1, quote)
        else:
            pos += 1
    return end


def _format_spec(scan: _Scan, start: int, pos: int, quote: str) -> int:
    """Skip a format spec (which may hold nested fields) up to after the field's `}`."""
    text = scan.text
    end = len(text)
    while pos < end:
        char = text[pos]
        if char == "{":
            pos = _field(scan, start, pos + 1, quote)
        elif char == "}":
            return pos + 1
        elif text.startswith(quote, pos) or (char == "\n" and len(quote) == 1):
            return pos
        else:
            pos += 1
    return end


# -- the project's target ------------------------------------------------------------------------


def parse_target(value: object) -> Version | None:
    """`py314` -> (3, 14); None for anything that is not a supported target."""
    if not isinstance(value, str):
        return None
    for version in SUPPORTED_TARGETS:
        if value.strip().lower() == f"py{version[0]}{version[1]}":
            return version
    return None


def target_names() -> str:
    return ", ".join(f"py{major}{minor}" for major, minor in SUPPORTED_TARGETS)


def requires_python_floor(spec: str) -> Version | None:
    """The oldest Python (major, minor) a `requires-python` specifier admits: `>=3.12` and
    `~=3.12.1` give (3, 12); None when it has no lower bound (`<4`) or does not parse."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        specifiers = SpecifierSet(spec)
    except InvalidSpecifier:
        return None
    floors: list[Version] = []
    for specifier in specifiers:
        if specifier.operator not in (">=", ">", "==", "~=", "==="):
            continue
        parts = specifier.version.rstrip(".*").split(".")
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            floors.append((int(parts[0]), int(parts[1])))
    return max(floors) if floors else None


def target_notice(target: Version | None, origin: str) -> str | None:
    """Said once, before the findings, when the project targets a newer Python than the one
    bastion runs on: files using that Python's syntax cannot be parsed here."""
    if target is None or target <= running():
        return None
    return (
        f"the project targets Python {version_text(target)} ({origin}) but bastion runs on "
        f"Python {version_text(running())}: files that use newer syntax cannot be parsed and "
        f"are reported as BAS001 (not analysed). {run_under_hint(target)}"
    )


def newer_python_notice(needed: list[Version]) -> str | None:
    """After the run: how many files were not analysed because they need a newer Python."""
    if not needed:
        return None
    newest = max(needed)
    files = f"{len(needed)} file{'s' if len(needed) != 1 else ''}"
    return (
        f"{files} not analysed: they use syntax of a newer Python (up to "
        f"{version_text(newest)}) than the one bastion runs on ({version_text(running())}): "
        f"run bastion under Python {version_text(newest)} (see the BAS001 hints)"
    )
