"""`.env` files: python-dotenv's own parser, one entry per binding."""

from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass(frozen=True)
class EnvEntry:
    key: str
    value: str | None
    line: int  # 1-based line of the `KEY=value` binding


class DotenvDocument(list[EnvEntry]):
    """A parsed `.env` file: one entry per binding, in order (a list, typed so that rules
    can declare it)."""


def parse_dotenv(text: str) -> DotenvDocument:
    # python-dotenv's own parser: the same quoting, `export`, comments and multi-line values
    # that applications loading the file will see.
    from dotenv.parser import parse_stream

    return DotenvDocument(
        EnvEntry(binding.key, binding.value, binding.original.line)
        for binding in parse_stream(io.StringIO(text))
        if binding.key is not None and not binding.error
    )


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_dotenv
DOCUMENT = DotenvDocument
