"""Code that runs as a script or command-line tool rather than as part of the application:
`if __name__ == "__main__":` blocks, the functions they call, click/typer/argparse commands,
files under `[tool.bastion] script-paths`, and notebooks exported as `# %%` cells.

Printing to the terminal and reading the environment are what such code is for (LOG001,
ORG003 stay silent there).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable

from bastion.context import FileContext
from bastion.file_roles import is_migration, is_script_named_test
from bastion.imports import ImportMap

CLI_LIBRARIES = ("click", "typer", "argparse", "fire", "docopt", "cyclopts", "rich_click")
_CLI_DECORATOR_ENDINGS = frozenset({"command", "group", "callback", "main"})
_ENTRY_NAMES = frozenset({"main", "cli", "run_cli", "console_main"})


def is_main_guard(node: ast.AST) -> bool:
    """`if __name__ == "__main__":` (either order of the comparison)."""
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    test = node.test
    if len(test.ops) != 1 or not isinstance(test.ops[0], ast.Eq):
        return False
    sides = [test.left, test.comparators[0]]
    has_name = any(isinstance(s, ast.Name) and s.id == "__name__" for s in sides)
    has_main = any(isinstance(s, ast.Constant) and s.value == "__main__" for s in sides)
    return has_name and has_main


def in_main_block(stack: Iterable[ast.AST]) -> bool:
    return any(is_main_guard(node) for node in stack)


def is_cli_module(imports: ImportMap) -> bool:
    """The module builds a command-line interface (imports click, typer, argparse...)."""
    return any(imports.is_imported(lib) for lib in CLI_LIBRARIES)


def is_interactive_module(tree: ast.Module | None, imports: ImportMap) -> bool:
    """The module prompts the user with the builtin `input()`: a console program."""
    if tree is None:
        return False
    return any(
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "input"
        and imports.qualname(node.func) == "input"
        for node in ast.walk(tree)
    )


def is_notebook_export(text: str) -> bool:
    """A notebook saved as a script (jupytext percent format, VS Code cells)."""
    return text.startswith("# %%") or "\n# %%" in text


def main_entry_functions(tree: ast.Module) -> set[str]:
    """Names of top-level functions that the `__main__` block calls, plus `main`/`cli`."""
    names = set(_ENTRY_NAMES)
    for stmt in tree.body:
        if is_main_guard(stmt):
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    names.add(node.func.id)
    return names


def is_cli_command(func: ast.FunctionDef | ast.AsyncFunctionDef, imports: ImportMap) -> bool:
    """A function decorated as a click/typer command (`@click.command()`, `@cli.command()`,
    `@app.command()` in a module that imports a CLI library)."""
    for decorator in func.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        qualified = imports.qualname(target) or ""
        if qualified.startswith(CLI_LIBRARIES):
            return True
        last = qualified.rpartition(".")[2]
        if last in _CLI_DECORATOR_ENDINGS and is_cli_module(imports):
            return True
    return False


def in_script_code(ctx: FileContext, entry_functions: set[str]) -> bool:
    """True when the node being visited runs as a script: the file is a test, a script, a
    notebook export or a CLI module, or the node is in a `__main__` block, in a function that
    block calls, or in a CLI command."""
    if in_main_block(ctx.stack):
        return True
    for node in ctx.stack:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name in entry_functions and not any(
                isinstance(n, ast.ClassDef) for n in ctx.stack
            ):
                return True
            if is_cli_command(node, ctx.imports):
                return True
    return False


_EXIT_CALLS = frozenset({"exit", "quit", "sys.exit", "os._exit"})
_BLOCKS = (ast.If, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While, ast.Try)


def _module_level(tree: ast.Module) -> Iterable[ast.AST]:
    """The nodes that run when the module is executed: its statements, into `if`/`with`/
    `for`/`while`/`try` blocks, but not into function and class bodies."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def runs_as_program(tree: ast.Module | None, imports: ImportMap) -> bool:
    """A module that is a program even without a shebang or a `__main__` block: its top-level
    code reads its command line (`sys.argv`) or ends the process (`exit(0)`, `sys.exit()`),
    like CTFd's `export.py` / `ping.py` run as `python export.py out.zip` (bench/ecosystem).
    Checked in the module's own top-level code only: a function that reads `sys.argv` may
    be a library helper."""
    if tree is None:
        return False
    for node in _module_level(tree):
        if isinstance(node, ast.Attribute | ast.Name):
            last = node.attr if isinstance(node, ast.Attribute) else node.id
            if last == "argv" and imports.qualname(node) == "sys.argv":
                return True
        if isinstance(node, ast.Call) and imports.qualname(node.func) in _EXIT_CALLS:
            return True
    return False


def is_test_support(path: str) -> bool:
    """Helpers shipped for tests (`mylib/testing/...`, `pytest_plugin.py`)."""
    parts = path.split("/")
    return "testing" in parts[:-1] or parts[-1] in ("pytest_plugin.py", "pytest.py", "testing.py")


def is_standalone_script(path: str, text: str) -> bool:
    """A file run as a program rather than imported: it starts with a shebang, its name has a
    hyphen (`load-fixtures.py` cannot be imported), it is a `*_test.py` under `scripts/` or
    `dev/`, or it lives in a developer-tooling folder (`dev/`, a hidden folder such as
    `.semgrep/` or `.github/`); database migrations run from the command line too. (A
    `__main__` block makes only itself and the functions it calls script code:
    `in_script_code`.)"""
    parts = path.split("/")
    name = parts[-1]
    # tooling folders: `.semgrep/` rule tests, `.github/` scripts, `dev/` developer scripts
    tooling = any((p.startswith(".") and p not in (".", "..")) or p == "dev" for p in parts[:-1])
    return (
        tooling
        or text.startswith("#!")
        or ("-" in name and name.endswith(".py"))
        or is_script_named_test(path)
        or is_migration(path)
    )


def is_script_file(ctx: FileContext) -> bool:
    """Tests and test helpers, files under `script-paths`, notebook exports, CLI modules,
    standalone scripts (shebang, hyphenated name) and interactive console
    programs (that call `input()`)."""
    return (
        ctx.is_test_file
        or is_test_support(ctx.path)
        or ctx.is_script_file
        or is_standalone_script(ctx.path, ctx.source.text)
        or is_notebook_export(ctx.source.text)
        or is_cli_module(ctx.imports)
        or ("input(" in ctx.source.text and is_interactive_module(ctx.tree, ctx.imports))
    )
