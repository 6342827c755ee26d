"""ORG005: FastAPI/Starlette start-up and shutdown events instead of a lifespan."""

from __future__ import annotations

import ast

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import keyword_value, string_value
from bastion.analysis.web import FASTAPI_APPS, FASTAPI_ROUTERS
from bastion.findings import Severity
from bastion.rule import Rule

_EVENTS = ("startup", "shutdown")
_CALL_NAMES = last_parts(FASTAPI_APPS | FASTAPI_ROUTERS) | {"on_event", "add_event_handler"}


class FastapiOnEvent(Rule):
    """Flags the deprecated event-handler API of FastAPI and Starlette:
    `@app.on_event("startup"/"shutdown")` (also on an `APIRouter`),
    `app.add_event_handler("startup", fn)`, and `FastAPI(on_startup=[...])` /
    `Starlette(on_shutdown=[...])` / `APIRouter(on_startup=[...])` with a literal list
    (a wrapper that forwards its own `on_startup` argument is not flagged), and `self.on_event`
    inside a class (a framework implementing the API).

    The receiver must be a FastAPI/Starlette application or router: created in this module by
    `FastAPI()`/`APIRouter()`/`Starlette()`, or an unknown object in a module that imports
    fastapi or starlette and not another framework with the same method names."""

    id = "ORG005"
    name = "fastapi-on-event"
    severity = Severity.WARNING
    summary = '`@app.on_event("startup"/"shutdown")` (deprecated): use a `lifespan`'
    why = (
        "FastAPI and Starlette deprecated start-up/shutdown event handlers in favour of a "
        "`lifespan` async context manager: set-up and tear-down live in one function, state "
        "created at start-up is in scope for the clean-up, and an application that mixes both "
        "styles silently ignores the event handlers once a lifespan is given."
    )
    hint = (
        "Write an `@asynccontextmanager async def lifespan(app):` that does the start-up work, "
        "`yield`s, then cleans up, and pass it as `FastAPI(lifespan=lifespan)`."
    )
    # Every finding needs a FastAPI/Starlette name (an app or router class, or a module that
    # imports one of them): a cheaper filter than the event names (the web facts search the
    # same words, so the engine searches them once).
    requires = ("fastapi", "starlette")
    call_names = _CALL_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.on_event('startup')\n"
        "async def connect():\n    await db.connect()\n",
        "import fastapi\n\nrouter = fastapi.APIRouter()\n\n@router.on_event('shutdown')\n"
        "async def close():\n    await db.disconnect()\n",
        "from fastapi import FastAPI\n\napp = FastAPI(on_startup=[connect], on_shutdown=[close])\n",
        "from starlette.applications import Starlette\n\napp = Starlette()\n"
        "app.add_event_handler('startup', connect)\n",
    ]
    good = [
        "from contextlib import asynccontextmanager\nfrom fastapi import FastAPI\n\n"
        "@asynccontextmanager\nasync def lifespan(app):\n    await db.connect()\n    yield\n"
        "    await db.disconnect()\n\napp = FastAPI(lifespan=lifespan)\n",
        "import socketio\n\nsio = socketio.AsyncServer()\n\n@sio.on_event('connect')\n"
        "async def connect(sid, environ):\n    pass\n",
        "class Bus:\n    def on_event(self, name):\n        return lambda f: f\n\nbus = Bus()\n\n"
        "@bus.on_event('startup')\ndef hello():\n    pass\n",
        "from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get('/events')\n"
        "def events():\n    return []\n",
    ]

    def _is_app(self, receiver: ast.expr) -> bool:
        imports = self.ctx.imports
        factory = imports.instance_of(receiver)
        if factory is not None:
            return factory in FASTAPI_APPS or factory in FASTAPI_ROUTERS
        if not isinstance(receiver, ast.Name) or receiver.id in ("self", "cls"):
            return False  # `self.add_event_handler` inside a framework's own class
        if receiver.id in imports.aliases:
            return False  # an imported object we cannot see
        uses = imports.is_imported("fastapi") or imports.is_imported("starlette")
        others = any(
            imports.is_imported(m) for m in ("socketio", "flask", "quart", "aiohttp", "discord")
        )
        return uses and not others

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not may_name(func, _CALL_NAMES, self.ctx.imports):
            return
        qualified = self.ctx.imports.qualname(func) or ""
        if qualified in FASTAPI_APPS or qualified in FASTAPI_ROUTERS:
            for key in ("on_startup", "on_shutdown"):
                value = keyword_value(node, key)
                # a literal list of handlers; a forwarded variable (`on_startup=on_startup`) is
                # a wrapper passing its caller's choice on
                if isinstance(value, ast.List | ast.Tuple) and value.elts:
                    name = qualified.rpartition(".")[2]
                    self.report(
                        value, f"`{name}({key}=...)` uses the deprecated start-up/shutdown events"
                    )
            return
        if not isinstance(func, ast.Attribute) or func.attr not in (
            "on_event",
            "add_event_handler",
        ):
            return
        event = string_value(node.args[0] if node.args else keyword_value(node, "event_type"))
        if event not in _EVENTS or not self._is_app(func.value):
            return
        receiver = ast.unparse(func.value)
        self.report(
            node,
            f'`{receiver}.{func.attr}("{event}")` is deprecated: use a lifespan context manager',
        )
