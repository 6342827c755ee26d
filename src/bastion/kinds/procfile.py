"""Procfiles (Heroku's format): one process type and command per line."""

from __future__ import annotations

from dataclasses import dataclass

from bastion.kinds.common import split_shell


@dataclass(frozen=True)
class ProcfileEntry:
    process: str  # web, worker, release...
    command: str
    line: int

    def words(self) -> list[str]:
        return split_shell(self.command)


class ProcfileDocument(list[ProcfileEntry]):
    """A parsed Procfile: its entries, in order (a list, typed so that rules can declare it)."""


def parse_procfile(text: str) -> ProcfileDocument:
    """Heroku's format: `<process type>: <command>` per line, `#` comments."""
    entries = ProcfileDocument()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        process, sep, command = line.partition(":")
        if sep and process.strip() and " " not in process.strip():
            entries.append(ProcfileEntry(process.strip(), command.strip(), number))
    return entries


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_procfile
DOCUMENT = ProcfileDocument
