"""SEC013: deserialising or evaluating data that can run code."""

from __future__ import annotations

import ast

from bastion.analysis.nodes import argument, keyword_value
from bastion.findings import FixSafety, Severity
from bastion.rule import Example, Rule

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
_SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})


class UnsafeDeserialization(Rule):
    """Flags deserialisers that can build arbitrary objects - and so run code - from their
    input:

    - `yaml.load(...)`/`yaml.load_all(...)` with no `Loader` or with a loader other than
      `SafeLoader`/`CSafeLoader`/`BaseLoader`, and `yaml.unsafe_load`/`yaml.full_load`;
    - `pickle.load(s)`/`Unpickler`, `marshal.load(s)`, `dill`, `cloudpickle`,
      `jsonpickle.decode`, `shelve.open`;
    - `eval(...)`/`exec(...)` of anything but a string literal.

    Not flagged: `yaml.safe_load`, `json.loads`, `ast.literal_eval`, `pickle.dumps`,
    `eval`/`exec` of a literal string (no input reaches it) and of `compile(...)` (running a
    script or config file, which is code by design). The `yaml.load` case has a safe
    fix (`yaml.safe_load`); the others need a different data format."""

    id = "SEC013"
    name = "unsafe-deserialization"
    severity = Severity.ERROR
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
    fix_safety = FixSafety.SAFE
    requires = ("yaml", "pickle", "marshal", "eval", "exec", "shelve")
    bad = [
        Example("import yaml\n\nconfig = yaml.load(request.data)\n"),
        Example("import pickle\n\nsession = pickle.loads(redis.get(key))\n"),
        Example("result = eval(request.args['expr'])\n"),
        Example("import yaml\n\ndocs = yaml.load(fh, Loader=yaml.Loader)\n"),
        Example("from pickle import load\n\nwith open(path, 'rb') as fh:\n    obj = load(fh)\n"),
    ]
    good = [
        "import yaml\n\nconfig = yaml.safe_load(request.data)\n",
        "import yaml\n\nconfig = yaml.load(fh, Loader=yaml.SafeLoader)\n",
        "import json\n\nsession = json.loads(redis.get(key))\n",
        "import ast\n\nvalue = ast.literal_eval(text)\n",
        "import pickle\n\nblob = pickle.dumps(obj)\n",
        "exec('import sys')\n",
        "model.eval()\n",
    ]

    def visit_Call(self, node: ast.Call) -> None:
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
            if isinstance(source, ast.Call) and imports.qualname(source.func) in (
                "compile",
                "builtins.compile",
            ):
                return  # running a script file (`exec(compile(f.read(), path, "exec"))`)
            self.report(
                node,
                f"`{qualified.rpartition('.')[2]}()` of a computed value runs whatever it holds",
                fixable=False,
            )
