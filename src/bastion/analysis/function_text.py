"""The source text of one function, for the cheap text test before a walk of its body.

A rule that can only find something when the function spells a word (`objects`, `fetchall`)
asks `function_text(fn, ctx)` and skips the function when the word is not there - exactly
as the module-level `requires` filter does for files, one function at a time.

The text is that of the lines from the `def` line to the function's last line: every node of
its body lies in them. It is None (no shortcut) when the file's lines cannot be matched with
the tree's line numbers or its identifiers with the text: outside ASCII (the parser folds
identifiers to NFKC: a fullwidth `o` in `objects` is a plain one in the tree), or with a
character that `str.splitlines` breaks lines at and Python does not (form feed, vertical
tab, `\\x1c`-`\\x1e`).
"""

from __future__ import annotations

import ast
import weakref

from bastion.context import FileContext

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

# the characters `str.splitlines` breaks at that Python's tokenizer does not (ASCII ones: the
# others are outside ASCII, which is checked first)
_OTHER_BREAKS = ("\v", "\f", "\x1c", "\x1d", "\x1e")

# per parsed tree: its text's lines when they can be trusted, else None (checked once a file)
_LINES: weakref.WeakKeyDictionary[ast.Module, list[str] | None] = weakref.WeakKeyDictionary()


def trusted_lines(ctx: FileContext) -> list[str] | None:
    """The file's lines, when line `n` of them is line `n` of the tree and an identifier of
    the tree is spelled as in the text; None otherwise."""
    tree = ctx.tree
    if tree is not None and tree in _LINES:
        return _LINES[tree]
    text = ctx.source.text
    plain = text.isascii() and not any(c in text for c in _OTHER_BREAKS)
    lines = ctx.source.lines if plain else None
    if tree is not None:
        _LINES[tree] = lines
    return lines


def function_text(fn: FunctionNode, ctx: FileContext) -> str | None:
    """The text of `fn`'s lines (`def` to its end; decorators left out), or None when the
    file's text cannot be trusted for a text test (see the module docstring). Kept in the
    function's shared index."""
    return ctx.function_index(fn).memo("function_text", lambda: _text(fn, ctx))


def _text(fn: FunctionNode, ctx: FileContext) -> str | None:
    lines = trusted_lines(ctx)
    if lines is None:
        return None
    end = fn.end_lineno if fn.end_lineno is not None else len(lines)
    return "\n".join(lines[fn.lineno - 1 : end])
