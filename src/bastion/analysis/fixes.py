"""libcst rewrites shared by rules' `fix` methods. libcst is imported by the callers' `fix`
only (this module imports it lazily too), so detection never pays for it."""

from __future__ import annotations

import ast
import re
import string
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bastion.context import FileContext

_PLACEHOLDER = re.compile(r"%(?!%)")


def _quote_of(start: str) -> tuple[str, str]:
    """(prefix without `f`, quote) of an f-string's opening (`f'`, `rf\"\"\"`)."""
    prefix = start.rstrip("'\"")
    quote = start[len(prefix) :]
    return prefix.replace("f", "").replace("F", ""), quote


def fstring_to_template(node: Any) -> tuple[Any, list[Any]] | None:
    """`f"user {u.id} in {room!r}"` -> (`"user %s in %r"`, [u.id, room]), `f"{x=}"` ->
    (`"x=%r"`, [x]); None when the f-string uses format specs or nested quotes we would have to
    re-escape."""
    import libcst as cst

    if not isinstance(node, cst.FormattedString):
        return None
    prefix, quote = _quote_of(node.start)
    if "b" in prefix.lower():
        return None
    body: list[str] = []
    values: list[Any] = []
    for part in node.parts:
        if isinstance(part, cst.FormattedStringText):
            text = part.value.replace("{{", "{").replace("}}", "}")
            body.append(text.replace("%", "%%"))
        elif isinstance(part, cst.FormattedStringExpression):
            if part.format_spec is not None:
                return None
            conversion = part.conversion
            if conversion not in (None, "s", "r", "a"):
                return None
            if part.equal is not None:
                # `{x=}` writes the expression's text, then repr(x) unless converted
                label = _self_documenting_label(part, quote)
                if label is None:
                    return None
                body.append(label.replace("%", "%%"))
                conversion = conversion or "r"
            body.append("%" + (conversion or "s"))
            values.append(part.expression)
        else:
            return None
    return cst.SimpleString(f"{prefix}{quote}{''.join(body)}{quote}"), values


def _self_documenting_label(part: Any, quote: str) -> str | None:
    """The text `f"{x = }"` writes before the value (`x = `): the source between the braces up
    to and including `=` and the whitespace after it. None when it holds the quote or a
    backslash (re-escaping it would change the text)."""
    import libcst as cst

    code = cst.Module([]).code_for_node(part)  # "{x = }" / "{x=!s}"
    inner = code[1:-1]
    if part.conversion is not None:
        inner = inner[: inner.rindex("!")]
    if quote[0] in inner or "\\" in inner:
        return None
    return inner


def percent_to_args(node: Any) -> tuple[Any, list[Any]] | None:
    """`"a %s b %d" % (x, y)` -> (`"a %s b %d"`, [x, y]); a single value only when the template
    has exactly one placeholder (a name on the right could hold a tuple)."""
    import libcst as cst

    if not (
        isinstance(node, cst.BinaryOperation)
        and isinstance(node.operator, cst.Modulo)
        and isinstance(node.left, cst.SimpleString)
    ):
        return None
    template = node.left
    text = template.evaluated_value
    if not isinstance(text, str) or "%(" in text:
        return None
    count = len(_PLACEHOLDER.findall(text.replace("%%", "")))
    right = node.right
    if isinstance(right, cst.Tuple):
        values = [element.value for element in right.elements]
        if any(isinstance(e, cst.StarredElement) for e in right.elements):
            return None
        if len(values) != count:
            return None
    elif count == 1 and not isinstance(right, cst.Dict):
        values = [right]
    else:
        return None
    return template.with_changes(lpar=[], rpar=[]), values


def format_call_to_args(node: Any) -> tuple[Any, list[Any]] | None:
    """`"a {} b {}".format(x, y)` -> (`"a %s b %s"`, [x, y]); only plain `{}`/`{0}` fields."""
    import libcst as cst

    if not (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
        and isinstance(node.func.value, cst.SimpleString)
    ):
        return None
    if any(arg.keyword is not None or arg.star for arg in node.args):
        return None
    literal = node.func.value
    text = literal.evaluated_value
    if not isinstance(text, str) or literal.prefix.lower().replace("u", ""):
        return None
    values = [arg.value for arg in node.args]
    body: list[str] = []
    auto = 0
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return None
    for literal_text, field, spec, conversion in fields:
        body.append(literal_text.replace("%", "%%"))
        if field is None:
            continue
        if spec or conversion not in (None, "s", "r", "a"):
            return None
        index = auto if field == "" else (int(field) if field.isdigit() else -1)
        if index != auto:
            return None  # reordered or named fields
        auto += 1
        body.append("%" + (conversion or "s"))
    if auto != len(values):
        return None
    quote = literal.quote
    rendered = "".join(body)
    if "\\" in literal.value or quote in rendered or "\n" in rendered:
        rendered = repr(rendered)[1:-1]
        if quote != "'" and quote in rendered:
            return None
    return cst.SimpleString(f"{quote}{rendered}{quote}"), values


def concat_to_args(node: Any) -> tuple[Any, list[Any]] | None:
    """`"took " + str(ms) + " ms"` -> (`"took %s ms"`, [ms]): string literals joined by `+`
    with values; `str(x)` is unwrapped since `%s` applies `str()` itself."""
    import libcst as cst

    operands: list[Any] = []

    def flatten(expr: Any) -> bool:
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            if expr.lpar:
                return False
            return flatten(expr.left) and flatten(expr.right)
        operands.append(expr)
        return True

    if not flatten(node):
        return None
    literals = [o for o in operands if isinstance(o, cst.SimpleString)]
    if not literals or len(literals) == len(operands):
        return None
    quote = literals[0].quote
    if any(lit.prefix.lower().replace("u", "") or lit.quote != quote for lit in literals):
        return None
    body: list[str] = []
    values: list[Any] = []
    for operand in operands:
        if isinstance(operand, cst.SimpleString):
            text = operand.evaluated_value
            if not isinstance(text, str):
                return None
            body.append(text.replace("%", "%%"))
            continue
        if isinstance(operand, (cst.FormattedString, cst.ConcatenatedString)):
            return None
        if (
            isinstance(operand, cst.Call)
            and isinstance(operand.func, cst.Name)
            and operand.func.value == "str"
            and len(operand.args) == 1
            and operand.args[0].keyword is None
            and not operand.args[0].star
        ):
            operand = operand.args[0].value
        body.append("%s")
        values.append(operand)
    rendered = repr("".join(body))[1:-1] if quote == "'" else "".join(body)
    if quote != "'" and (quote in rendered or "\\" in rendered or "\n" in rendered):
        return None
    return cst.SimpleString(f"{quote}{rendered}{quote}"), values


def lazy_log_call(call: Any) -> Any | None:
    """A stdlib log call whose message is formatted eagerly, rewritten to pass the values as
    arguments: `logger.info(f"user {uid}")` -> `logger.info("user %s", uid)`."""
    import libcst as cst

    if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute):
        return None
    position = 1 if call.func.attr.value == "log" else 0
    positional = [i for i, arg in enumerate(call.args) if arg.keyword is None]
    if any(arg.star for arg in call.args) or len(positional) != position + 1:
        return None
    index = positional[position]
    message = call.args[index].value
    converted = (
        fstring_to_template(message)
        or percent_to_args(message)
        or format_call_to_args(message)
        or concat_to_args(message)
    )
    if converted is None:
        return None
    template, values = converted
    args = list(call.args)
    new_message = args[index].with_changes(value=template)
    space = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    inserted = [cst.Arg(value=value, comma=space) for value in values]
    if inserted:
        # the values follow the message on its line; the last value takes over the message's
        # comma and the layout after it (a newline before `)` or before the next argument)
        inserted[-1] = inserted[-1].with_changes(
            comma=args[index].comma, whitespace_after_arg=args[index].whitespace_after_arg
        )
        new_message = new_message.with_changes(
            comma=space, whitespace_after_arg=cst.SimpleWhitespace("")
        )
    args[index : index + 1] = [new_message, *inserted]
    result = call.with_changes(args=args)
    # the new code must mean the same template: refuse anything that does not parse back
    try:
        ast.parse(cst.Module(body=[cst.SimpleStatementLine([cst.Expr(result)])]).code)
    except SyntaxError:
        return None
    return result


# -- finding the `ast` node a finding stands for (fixes that need more than the libcst node) ----


def char_column(line_text: str, byte_offset: int) -> int:
    """0-based character column of an `ast` byte offset in `line_text`."""
    if line_text.isascii():
        return byte_offset
    return len(line_text.encode("utf-8")[:byte_offset].decode("utf-8", "replace"))


def ast_start(ctx: FileContext, node: ast.AST) -> tuple[int, int]:
    """(1-based line, 0-based character column) where `node` starts: libcst's convention."""
    line: int = getattr(node, "lineno", 1)
    return line, char_column(ctx.source.line(line), getattr(node, "col_offset", 0))


def ast_path_at(
    ctx: FileContext, line: int, column: int, types: tuple[type[ast.AST], ...]
) -> list[ast.AST] | None:
    """The `ast` node of one of `types` starting at (1-based line, 0-based character column),
    preceded by its ancestors (module first); None when there is none."""
    if ctx.tree is None:
        return None
    stack: list[tuple[ast.AST, list[ast.AST]]] = [(ctx.tree, [])]
    while stack:
        node, ancestors = stack.pop()
        path = [*ancestors, node]
        if (
            isinstance(node, types)
            and getattr(node, "lineno", None) == line
            and ast_start(ctx, node) == (line, column)
        ):
            return path
        for child in ast.iter_child_nodes(node):
            first = getattr(child, "lineno", None)
            last = getattr(child, "end_lineno", None)
            for decorator in getattr(child, "decorator_list", ()):  # above the `def` line
                first = min(first or decorator.lineno, decorator.lineno)
            if first is not None and last is not None and not first <= line <= last:
                continue
            stack.append((child, path))
    return None


def binds_other(tree: ast.Module | None, name: str, module: str | None = None) -> bool:
    """True when `name` is bound anywhere in `tree` by something other than `import module`
    (`module` None: by anything at all) - a fix that adds that name would clash."""
    if tree is None:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == name and not isinstance(node.ctx, ast.Load):
            return True
        if isinstance(node, ast.arg) and node.arg == name:
            return True
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and (
            node.name == name
        ):
            return True
        if isinstance(node, ast.ExceptHandler) and node.name == name:
            return True
        if isinstance(node, ast.Global | ast.Nonlocal) and name in node.names:
            return True
        if isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound != name:
                    continue
                plain = isinstance(node, ast.Import) and alias.asname is None
                if not (plain and module is not None and alias.name == module):
                    return True
    return False


def imported_as(tree: ast.Module | None, name: str, qualified: tuple[str, ...]) -> bool:
    """True when `name` is bound only by `from m import x` with `m.x` in `qualified`
    (`Annotated` already imported from typing or typing_extensions)."""
    if tree is None:
        return False
    found = False
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and not node.level and node.module:
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    if f"{node.module}.{alias.name}" not in qualified:
                        return False
                    found = True
    return found


# -- libcst building blocks -------------------------------------------------------------------


def _separator(items: list[Any], opening: Any) -> Any:
    """The comma to put between items of a call's arguments or a signature: the one already
    used between the first two, else (one item, laid out one per line) a newline with the
    first item's indentation, else `, `."""
    import libcst as cst

    if len(items) >= 2 and isinstance(items[-2].comma, cst.Comma):
        return items[-2].comma
    if isinstance(opening, cst.ParenthesizedWhitespace):
        return cst.Comma(whitespace_after=opening)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def append_arg(call: Any, arg: Any) -> Any:
    """`f(a, b)` -> `f(a, b, <arg>)`, keeping the call's layout (one argument per line, a
    trailing comma)."""
    import libcst as cst

    args = list(call.args)
    if not args:
        return call.with_changes(args=[arg.with_changes(comma=cst.MaybeSentinel.DEFAULT)])
    last = args[-1]
    separator = _separator(args, call.whitespace_before_args)
    if isinstance(last.comma, cst.Comma):  # trailing comma: the new last argument keeps it
        args[-1] = last.with_changes(comma=separator)
        args.append(arg.with_changes(comma=last.comma))
    else:  # the space before `)` (a newline) follows the new last argument
        args[-1] = last.with_changes(comma=separator, whitespace_after_arg=cst.SimpleWhitespace(""))
        args.append(
            arg.with_changes(
                comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=last.whitespace_after_arg
            )
        )
    return call.with_changes(args=args)


def keyword_arg(name: str, value: Any) -> Any:
    import libcst as cst

    return cst.Arg(
        value=value,
        keyword=cst.Name(name),
        equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")
        ),
    )


# -- imports a fix needs ------------------------------------------------------------------------
# Added the way isort/ruff's `I` rules would have written them, so that a fix never leaves an
# unsorted import block behind: a name joins an existing `from module import ...` in sorted
# position (ruff's default order-by-type: CONSTANTS, Classes, functions), a new statement goes
# into its section of the top import block (future, standard library, everything else) in
# sorted position, straight `import x` before `from x import y`.


def add_imports(module: Any, imports: list[tuple[str, str | None]]) -> Any:
    """`module` (a libcst Module) with each `(module, name)` imported once (`name` None:
    `import module`)."""
    for module_name, name in dict.fromkeys(imports):
        if name is None:
            if not _imports_module(module, module_name):
                module = _insert_statement(module, module_name, None)
            continue
        merged, module = _merge_into_from(module, module_name, name)
        if not merged:
            module = _insert_statement(module, module_name, name)
    return module


def _import_node(statement: Any) -> Any:
    import libcst as cst

    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        node = statement.body[0]
        if isinstance(node, cst.Import | cst.ImportFrom):
            return node
    return None


def _dotted(node: Any) -> str:
    import libcst as cst

    return cst.helpers.get_full_name_for_node(node) or ""


def _imports_module(module: Any, module_name: str) -> bool:
    import libcst as cst

    for statement in module.body:
        node = _import_node(statement)
        if isinstance(node, cst.Import) and any(
            alias.asname is None and _dotted(alias.name) == module_name for alias in node.names
        ):
            return True
    return False


def _member_key(name: str) -> tuple[int, str, str]:
    """ruff's isort default (order-by-type, case-insensitive): CONSTANTS, Classes, the rest."""
    if len(name) > 1 and name.isupper():
        rank = 0
    elif name[:1].isupper():
        rank = 1
    else:
        rank = 2
    return rank, name.lower(), name


def _name_separator(node: Any, names: list[Any]) -> Any:
    """The comma (with its whitespace) between two names of this import."""
    import libcst as cst

    for alias in names[:-1]:
        if isinstance(alias.comma, cst.Comma):
            return alias.comma
    if node.lpar is not None:
        return cst.Comma(whitespace_after=node.lpar.whitespace_after)
    return cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _merge_into_from(module: Any, module_name: str, name: str) -> tuple[bool, Any]:
    import libcst as cst

    body = list(module.body)
    for index, statement in enumerate(body):
        node = _import_node(statement)
        if not (
            isinstance(node, cst.ImportFrom)
            and not node.relative
            and node.module is not None
            and _dotted(node.module) == module_name
            and not isinstance(node.names, cst.ImportStar)
        ):
            continue
        names = list(node.names)
        if any(alias.asname is None and _dotted(alias.name) == name for alias in names):
            return True, module
        keys = [_member_key(_dotted(alias.name)) for alias in names]
        position = len(names)
        if keys == sorted(keys):
            position = next((i for i, k in enumerate(keys) if k > _member_key(name)), len(names))
        separator = _name_separator(node, names)
        new = cst.ImportAlias(name=cst.Name(name), comma=separator)
        if position == len(names):
            new = new.with_changes(comma=names[-1].comma)
            names[-1] = names[-1].with_changes(comma=separator)
        names.insert(position, new)
        body[index] = statement.with_changes(body=[node.with_changes(names=names)])
        return True, module.with_changes(body=body)
    return False, module


def _section(node: Any) -> int:
    """0 `__future__`, 1 standard library, 2 anything else (third party, first party, local)."""
    import libcst as cst

    if isinstance(node, cst.ImportFrom):
        if node.relative:
            return 2
        top = _dotted(node.module).split(".")[0] if node.module is not None else ""
    else:
        top = _dotted(node.names[0].name).split(".")[0]
    if top == "__future__":
        return 0
    return 1 if top in sys.stdlib_module_names else 2


def _sort_key(node: Any) -> tuple[bool, str]:
    import libcst as cst

    if isinstance(node, cst.ImportFrom):
        return True, _dotted(node.module).lower() if node.module is not None else ""
    return False, _dotted(node.names[0].name).lower()


def _split_leading(lines: Any) -> tuple[list[Any], list[Any]]:
    """(the blank lines before the first comment, the rest) of a statement's leading lines."""
    lines = list(lines)
    for index, line in enumerate(lines):
        if line.comment is not None:
            return lines[:index], lines[index:]
    return lines, []


def _insert_statement(module: Any, module_name: str, name: str | None) -> Any:
    import libcst as cst

    code = f"import {module_name}" if name is None else f"from {module_name} import {name}"
    new = cst.parse_statement(code + "\n")
    new_node = _import_node(new)
    body = list(module.body)
    start = 1 if body and _is_docstring(body[0]) else 0
    end = start
    while end < len(body) and _import_node(body[end]) is not None:
        end += 1
    block = [(i, _import_node(body[i])) for i in range(start, end)]
    section = _section(new_node)
    same = [(i, node) for i, node in block if _section(node) == section]
    if same:
        keys = [_sort_key(node) for _, node in same]
        position = same[-1][0] + 1
        if keys == sorted(keys):
            later = [i for (i, _), k in zip(same, keys, strict=True) if k > _sort_key(new_node)]
            position = later[0] if later else position
        if position == same[0][0]:  # new first of its section: it takes the section's gap
            head, rest = _split_leading(body[position].leading_lines)
            new = new.with_changes(leading_lines=head)
            body[position] = body[position].with_changes(leading_lines=rest)
        body.insert(position, new)
        return module.with_changes(body=body)
    earlier = [i for i, node in block if _section(node) < section]
    position = earlier[-1] + 1 if earlier else start
    gap = [cst.EmptyLine()]
    if position < len(body):
        head, rest = _split_leading(body[position].leading_lines)
        following = body[position]
        if position >= end:  # no import block after it: code follows the imports
            defines = isinstance(following, cst.FunctionDef | cst.ClassDef)
            gap = [cst.EmptyLine()] * (2 if defines else 1)
        if earlier:
            new = new.with_changes(leading_lines=[cst.EmptyLine()])
            body[position] = following.with_changes(leading_lines=[*head, *rest] or gap)
        else:
            new = new.with_changes(leading_lines=head)
            body[position] = following.with_changes(leading_lines=[*gap, *rest])
    elif earlier:
        new = new.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, new)
    return module.with_changes(body=body)


def _is_docstring(statement: Any) -> bool:
    import libcst as cst

    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def drop_orphaned_imports(before: str, module: Any) -> Any:
    """Remove the top-level imports that the code used before the fixes and no longer uses
    after them (`from time import sleep` once `sleep(1)` became `await asyncio.sleep(1)`), so a
    fix never leaves an unused import (ruff F401) behind. Imports that were unused before are
    not touched; nor are names that appear in a string (`__all__`)."""
    import libcst as cst

    used_before = _names_used(before)
    after = module.code
    used_after = _names_used(after)
    orphans = {name for name in used_before - used_after if not _in_strings(after, name)}
    if not orphans:
        return module
    body = list(module.body)
    index = 0
    while index < len(body):
        node = _import_node(body[index])
        if node is None or isinstance(node.names, cst.ImportStar) or _section(node) == 0:
            index += 1
            continue
        keep = [alias for alias in node.names if _bound_name(alias) not in orphans]
        if len(keep) == len(node.names):
            index += 1
            continue
        if keep:
            last = node.names[-1].comma
            keep[-1] = keep[-1].with_changes(comma=last)
            body[index] = body[index].with_changes(body=[node.with_changes(names=keep)])
            index += 1
            continue
        removed = body[index]
        if any(line.comment is not None for line in removed.leading_lines):
            index += 1  # its comment may be about more than this import: keep both
            continue
        if index + 1 < len(body) and not body[index + 1].leading_lines:
            following = body[index + 1]
            body[index + 1] = following.with_changes(leading_lines=removed.leading_lines)
        del body[index]
    return module.with_changes(body=body)


def _bound_name(alias: Any) -> str:
    if alias.asname is not None:
        return str(_dotted(alias.asname.name))
    return _dotted(alias.name).split(".")[0]


def _names_used(code: str) -> set[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def _in_strings(code: str, name: str) -> bool:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return True
    return any(
        isinstance(node, ast.Constant) and isinstance(node.value, str) and name in node.value
        for node in ast.walk(tree)
    )


def line_length(root: Path) -> int:
    """The project's line length for ruff/black (`[tool.ruff] line-length`, else
    `[tool.black] line-length`), 88 (both tools' default) without one."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # Python 3.10
        import tomli as tomllib

    from bastion.safe_fs import read_tree_file

    try:
        # the tree's file: regular, inside the root, capped (never a FIFO or /dev/zero)
        data = read_tree_file(root / "pyproject.toml", root, 4 * 1024 * 1024)
        tool = tomllib.loads(data.decode("utf-8")).get("tool", {})
    except (OSError, ValueError, RecursionError):
        return 88
    if not isinstance(tool, dict):
        return 88
    for section in ("ruff", "black"):
        table = tool.get(section, {})
        value = table.get("line-length") if isinstance(table, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 88


def wrap_long_signatures(before: str, module: Any, limit: int) -> Any:
    """A fix that lengthened a one-line `def` past the line length (`x: T = Depends(f)` ->
    `x: Annotated[T, Depends(f)]`) puts one parameter a line with a trailing comma, as ruff
    format and black write it; signatures that were already long are left alone."""
    import libcst as cst

    old_lines = set(before.splitlines())
    indent = module.default_indent

    class Wrap(cst.CSTTransformer):
        def __init__(self) -> None:
            self.depth = 0

        def visit_IndentedBlock(self, node: Any) -> None:
            self.depth += 1

        def leave_IndentedBlock(self, original: Any, updated: Any) -> Any:
            self.depth -= 1
            return updated

        def leave_FunctionDef(self, original: Any, updated: Any) -> Any:
            bare = updated.with_changes(
                body=cst.SimpleStatementSuite([]), decorators=[], leading_lines=[]
            )
            header = module.code_for_node(bare).strip().removesuffix(" pass")  # empty suite
            line = indent * self.depth + header
            params = updated.params
            if not (params.params or params.kwonly_params or params.posonly_params):
                return updated  # `(*args, **kwargs)` alone: nothing worth a line each
            if "\n" in header:  # already on several lines: split what a fix made too long
                rendered = [indent * self.depth + text for text in header.splitlines()[1:]]
                if not any(len(x) > limit and x not in old_lines for x in rendered):
                    return updated.with_changes(params=self._split_long(params))
            elif len(line) <= limit or line in old_lines:
                return updated
            inner = indent * (self.depth + 1)
            item_ws = cst.ParenthesizedWhitespace(
                first_line=cst.TrailingWhitespace(),
                indent=False,
                last_line=cst.SimpleWhitespace(inner),
            )
            close_ws = cst.ParenthesizedWhitespace(
                first_line=cst.TrailingWhitespace(),
                indent=False,
                last_line=cst.SimpleWhitespace(indent * self.depth),
            )
            return updated.with_changes(
                params=self._split_long(_one_per_line(params, item_ws, close_ws)),
                whitespace_before_params=item_ws,
            )

        def _split_long(self, params: Any) -> Any:
            """A parameter alone on its line that a fix made too long, `x: Annotated[T,
            Depends(f)],`, gets its subscript on lines of its own, as ruff format writes it."""
            inner = indent * (self.depth + 1)

            def split(param: Any) -> Any:
                bare = param.with_changes(comma=cst.MaybeSentinel.DEFAULT)
                if isinstance(bare.star, cst.MaybeSentinel):  # a Param a fix built
                    bare = bare.with_changes(star="")
                text = module.code_for_node(bare)
                line = inner + text.strip() + ","
                annotation = param.annotation.annotation if param.annotation else None
                if (
                    "\n" in text.strip()
                    or len(line) <= limit
                    or line in old_lines
                    or not isinstance(annotation, cst.Subscript)
                ):
                    return param
                opened = cst.ParenthesizedWhitespace(
                    first_line=cst.TrailingWhitespace(),
                    indent=False,
                    last_line=cst.SimpleWhitespace(inner + indent),
                )
                closed = cst.ParenthesizedWhitespace(
                    first_line=cst.TrailingWhitespace(),
                    indent=False,
                    last_line=cst.SimpleWhitespace(inner),
                )
                wrapped = annotation.with_changes(
                    lbracket=cst.LeftSquareBracket(whitespace_after=opened),
                    rbracket=cst.RightSquareBracket(whitespace_before=closed),
                )
                return param.with_changes(
                    annotation=param.annotation.with_changes(annotation=wrapped)
                )

            return params.with_changes(
                params=[split(p) for p in params.params],
                kwonly_params=[split(p) for p in params.kwonly_params],
            )

    return module.visit(Wrap())


def _one_per_line(params: Any, item_ws: Any, close_ws: Any) -> Any:
    """`params` with every parameter (and `*`, `/`) followed by a comma and a new line."""
    import libcst as cst

    slots: list[tuple[str, int | None]] = []
    slots += [("posonly_params", i) for i in range(len(params.posonly_params))]
    if isinstance(params.posonly_ind, cst.ParamSlash):
        slots.append(("posonly_ind", None))
    slots += [("params", i) for i in range(len(params.params))]
    if isinstance(params.star_arg, cst.Param | cst.ParamStar):
        slots.append(("star_arg", None))
    slots += [("kwonly_params", i) for i in range(len(params.kwonly_params))]
    if params.star_kwarg is not None:
        slots.append(("star_kwarg", None))
    changes: dict[str, Any] = {}
    for index, (field, position) in enumerate(slots):
        comma = cst.Comma(whitespace_after=close_ws if index == len(slots) - 1 else item_ws)
        if position is None:
            changes[field] = getattr(params, field).with_changes(comma=comma)
            continue
        items = list(changes.get(field, getattr(params, field)))
        # the old whitespace after the parameter (a line break before `)`) goes: the comma's
        # whitespace now says where the next line starts
        items[position] = items[position].with_changes(
            comma=comma, whitespace_after_param=cst.SimpleWhitespace("")
        )
        changes[field] = items
    return params.with_changes(**changes)
