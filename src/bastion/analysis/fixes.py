"""libcst rewrites shared by rules' `fix` methods. libcst is imported by the callers' `fix`
only (this module imports it lazily too), so detection never pays for it."""

from __future__ import annotations

import ast
import re
import string
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
