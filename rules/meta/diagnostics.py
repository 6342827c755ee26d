"""bastion's own diagnostics. The engine reports these; they have ids so that they can be
selected, ignored and documented like any rule."""

from __future__ import annotations

from typing import ClassVar

from bastion.findings import Severity
from bastion.kinds import KIND_NAMES
from bastion.rule import Example, Rule

# every file kind bastion reads (the table of `bastion.kinds`)
_EVERY_KIND = KIND_NAMES


class ParseError(Rule):
    """The file could not be decoded or parsed, so no other rule could check it. bastion keeps
    going with the other files."""

    id = "BAS001"
    name = "parse-error"
    severity = Severity.ERROR
    precision = "very-high"
    precision_measured = (
        "15 of 15 judged findings right (100%) on 15 application repositories, bench/ecosystem "
        "(before: 12 of 16; an INI file with value-less flags such as uwsgi's now parses, and the "
        "newer-Python messages name the Python the file needs)"
    )
    summary = "A file bastion cannot decode or parse"
    why = (
        "A file that does not parse is not checked at all: every other finding in it is "
        "invisible until it parses. For Python it usually also means the module cannot be "
        "imported."
    )
    hint = (
        "Fix the syntax (or the encoding: UTF-8, or a PEP 263 coding cookie); if the file "
        "targets a newer Python, run bastion with that Python."
    )
    kinds: ClassVar[frozenset[str]] = _EVERY_KIND
    bad = [Example("def broken(:\n    pass\n")]
    good = ["def fine():\n    pass\n"]


class InvalidSuppression(Rule):
    """A `# bastion: ignore[...]` comment that names no rule, or a rule id bastion does not
    know. Such a comment silences nothing (or, worse, the reader believes it does)."""

    id = "BAS002"
    name = "invalid-suppression"
    severity = Severity.WARNING
    summary = "A suppression comment that names no rule or an unknown rule id"
    why = (
        "A typo in a suppression either silences nothing, or hides that a rule was renamed. "
        "Naming the rule keeps every suppression reviewable and greppable."
    )
    hint = "Name the rule ids to silence, e.g. `# bastion: ignore[ERR001] reason`."
    kinds: ClassVar[frozenset[str]] = _EVERY_KIND
    bad = [
        Example("x = 1  # bastion: ignore\n"),
        Example("x = 1  # bastion: ignore[NOPE123] typo\n"),
        Example("# bastion: ignore-file\nx = 1\n"),
    ]
    good = [
        "x = 1  # bastion: ignore[ERR001] reason\n",
        "# bastion: ignore-file[ERR002]\nx = 1\n",
        "x = 1  # bastion is great\n",
    ]


class FileNotAnalysed(Rule):
    """A file bastion found but could not analyse: its analysis ran out of time
    (`file-timeout`), nested too deeply for Python's interpreter, crashed a rule, or the file
    is over the size limit (`max-file-bytes`) or cannot be read. No rule checked it, so
    nothing in it is known to be fine: the gate fails instead of passing it (the reason is
    in the message, and on stderr).

    Reported at the file's first line, at error severity, whatever `--select` says: only
    ignoring it by name (`ignore = ["BAS003"]`, or `per-file-ignores`) turns it off. Files
    excluded on purpose (`exclude`, `extend-exclude`, `.gitignore`) are not analysed by design
    and are not reported."""

    id = "BAS003"
    name = "file-not-analysed"
    severity = Severity.ERROR
    summary = "A file bastion could not analyse (time, size, depth, a crash or a read error)"
    why = (
        "A file that is skipped is a file whose findings are all hidden: a generated module "
        "too large to parse, or one crafted to make the analysis time out, would otherwise "
        "pass the gate with nothing reported. Never let a file that was not read pass."
    )
    hint = (
        "Exclude the file if it is generated or vendored (`extend-exclude`), split it, or "
        "raise `max-file-bytes` / `file-timeout` in [tool.bastion]; a crash is a bastion bug "
        "to report."
    )
    kinds: ClassVar[frozenset[str]] = _EVERY_KIND
    # selected whatever `select` says; only an explicit `ignore` drops it
    always_on: ClassVar[bool] = True
    # no `bad` example: the engine reports it, no source text triggers it on its own
    good = ["x = 1\n"]
