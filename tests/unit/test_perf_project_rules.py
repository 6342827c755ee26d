"""PERF004 is a project rule: its examples are run through the engine on a folder (the
generic example test only runs file rules)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bastion.engine import run
from bastion.registry import load_registry
from bastion.selection import load_config

RULE = load_registry().by_id("PERF004")
assert RULE is not None


def _findings(tmp_path: Path, files: dict[str, str], rule_id: str = "PERF004") -> list[str]:
    for name, code in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code)
    config = load_config([tmp_path], overrides={"select": [rule_id]})
    result = run([tmp_path], config)
    assert not result.internal_errors, result.internal_errors
    return [f"{f.path}:{f.line}" for f in result.findings if f.rule == rule_id]


@pytest.mark.parametrize("index", range(len(RULE.bad_examples())))
def test_bad_example(tmp_path: Path, index: int) -> None:
    example = RULE.bad_examples()[index]
    assert _findings(tmp_path, {"app.py": example.code})


@pytest.mark.parametrize("index", range(len(RULE.good_examples())))
def test_good_example(tmp_path: Path, index: int) -> None:
    example = RULE.good_examples()[index]
    assert _findings(tmp_path, {"app.py": example.code}) == []


def test_models_in_another_module(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/models.py": "from sqlalchemy.orm import relationship\n\n"
        "class Post(Base):\n    author = relationship('User')\n"
        "    comments = relationship('Comment', lazy='selectin')\n",
        "app/views.py": "from sqlalchemy import select\nfrom .models import Post\n\n"
        "async def f(session):\n    stmt = select(Post)\n"
        "    result = await session.execute(stmt)\n    posts = result.scalars().all()\n"
        "    return [(p.author, p.comments) for p in posts]\n",
    }
    assert _findings(tmp_path, files) == ["app/views.py:8"]


def test_rows_from_execute_are_not_instances(tmp_path: Path) -> None:
    files = {
        "m.py": "from sqlalchemy import select\nfrom sqlalchemy.orm import relationship\n\n"
        "class Post(Base):\n    author = relationship('User')\n\n"
        "async def f(session):\n    rows = await session.execute(select(Post))\n"
        "    return [r.author for r in rows]\n",
    }
    assert _findings(tmp_path, files) == []


def test_django_reverse_accessor(tmp_path: Path) -> None:
    files = {
        "shop/models.py": "from django.db import models\n\n"
        "class Order(models.Model):\n    pass\n\n"
        "class Line(models.Model):\n"
        "    order = models.ForeignKey(Order, related_name='lines', on_delete=models.CASCADE)\n",
        "shop/views.py": "from .models import Order\n\n"
        "def totals():\n    return {o.pk: o.lines.count() for o in Order.objects.all()}\n\n"
        "def fast():\n    orders = Order.objects.prefetch_related('lines')\n"
        "    return {o.pk: o.lines.count() for o in orders}\n",
    }
    assert _findings(tmp_path, files) == ["shop/views.py:4"]


def test_django_manager_counts_only_when_evaluated(tmp_path: Path) -> None:
    files = {
        "shop/models.py": "from django.db import models\n\n"
        "class Tag(models.Model):\n    pass\n\n"
        "class Product(models.Model):\n    tags = models.ManyToManyField(Tag)\n",
        "shop/views.py": "from .models import Product\n\n"
        "def handed_on():\n    for p in Product.objects.all():\n"
        "        schedule(p.tags.all())\n        p.tags.add(1)\n\n"
        "def evaluated():\n    for p in Product.objects.all():\n"
        "        keep = p.tags\n        print([t.pk for t in p.tags.all()])\n",
    }
    assert _findings(tmp_path, files) == ["shop/views.py:11"]


def test_flask_sqlalchemy_models_and_query_property(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/extensions.py": "from flask_sqlalchemy import SQLAlchemy\n\ndb = SQLAlchemy()\n",
        "app/models.py": "from .extensions import db\n\n"
        "class Post(db.Model):\n    id = db.Column(db.Integer, primary_key=True)\n"
        "    author = db.relationship('User')\n",
        "app/views.py": "from flask import Flask\nfrom .models import Post\n\n"
        "def authors():\n    return [p.author.name for p in Post.query.all()]\n\n"
        "def ids():\n    return [p.id for p in Post.query.all()]\n",
    }
    assert _findings(tmp_path, files) == ["app/views.py:5"]
