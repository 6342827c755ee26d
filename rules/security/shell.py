"""SEC017: commands built from data and run through a shell."""

from __future__ import annotations

import ast
import re

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import argument, is_true, keyword_value, walk_local
from bastion.analysis.scripts import is_script_file
from bastion.findings import Severity
from bastion.rule import Rule

# Functions that take `shell=` and run their first argument.
_SHELL_OPTIONAL = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
    }
)
# Functions that always go through a shell.
_ALWAYS_SHELL = frozenset(
    {
        "os.system",
        "os.popen",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "asyncio.create_subprocess_shell",
        "commands.getoutput",
    }
)
_SHELL_NAMES = last_parts(_SHELL_OPTIONAL | _ALWAYS_SHELL)
_QUOTERS = frozenset({"shlex.quote", "pipes.quote", "shlex.join"})


_NAMED = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# the objects that hold the deployment's own configuration
_SETTINGS_ROOTS = frozenset({"settings", "config", "conf"})
# how deep `_from_settings` follows attributes, calls and local variables
_MAX_SETTINGS_DEPTH = 12


class ShellInjection(Rule):
    """Flags a shell command built at run time: `subprocess.run/call/check_call/check_output/
    Popen(..., shell=True)`, `os.system`, `os.popen`, `subprocess.getoutput/getstatusoutput`
    and `asyncio.create_subprocess_shell` whose command is not a constant string.

    Not flagged: literal commands (`os.system("clear")`), a name bound only to string literals
    in the same function (`cmd = "make"`), f-strings whose every interpolated value is
    wrapped in `shlex.quote(...)`, and `subprocess` calls without `shell=True` (an argument
    list is passed to the program, not parsed by a shell), scripts and command-line modules
    (their operator types the input and can run any command anyway; issue #15: dispatch's
    maintainer utilities), and commands built only from
    the deployment's own configuration (`settings.*`, `config.*`, through local variables
    and calls such as `urlparse(settings.database_url).hostname`; issue #15: lnbits' backup
    runs `pg_dump` with the configured database). In code named for running shell commands
    (a "shell command" integration) the finding is `info` and says that running commands is
    the feature (issue #15 asks to keep such findings, at a severity that fits)."""

    id = "SEC017"
    name = "shell-injection"
    aliases = ("S602", "S604", "S605")  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B602", "B604", "B605")  # bandit test ids honoured in `# nosec`
    severity = Severity.ERROR
    precision = "low"
    precision_measured = (
        "0 of 1 judged findings right (0%) on 15 application repositories, bench/ecosystem, too "
        "few findings to be sure of the band: a shell-command integration, kept at info as issue "
        "#15 asks (before: 0 of 4; commands from the deployment's settings and command-line "
        "scripts are no longer reported)"
    )
    summary = "Shell command built from non-literal data (`shell=True`, `os.system`)"
    why = (
        "A shell parses its command line: a value containing `;`, `&&`, `$(...)` or a "
        "backtick runs a second command. When any part of the string comes from a request, a "
        "file name, a database row or a setting, that part can take over the host. Passing an "
        "argument list without a shell makes every value a single argument, whatever it holds."
    )
    hint = (
        'Pass an argument list without a shell: `subprocess.run(["convert", src, dst], '
        "check=True)`; if a shell is unavoidable, quote every value with `shlex.quote(...)`."
    )
    cwe = (78,)
    # Each sink's module or function name (imports rename only the root): `subprocess` (also in
    # `create_subprocess_shell`), `os.system`, `os.popen`, `commands.getoutput`. Not "os",
    # which is in nearly every file ("pos", "close").
    requires = ("subprocess", "system", "popen", "getoutput")
    call_names = _SHELL_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "import subprocess\n\nsubprocess.run(f'convert {src} {dst}', shell=True, check=True)\n",
        "import os\n\nos.system('rm -rf ' + path)\n",
        "import subprocess\n\ndef grep(pattern):\n"
        "    return subprocess.check_output('grep %s log.txt' % pattern, shell=True)\n",
        "from os import popen\n\nout = popen(cmd).read()\n",
        # a value from the request next to the settings
        "import os\n\ndef backup(request):\n"
        "    os.system(f'tar czf {settings.backup_dir}/{request.args[\"name\"]}.tgz data')\n",
    ]
    good = [
        "import subprocess\n\nsubprocess.run(['convert', src, dst], check=True)\n",
        "import os\n\nos.system('clear')\n",
        "import subprocess\n\ndef build():\n    cmd = 'make all'\n"
        "    subprocess.run(cmd, shell=True, check=True)\n",
        "import shlex, subprocess\n\n"
        "subprocess.run(f'convert {shlex.quote(src)} out.png', shell=True, check=True)\n",
        "import subprocess\n\nsubprocess.run(cmd, shell=False, check=True)\n",
        # issue #15 (lnbits): a backup command built from the deployment's own settings
        "from subprocess import Popen\nfrom urllib.parse import urlparse\n\n"
        "def backup():\n    p = urlparse(settings.database_url)\n"
        "    out = f'{settings.data_folder}/db.dmp'\n"
        "    command = f'pg_dump --host={p.hostname} --file={out}'\n"
        "    Popen(command, shell=True).wait()\n",
    ]

    def visit_Call(self, node: ast.Call) -> None:
        if not may_name(node.func, _SHELL_NAMES, self.ctx.imports):
            return
        qualified = self.ctx.imports.qualname(node.func) or ""
        if qualified in _SHELL_OPTIONAL:
            if not is_true(keyword_value(node, "shell")):
                return
            command = argument(node, 0, "args")
        elif qualified in _ALWAYS_SHELL:
            command = argument(node, 0, "cmd") or argument(node, 0, "command")
        else:
            return
        if command is None or self._is_literal(command) or self._from_settings(command):
            return
        short = qualified.removeprefix("subprocess.").removeprefix("asyncio.")
        where = f"`{short}(..., shell=True)`" if qualified in _SHELL_OPTIONAL else f"`{short}()`"
        text = f"{where} runs a command built from {_describe(command)}"
        if is_script_file(self.ctx):
            # a script or command-line module: its operator types the input and already runs
            # commands (issue #15: dispatch's maintainer utilities; SEC007 skips them too)
            return
        if self._shell_feature():
            # a "run this shell command" integration
            self.report_at(
                node.lineno,
                node.col_offset + 1,
                text + ": running commands is this code's feature, keep its input trusted",
                end_line=node.end_lineno,
                end_column=(node.end_col_offset or 0) + 1,
                severity=Severity.INFO,
            )
            return
        self.report(node, text)

    def _from_settings(self, node: ast.expr, depth: int = 0) -> bool:
        """Every value in the command comes from the operator's configuration (`settings.*`,
        `config.*`) or literals, also through local variables and calls on them
        (`urlparse(settings.database_url).hostname`): the deployer who sets those already
        runs the process (issue #15: lnbits' `pg_dump` backup)."""
        if depth > _MAX_SETTINGS_DEPTH:
            return False
        if isinstance(node, ast.Constant):
            return True
        if isinstance(node, ast.JoinedStr):
            return all(
                self._from_settings(v.value if isinstance(v, ast.FormattedValue) else v, depth)
                for v in node.values
            )
        if isinstance(node, ast.BinOp):
            return self._from_settings(node.left, depth) and self._from_settings(node.right, depth)
        if isinstance(node, ast.Call):
            func_ok = isinstance(node.func, ast.Name) or self._from_settings(node.func, depth + 1)
            return func_ok and all(
                self._from_settings(a, depth + 1)
                for a in [*node.args, *(k.value for k in node.keywords)]
            )
        if isinstance(node, ast.Attribute | ast.Subscript):
            return self._from_settings(node.value, depth + 1)
        if isinstance(node, ast.Name):
            if node.id in _SETTINGS_ROOTS:
                return True
            return self._local_from_settings(node.id, depth)
        return False

    def _local_from_settings(self, name: str, depth: int) -> bool:
        scope = self.ctx.enclosing_function()
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        if name in _parameters(scope):
            return False
        values: list[ast.expr] = []
        for sub in walk_local(scope.body):
            if isinstance(sub, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in sub.targets
            ):
                values.append(sub.value)
            elif _rebinds(sub, name) or (
                isinstance(sub, ast.AugAssign | ast.AnnAssign)
                and isinstance(sub.target, ast.Name)
                and sub.target.id == name
            ):
                return False
        return bool(values) and all(self._from_settings(v, depth + 1) for v in values)

    def _shell_feature(self) -> bool:
        """Code named for running shell commands (`integrations/shell/transport.py`)."""
        names = [self.ctx.path, *(n.name for n in self.ctx.stack if isinstance(n, _NAMED))]
        return any("shell" in re.findall(r"[a-z]+", name.lower()) for name in names)

    def _is_literal(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return True
        if _quoted(node, self):
            return True  # `shlex.join(args)`
        if isinstance(node, ast.List | ast.Tuple):
            return all(self._is_literal(e) for e in node.elts)
        if isinstance(node, ast.JoinedStr):
            return all(
                isinstance(v, ast.Constant) or _quoted(v.value, self)
                for v in node.values
                if isinstance(v, ast.Constant | ast.FormattedValue)
            )
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._is_literal(node.left) and self._is_literal(node.right)
        if isinstance(node, ast.Name):
            return self._bound_to_literals(node.id)
        return False

    def _bound_to_literals(self, name: str) -> bool:
        scope = self.ctx.enclosing_function()
        body: list[ast.stmt] | None
        if scope is None:
            body = self.ctx.tree.body if self.ctx.tree is not None else None
        elif isinstance(scope, ast.Lambda):
            return False
        else:
            body = scope.body
        if body is None:
            return False
        values: list[ast.expr] = []
        for sub in walk_local(body):
            if isinstance(sub, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in sub.targets
            ):
                values.append(sub.value)
            elif (
                isinstance(sub, ast.AnnAssign | ast.AugAssign)
                and isinstance(sub.target, ast.Name)
                and sub.target.id == name
            ):
                if sub.value is None:
                    continue
                values.append(sub.value)
            elif isinstance(sub, ast.arg) and sub.arg == name:
                return False  # a parameter: the caller decides
            elif _rebinds(sub, name):
                return False  # a loop variable, `with ... as name`, `name := ...`
        if scope is not None and name in _parameters(scope):
            return False
        return bool(values) and all(
            isinstance(v, ast.Constant) and isinstance(v.value, str) for v in values
        )


def _rebinds(node: ast.AST, name: str) -> bool:
    targets: list[ast.AST] = []
    if isinstance(node, ast.For | ast.AsyncFor | ast.comprehension | ast.NamedExpr):
        targets.append(node.target)
    elif isinstance(node, ast.withitem) and node.optional_vars is not None:
        targets.append(node.optional_vars)
    return any(isinstance(n, ast.Name) and n.id == name for t in targets for n in ast.walk(t))


def _parameters(scope: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    args = scope.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    if args.vararg:
        names.add(args.vararg.arg)
    if args.kwarg:
        names.add(args.kwarg.arg)
    return names


def _quoted(node: ast.expr, rule: ShellInjection) -> bool:
    return isinstance(node, ast.Call) and rule.ctx.imports.qualname(node.func) in _QUOTERS


def _describe(node: ast.expr) -> str:
    if isinstance(node, ast.JoinedStr):
        return "an f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return "`%` formatting"
    if isinstance(node, ast.BinOp):
        return "string concatenation"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        if node.func.attr == "format":
            return "`.format()`"
        return f"the result of `.{node.func.attr}()`"
    if isinstance(node, ast.Name):
        return f"the variable `{node.id}`"
    return "a computed value"
