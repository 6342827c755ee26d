"""PROD001: a development server started where production runs it."""

from __future__ import annotations

import ast
from typing import ClassVar

from bastion.analysis.deploy import (
    ComposeDocument,
    DockerfileDocument,
    ProcfileEntry,
    dev_server,
)
from bastion.analysis.nodes import is_true, keyword_value
from bastion.analysis.web import FLASK_APPS
from bastion.findings import Severity
from bastion.kinds import kinds_taking
from bastion.kinds.procfile import ProcfileDocument
from bastion.rule import Example, Rule

_TAKES = (DockerfileDocument, ComposeDocument, ProcfileDocument)


def _is_main_guard(node: ast.AST) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    sides = [test.left, *test.comparators]
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    mains = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return bool(names and mains)


class DevServerInProduction(Rule):
    """Flags development servers where production starts the app:

    - Python: a Flask/Quart app's `app.run(...)` (the app created in the module with
      `Flask(...)`) or `uvicorn.run(..., reload=True)` executed at import time, i.e. at module
      level and not under `if __name__ == "__main__":`. Calls inside functions are not flagged
      (a `def dev(): app.run()` helper is a deliberate choice);
    - Dockerfile `CMD`/`ENTRYPOINT` of the final stage, Procfile processes and docker-compose
      `command:`/`entrypoint:` that run `flask run`, `manage.py runserver`/`django-admin
      runserver`, `uvicorn --reload` or `fastapi dev` (also through `python -m`, `sh -c`,
      `poetry run`, `uv run`...). Compose files named for development
      (`docker-compose.dev.yml`, `compose.override.yml`, `*local*`) are not flagged."""

    id = "PROD001"
    name = "dev-server-in-production"
    severity = Severity.ERROR
    summary = "A development server (`app.run`, `flask run`, `runserver`, `--reload`) in deployment"
    why = (
        "Development servers are single-process, unhardened and often expose a debugger or "
        "auto-reloader: they fall over under load, leak stack traces and, with the Werkzeug "
        "debugger, allow remote code execution. Production runs behind a real server "
        "(gunicorn, uvicorn workers, granian)."
    )
    hint = (
        "Start the app with a production server: `gunicorn app:app`, `gunicorn -k "
        "uvicorn.workers.UvicornWorker main:app`, `uvicorn main:app --workers 4` (no "
        '`--reload`), and keep `app.run()` under `if __name__ == "__main__":`.'
    )
    takes = _TAKES  # and Python, through its visitors
    kinds: ClassVar[frozenset[str]] = frozenset({"python"}) | kinds_taking(*_TAKES)
    requires = ("run", "dev", "reload")
    call_names = frozenset({"run"})  # visit_Call's only calls (see may_name)
    bad = [
        "from flask import Flask\napp = Flask(__name__)\napp.run(host='0.0.0.0')\n",
        Example('FROM python:3.12.4\nCMD ["flask", "run", "--host=0.0.0.0"]\n', path="Dockerfile"),
        Example("web: python manage.py runserver 0.0.0.0:$PORT\n", path="Procfile"),
        Example(
            "services:\n  api:\n    image: api\n    command: uvicorn main:app --reload\n",
            path="docker-compose.yml",
        ),
        Example(
            'FROM python:3.12.4\nENTRYPOINT ["sh", "-c", "fastapi dev main.py"]\n',
            path="Dockerfile",
        ),
        "import uvicorn\nuvicorn.run('main:app', reload=True)\n",
    ]
    good = [
        "from flask import Flask\napp = Flask(__name__)\n"
        "if __name__ == '__main__':\n    app.run(debug=True)\n",
        Example('FROM python:3.12.4\nCMD ["gunicorn", "app:app"]\n', path="Dockerfile"),
        Example("web: gunicorn project.wsgi --log-file -\n", path="Procfile"),
        Example(
            "services:\n  api:\n    command: uvicorn main:app --host 0.0.0.0\n",
            path="docker-compose.yml",
        ),
        Example(
            "services:\n  api:\n    command: uvicorn main:app --reload\n",
            path="docker-compose.dev.yml",
        ),
        "import asyncio\nasyncio.run(main())\n",
        "from flask import Flask\napp = Flask(__name__)\ndef dev():\n    app.run()\n",
    ]

    # -- Python ---------------------------------------------------------------------------------
    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if not isinstance(func, ast.Attribute) or func.attr != "run":
            return
        if not self.ctx.at_module_level() or any(_is_main_guard(n) for n in self.ctx.stack):
            return
        imports = self.ctx.imports
        if imports.instance_of(func.value) in FLASK_APPS:
            name = ast.unparse(func.value)
            self.report(node, f"`{name}.run()` starts Flask's development server at import time")
        elif imports.qualname(func) == "uvicorn.run" and is_true(keyword_value(node, "reload")):
            self.report(node, "`uvicorn.run(..., reload=True)` runs the auto-reloader at import")

    # -- deployment files ---------------------------------------------------------------------
    def check(self) -> None:
        doc = self.ctx.document
        if isinstance(doc, DockerfileDocument):
            self._dockerfile(doc)
        elif isinstance(doc, ComposeDocument):
            name = self.ctx.filename.lower()
            if any(word in name for word in ("dev", "local", "override", "test")):
                return
            for command in doc.commands:
                server = dev_server(command.words)
                if server:
                    self.report_at(
                        command.line,
                        1,
                        f"service `{command.service}` {command.key} runs `{server}`, a "
                        "development server",
                    )
        elif isinstance(doc, ProcfileDocument):
            for entry in doc:
                if isinstance(entry, ProcfileEntry):
                    server = dev_server(entry.words())
                    if server:
                        self.report_at(
                            entry.line,
                            1,
                            f"Procfile process `{entry.process}` runs `{server}`, a "
                            "development server",
                        )

    def _dockerfile(self, doc: DockerfileDocument) -> None:
        final = doc.final_stage
        if final is None:
            return
        chain = doc.ancestry(final)
        for stage in chain:  # the nearest CMD/ENTRYPOINT wins
            commands = [i for i in stage.instructions if i.name in {"CMD", "ENTRYPOINT"}]
            for ins in commands:
                server = dev_server(ins.words())
                if server:
                    self.report_at(
                        ins.line,
                        1,
                        f"`{ins.name}` runs `{server}`, a development server",
                        end_line=ins.end_line,
                    )
            if commands:
                return
