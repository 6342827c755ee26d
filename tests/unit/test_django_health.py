"""LOG004 on Django projects: the module named by ROOT_URLCONF is flagged when no URLconf of the
project routes to a health check."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_web_rules import project_findings

SETTINGS = 'INSTALLED_APPS = ["shop"]\nROOT_URLCONF = "mysite.urls"\n'
URLS = """\
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("shop.urls")),
]
"""
SHOP_URLS = """\
from django.urls import path

from shop import views

urlpatterns = [path("orders/", views.orders, name="orders")]
"""


def django_project() -> dict[str, str]:
    return {"mysite/settings.py": SETTINGS, "mysite/urls.py": URLS, "shop/urls.py": SHOP_URLS}


def test_a_django_project_without_a_health_route_is_flagged_at_its_root_urlconf(
    tmp_path: Path,
) -> None:
    assert project_findings(tmp_path, django_project(), "LOG004") == {("mysite/urls.py", 4)}


@pytest.mark.parametrize(
    "route",
    [
        'path("healthz/", views.healthz)',
        're_path(r"^health/$", views.ok)',
        'path("ht/", include("health_check.urls"))',
        'path("status/", views.ok, name="liveness")',
        'path("up/", HealthView.as_view())',
        'url(r"^ping/$", views.ok)',
        're_path(r"^status$", views.ok)',
    ],
)
def test_any_health_route_in_any_urlconf_silences_it(tmp_path: Path, route: str) -> None:
    health = (
        "from django.conf.urls import url\nfrom django.urls import include, path, re_path\n"
        "from shop import views\nfrom shop.views import HealthView\n\n"
        f"urlpatterns = [{route}]\n"
    )
    files = django_project()
    files["shop/probes.py"] = health
    assert project_findings(tmp_path, files, "LOG004") == set()


def test_a_health_middleware_answers_probes_itself(tmp_path: Path) -> None:
    files = django_project()
    middleware = 'MIDDLEWARE = ["myproject.middleware.HealthCheckMiddleware"]\n'
    files["mysite/settings.py"] = SETTINGS + middleware
    assert project_findings(tmp_path, files, "LOG004") == set()


def test_urlpatterns_built_under_an_if_are_found(tmp_path: Path) -> None:
    files = django_project()
    files["mysite/urls.py"] = (
        "from django.conf import settings\nfrom django.urls import path\n\n"
        "if settings.DEBUG:\n    urlpatterns = [path('debug/', v)]\nelse:\n    urlpatterns = []\n"
    )
    assert project_findings(tmp_path, files, "LOG004") == {("mysite/urls.py", 5)}


@pytest.mark.parametrize("case", ["outside", "tests", "no-root", "lookalike"])
def test_what_is_not_a_served_django_project(tmp_path: Path, case: str) -> None:
    files = django_project()
    if case == "outside":
        # ROOT_URLCONF names a module that is not in the scanned tree: nothing to judge
        files["mysite/settings.py"] = SETTINGS.replace("mysite.urls", "elsewhere.urls")
    elif case == "tests":
        files["tests/settings.py"] = files.pop("mysite/settings.py")
    elif case == "no-root":
        files["mysite/settings.py"] = 'INSTALLED_APPS = ["shop"]\n'
    else:
        # a `path("health/")` that is not Django's is no health route
        files["shop/probes.py"] = (
            "from django.conf import settings\nfrom os import path\n\n"
            "PROBE = path.join('health/', settings.BASE_DIR)\n"
        )
        assert project_findings(tmp_path, files, "LOG004") == {("mysite/urls.py", 4)}
        return
    assert project_findings(tmp_path, files, "LOG004") == set()
