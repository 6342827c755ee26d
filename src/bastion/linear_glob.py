"""Gitignore-style patterns (pathspec) matched in linear time.

pathspec turns each `*` into `[^/]*` and each inner `**/` into `(?:/.+)?`: with several of them
in one pattern, Python's backtracking regex engine takes time polynomial in the path's length
to the power of their number (`*a*a*a*a*ax` takes 40 s on one 200-letter name; git answers at
once). Patterns come from the scanned tree (`.gitignore` files, and `exclude`, `test-paths`,
`per-file-ignores` in its pyproject.toml), so the regexes are rewritten to give the same
answers in linear time: in a glob, a fixed-length piece followed by another wildcard can always
take its leftmost place (the next wildcard absorbs the rest), so each such piece is matched
lazily inside an atomic group (`(?>...)`, never backtracked into). Checked against pathspec's
own regexes by a property test (tests/unit/test_hostile_fs_glob.py).
"""

from __future__ import annotations

import copy
import re
from typing import Any, TypeVar

import pathspec

_STAR = "[^/]*"
_DEEP = "(?:/.+)?"
_LEAD = "^(?:.+/)?"
# one token of a fixed-length piece of a path component: an escape, `?`, a class that cannot
# match "/", a plain character
# (the fourth alternative needs a character before its `/`: with none it spelled `[^/]`, the
# second one, and the two ways to match `[^/][^/]...` backtracked exponentially)
_TOKEN = r"(?:\\.|\[\^/\]|\[[^\]/\\^][^\]/\\]*\]|\[\^[^\]/\\]+/\]|[^\\\[\]()|*+?{}./^$])"
_PIECE = re.compile(f"{_TOKEN}*")
_ATOMIC_STAR = re.compile(rf"\(\?>\[\^/\]\*\?{_TOKEN}*\)")
# fixed-length components: the tokens, "/", whole-component stars; no `.`, `.+`, `.*`
_COMPONENTS = re.compile(rf"(?:{_TOKEN}|/|\[\^/\][+*])*")
# a negated class other than `[^/]`
# bounded: `[^[^[^...` with no `]` rescanned the rest from every `[^` (quadratic)
_NEGATED = re.compile(r"\[\^(?!/\])[^\]/\\]{0,256}\]")


def linear_regex(regex: str) -> str:
    """pathspec's regex for one gitignore pattern, rewritten to match in linear time."""
    # a negated class never matches "/" in git (wildmatch with WM_PATHNAME), pathspec's does:
    # as git, which also makes it a fixed-length piece of one component like the others
    regex = _NEGATED.sub(lambda m: m.group(0)[:-1] + "/]", regex)
    parts = regex.split(_STAR)
    stars = [parts[0]]
    for index, piece in enumerate(parts[1:], 1):
        if index < len(parts) - 1 and _PIECE.fullmatch(piece):
            stars.append(f"(?>[^/]*?{piece})")
        else:
            stars.append(_STAR + piece)
    pieces = "".join(stars).split(_DEEP)
    out = []
    for index, piece in enumerate(pieces):
        last = index == len(pieces) - 1
        rest = piece.removeprefix(_LEAD)
        plain = rest and _COMPONENTS.fullmatch(_ATOMIC_STAR.sub("", rest))
        if index == 0:
            if not last and piece.startswith(_LEAD) and plain:
                piece = f"^(?>(?:.+?/)??{rest}(?=/))"
        elif last or not plain:
            piece = _DEEP + piece
        else:
            piece = f"(?>(?:/.+?)??{piece}(?=/))"
        out.append(piece)
    return portable_atomic("".join(out))


def portable_atomic(regex: str) -> str:
    """`(?>X)` (an atomic group: Python 3.11+) spelled `(?=(?P<a>X))(?P=a)`, which `re` reads on
    every supported Python (3.10 too) with the same meaning: the lookahead matches X once and is
    never backtracked into, the back-reference then consumes exactly that. The same regex on
    every interpreter, so the tests on one cover them all."""
    out: list[str] = []
    stack: list[int | None] = []  # for each open group: its atomic number, or None
    count = 0
    index = 0
    in_class = False
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            out.append(regex[index : index + 2])
            index += 2
            continue
        if in_class:
            in_class = char != "]"
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
            if regex[index + 1 : index + 2] == "]":  # `[]...]`: a literal `]` first
                out.append("]")
                index += 1
        elif regex.startswith("(?>", index):
            count += 1
            stack.append(count)
            out.append(f"(?=(?P<bastion_atomic{count}>")
            index += 3
            continue
        elif char == "(":
            stack.append(None)
            out.append(char)
        elif char == ")":
            number = stack.pop() if stack else None
            out.append(f"))(?P=bastion_atomic{number})" if number is not None else ")")
        else:
            out.append(char)
        index += 1
    return "".join(out)


_Spec = TypeVar("_Spec", bound="pathspec.PathSpec[Any]")


def linear_spec(spec: _Spec) -> _Spec:
    """The same spec (its class kept) with every pattern's regex from `linear_regex`; the
    patterns are copied, never changed in place (specs are cached and shared)."""
    patterns = [copy.copy(p) for p in spec.patterns]
    for pattern in patterns:
        regex = getattr(pattern, "regex", None)
        if regex is not None:
            pattern.regex = re.compile(linear_regex(regex.pattern), regex.flags)
    return type(spec)(patterns, backend="simple")
