"""PERF004's collector skips the loops of a function whose text spells no query (issue #17,
`LazyLoadFacts._may_query`): the facts it records must be exactly those of a run without
the shortcut, on every fixture and example and on code written to slip past a text test."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from bastion.rules.performance.lazy import FACT_KEY, LazyLoadFacts, LazyRelationshipInLoop

from bastion.config import Config
from bastion.engine import FileAnalyzer
from bastion.source import SourceFile

ROOT = Path(__file__).resolve().parents[2]

TRICKY = {
    # `select` imported under another name: the function's text never says "select"
    "renamed.py": """
        from sqlalchemy import select as pick
        from sqlalchemy.orm import relationship

        class Post(Base):
            author = relationship("User")

        async def names(session):
            rows = (await session.scalars(pick(Post))).all()
            return [p.author.name for p in rows]
        """,
    # the query is assigned on a line of its own, far from the loop
    "assigned.py": """
        from django.db import models

        class Book(models.Model):
            author = models.ForeignKey("Author", on_delete=models.CASCADE)

        def titles():
            books = Book.objects.filter(
                published=True,
            )
            out = []
            for book in books:
                out.append(book.author.name)
            return out
        """,
    # a form feed splits `str.splitlines` lines where Python does not: no shortcut here
    "formfeed.py": "from django.db import models\n\x0c\nclass Book(models.Model):\n"
    "    author = models.ForeignKey('A', on_delete=models.CASCADE)\n\x0c\n"
    "def titles():\n    for book in Book.objects.all():  \x0c  # page\n"
    "        print(book.author)\n",
    # non-ASCII text: an identifier in the tree (`objects`) may be spelled otherwise in the
    # text (a fullwidth letter, NFKC-normalised by the parser); `objects` elsewhere in the
    # module lets the file through the module-level test
    "unicode.py": "from django.db import models\n\n# Book.objects lists books\n"
    "class Book(models.Model):\n"
    "    author = models.ForeignKey('Author', on_delete=models.CASCADE)\n\n"
    "def titles():\n    for book in Book.\uff4fbjects.all():\n        print(book.author)\n",
}


def _sources() -> list[tuple[str, bytes]]:
    out = [(name, textwrap.dedent(code).encode()) for name, code in TRICKY.items()]
    examples = [*LazyRelationshipInLoop.bad, *LazyRelationshipInLoop.good]
    out += [(f"example_{i}.py", str(code).encode()) for i, code in enumerate(examples)]
    globs = ("tests/fixtures/**/*.py", "examples/**/*.py")
    for path in sorted(p for pattern in globs for p in ROOT.glob(pattern) if p.is_file()):
        out.append((str(path.relative_to(ROOT)), path.read_bytes()))
    return out


def _facts(sources: list[tuple[str, bytes]]) -> list[tuple[str, Any]]:
    analyzer = FileAnalyzer(Config(root=ROOT, select=("PERF004",)))
    found: list[tuple[str, Any]] = []
    for name, data in sources:
        result = analyzer.analyze_data(SourceFile(name, ROOT / name, "python"), data)
        assert result.internal_errors == [], name
        facts = result.facts.facts.get(FACT_KEY, []) if result.facts else []
        found.extend((name, fact) for fact in facts)
    return found


def test_the_shortcut_records_the_same_facts(monkeypatch: pytest.MonkeyPatch) -> None:
    sources = _sources()
    fast = _facts(sources)
    monkeypatch.setattr(LazyLoadFacts, "_may_query", lambda self, scope: True)
    slow = _facts(sources)
    assert fast == slow
    reads = {name for name, fact in fast if fact["kind"] == "read"}
    assert set(TRICKY) <= reads  # each tricky case does record its loop's read
    assert len([1 for _, fact in fast if fact["kind"] == "read"]) >= 8
