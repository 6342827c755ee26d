"""Django URLconfs as project facts: every `path()`/`re_path()`/`url()` route a module declares,
where it defines `urlpatterns`, and which module the settings name as `ROOT_URLCONF`.

Collected by `rules/logging/django_urls.py`; read by LOG004 (a Django project without a
health-check route). Facts are plain JSON (they are cached and sharded).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bastion.analysis.web import is_health_path, mentions_health, module_name_of
from bastion.context import ProjectContext

URLCONF_FACTS = "django_urlconf"
ROOT_URLCONF_FACTS = "django_root_urlconf"

ROUTE_FUNCTIONS = frozenset(
    {
        "django.urls.path",
        "django.urls.re_path",
        "django.conf.urls.url",
        "django.conf.urls.re_path",
    }
)
INCLUDE_FUNCTIONS = frozenset({"django.urls.include", "django.conf.urls.include"})


def route_text(route: str) -> str:
    """`^healthz/$` -> `healthz/`: a `re_path` pattern read as a path for the health check."""
    for token in ("^", "$", "\\Z", "\\A", "(?i)"):
        route = route.replace(token, "")
    return route.replace("/?", "/")  # `^tags/?$`: an optional trailing slash


@dataclass
class DjangoUrls:
    """The project's URLconfs, joined across modules."""

    roots: list[tuple[str, int, str]] = field(default_factory=list)  # settings path, line, value
    # module -> (path, line, column) of its `urlpatterns`
    urlconfs: dict[str, tuple[str, int, int]] = field(default_factory=dict)
    health: bool = False  # some route, view, name, include or middleware is about health

    def root_modules(self) -> list[tuple[str, str, int, int]]:
        """(ROOT_URLCONF value, its module's file, urlpatterns line and column) for each root
        whose module is in the project."""
        found: dict[str, tuple[str, str, int, int]] = {}
        for _, _, value in self.roots:
            for module, (path, line, column) in sorted(self.urlconfs.items()):
                if module == value or module.endswith("." + value):
                    found.setdefault(value, (value, path, line, column))
                    break
        return list(found.values())


def django_urls(project: ProjectContext) -> DjangoUrls:
    urls = DjangoUrls()
    test_file = project.config.is_test_path
    for path, fact in project.facts(ROOT_URLCONF_FACTS):
        if test_file(path):
            continue
        if fact.get("health_middleware"):
            urls.health = True
        value = fact.get("value")
        if isinstance(value, str) and value:
            urls.roots.append((path, int(fact.get("line", 1)), value))
    for path, fact in project.facts(URLCONF_FACTS):
        if test_file(path):
            continue
        if fact.get("urlpatterns_line"):
            module, _ = module_name_of(path)
            column = int(fact.get("urlpatterns_column") or 1)
            urls.urlconfs[module] = (path, int(fact["urlpatterns_line"]), column)
        for route in fact.get("routes", []):
            if is_health_path(route_text(str(route.get("route") or ""))):
                urls.health = True
            if any(mentions_health(str(route.get(k) or "")) for k in ("view", "name", "include")):
                urls.health = True
    return urls
