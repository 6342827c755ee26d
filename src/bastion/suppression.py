"""Inline suppressions.

    x = eval(data)  # bastion: ignore[SEC013] input is a literal from our own config
    # bastion: ignore[SEC001] test key, revoked
    API_KEY = "AKIA..."
    # bastion: ignore-file[LOG001]

A line comment silences the named rules on its own line; a comment alone on a line silences the
next statement; a comment on the first line of a multi-line statement covers the whole
statement. Ids must be named: a bare `# bastion: ignore` or an unknown id is itself reported, so
that a typo never silences nothing (or everything) by accident.
"""

from __future__ import annotations

import re
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
                applies = number in (line, statement_line) or d.own_line
                if applies and rule_id in d.ids:
                    return d
        return None


def python_comments(text: str) -> dict[int, int] | None:
    """{line: column where its comment starts} from Python's tokenizer, so that a directive
    quoted in a string or a docstring is not taken for one; None if the text does not
    tokenize (then every `#` counts, as in other file kinds)."""
    import io
    import tokenize

    comments: dict[int, int] = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT and "bastion:" in token.string:
                comments[token.start[0]] = token.start[1]
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return comments


def parse_suppressions(lines: list[str], comments: dict[int, int] | None = None) -> Suppressions:
    """Directives in `lines`; with `comments` (Python files), only those inside a comment."""
    result = Suppressions()
    for number, text in enumerate(lines, start=1):
        if "bastion:" not in text:
            continue
        if comments is not None and number not in comments:
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
