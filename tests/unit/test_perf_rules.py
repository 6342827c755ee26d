"""Tricky cases of the PERF/ORG file rules, beyond their own examples."""

from __future__ import annotations

from bastion.testing import findings_for


def lines(code: str, rule: str, path: str = "app/example.py") -> list[int]:
    return [f.line for f in findings_for(code, rule, path)]


def test_perf001_sync_session_from_same_module_dependency() -> None:
    code = (
        "from fastapi import Depends, FastAPI\n"
        "from sqlalchemy.orm import sessionmaker\n"
        "SessionLocal = sessionmaker(bind=engine)\n"
        "app = FastAPI()\n\n"
        "def get_db():\n    db = SessionLocal()\n    try:\n        yield db\n"
        "    finally:\n        db.close()\n\n"
        "@app.get('/items')\n"
        "async def items(db=Depends(get_db)):\n"
        "    db.add(Item())\n"
        "    db.commit()\n"
        "    return db.execute(q).all()\n"
    )
    assert lines(code, "PERF001") == [16, 17]


def test_perf001_async_session_dependency_is_fine() -> None:
    code = (
        "from fastapi import Depends\n"
        "from sqlalchemy.ext.asyncio import async_sessionmaker\n"
        "Maker = async_sessionmaker(engine)\n\n"
        "async def get_session():\n    async with Maker() as s:\n        yield s\n\n"
        "async def items(s=Depends(get_session)):\n    await s.commit()\n"
    )
    assert lines(code, "PERF001") == []


def test_perf001_blocking_call_in_nested_sync_def_or_test_file_is_not_flagged() -> None:
    code = "import time\n\nasync def f():\n    g = lambda: time.sleep(1)\n    return g\n"
    assert lines(code, "PERF001") == []
    flagged = "import time\n\nasync def test_x():\n    time.sleep(1)\n"
    assert lines(flagged, "PERF001", "tests/test_x.py") == []
    assert lines(flagged, "PERF001", "app/x.py") == [4]


def test_perf003_first_iterable_of_comprehension_runs_once() -> None:
    code = (
        "from sqlalchemy.orm import Session\n\n"
        "def f(db: Session, ids):\n"
        "    a = [u.name for u in db.query(User).all()]\n"
        "    b = [db.get(User, i) for i in ids]\n"
        "    c = [x for i in ids for x in db.query(Post).filter(Post.uid == i)]\n"
        "    while True:\n        db.execute(q)\n"
    )
    assert lines(code, "PERF003") == [5, 6]


def test_perf003_nested_function_in_loop_is_its_own_scope() -> None:
    code = (
        "from sqlalchemy.orm import Session\n\n"
        "def f(db: Session, ids):\n"
        "    for i in ids:\n"
        "        def later():\n            return db.get(User, i)\n"
        "        register(later)\n"
    )
    assert lines(code, "PERF003") == []


def test_perf005_httpx_default_timeout_is_bounded() -> None:
    code = (
        "import httpx\n\n"
        "def f(url):\n"
        "    httpx.get(url)\n"
        "    with httpx.Client() as c:\n        c.get(url)\n"
        "    httpx.post(url, timeout=None)\n"
    )
    assert lines(code, "PERF005") == [7]


def test_perf006_sqlite_and_unknown_urls_are_silent() -> None:
    code = (
        "from sqlalchemy import create_engine\n"
        "a = create_engine('sqlite:///x.db', pool_size=5)\n"
        "b = create_engine(os.environ['DATABASE_URL'])\n"
        "c = create_engine('mysql://u@h/db', pool_pre_ping=settings.PING)\n"
        "d = create_engine('mssql+pyodbc://u@h/db')\n"
    )
    assert lines(code, "PERF006") == [5]


def test_org002_finally_around_the_yield_only_counts_for_its_body() -> None:
    code = (
        "from sqlalchemy.orm import sessionmaker\nSessionLocal = sessionmaker()\n\n"
        "def get_db():\n    db = SessionLocal()\n    try:\n        prepare(db)\n"
        "    finally:\n        log()\n    yield db\n"
    )
    assert lines(code, "ORG002") == [10]


def test_perf002_conditional_dependency_and_gather() -> None:
    code = (
        "import asyncio\n\n"
        "async def f(uid):\n"
        "    a = await fetch_user(uid)\n"
        "    b = await asyncio.gather(fetch_posts(uid), fetch_likes(uid))\n"
        "    c = await fetch_orders(a.id)\n"
        "    d = await load_prefs(uid)\n"
    )
    # only c and d are independent (b is a gather; c depends on a)
    assert lines(code, "PERF002") == [6]


def test_org001_async_session_factory_imported_from_the_project() -> None:
    code = (
        "from fastapi import APIRouter\n"
        "from app.db import async_session\n\n"
        "router = APIRouter()\n\n"
        "@router.get('/n')\n"
        "async def n():\n"
        "    async with async_session() as s:\n"
        "        return await s.scalar(q)\n\n"
        "def helper():\n    return async_session()\n"
    )
    assert lines(code, "ORG001") == [8]
