"""SEC013: deserialising or evaluating data that can run code."""

from __future__ import annotations

import ast
import re
from typing import Any

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import argument, keyword_value, walk_local
from bastion.analysis.scripts import is_script_file
from bastion.findings import Finding, FixSafety, Severity
from bastion.imports import ImportMap
from bastion.rule import Example, Fix, Rule

_PICKLE_LIKE = {
    "pickle.loads": "pickle",
    "pickle.load": "pickle",
    "pickle.Unpickler": "pickle",
    "_pickle.loads": "pickle",
    "_pickle.load": "pickle",
    "cPickle.loads": "pickle",
    "cPickle.load": "pickle",
    "dill.loads": "dill",
    "dill.load": "dill",
    "cloudpickle.loads": "cloudpickle",
    "cloudpickle.load": "cloudpickle",
    "marshal.loads": "marshal",
    "marshal.load": "marshal",
    "jsonpickle.decode": "jsonpickle",
    "shelve.open": "shelve",
}
_YAML_LOADS = frozenset({"yaml.load", "yaml.load_all"})
_YAML_UNSAFE_CALLS = frozenset(
    {"yaml.unsafe_load", "yaml.unsafe_load_all", "yaml.full_load", "yaml.full_load_all"}
)
_CALL_NAMES = last_parts(
    [*_PICKLE_LIKE, *_YAML_LOADS, *_YAML_UNSAFE_CALLS, "eval", "exec", "builtins.eval"]
)
_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})


def _is_compiled(node: ast.expr, imports: ImportMap) -> bool:
    """`compile(...)`: running a script or config file, code by design."""
    return isinstance(node, ast.Call) and imports.qualname(node.func) in (
        "compile",
        "builtins.compile",
    )


_CODE_MARKERS = ("def ", "class ", "lambda", "return ", "import ", "\n", "=")


def _is_code_template(node: ast.expr) -> bool:
    """Python source assembled here from a template that is itself code: `"def f(%s): ..." %
    args`, `FUNC_TEMPLATE.format(...)`, `"\\n".join(lines)`. A template that only wraps a
    value (`f"{expr} + 1"`) is not: the value may come from anywhere."""
    if not isinstance(node, ast.JoinedStr | ast.BinOp | ast.Call | ast.Constant):
        return False
    if isinstance(node, ast.Call) and not (
        isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join")
    ):
        return False
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.Constant)
            and isinstance(sub.value, str)
            and any(marker in sub.value for marker in _CODE_MARKERS)
        ):
            return True
        if isinstance(sub, ast.Name) and sub.id.isupper() and "TEMPLATE" in sub.id:
            return True
    return False


_NAMED = (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)
# Words that name a code-running feature (bench/ecosystem: NetBox custom scripts and
# `nbshell`, redash's Python data source).
_RUNNER_WORDS = frozenset(
    {"script", "scripts", "shell", "nbshell", "console", "repl", "python", "sandbox"}
)


def _from_request(call: ast.Call) -> bool:
    """The data comes from the client: `pickle.loads(request.cookies["s"])`."""
    return any(
        (isinstance(n, ast.Name) and n.id == "request")
        or (isinstance(n, ast.Attribute) and n.attr in ("cookies", "COOKIES", "body", "form"))
        for arg in call.args
        for n in ast.walk(arg)
    )


def _words(name: str) -> set[str]:
    """`PythonModuleMixin` -> python, module, mixin; `query_runner/python.py` -> ..., python."""
    return {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", name)}


class UnsafeDeserialization(Rule):
    """Flags deserialisers that can build arbitrary objects - and so run code - from their
    input:

    - `yaml.load(...)`/`yaml.load_all(...)` with no `Loader` or with a loader other than
      `SafeLoader`/`CSafeLoader`/`BaseLoader`, and `yaml.unsafe_load`/`yaml.full_load`;
    - `pickle.load(s)`/`Unpickler`, `marshal.load(s)`, `dill`, `cloudpickle`,
      `jsonpickle.decode`, `shelve.open`;
    - `eval(...)`/`exec(...)` of anything but a string literal.

    Not flagged: `yaml.safe_load`, `json.loads`, `ast.literal_eval`, `pickle.dumps`,
    `eval`/`exec` of a literal string (no input reaches it), of `compile(...)` (running a
    script or config file, which is code by design) and code generation: `exec(code)` where
    `code` is assembled from a template or compiled in the same function, or is a parameter
    annotated `CodeType`. Test files are skipped (they load what they built), and so is a
    `pickle.loads` that the same function guards with `hmac.compare_digest`. Where running
    code is the product's feature - a command-line module (an admin shell), or a module,
    class or function named for scripts, shells or Python execution (a user-script runner) -
    `eval`/`exec` is reported as `info` with a message that says so: measured on real
    applications (bench/ecosystem), those were the feature, not an injection. The `yaml.load`
    case has a safe fix (`yaml.safe_load`); the others need a different data format.

    Also not flagged (issue #15, the rest of the noise on real applications): `pickle.loads`
    in a class (or, outside classes, a function) that writes the same data with
    `pickle.dumps`, of bytes the code fetched itself rather than a parameter's - a cache or
    model file the application round-trips itself -, `exec` in an import
    loader's `exec_module` (how Python imports a module), and `exec` of text built only from
    names the function first checks against a fixed set (`if op not in OPERATORS: raise`)."""

    id = "SEC013"
    name = "unsafe-deserialization"
    aliases = ("S301", "S302", "S307", "S506")  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B301", "B302", "B307", "B506")  # bandit test ids honoured in `# nosec`
    severity = Severity.WARNING
    precision = "low"
    precision_measured = (
        "0 of 2 judged findings right (0%) on 15 application repositories, bench/ecosystem, too "
        "few findings to be sure of the band: both are `exec` in an admin shell / user-script "
        "runner, kept at info as issue #15 asks (before: 0 of 6; own pickle round trips, import "
        "loaders and allow-listed exec are no longer reported); default severity lowered from "
        "error to warning for it"
    )
    summary = "`pickle`/`marshal`/unsafe `yaml.load`/`eval` on data that may be untrusted"
    why = (
        "pickle, marshal and YAML's full loader rebuild arbitrary Python objects, and building "
        "an object can call any function: whoever controls the bytes (a request body, a cache "
        "entry, an uploaded file, a queue message) controls the process. `eval`/`exec` are "
        "the same thing without the pretence. Use a data-only format (JSON, "
        "`yaml.safe_load`, `ast.literal_eval`) and validate it."
    )
    hint = (
        "Use `yaml.safe_load(...)` for YAML, JSON (or a schema'd format) instead of "
        "pickle/marshal, and `ast.literal_eval` instead of `eval` for literals."
    )
    cwe = (502, 95)
    fix_safety = FixSafety.UNSAFE
    fix_safety_note = (
        "`yaml.load` -> `yaml.safe_load` (and `load_all` -> `safe_load_all`) refuses the "
        "Python-specific tags (`!!python/object`...) that the full loader built objects from: a "
        "document that relied on them now raises `ConstructorError`. That is the protection, but "
        "it changes what loads, so it is applied only with `--unsafe-fixes`."
    )
    # the commonest first: a file that has one is let through after a short search
    requires = ("exec", "eval", "pickle", "yaml", "marshal", "shelve")
    call_names = _CALL_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        Example(
            "import yaml\n\nconfig = yaml.load(request.data)\n",
            fixed="import yaml\n\nconfig = yaml.safe_load(request.data)\n",
        ),
        Example("import pickle\n\nsession = pickle.loads(redis.get(key))\n"),
        Example("result = eval(request.args['expr'])\n"),
        Example(
            "import yaml\n\ndocs = yaml.load_all(fh, Loader=yaml.Loader)\n",
            fixed="import yaml\n\ndocs = yaml.safe_load_all(fh)\n",
        ),
        Example("from pickle import load\n\nwith open(path, 'rb') as fh:\n    obj = load(fh)\n"),
        # the module writes the cookie itself, but the client sends it back
        Example(
            "import pickle\n\ndef save(resp, cart):\n"
            "    resp.set_cookie('cart', pickle.dumps(cart).hex())\n\n"
            "def load(request):\n"
            "    return pickle.loads(bytes.fromhex(request.cookies['cart']))\n"
        ),
    ]
    good = [
        "import yaml\n\nconfig = yaml.safe_load(request.data)\n",
        "import yaml\n\nconfig = yaml.load(fh, Loader=yaml.SafeLoader)\n",
        "import json\n\nsession = json.loads(redis.get(key))\n",
        "import ast\n\nvalue = ast.literal_eval(text)\n",
        "import pickle\n\nblob = pickle.dumps(obj)\n",
        "exec('import sys')\n",
        "model.eval()\n",
        "def make_setter(attr):\n    code = 'def set(obj, v):\\n    obj.%s = v' % attr\n"
        "    exec(code, env)\n",
        # issue #15, from paperless-ngx, NetBox, redash
        "import pickle\n\nclass Cache:\n    def load(self):\n"
        "        self.data = pickle.loads(self.backend.get(KEY))\n\n"
        "    def save(self):\n        self.backend.set(KEY, pickle.dumps(self.data))\n",
        "class StorageLoader(Loader):\n    def exec_module(self, module):\n"
        "        exec(self.read(), module.__dict__)\n",
        "def inplace(op, x, y):\n    if op not in OPERATORS:\n        raise ValueError(op)\n"
        "    g = {'x': x, 'y': y}\n    exec('x' + op + 'y', g)\n    return g['x']\n",
    ]

    fix_node = "Call"

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        """`yaml.load(x[, Loader=...])` -> `yaml.safe_load(x)` (and `load_all` ->
        `safe_load_all`); only the `yaml.load` findings are marked fixable."""
        import libcst as cst

        if not isinstance(node, cst.Call):
            return None
        func = node.func
        imports: tuple[tuple[str, str | None], ...] = ()
        if isinstance(func, cst.Attribute) and func.attr.value in ("load", "load_all"):
            new_func: cst.BaseExpression = func.with_changes(
                attr=cst.Name("safe_" + func.attr.value)
            )
        elif isinstance(func, cst.Name) and func.value in ("load", "load_all"):
            new_func = cst.Name("safe_" + func.value)
            imports = (("yaml", "safe_" + func.value),)
        else:
            return None
        positional = [a for a in node.args if a.keyword is None]
        if any(a.star for a in node.args) or not positional:
            return None
        stream = positional[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)
        return Fix(node.with_changes(func=new_func, args=[stream]), imports=imports)

    def visit_Call(self, node: ast.Call) -> None:
        if not may_name(node.func, _CALL_NAMES, self.ctx.imports):
            return
        if self.ctx.is_test_file:
            return  # tests load what they built themselves
        imports = self.ctx.imports
        qualified = imports.qualname(node.func) or ""
        if qualified in _YAML_LOADS:
            loader = keyword_value(node, "Loader")
            if loader is None and len(node.args) > 1:
                loader = node.args[1]
            if loader is None:
                self.report(
                    node,
                    f"`{qualified}()` without a safe `Loader` can construct arbitrary objects",
                    fixable=True,
                )
                return
            name = imports.qualname(loader) or ""
            if name.rpartition(".")[2] not in _SAFE_LOADERS:
                self.report(
                    node,
                    f"`{qualified}(..., Loader={ast.unparse(loader)})` can construct "
                    "arbitrary objects",
                    fixable=True,
                )
            return
        if qualified in _YAML_UNSAFE_CALLS:
            self.report(node, f"`{qualified}()` can construct arbitrary objects", fixable=False)
            return
        library = _PICKLE_LIKE.get(qualified)
        if library is not None:
            if self._verified_first():
                return  # a signed payload whose HMAC was checked before it is unpickled
            if library == "pickle" and self._pickles_own_data(node) and not _from_request(node):
                return
            self.report(
                node,
                f"`{qualified}()` runs code chosen by whoever wrote the data",
                fixable=False,
            )
            return
        if qualified in ("eval", "exec", "builtins.eval", "builtins.exec"):
            source = argument(node, 0, "source")
            if source is None or (
                isinstance(source, ast.Constant) and isinstance(source.value, str)
            ):
                return
            if (
                _is_compiled(source, imports)
                or _is_code_template(source)
                or self._generated_here(source)
                or self._import_loader()
                or self._allow_listed(source)
            ):
                return
            name = qualified.rpartition(".")[2]
            if self._code_runner():
                # an admin shell or a user-script runner: evaluating code is the feature
                self.report_at(
                    node.lineno,
                    node.col_offset + 1,
                    f"`{name}()` runs code given to this shell/script runner: that is its "
                    "feature, so keep it admin-only, audited and sandboxed",
                    end_line=node.end_lineno,
                    end_column=(node.end_col_offset or 0) + 1,
                    severity=Severity.INFO,
                )
                return
            self.report(
                node,
                f"`{name}()` of a computed value runs whatever it holds",
                fixable=False,
            )

    def _code_runner(self) -> bool:
        """Code whose purpose is to run code: a command-line module (an admin shell such as
        `manage.py nbshell`), or a module, class or function named for scripts, shells or
        Python execution (`query_runner/python.py`, `PythonModuleMixin`, `run_script`)."""
        if is_script_file(self.ctx):
            return True
        names = [self.ctx.path, *(n.name for n in self.ctx.stack if isinstance(n, _NAMED))]
        return any(_RUNNER_WORDS & _words(name) for name in names)

    def _pickles_own_data(self, call: ast.Call) -> bool:
        """The enclosing class (or, outside a class, function) also writes what it reads
        with `pickle.dumps`/`pickle.dump`, and the bytes are not handed in by a caller: a
        cache or model file the application round-trips itself (issue #15: paperless-ngx's
        classifier and read cache)."""
        function = self.ctx.enclosing_function()
        scope: ast.AST | None = self.ctx.enclosing_class() or function
        if scope is None:
            return False
        if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            params = {a.arg for a in (*function.args.posonlyargs, *function.args.args)}
            params |= {a.arg for a in function.args.kwonlyargs}
            if any(isinstance(a, ast.Name) and a.id in params for a in call.args):
                return False  # `restore_session(blob)`: the caller decides what is loaded
        for sub in ast.walk(scope):
            if isinstance(sub, ast.Call) and (self.ctx.imports.qualname(sub.func) or "") in (
                "pickle.dumps",
                "pickle.dump",
            ):
                return True
        return False

    def _import_loader(self) -> bool:
        """`exec(code, module.__dict__)` in an import loader's `exec_module`: that is how
        Python imports a module (issue #15: NetBox loads custom scripts from storage)."""
        function = self.ctx.enclosing_function()
        return isinstance(function, ast.FunctionDef) and function.name == "exec_module"

    def _allow_listed(self, source: ast.expr) -> bool:
        """`exec("x" + op + "y")` where the function first rejects any `op` not in a fixed
        set (`if op not in OPERATORS: raise ...`): the code can only be one of a few
        (issue #15: redash's in-place operators)."""
        function = self.ctx.enclosing_function()
        if not isinstance(source, ast.BinOp | ast.JoinedStr) or function is None:
            return False
        names = {n.id for n in ast.walk(source) if isinstance(n, ast.Name)}
        if not names:
            return False
        checked: set[str] = set()
        for stmt in getattr(function, "body", []):
            if (
                isinstance(stmt, ast.If)
                and isinstance(stmt.test, ast.Compare)
                and isinstance(stmt.test.left, ast.Name)
                and len(stmt.test.ops) == 1
                and isinstance(stmt.test.ops[0], ast.NotIn)
                and any(isinstance(s, ast.Raise | ast.Return) for s in stmt.body)
            ):
                checked.add(stmt.test.left.id)
        return bool(checked) and names <= checked

    def _verified_first(self) -> bool:
        """The enclosing function checks an HMAC/signature before it deserialises
        (`hmac.compare_digest(...)`, `signer.verify(...)`)."""
        function = self.ctx.enclosing_function()
        if function is None:
            return False
        for sub in walk_local(getattr(function, "body", [])):
            if isinstance(sub, ast.Call):
                called = self.ctx.imports.qualname(sub.func) or ""
                if called in ("hmac.compare_digest", "secrets.compare_digest"):
                    return True
        return False

    def _generated_here(self, source: ast.expr) -> bool:
        """Code generation, not input: `exec(code)` where `code` is assembled from a template
        or compiled in the same function, or is a parameter annotated `CodeType`."""
        if not isinstance(source, ast.Name):
            return False
        function = self.ctx.enclosing_function()
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            return False
        for arg in (*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs):
            if arg.arg == source.id and arg.annotation is not None:
                annotation = self.ctx.imports.qualname(arg.annotation) or ""
                if annotation.rpartition(".")[2] == "CodeType":
                    return True
        for node in walk_local(function.body):
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AugAssign):
                targets = [node.target]
            else:
                continue
            if any(isinstance(t, ast.Name) and t.id == source.id for t in targets):
                value = node.value
                if _is_compiled(value, self.ctx.imports) or _is_code_template(value):
                    return True
        return False
