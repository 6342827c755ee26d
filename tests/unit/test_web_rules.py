"""Tricky cases for the web rules (SEC002/SEC003, API001/API002) and the project rules
(API005, ERR007, LOG004) on small multi-module projects."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bastion.analysis.web import WebProject, is_health_path
from bastion.engine import run
from bastion.registry import load_registry
from bastion.rule import ProjectRule
from bastion.selection import load_config
from bastion.testing import findings_for


def rules_found(code: str, rule: str, path: str = "example.py") -> list[int]:
    return [f.line for f in findings_for(textwrap.dedent(code), rule, path)]


# -- CORS ------------------------------------------------------------------------------------


def test_wildcard_without_credentials_is_sec002_only() -> None:
    code = """
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=False)
    """
    assert rules_found(code, "SEC002") == [3]
    assert rules_found(code, "SEC003") == []


def test_credentials_make_it_sec003_not_sec002() -> None:
    code = """
        from starlette.middleware.cors import CORSMiddleware as Cors
        app.add_middleware(Cors, allow_origins="*", allow_credentials=True)
    """
    assert rules_found(code, "SEC003") == [3]
    assert rules_found(code, "SEC002") == []


def test_follows_the_list_assigned_just_before() -> None:
    code = """
        from fastapi.middleware.cors import CORSMiddleware
        def setup(app):
            origins = ["https://app.example.com"]
            origins = ["*"]
            app.add_middleware(CORSMiddleware, allow_origins=origins)
        def other(app, origins):
            app.add_middleware(CORSMiddleware, allow_origins=origins)
    """
    assert rules_found(code, "SEC002") == [6]


@pytest.mark.parametrize("regex", [".*", "https?://.*", "^https://.*$", ".+", "(http|https)://.*"])
def test_match_all_regexes(regex: str) -> None:
    code = f"""
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origin_regex={regex!r})
    """
    assert rules_found(code, "SEC002") == [3]


@pytest.mark.parametrize(
    "regex",
    [r"https://.*\.example\.com", r"https://(app|admin)\.example\.com", "[bad", "https://"],
)
def test_scoped_regexes_are_fine(regex: str) -> None:
    code = f"""
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origin_regex={regex!r}, allow_credentials=True)
    """
    assert rules_found(code, "SEC002") == []
    assert rules_found(code, "SEC003") == []


def test_flask_cors_variants() -> None:
    code = """
        from flask_cors import CORS
        cors = CORS()
        cors.init_app(app)
        CORS(app, origins=config_origins)
        CORS(app, resources=r"/api/*")
        CORS(app, **options)
    """
    assert rules_found(code, "SEC002") == [4, 6]


def test_flask_cors_origins_from_app_config_are_not_flagged() -> None:
    code = """
        from flask_cors import CORS
        app.config["CORS_ORIGINS"] = ["https://app.example.com"]
        CORS(app)
    """
    assert rules_found(code, "SEC002") == []


def test_flask_cors_defaults_with_config_loaded_from_an_object() -> None:
    code = """
        from flask import Flask
        from flask_cors import CORS
        app = Flask(__name__)
        app.config.from_object("settings.Production")
        CORS(app)
        CORS(app, origins="*")
    """
    assert rules_found(code, "SEC002") == [7]


def test_django_settings_credentials_elsewhere_in_module() -> None:
    code = "CORS_ALLOW_CREDENTIALS = True\nX = 1\nCORS_ORIGIN_ALLOW_ALL = True\n"
    assert rules_found(code, "SEC003", "settings/prod.py") == [3]
    assert rules_found(code, "SEC002", "settings/prod.py") == []
    assert rules_found("CORS_ALLOW_ALL_ORIGINS = False\n", "SEC002", "settings.py") == []


# -- pagination ------------------------------------------------------------------------------


def test_pagination_from_a_same_module_dependency() -> None:
    code = """
        from fastapi import Depends, FastAPI
        app = FastAPI()
        def paging(skip: int = 0, limit: int = 50):
            return {"skip": skip, "limit": limit}
        @app.get("/users", response_model=list[User])
        def users(p: dict = Depends(paging), db: Session = Depends(get_db)):
            return []
        @app.get("/orders", response_model=list[Order])
        def orders(p: dict = Depends(other), db: Session = Depends(get_db)):
            return []
        @app.get("/models", response_model=list[ModelInfo])
        def models():
            return [ModelInfo(name=n) for n in CONFIGURED_MODELS]
    """
    assert rules_found(code, "API001") == [9]


def test_page_size_parameter_shapes() -> None:
    code = """
        from typing import Literal
        from fastapi import FastAPI, Query
        app = FastAPI()
        @app.get("/a")
        def a(limit: int | None = None): ...
        @app.get("/b")
        def b(limit: Literal[10, 50] = 10): ...
        @app.get("/c")
        def c(limit: int = Query(10, lt=101)): ...
        @app.get("/d")
        def d(limit: int = 10):
            if limit > 100:
                raise ValueError(limit)
        @app.get("/e")
        def e(size: str = "large"): ...
        def not_a_route(limit: int = 10): ...
    """
    assert rules_found(code, "API002") == [6]


def test_get_method_outside_a_method_view_is_not_a_route() -> None:
    code = """
        class Repo:
            def get(self):
                return self.session.query(User).all()
    """
    assert rules_found(code, "API001") == []


def test_bounded_queries_are_not_flagged() -> None:
    code = """
        from fastapi import FastAPI
        app = FastAPI()
        @app.get("/recent")
        def recent() -> list[Post]:
            return list(Post.objects.order_by("-id")[:20])
        @app.get("/all")
        def everything():
            rows = db.execute(q).fetchall()
            return rows
    """
    assert rules_found(code, "API001") == [7]


# -- project rules on small projects ----------------------------------------------------------


def project_findings(tmp_path: Path, files: dict[str, str], select: str) -> set[tuple[str, int]]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[tool.bastion]\n")
    for name, code in files.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(code))
    config = load_config([tmp_path], overrides={"select": [select]})
    result = run([tmp_path], config)
    assert not result.internal_errors, result.internal_errors
    return {(f.path, f.line) for f in result.findings if f.rule == select}


MAIN = """
    from fastapi import FastAPI
    from app.api import users

    app = FastAPI()
    app.include_router(users.router, prefix={prefix})
"""
USERS = """
    from fastapi import APIRouter

    router = APIRouter(prefix="/users")

    @router.get("/{{user_id}}")
    def user(user_id: int): ...
"""


@pytest.mark.parametrize(
    ("prefix", "flagged"),
    [
        ('"/api"', True),
        ('"/api/v1"', False),
        ("settings.API_V1_STR", False),
        ("settings.API_PREFIX", False),  # cannot be read: not guessed
    ],
)
def test_api005_joins_prefixes_across_modules(tmp_path: Path, prefix: str, flagged: bool) -> None:
    files = {
        "app/__init__.py": "",
        "app/api/__init__.py": "",
        "app/main.py": MAIN.format(prefix=prefix),
        "app/api/users.py": USERS.format(),
    }
    found = project_findings(tmp_path, files, "API005")
    assert found == ({("app/main.py", 5)} if flagged else set())


def test_relative_imports_and_flask_prefix_replacement(tmp_path: Path) -> None:
    files = {
        "svc/__init__.py": """
            from flask import Flask
            from .views import users

            app = Flask(__name__)
            app.register_blueprint(users.bp, url_prefix="/api/v2/users")
        """,
        "svc/views/__init__.py": "",
        "svc/views/users.py": """
            from flask import Blueprint

            bp = Blueprint("users", __name__, url_prefix="/people")

            @bp.route("/")
            def users(): ...
        """,
    }
    assert project_findings(tmp_path, files, "API005") == set()
    config = load_config([tmp_path], overrides={"select": ["API005"]})
    from bastion.discovery import discover
    from bastion.engine import FileAnalyzer

    analyzer = FileAnalyzer(config)
    facts = []
    for source in discover([tmp_path], config).files:
        result = analyzer.analyze(source)
        if result.facts is not None:
            facts.extend((result.facts.path, f) for f in result.facts.facts.get("web", []))
    web = WebProject.from_facts(facts)
    assert [r.full_path for r in web.resolved_routes()] == ["/api/v2/users"]


def test_health_route_in_another_module_silences_log004(tmp_path: Path) -> None:
    main = "from fastapi import FastAPI\n\napp = FastAPI()\n"
    health = (
        "from fastapi import APIRouter\n\nrouter = APIRouter()\n\n"
        "@router.get('/health/live')\ndef live(): ...\n"
    )
    assert project_findings(tmp_path, {"main.py": main}, "LOG004") == {("main.py", 3)}
    assert project_findings(tmp_path, {"main.py": main, "health.py": health}, "LOG004") == set()


def test_exception_handler_registered_by_a_helper(tmp_path: Path) -> None:
    main = "from fastapi import FastAPI\n\napp = FastAPI()\n"
    errors = (
        "from fastapi import FastAPI\n\ndef install(app: FastAPI):\n"
        "    @app.exception_handler(Exception)\n    async def on_error(request, exc): ...\n"
    )
    assert project_findings(tmp_path, {"main.py": main}, "ERR007") == {("main.py", 3)}
    assert project_findings(tmp_path, {"main.py": main, "errors.py": errors}, "ERR007") == set()


def test_apps_in_tests_and_test_clients_are_not_served_apps(tmp_path: Path) -> None:
    files = {
        "tests/test_api.py": "from fastapi import FastAPI\n\napp = FastAPI()\n",
        "check.py": "from fastapi import FastAPI\nfrom fastapi.testclient import TestClient\n\n"
        "client = TestClient(FastAPI())\n",
    }
    for rule in ("ERR007", "LOG004", "API005"):
        assert project_findings(tmp_path, files, rule) == set()


DRF_VIEWS = """
    from rest_framework import generics

    class Users(generics.ListAPIView):
        queryset = User.objects.all()
"""


@pytest.mark.parametrize(
    ("settings", "flagged"),
    [
        ('INSTALLED_APPS = ["rest_framework"]\n', True),
        (
            'INSTALLED_APPS = []\nREST_FRAMEWORK = {"DEFAULT_PAGINATION_CLASS": '
            '"rest_framework.pagination.PageNumberPagination", "PAGE_SIZE": 50}\n',
            False,
        ),
        ('INSTALLED_APPS = []\nREST_FRAMEWORK["DEFAULT_PAGINATION_CLASS"] = "x.Pages"\n', False),
        (None, False),  # no settings seen: the global default cannot be known
    ],
)
def test_drf_views_depend_on_the_settings(
    tmp_path: Path, settings: str | None, flagged: bool
) -> None:
    files = {"shop/views.py": DRF_VIEWS}
    if settings is not None:
        files["conf/settings.py"] = settings
    found = project_findings(tmp_path, files, "API001")
    assert found == ({("shop/views.py", 4)} if flagged else set())


PROJECT_RULES = [r for r in load_registry().project_rules if r.id in ("API005", "ERR007", "LOG004")]


@pytest.mark.parametrize("rule", PROJECT_RULES, ids=lambda r: r.id)
def test_project_rule_examples(tmp_path: Path, rule: type[ProjectRule]) -> None:
    """The project rules' own examples, each as a one-module project."""
    for index, example in enumerate(rule.bad_examples()):
        root = tmp_path / f"bad{index}"
        root.mkdir()
        assert project_findings(root, {"main.py": example.code}, rule.id), example.code
    for index, example in enumerate(rule.good_examples()):
        root = tmp_path / f"good{index}"
        root.mkdir()
        assert not project_findings(root, {"main.py": example.code}, rule.id), example.code


def test_health_paths() -> None:
    assert is_health_path("/health/ready")
    assert is_health_path("/status")
    assert not is_health_path("/orders/{id}/status")
    assert not is_health_path("/users")


def test_drf_list_create_view_alone_in_a_module() -> None:
    code = """
        from rest_framework.generics import ListCreateAPIView
        class Products(ListCreateAPIView):
            queryset = Product.objects.all()
        class Custom(ListCreateAPIView):
            def get(self, request):
                return Response(summary())
    """
    assert rules_found(code, "API001") == [3]


def test_counted_or_indexed_queries_are_not_collections() -> None:
    code = """
        from flask import Flask, jsonify
        app = Flask(__name__)
        @app.route("/stats")
        def stats():
            return jsonify(users=len(User.query.all()))
        @app.route("/latest")
        def latest():
            return jsonify(User.query.order_by(User.id).all()[-1].to_dict())
        @app.route("/users")
        def users():
            return jsonify(users=[u.to_dict() for u in User.query.all()])
    """
    assert rules_found(code, "API001") == [10]


def test_lists_built_from_a_query_and_template_pages() -> None:
    code = """
        from flask import Flask, jsonify, render_template
        app = Flask(__name__)
        @app.route("/reports", methods=["GET"])
        def reports():
            out = []
            for report in Report.query.all():
                out.append(report.to_dict())
            return jsonify(out), 200
        @app.route("/page")
        def page():
            users = User.query.all()
            return render_template("users.html", users=users)
    """
    assert rules_found(code, "API001") == [4]


def test_flask_cors_string_credentials_count() -> None:
    code = """
        from flask_cors import cross_origin
        @admin.route("/observation", methods=["GET"])
        @cross_origin(origin="http://127.0.0.1:8000/", supports_credentials="true")
        def observations():
            return []
    """
    assert rules_found(code, "SEC003") == [4]


def test_api005_ignores_server_rendered_pages(tmp_path: Path) -> None:
    site = (
        "from flask import Flask, render_template\n\napp = Flask(__name__)\n\n"
        "@app.route('/users')\ndef users():\n    return render_template('users.html')\n"
    )
    assert project_findings(tmp_path, {"site.py": site}, "API005") == set()


def test_size_is_a_page_size_only_when_the_route_pages() -> None:
    code = """
        from fastapi import FastAPI
        app = FastAPI()
        @app.get("/images/{image_id}/thumbnail")
        def thumbnail(image_id: int, size: int = 128): ...
        @app.get("/images")
        def images(page: int = 1, size: int = 20): ...
    """
    assert rules_found(code, "API002") == [7]


def test_helpers_named_for_errors_or_health_count(tmp_path: Path) -> None:
    main = (
        "from flask import Flask\nfrom app.errors import register_error_handlers\n\n"
        "def create_app():\n    app = Flask(__name__)\n    register_error_handlers(app)\n"
        "    init_healthcheck(app)\n    return app\n"
    )
    assert project_findings(tmp_path, {"main.py": main}, "ERR007") == set()
    assert project_findings(tmp_path, {"main.py": main}, "LOG004") == set()


def test_a_specific_handler_named_like_app_is_not_a_catch_all(tmp_path: Path) -> None:
    main = (
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n"
        "@app.exception_handler(AppError)\nasync def on_app_error(request, exc): ...\n"
    )
    assert project_findings(tmp_path, {"main.py": main}, "ERR007") == {("main.py", 3)}


def test_motor_to_list_with_a_length_is_bounded() -> None:
    code = """
        from fastapi import FastAPI
        app = FastAPI()
        @app.get("/a", response_model=list[Doc])
        async def a(db=Depends(get_db)):
            return await db.docs.find().to_list(length=100)
        @app.get("/b", response_model=list[Doc])
        async def b(db=Depends(get_db)):
            return await db.docs.find().to_list(None)
    """
    assert rules_found(code, "API001") == [7]


def test_starlette_mounts_carry_the_version(tmp_path: Path) -> None:
    app = """
        from starlette.applications import Starlette
        from starlette.routing import Mount, Route

        app = Starlette(routes=[
            Route("/health", health),
            Mount("{prefix}", routes=[Route("/users", users), Route("/orders", orders)]),
        ])
    """
    assert (
        project_findings(tmp_path / "a", {"main.py": app.format(prefix="/v1")}, "API005") == set()
    )
    assert project_findings(tmp_path / "b", {"main.py": app.format(prefix="/api")}, "API005") == {
        ("main.py", 5)
    }


def test_lower_bounds_are_not_ceilings() -> None:
    code = """
        from flask import Flask, request
        app = Flask(__name__)
        @app.route("/a")
        def a():
            per_page = request.args.get("per_page", 10, type=int)
            if per_page < 1:
                per_page = 10
            per_page = max(per_page, 1)
            return []
        @app.route("/b")
        def b():
            per_page = request.args.get("per_page", 10, type=int)
            if not 1 <= per_page <= 100:
                abort(400)
            return []
    """
    assert rules_found(code, "API002") == [6]
