"""API003, API008: how route paths are named (nouns, plural collections)."""

from __future__ import annotations

import ast
import re

from bastion.analysis.api_design import (
    Handler,
    is_html_view,
    is_param_segment,
    literal_segments,
    path_params,
    segments,
    words,
)
from bastion.analysis.fastpath import TextMentions
from bastion.analysis.web import FASTAPI_APPS, FLASK_APPS, Route, router_prefix
from bastion.context import FileContext
from bastion.findings import Severity
from bastion.rule import Rule

# Verbs that name CRUD operations the HTTP method already says. Deliberately absent: action
# endpoints that are conventional and have no CRUD method to stand for them (`login`, `logout`,
# `register`, `search`, `refresh`, `verify`, `reset`, `upload`, `download`, `export`,
# `import`, `send`, `submit`, `check`, `validate`, `subscribe`...).
VERBS = frozenset(
    {
        "get",
        "fetch",
        "retrieve",
        "list",
        "create",
        "add",
        "insert",
        "update",
        "edit",
        "modify",
        "delete",
        "remove",
        "destroy",
        "save",
        "set",
    }
)
# `delete-requests`, `update-jobs`, `add-ons`: a verb followed by one of these is a compound
# noun naming a resource (GDPR deletion requests, update jobs), not an action.
_NOUN_AFTER_VERB = frozenset(
    {
        "request",
        "requests",
        "job",
        "jobs",
        "task",
        "tasks",
        "history",
        "log",
        "logs",
        "queue",
        "queues",
        "policy",
        "policies",
        "ons",
        "on",
        "event",
        "events",
    }
)
# Path segments after which the router is RPC-style by design: verbs are its vocabulary.
_RPC_SEGMENTS = frozenset({"rpc", "jsonrpc", "json-rpc", "actions", "commands", "command"})


def _verb_of(segment: str) -> str | None:
    if ":" in segment or "." in segment:
        return None  # `/users/{id}:activate` (custom method), `/file.get`
    parts = words(segment)
    if not parts or parts[0] not in VERBS:
        return None
    if len(parts) > 1 and parts[1] in _NOUN_AFTER_VERB:
        return None
    # `getUsers` / `create_user` / `delete` (a bare verb after a resource: `/users/delete/1`)
    return parts[0]


def _serves_html(route: Route, rule: Rule) -> bool:
    """`response_class=HTMLResponse` / `RedirectResponse`: a page or a form target."""
    value = route.call.keywords if route.call is not None else []
    for kw in value:
        if kw.arg == "response_class":
            name = rule.ctx.imports.qualname(kw.value) or ""
            return name.endswith(("HTMLResponse", "RedirectResponse"))
    return False


def _html_form_route(route: Route, handler: Handler) -> bool:
    """A server-rendered form: one route for GET (show the form) and POST (submit it), or a
    handler that names an `.html` template (`FormHelper(Form, "admin/users/edit.html")`).
    Measured on real dashboards (bench/ecosystem), `/create` and `/{id}/edit` there are the
    browser's convention, not REST paths."""
    if {"GET", "POST"} <= set(route.methods):
        return True
    return any(
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.endswith((".html", ".jinja", ".jinja2"))
        for node in ast.walk(handler)
    )


def _run_together_verb(segment: str, handler_name: str) -> str | None:
    """`/addgame` served by `add_game`, `/getusers` by `getUsers`: a lower-case segment that
    spells the handler's verb-led name without separators. Without that evidence a run-together
    word is left alone (`/address`, `/settings`, `/getaway`)."""
    name_words = words(handler_name)
    if len(name_words) < 2 or name_words[0] not in VERBS:
        return None
    if segment.lower() == "".join(name_words) and name_words[1] not in _NOUN_AFTER_VERB:
        return name_words[0]
    return None


# The former text pre-filter of API003/API008: a module without one of these has no route
# they look at.
_ROUTE_WORDS = ("route", ".get", ".post", ".put", ".patch", ".delete")


class VerbInPath(Rule):
    """Flags route paths with a segment that starts with a CRUD verb: `/getUsers`,
    `/create_user`, `/users/delete/{id}`, `/items/list`. The word split is on case and
    `-`/`_`, so nouns that merely start like a verb are left alone (`/settings`, `/updates`,
    `/getaway`, `/address`) unless the segment spells the handler's verb-led name
    (`/addgame` served by `add_game`), as are compound nouns (`/delete-requests`,
    `/update-jobs`) and a verb-spelled noun followed by its own id (`/list/{list_id}`).

    Not flagged: conventional action endpoints that have no CRUD method to stand for them
    (`/login`, `/logout`, `/register`, `/search`, `/refresh`, `/verify`, `/upload`...),
    custom methods (`/users/{id}:activate`), RPC-style routers (a path under `/rpc`,
    `/jsonrpc`, `/actions`, `/commands`), and server-rendered views (handlers that
    `render_template`, `redirect` or return a `TemplateResponse`, routes declared with
    `response_class=HTMLResponse`/`RedirectResponse`, form routes that take both GET and
    POST, handlers that name an `.html` template): HTML forms can only send GET and POST, so
    `/posts/<id>/delete` is the convention there."""

    id = "API003"
    name = "verb-in-path"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "8 of 8 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Route path names an action (`/getUsers`, `/users/delete/{id}`) instead of a resource"
    why = (
        "In a REST API the path names the resource and the HTTP method names the action: "
        "`GET /users`, `POST /users`, `DELETE /users/{id}`. A verb in the path duplicates the "
        "method (and can contradict it: `GET /deleteUser`), multiplies endpoints for one "
        "resource, and defeats caches, proxies and clients that rely on method semantics "
        "(GET is safe and idempotent, DELETE is idempotent)."
    )
    hint = (
        "Name the resource and let the method carry the action: `GET /users` instead of "
        "`/getUsers`, `POST /users` instead of `/create_user`, `DELETE /users/{id}` instead of "
        "`/users/delete/{id}`."
    )
    # two stages (see `TextMentions`): a route needs a decorator; then the route words
    requires = ("@",)
    bad = [
        "from fastapi import APIRouter\nrouter = APIRouter()\n\n"
        "@router.get('/getUsers')\ndef users():\n    return []\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.post('/create_user')\ndef create(user: User):\n    return user\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.delete('/users/delete/{user_id}')\ndef remove(user_id: int):\n    return None\n",
        "from flask import Flask, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/api/items/list')\ndef items():\n    return jsonify([])\n",
    ]
    good = [
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/settings')\ndef settings():\n    return {}\n\n"
        "@app.get('/updates')\ndef updates():\n    return []\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.post('/login')\ndef login(form: Form):\n    return token(form)\n\n"
        "@app.get('/search')\ndef search(q: str):\n    return []\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/getaway/{id}')\ndef trip(id: int):\n    return {}\n\n"
        "@app.post('/delete-requests')\ndef request_deletion(body: Req):\n    return body\n",
        "from flask import Flask, redirect, url_for\napp = Flask(__name__)\n\n"
        "@app.route('/<int:id>/delete', methods=['POST'])\ndef delete(id):\n"
        "    db.delete(id)\n    return redirect(url_for('index'))\n",
        "from fastapi import APIRouter\nrpc = APIRouter(prefix='/rpc')\n\n"
        "@rpc.post('/getBalance')\ndef balance(req: Req):\n    return {}\n",
        "class Client:\n    def get(self, path):\n        ...\n\n"
        "@client.get('/getUsers')\ndef f():\n    ...\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._mentions_route = TextMentions(ctx.source.text, _ROUTE_WORDS)

    def visit_route(self, handler: Handler, route: Route) -> None:
        if not self._mentions_route() or is_html_view(handler, self.ctx.imports):
            return
        if any(s.lower() in _RPC_SEGMENTS for s in literal_segments(route.path)):
            return
        if _serves_html(route, self) or _html_form_route(route, handler):
            return
        parts = segments(route.local_path)
        for index, segment in enumerate(parts):
            if is_param_segment(segment):
                continue
            verb = _verb_of(segment) or _run_together_verb(segment, handler.name)
            following = parts[index + 1] if index + 1 < len(parts) else ""
            if verb == segment.lower() and _names_an_item(following, segment) == "own":
                continue  # `/list/{list_id}`, `/set/{set_id}`: the word is a noun here
            if verb is not None:
                self.report(
                    route.node,
                    f"path segment `{segment}` of {route.describe()} names the action `{verb}`",
                )
                break


# Words that look singular but name no collection: singletons, mass nouns, actions and
# infrastructure paths.
_NOT_COLLECTIONS = frozenset(
    {
        "me",
        "self",
        "cart",
        "basket",
        "checkout",
        "dashboard",
        "home",
        "inbox",
        "wallet",
        "current",
        "health",
        "healthz",
        "status",
        "auth",
        "token",
        "login",
        "logout",
        "search",
        "admin",
        "api",
        "config",
        "configuration",
        "metadata",
        "info",
        "data",
        "media",
        "static",
        "docs",
        "openapi",
        "version",
        "profile",
        "download",
        "upload",
        "export",
        "import",
        "preview",
        "callback",
        "webhook",
        "redirect",
        "proxy",
        "raw",
        "path",
        "lang",
        "locale",
        "page",
        "feed",
        "stream",
        "history",
        "news",
        "feedback",
        "software",
        "content",
        "by",
        "ws",
        "graphql",
        "rpc",
        "jsonrpc",
        "latest",
        "detail",
        "details",
        "view",
        "edit",
        "debug",
        "i18n",
        "v",
    }
)
# Irregular plurals (and Latin ones) that do not end in `s`.
_IRREGULAR_PLURALS = frozenset(
    {"people", "children", "men", "women", "mice", "geese", "feet", "teeth", "criteria", "data"}
)
_SINGULAR_S_ENDINGS = ("ss", "us", "is", "ics")


def _singular_noun(segment: str) -> str | None:
    """The segment's head noun when it is a singular countable noun, else None."""
    parts = words(segment)
    if not parts or not all(p.isalpha() for p in parts):
        return None
    if "by" in parts:
        return None  # `/users/by-email/{email}`: a lookup, not a collection
    head = parts[-1]
    if len(head) < 3 or head in _NOT_COLLECTIONS or head in _IRREGULAR_PLURALS:
        return None
    if parts[0] in VERBS:
        return None  # an action segment: API003's business
    if head.endswith("s") and not head.endswith(_SINGULAR_S_ENDINGS):
        return None
    if head.endswith(_SINGULAR_S_ENDINGS[1:]):
        return None  # `status`, `analysis`, `analytics`: mass or ambiguous
    if head.endswith(("ing", "ed")):
        return None  # `billing`, `pricing`, `shipping`, `archived`: not countable resources
    return head


_ID_WORDS = frozenset({"id", "pk", "uuid", "guid", "slug", "key", "code", "number", "no", "ref"})


def _names_an_item(segment: str, noun_segment: str) -> str | None:
    """How the parameter picks one item of the collection the segment names: "own" for the
    noun's own identifier (`{user_id}` / `{userId}` after `user`), "generic" for `{id}`,
    `<int:pk>`, `{slug}`; None otherwise (`/invoice/{fmt}`, `/checkout/{user_id}` and
    `/platform/{platform}` pick something else)."""
    if not is_param_segment(segment):
        return None
    names = path_params(segment, "flask" if "<" in segment else "fastapi")
    if len(names) != 1:
        return None
    parts = words(names[0])
    if not parts:
        return None
    if all(p in _ID_WORDS for p in parts):
        return "generic"
    head, last = parts[:-1], parts[-1]
    if last not in _ID_WORDS:
        if last.endswith("id") and len(parts) == 1:  # `userid`
            head, last = [last[:-2]], "id"
        else:
            return None
    return "own" if "".join(head) == "".join(words(noun_segment)) else None


_NAMESPACES = frozenset({"api", "admin", "internal", "public", "private", "rest", "v"})


def _heads_a_resource(parts: list[str], index: int) -> bool:
    """The segment at `index` starts a resource path: it comes first, after a namespace
    (`/api`, `/v1`, `/admin`), or after an item (`/users/{user_id}/post/...`). After another
    literal it qualifies that one (`/orders/user/{user_id}`: orders filtered by user)."""
    if index == 0:
        return True
    before = parts[index - 1]
    return (
        is_param_segment(before)
        or before.lower() in _NAMESPACES
        or re.fullmatch(r"v\d+(\.\d+)?", before.lower()) is not None
    )


def _returns_list(route: Route) -> bool:
    candidates: list[ast.expr | None] = []
    if route.call is not None:
        candidates += [kw.value for kw in route.call.keywords if kw.arg == "response_model"]
    handler = route.handler
    if isinstance(handler, ast.FunctionDef | ast.AsyncFunctionDef):
        candidates.append(handler.returns)
    for ann in candidates:
        if isinstance(ann, ast.Subscript):
            base = ann.value
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name in ("list", "List", "Sequence"):
                return True
    return False


class SingularCollectionPath(Rule):
    """Flags a collection named by a singular noun: a path segment followed, in some route of
    the module, by the noun's own identifier (`/user/{user_id}`), or by a generic one (`{id}`,
    `<int:pk>`, `{slug}`) when the bare collection route exists too (`/user` beside
    `/user/{id}`; `/blog/{slug}` alone is left alone), or a GET route declared to return a
    list (`response_model=list[User]`) whose last segment is singular. Reported once per
    collection, on its collection route when there is one.

    The segment must start a resource path: first, after a namespace (`/api`, `/v1`,
    `/admin`) or after an item (`/users/{user_id}/post/{post_id}`). `/orders/user/{user_id}`
    filters orders by user and is left alone, and so is `/user/{user_id}` on a router whose
    prefix is set where it is included (it may be `/orders`) unless every route of that router
    in the module lives under the collection.

    Not flagged: singletons and mass nouns (`/me`, `/health`, `/status`, `/auth/token`,
    `/search`, `/profile`, `/config`, `/metadata`...), lookups (`/users/by-email/{email}`),
    words ending in `-ing`/`-ed` (`/billing/{id}`), segments led by a verb (API003's), and
    server-rendered views (`/post/<id>` pages are the convention for HTML)."""

    id = "API008"
    name = "singular-collection-path"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "5 of 5 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Collection path named with a singular noun (`/user/{id}` instead of `/users/{id}`)"
    why = (
        "A collection is named by a plural noun so that the path reads the same way for the "
        "collection and its items (`GET /users`, `GET /users/{id}`). Mixing `/user/{id}` with "
        "`/orders/{id}` makes clients guess each resource's spelling and is hard to change once "
        "clients depend on it."
    )
    hint = "Use the plural noun for the collection and its items: `/users` and `/users/{user_id}`."
    # two stages (see `TextMentions`): a route needs a decorator; then the route words
    requires = ("@",)
    bad = [
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/user')\ndef list_users():\n    return []\n\n"
        "@app.get('/user/{user_id}')\ndef get_user(user_id: int):\n    return {}\n",
        "from fastapi import APIRouter\nrouter = APIRouter(prefix='/order')\n\n"
        "@router.get('/{order_id}')\ndef order(order_id: int):\n    return {}\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/product', response_model=list[Product])\ndef products():\n    return []\n",
        "from flask import Blueprint, jsonify\nbp = Blueprint('x', __name__)\n\n"
        "@bp.route('/api/book/<int:book_id>')\ndef book(book_id):\n    return jsonify({})\n",
    ]
    good = [
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/users')\ndef list_users():\n    return []\n\n"
        "@app.get('/users/{user_id}')\ndef get_user(user_id: int):\n    return {}\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/me')\ndef me():\n    return {}\n\n"
        "@app.get('/health')\ndef health():\n    return {}\n\n"
        "@app.post('/auth/token')\ndef token():\n    return {}\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/users/{user_id}/profile')\ndef profile(user_id: int):\n    return {}\n\n"
        "@app.get('/users/by-email/{email}')\ndef by_email(email: str):\n    return {}\n",
        "from flask import Flask, render_template\napp = Flask(__name__)\n\n"
        "@app.route('/post/<int:post_id>')\ndef show(post_id):\n"
        "    return render_template('post.html')\n",
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/status', response_model=list[Check])\ndef status():\n    return []\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._mentions_route = TextMentions(ctx.source.text, _ROUTE_WORDS)
        # collection path (as written, prefix included) -> (singular noun, routes)
        self._collections: dict[str, tuple[str, list[Route]]] = {}
        self._plain: dict[str, list[Route]] = {}
        self._order: list[str] = []
        # collections proven by the noun's own id (`/user/{user_id}`) or a list response
        self._certain: set[str] = set()
        # collections on routers whose prefix is set elsewhere -> that router's name
        self._unknown_prefix: dict[str, str] = {}
        self._router_paths: dict[str, list[str]] = {}

    def visit_route(self, handler: Handler, route: Route) -> None:
        if not self._mentions_route() or is_html_view(handler, self.ctx.imports):
            return
        parts = segments(route.path)
        self._plain.setdefault("/" + "/".join(parts), []).append(route)
        unknown = "" if self._prefix_known(route) else (route.router or "?")
        if unknown:
            self._router_paths.setdefault(unknown, []).append("/" + "/".join(parts))
        for index, part in enumerate(parts):
            if is_param_segment(part) or index + 1 >= len(parts):
                continue
            how = _names_an_item(parts[index + 1], part)
            if how is None or not _heads_a_resource(parts, index):
                continue
            if _singular_noun(part) is None:
                continue
            key = "/" + "/".join(parts[: index + 1])
            self._add(key, part, route, unknown)
            if how == "own":
                self._certain.add(key)
        if (
            parts
            and not is_param_segment(parts[-1])
            and "GET" in route.methods
            and _returns_list(route)
            and _heads_a_resource(parts, len(parts) - 1)
            and _singular_noun(parts[-1]) is not None
        ):
            key = "/" + "/".join(parts)
            self._add(key, parts[-1], route, unknown)
            self._certain.add(key)

    def _add(self, key: str, segment: str, route: Route, unknown_router: str) -> None:
        if key not in self._collections:
            self._collections[key] = (segment, [])
            self._order.append(key)
        self._collections[key][1].append(route)
        if unknown_router:
            self._unknown_prefix[key] = unknown_router

    def _prefix_known(self, route: Route) -> bool:
        """The whole path is known: the route hangs on an app, or on a router/blueprint created
        here with its prefix. A router without one gets it where it is included, maybe
        `/orders`, which turns `/user/{user_id}` into the lookup `/orders/user/{user_id}`."""
        if route.call is None or not isinstance(route.call.func, ast.Attribute):
            return False
        receiver = route.call.func.value
        factory = self.ctx.imports.instance_of(receiver)
        if factory in FASTAPI_APPS or factory in FLASK_APPS:
            return True
        return self.ctx.imports.instance_call(receiver) is not None and bool(
            router_prefix(receiver, self.ctx)
        )

    def finish(self) -> None:
        for key in self._order:
            if key not in self._certain and key not in self._plain:
                continue  # `/blog/{slug}` alone: no sign that `blog` names a collection
            router = self._unknown_prefix.get(key)
            if router is not None and not all(
                p == key or p.startswith(key + "/") for p in self._router_paths.get(router, [])
            ):
                # a router whose prefix is set elsewhere and that also serves other paths
                # (`/`, `/{order_id}`): `/user/{user_id}` there filters its own resource
                continue
            segment, routes = self._collections[key]
            target = (self._plain.get(key) or routes)[0]
            self.report(
                target.node,
                f"collection `{key}` ({target.describe()}) is named with the singular `{segment}`",
            )
