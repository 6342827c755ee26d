"""PROD007: the schema created by `create_all()` instead of migrations."""

from __future__ import annotations

from bastion.findings import Severity
from bastion.rule import Example, ProjectRule


def _covered(app: str, migrated: set[str]) -> bool:
    """The app, or a package it lives in, has migrations: `dojo/finding/models.py` belongs to
    the `dojo` app (one app label), whose migrations are in `dojo/db_migrations/`."""
    parts = app.split("/") if app else []
    return any("/".join(parts[:n]) in migrated for n in range(len(parts), 0, -1)) or (
        app in migrated
    )


class CreateAllWithoutMigrations(ProjectRule):
    """Flags, from the facts of every Python file:

    - `Base.metadata.create_all(...)` (also `SQLModel.metadata.create_all`, `await
      conn.run_sync(Base.metadata.create_all)` and Flask-SQLAlchemy's `db.create_all()`) run
      at start-up: at module level of a module that imports a web framework, or inside a
      start-up hook (`@app.on_event("startup")`, a `lifespan` function, `create_app`,
      `before_first_request`). Test files and stand-alone scripts are not flagged;
    - SQLAlchemy models (classes with `__tablename__`, SQLModel `table=True`) in an
      application (it creates a FastAPI/Flask/Starlette app or has a Dockerfile, Procfile or
      compose file) with no Alembic (`alembic.ini`, or an `env.py` importing alembic);
      libraries that ship models (celery's result backend) are not flagged;
    - Django apps whose `models.py` (or `models/` package) defines concrete, managed models
      but that have no `migrations/` files (abstract and `managed = False` models need none).
      Models in a sub-package of a package that has migrations belong to that app, and a
      `MIGRATION_MODULES` folder named `*_migrations` (`db_migrations/`) counts (measured on
      DefectDojo: every finding was one app split in sub-packages).

    Project-level: it runs when a folder is scanned; inline suppressions do not apply (use
    `per-file-ignores`)."""

    id = "PROD007"
    needs = frozenset({"code", "dependencies", "tooling"})  # the facts it reads
    name = "create-all-without-migrations"
    severity = Severity.WARNING
    summary = "`metadata.create_all()` at start-up, or ORM models without migrations"
    why = (
        "`create_all()` creates missing tables but never alters existing ones: the first "
        "column added after launch silently never reaches production, and there is no record "
        "of how the schema evolved or how to roll back. Migrations (Alembic, Django) make "
        "every schema change reviewed, repeatable and reversible."
    )
    hint = (
        "Manage the schema with migrations: `alembic init migrations`, `alembic revision "
        "--autogenerate`, `alembic upgrade head` at deploy time (Django: `makemigrations` and "
        "`migrate`), and remove `create_all()` from start-up."
    )
    bad = [
        Example(
            "from fastapi import FastAPI\nfrom .db import Base, engine\napp = FastAPI()\n"
            "Base.metadata.create_all(bind=engine)\n",
            path="app/main.py",
        ),
        Example(
            "@app.on_event('startup')\nasync def init():\n    async with engine.begin() as c:\n"
            "        await c.run_sync(Base.metadata.create_all)\n",
            path="app/main.py",
        ),
        Example(
            "from fastapi import FastAPI\nfrom sqlalchemy.orm import DeclarativeBase\n"
            "app = FastAPI()\nclass Base(DeclarativeBase):\n    pass\n"
            "class User(Base):\n    __tablename__ = 'users'\n",
            path="app/main.py",
        ),
        Example(
            "from django.db import models\nclass Post(models.Model):\n    title = 1\n",
            path="blog/models.py",
        ),
    ]
    good = [
        Example(
            "from app.db import Base, engine\nBase.metadata.create_all(engine)\n",
            path="scripts/init_db.py",
        ),
        Example(
            "def test_x(engine):\n    Base.metadata.create_all(engine)\n",
            path="tests/test_db.py",
        ),
        Example("[alembic]\nscript_location = migrations\n", path="alembic.ini"),
        Example(
            "from django.db import models\nclass Base(models.Model):\n"
            "    class Meta:\n        abstract = True\n",
            path="core/models.py",
        ),
        Example(
            "from sqlalchemy.orm import DeclarativeBase\nclass Base(DeclarativeBase):\n    pass\n"
            "class TaskResult(Base):\n    __tablename__ = 'results'\n",
            path="mylib/backends/models.py",
        ),
    ]

    def check_project(self) -> None:
        code = self.project.facts("code")
        for path, fact in code:
            if fact["type"] == "create_all":
                self.report_at(
                    path,
                    fact["line"],
                    fact["column"],
                    f"`{fact['code']}()` creates the schema at start-up instead of migrations",
                )
        facts = [f for key in ("code", "tooling") for _, f in self.project.facts(key)]
        has_alembic = any(f["type"] == "alembic" for f in facts)
        models = [(p, f) for p, f in code if f["type"] == "sqla_model"]
        deployed = any(f["type"] == "deployed" for _, f in self.project.facts("dependencies"))
        is_app = deployed or any(f["type"] == "web_app" for f in facts)
        if models and is_app and not has_alembic:
            path, fact = models[0]
            others = f" (and {len(models) - 1} more files)" if len(models) > 1 else ""
            self.report_at(
                path,
                fact["line"],
                1,
                f"SQLAlchemy models here{others} but no Alembic migrations in the project",
            )
        migrated = {f["app"] for _, f in code if f["type"] == "migration"}
        reported: set[str] = set()
        for path, fact in code:
            if fact["type"] != "django_model" or _covered(fact["app"], migrated):
                continue
            if fact["app"] in reported:
                continue
            reported.add(fact["app"])
            app = fact["app"] or "."
            self.report_at(
                path, fact["line"], 1, f"Django app `{app}` defines models but has no migrations"
            )
