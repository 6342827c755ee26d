"""Resolve names to fully qualified dotted paths through a module's imports.

Rules ask "is this call `fastapi.middleware.cors.CORSMiddleware`?", never "is the name
CORSMiddleware?": `from fastapi.middleware.cors import CORSMiddleware as C`, `import fastapi`,
`from fastapi.middleware import cors` all resolve to the same qualified name.

The map is filled from the module's top-level statements before the walk (so a use above an
import at the bottom still resolves) and from nested imports as the walk meets them.
"""

from __future__ import annotations

import ast

from bastion.astcompat import TRY_NODES


class ImportMap:
    def __init__(self, module_name: str = "") -> None:
        # local name -> qualified name it stands for
        self.aliases: dict[str, str] = {}
        # module-level `name = some.factory(...)` -> qualified name of the factory, and the call
        self.instances: dict[str, str] = {}
        self.instance_calls: dict[str, ast.Call] = {}
        self._package = module_name.rpartition(".")[0]
        # `is_imported` answers, forgotten whenever an import is added
        self._imported: dict[str, bool] = {}

    # -- building -----------------------------------------------------------------------------
    def add_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if self._imported:
            self._imported.clear()
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    # `import a.b.c` binds `a`, which stands for the package `a`
                    head = alias.name.partition(".")[0]
                    self.aliases[head] = head
            return
        module = node.module or ""
        # Relative imports cannot be resolved without knowing the package; keep them
        # recognisable but distinct from absolute names.
        base = "." * node.level + module if node.level else module
        for alias in node.names:
            if alias.name == "*":
                continue
            local = alias.asname or alias.name
            if not base:
                self.aliases[local] = alias.name
            elif base.endswith("."):  # `from . import x`
                self.aliases[local] = base + alias.name
            else:
                self.aliases[local] = f"{base}.{alias.name}"

    def add_instance(self, name: str, call: ast.Call) -> None:
        qualified = self.qualname(call.func)
        if qualified:
            self.instances[name] = qualified
            self.instance_calls[name] = call

    def collect_top_level(self, tree: ast.Module) -> None:
        """Imports and module-level `x = Factory(...)` assignments, including inside top-level
        `if`/`try` blocks (the usual `try: import x except ImportError:` shapes)."""
        stack: list[ast.stmt] = list(reversed(tree.body))
        while stack:
            stmt = stack.pop()
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self.add_import(stmt)
            elif isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        self.add_instance(target.id, stmt.value)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.value, ast.Call):
                if isinstance(stmt.target, ast.Name):
                    self.add_instance(stmt.target.id, stmt.value)
            elif isinstance(stmt, ast.If):
                stack.extend(reversed(stmt.orelse))
                stack.extend(reversed(stmt.body))
            elif isinstance(stmt, TRY_NODES):
                for block in (stmt.finalbody, stmt.orelse, *[h.body for h in stmt.handlers]):
                    stack.extend(reversed(block))
                stack.extend(reversed(stmt.body))

    # -- querying -----------------------------------------------------------------------------
    def qualname(self, node: ast.expr) -> str | None:
        """`a.b.c` with its root resolved through imports; a name that was not imported stays
        as written (`print`, `app.run`). None for anything that is not a dotted name."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        root = self.aliases.get(node.id, node.id)
        parts.append(root)
        return ".".join(reversed(parts))

    def imported_qualname(self, node: ast.expr) -> str | None:
        """Like `qualname`, but None unless the root name was imported in this module: a bare
        `jwt.decode` with no `import jwt` is not PyJWT's."""
        root = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if not isinstance(root, ast.Name) or root.id not in self.aliases:
            return None
        return self.qualname(node)

    def matches(self, node: ast.expr, *qualified: str) -> bool:
        name = self.qualname(node)
        return name is not None and name in qualified

    def instance_of(self, node: ast.expr) -> str | None:
        """The factory a module-level name was created from: `app = FastAPI()` makes
        `instance_of(app)` return `fastapi.FastAPI`."""
        if isinstance(node, ast.Name):
            return self.instances.get(node.id)
        return None

    def instance_call(self, node: ast.expr) -> ast.Call | None:
        """The call a module-level name was created by (`APIRouter(prefix="/v1")`)."""
        if isinstance(node, ast.Name):
            return self.instance_calls.get(node.id)
        return None

    def is_imported(self, module: str) -> bool:
        """True when the module imports `module` or anything from it."""
        # asked per call node by some rules: answered once per module name
        found = self._imported.get(module)
        if found is None:
            prefix = module + "."
            found = any(v == module or v.startswith(prefix) for v in self.aliases.values())
            self._imported[module] = found
        return found
