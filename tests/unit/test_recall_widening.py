"""Look-alikes for the rules widened by the recall work (issue #16): each test pairs a shape
that must now be flagged with the nearest shape that must not be."""

from __future__ import annotations

import textwrap
from pathlib import Path

from bastion.config import load_config
from bastion.engine import run
from bastion.testing import findings_for


def lines(code: str, rule: str, path: str = "app/x.py") -> list[int]:
    return sorted(f.line for f in findings_for(textwrap.dedent(code), rule, path))


# -- SEC001: key sinks, comparisons, credential positions ------------------------------------


def test_sec001_literal_keys_at_key_sinks() -> None:
    code = """\
        import hmac, jwt
        from cryptography.fernet import Fernet
        from itsdangerous import URLSafeTimedSerializer
        token = jwt.encode(payload, "secret", algorithm="HS256")
        data = jwt.decode(token, key="k", algorithms=["HS256"])
        f = Fernet(b"bm90LWEtcmVhbC1rZXktbm90LWEtcmVhbC1rZXk=")
        mac = hmac.new(b"key", body, "sha256")
        signer = URLSafeTimedSerializer("change-me")
        ok1 = jwt.encode(payload, settings.SECRET_KEY)
        ok2 = jwt.decode(token, options={"verify_signature": False})
        ok3 = hmac.new(key.encode(), body, "sha256")
        ok4 = jwt.encode(payload, "${JWT_SECRET}")
    """
    assert lines(code, "SEC001") == [4, 5, 6, 7, 8]


def test_sec001_app_secret_key_even_a_placeholder() -> None:
    code = """\
        from flask import Flask
        app = Flask(__name__)
        app.secret_key = "change-me"
        app.config["SECRET_KEY"] = "dev"
        app.config["JWT_SECRET_KEY"] = "x1"
        app.config["SESSION_COOKIE_NAME"] = "sid"
        app.secret_key = os.environ["SECRET_KEY"]
    """
    assert lines(code, "SEC001") == [3, 4, 5]


def test_sec001_secret_key_in_settings_but_not_dev_or_test_settings() -> None:
    code = 'INSTALLED_APPS = ["app"]\nSECRET_KEY = "django-insecure-abc"\n'
    assert lines(code, "SEC001", "project/settings.py") == [2]
    assert lines(code, "SEC001", "project/settings/dev.py") == []
    assert lines(code, "SEC001", "tests/settings.py") == []
    # not a settings module: the name/value rules alone decide
    assert lines('SECRET_KEY_NAME = "X-Secret"\n', "SEC001", "project/settings.py") == []


def test_sec001_config_classes_but_not_testing_ones() -> None:
    code = """\
        class ProductionConfig:
            SECRET_KEY = "prod"
        class TestingConfig:
            SECRET_KEY = "AAAA"
        class Form:
            SECRET_KEY = "label"
    """
    assert lines(code, "SEC001") == [2]


def test_sec001_credentials_compared_with_literals() -> None:
    code = """\
        if password == "hunter2":
            pass
        if "s3cr3t!" != request.form.get("passwd"):
            pass
        if token == "a9F3kq1Zx7Lm":
            pass
        if password == "":
            pass
        if password is None or password == "None":
            pass
        if user.password == "LDAP":
            pass
        if token == "Bearer":
            pass
        if password_hash == "abc123":
            pass
        if password == other_password:
            pass
    """
    assert lines(code, "SEC001") == [1, 3, 5]


def test_sec001_short_passwords_in_credential_positions() -> None:
    code = """\
        conn = connect(host="db", user="app", password="jack")
        seed = {"password": "12345"}
        field = PasswordField(password="Password")
        label = {"password": "Password"}
        conn = connect(host="db", password=os.environ["DB_PASSWORD"])
    """
    assert lines(code, "SEC001") == [1, 2]
    assert lines(code, "SEC001", "tests/test_db.py") == []


def test_sec001_sink_messages_never_hold_the_value() -> None:
    code = 'from flask import Flask\napp = Flask(__name__)\napp.config["SECRET_KEY_X"] = "secret"\n'
    (finding,) = findings_for(code, "SEC001", "app/x.py")
    assert "secret" not in finding.message.lower().replace("secret_key", "")
    assert finding.redact == ("secret",)


# -- SEC014: templates from strings, autoescape off, request data as markup -------------------


def test_sec014_template_sinks_and_autoescape() -> None:
    code = """\
        import jinja2
        from aiohttp_jinja2 import setup
        from flask import render_template_string, request
        from markupsafe import Markup
        env = jinja2.Environment()
        def page(name):
            a = jinja2.Template("Hello " + name).render()
            b = env.from_string(f"<p>{name}</p>").render()
            c = render_template_string(request.args["t"])
            d = Markup(request.form.get("bio"))
            return a, b, c, d
        jinja2.Environment(loader=loader, autoescape=False)
        setup(app, loader=loader, autoescape=False)
        def fine(name):
            a = jinja2.Template("Hello {{ name }}").render(name=name)
            b = env.from_string("<p>{{ n }}</p>").render(n=name)
            c = render_template_string("<p>{{ q }}</p>", q=request.args["q"])
            d = Markup("<b>{}</b>").format(request.args["n"])
            return a, b, c, d
        jinja2.Environment(loader=loader, autoescape=True)
        jinja2.Environment(autoescape=False, variable_start_string="<<")
    """
    assert lines(code, "SEC014") == [7, 8, 9, 10, 12, 13]


def test_sec014_json_marked_safe() -> None:
    # JSON of a value the file shows to be untrusted (a view's parameter); JSON of data of
    # unknown provenance (issue #15: Flagsmith's per-day counts) is not a finding
    code = """\
        import json
        from django.utils.safestring import mark_safe
        def chart(request, series):
            a = mark_safe(json.dumps(series))
            b = mark_safe(json.dumps({"a": 1}))
            c = mark_safe("<b>static</b>")
            d = mark_safe(json.dumps(data))
    """
    assert lines(code, "SEC014") == [4]


# -- SEC008: aiohttp debug, factories ---------------------------------------------------------


def test_sec008_aiohttp_and_factory_apps() -> None:
    code = """\
        from aiohttp import web
        from myproject import create_app
        from myproject.wsgi import app as wsgi_app
        a = web.Application(debug=True)
        b = web.Application(debug=settings.DEBUG)
        app = create_app()
        app.run(debug=True)
        wsgi_app.run(debug=True)
        parser = make_parser()
        parser.run(debug=True)
    """
    assert lines(code, "SEC008") == [4, 7, 8]


# -- PERF001: more blocking calls ---------------------------------------------------------------


def test_perf001_subprocess_shutil_paths_sqlite_clients() -> None:
    code = """\
        import os, shutil, sqlite3, subprocess
        from pathlib import Path
        import requests
        async def handler(base: Path, session: requests.Session, name: str):
            subprocess.Popen(["ls"])
            os.popen("ls")
            shutil.rmtree(base / "tmp")
            (base / "a.txt").read_text()
            Path("b.txt").write_text("x")
            base.joinpath(name).open("rb")
            conn = sqlite3.connect("db.sqlite")
            cur = conn.cursor()
            cur.execute("SELECT 1")
            session.get("https://example.org")
            await asyncio.to_thread(shutil.rmtree, base)
            name.open()
            other.read_text()
            db.execute("SELECT 1")
        def sync(base: Path):
            shutil.rmtree(base)
    """
    assert lines(code, "PERF001") == [5, 6, 7, 8, 9, 10, 11, 13, 14]


# -- ERR005 / ERR006 ------------------------------------------------------------------------------


def test_err005_http_error_after_logging_and_bare_imports() -> None:
    code = """\
        from logging import error
        from fastapi import HTTPException
        try:
            a()
        except Exception as e:
            logger.error("failed: %s", e)
            raise HTTPException(status_code=500)
        try:
            a()
        except Exception as e:
            logger.error("failed")
            raise HTTPException(status_code=500) from e
        try:
            a()
        except Exception:
            logger.error("failed")
            raise AppError("x")
        try:
            a()
        except Exception:
            error("failed")
    """
    assert lines(code, "ERR005") == [6, 21]


def test_err006_unnamed_handlers() -> None:
    code = """\
        try:
            a()
        except KeyError:
            raise NotFound("x")
        try:
            a()
        except KeyError:
            raise NotFound("x") from None
        try:
            a()
        except KeyError:
            raise
        try:
            a()
        except KeyError:
            raise SystemExit("usage")
    """
    assert lines(code, "ERR006") == [4]


# -- API001: Django views, DRF paging off, list models ------------------------------------------


def _project(tmp_path: Path, files: dict[str, str]) -> set[tuple[str, int, str]]:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\n\n[tool.bastion]\nselect = ["API001"]\n'
    )
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    result = run([tmp_path], load_config([tmp_path]))
    assert not result.internal_errors
    return {(f.path, f.line, f.message) for f in result.findings}


def test_api001_django_views_routed_by_urlconf(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "shop/views.py": """\
                from django.http import JsonResponse
                from django.shortcuts import render
                from .models import Item

                def items(request):
                    return JsonResponse({"items": [i.to_dict() for i in Item.objects.all()]})

                def item(request, pk):
                    return JsonResponse(Item.objects.get(pk=pk).to_dict())

                def top(request):
                    return JsonResponse({"items": list(Item.objects.values()[:10])})

                def paged(request):
                    page = request.GET.get("page", 1)
                    return JsonResponse({"items": list(Item.objects.values())})

                def count(request):
                    return JsonResponse({"n": len(Item.objects.all())})

                def page(request):
                    mine = Item.objects.filter(owner=request.user)  # the user's own records
                    return render(request, "items.html", {"items": mine})

                def unrouted(request):
                    return JsonResponse({"items": list(Item.objects.values())})
            """,
            "shop/urls.py": """\
                from django.urls import path
                from . import views
                urlpatterns = [
                    path("items/", views.items), path("items/<int:pk>/", views.item),
                    path("top/", views.top), path("paged/", views.paged),
                    path("count/", views.count), path("page/", views.page),
                ]
            """,
            "project/urls.py": """\
                from django.urls import include, path
                urlpatterns = [path("api/", include("shop.urls"))]
            """,
        },
    )
    assert {(p, line) for p, line, _ in found} == {("shop/views.py", 5), ("shop/views.py", 21)}
    messages = {line: message for _, line, message in found}
    assert messages[5].startswith("`GET /api/items/` (items) returns a whole queryset")
    assert "renders a whole queryset into a page" in messages[21]


def test_api001_drf_pagination_switched_off(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "app/views.py": """\
                from rest_framework import generics
                class Tags(generics.ListAPIView):
                    queryset = Tag.objects.all()
                    pagination_class = None
                class Few(generics.ListAPIView):
                    queryset = Tag.objects.all()[:20]
                    pagination_class = None
                class Paged(generics.ListAPIView):
                    queryset = Tag.objects.all()
                    pagination_class = PageNumberPagination
            """,
            "app/settings.py": (
                'INSTALLED_APPS = []\nREST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": "x"}\n'
            ),
        },
    )
    assert [(p, line) for p, line, _ in found] == [("app/views.py", 2)]
    assert "`pagination_class = None` switches it off explicitly" in next(iter(found))[2]


def test_api001_response_models_wrapping_a_list(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "app/schemas.py": """\
                from pydantic import BaseModel
                class TagsInList(BaseModel):
                    tags: list[str]
                class Page(BaseModel):
                    items: list[str]
                    total_count: int
                class User(BaseModel):
                    id: int
                    roles: list[str]
            """,
            "app/routes.py": """\
                from fastapi import APIRouter, Depends
                from app.schemas import Page, TagsInList, User
                router = APIRouter()

                @router.get("/tags", response_model=TagsInList)
                async def tags(repo: TagsRepository = Depends(get_repo)):
                    return TagsInList(tags=await repo.all_tags())

                @router.get("/users/{id}", response_model=User)
                async def user(id: int, repo: UsersRepository = Depends(get_repo)):
                    return await repo.get(id)

                @router.get("/items", response_model=Page)
                async def items(limit: int = 20, repo: ItemsRepository = Depends(get_repo)):
                    return await repo.page(limit)

                @router.get("/settings", response_model=TagsInList)
                async def settings_tags():
                    return TagsInList(tags=["a"])
            """,
        },
    )
    assert [(p, line) for p, line, _ in found] == [("app/routes.py", 5)]
    # checking the routes module alone, the imported model cannot be seen: nothing is guessed
    alone = run([tmp_path / "app" / "routes.py"], load_config([tmp_path]))
    assert [f for f in alone.findings if f.rule == "API001"] == []


def test_log002_logging_functions_imported_bare() -> None:
    code = """\
        from logging import error, info
        def f(user):
            info(f"login {user}")
            error("failed for %s", user)
            print(f"x {user}")
    """
    assert lines(code, "LOG002") == [3]
    assert lines('def info(x):\n    pass\ninfo(f"x {y}")\n', "LOG002") == []


def test_sec002_subclass_of_cors_middleware() -> None:
    code = """\
        from starlette.middleware.cors import CORSMiddleware
        class PathCORS(CORSMiddleware):
            pass
        class Other:
            pass
        app.add_middleware(PathCORS, allow_origins=["*"])
        app.add_middleware(Other, allow_origins=["*"])
        app.add_middleware(PathCORS, allow_origins=["https://a.example"])
    """
    assert lines(code, "SEC002") == [6]


def _cors_project(tmp_path: Path, config: str) -> set[tuple[str, str, int]]:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\nversion = "0"\n\n[tool.bastion]\nselect = ["SEC002", "SEC003"]\n'
    )
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "config.py").write_text(textwrap.dedent(config))
    (tmp_path / "app" / "main.py").write_text(
        "from fastapi import FastAPI\nfrom fastapi.middleware.cors import CORSMiddleware\n"
        "from app.config import ORIGINS, settings\n\napp = FastAPI()\n"
        "app.add_middleware(CORSMiddleware, allow_origins=settings.CORS_ORIGINS,\n"
        "    allow_credentials=settings.CORS_CREDENTIALS)\n"
        "app.add_middleware(CORSMiddleware, allow_origins=ORIGINS)\n"
    )
    result = run([tmp_path], load_config([tmp_path]))
    assert not result.internal_errors
    return {(f.rule, f.path, f.line) for f in result.findings}


def test_cors_origins_from_settings_defaults_in_another_module(tmp_path: Path) -> None:
    found = _cors_project(
        tmp_path,
        """\
        from pydantic_settings import BaseSettings
        ORIGINS = ["*"]
        class Settings(BaseSettings):
            CORS_ORIGINS: list[str] = ["*"]
            CORS_CREDENTIALS: bool = True
        settings = Settings()
        """,
    )
    assert found == {("SEC003", "app/main.py", 6), ("SEC002", "app/main.py", 8)}


def test_cors_explicit_origins_in_settings_are_not_flagged(tmp_path: Path) -> None:
    found = _cors_project(
        tmp_path,
        """\
        import os
        from pydantic_settings import BaseSettings
        ORIGINS = os.environ["ORIGINS"].split(",")
        class Settings(BaseSettings):
            CORS_ORIGINS: list[str] = ["https://app.example.com"]
            CORS_CREDENTIALS: bool = True
        settings = Settings()
        """,
    )
    assert found == set()


def test_sec001_masked_and_placeholder_passwords_in_credential_positions() -> None:
    code = """\
        dsn = build(username="******", password="******")
        conn = connect(password="changeme")
        if password == "xxxx":
            pass
    """
    assert lines(code, "SEC001") == []


def test_api001_grouped_aggregates_are_not_whole_collections() -> None:
    code = """\
        from flask_restx import Resource
        class Counts(Resource):
            def get(self):
                q = Sub.query.with_entities(Sub.kind, func.count(Sub.kind))
                data = q.group_by(Sub.kind).all()
                return {"data": dict(data)}
        class All(Resource):
            def get(self):
                return {"data": [s.to_dict() for s in Sub.query.all()]}
    """
    assert lines(code, "API001") == [8]


def test_api001_django_list_views_without_paginate_by() -> None:
    code = """\
        from django.views.generic import ListView
        class Projects(ListView):
            model = Project
        class Paged(ListView):
            model = Project
            paginate_by = 25
        class Recent(ListView):
            queryset = Project.objects.order_by("-id")[:10]
        class Base(ListView):
            template_name = "x.html"
        class Child(Base):
            paginate_by = 10
    """
    found = findings_for(textwrap.dedent(code), "API001", "app/views.py")
    assert [(f.line, f.severity.name) for f in found] == [(2, "INFO")]


def test_sec001_escaped_literals_are_masked_in_code_frames(tmp_path: Path) -> None:
    """Escapes make the written literal differ from its value: both are masked."""
    import subprocess
    import sys

    source = tmp_path / "app.py"
    source.write_text(
        "from flask import Flask\napp = Flask(__name__)\n"
        'app.secret_key = "F12Zr47j\\\\3yX R~X@H!jmM]Lwf/,?KT"\n'
        "from cryptography.fernet import Fernet\n"
        'f = Fernet(b"\\\\x00\\\\x01abcdefghijklmnop")\n'
    )
    report = tmp_path / "report.html"
    command = [sys.executable, "-m", "bastion", "check", str(source), "--select", "SEC001"]
    command += ["--no-cache", "--fail-on", "never", "--format", "html", "-o", str(report)]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    html = report.read_text()
    assert "hardcoded" in html
    for fragment in ("R~X@H", "jmM]Lwf", "abcdefghij"):
        assert fragment not in html


def test_api001_aiohttp_views_through_route_tables_and_dao_functions(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "shop/dao.py": """\
                class Item:
                    @staticmethod
                    async def get_many(conn):
                        async with conn.cursor() as cur:
                            await cur.execute("SELECT * FROM items")
                            return [Item(r) for r in await cur.fetchall()]

                    @staticmethod
                    async def first(conn):
                        async with conn.cursor() as cur:
                            await cur.execute("SELECT * FROM items")
                            return await cur.fetchmany(10)
            """,
            "shop/views.py": """\
                from aiohttp import web
                from shop.dao import Item

                async def items(request):
                    items = await Item.get_many(request.app["db"])
                    return web.json_response({"items": items})

                async def paged(request):
                    page = request.query.get("page")
                    items = await Item.get_many(request.app["db"])
                    return web.json_response({"items": items, "page": page})

                async def few(request):
                    items = await Item.first(request.app["db"])
                    return web.json_response({"items": items})

                async def unrouted(request):
                    items = await Item.get_many(request.app["db"])
                    return web.json_response({"items": items})

                async def create(request):
                    items = await Item.get_many(request.app["db"])
                    return web.json_response({"items": items})
            """,
            "shop/routes.py": """\
                from shop import views

                def setup_routes(app):
                    app.router.add_get("/items", views.items)
                    app.router.add_get("/paged", views.paged)
                    app.router.add_route("GET", "/few", views.few)
                    app.router.add_route("POST", "/create", views.create)
            """,
        },
    )
    assert [(p, line, m.split(" returns")[0]) for p, line, m in found] == [
        ("shop/views.py", 4, "`GET /items` (items)")
    ]


def test_perf001_archives() -> None:
    code = """\
        import tarfile, zipfile
        async def unpack(path, target):
            with zipfile.ZipFile(path) as archive:
                archive.extractall(target)
            tarfile.open(path).extractall(target)
            await asyncio.to_thread(zipfile.ZipFile, path)
        def sync_unpack(path):
            zipfile.ZipFile(path).extractall()
    """
    assert lines(code, "PERF001") == [3, 5]


def test_sec014_placeholders_replaced_by_values() -> None:
    code = """\
        from flask import render_template_string, request
        from markupsafe import Markup
        def page(name):
            template = TEMPLATE.replace("FOO", name)
            a = render_template_string(template)
            b = Markup(text.replace("\\\\n", "<br>"))
            return a, b
    """
    assert lines(code, "SEC014") == [5]


def test_api001_drf_views_named_by_router_and_urlconf(tmp_path: Path) -> None:
    found = _project(
        tmp_path,
        {
            "blog/views.py": """\
                from rest_framework import generics, viewsets
                class ArticleViewSet(viewsets.ModelViewSet):
                    queryset = Article.objects.all()
                class Tags(generics.ListAPIView):
                    queryset = Tag.objects.all()
                class Unrouted(generics.ListAPIView):
                    queryset = Tag.objects.all()
            """,
            "blog/urls.py": """\
                from django.urls import include, path, re_path
                from rest_framework.routers import DefaultRouter
                from .views import ArticleViewSet, Tags
                router = DefaultRouter()
                router.register(r"articles", ArticleViewSet)
                urlpatterns = [
                    path("v1/", include(router.urls)),
                    re_path(r"^tags/?$", Tags.as_view()),
                ]
            """,
            "site/urls.py": """\
                from django.urls import include, path
                urlpatterns = [path("api/", include("blog.urls"))]
            """,
            "site/settings.py": "INSTALLED_APPS = []\nREST_FRAMEWORK = {}\n",
        },
    )
    messages = {line: message for _, line, message in found}
    assert messages[2].startswith("`GET /api/v1/articles/` (ArticleViewSet, ModelViewSet)")
    assert messages[4].startswith("`GET /api/tags/` (Tags, ListAPIView)")
    assert messages[6].startswith("`Unrouted` (ListAPIView)")
