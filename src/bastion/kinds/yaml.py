"""YAML settings files: PyYAML's SafeLoader (unknown tags as plain data), every scalar with its
line; an unrendered template (Helm, Jinja) is an empty document."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from bastion.kinds.common import DocumentError, SettingsDocument, SettingValue, safe_reason

_TEMPLATE_MARKERS = ("{{", "{%")


@functools.cache
def _yaml_loader_class() -> Any:
    """A SafeLoader that builds plain data for tags it does not know (CloudFormation's `!Ref`,
    Ansible's `!vault`, ...) instead of failing: safe, since nothing is ever instantiated."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def plain(loader: Any, suffix: str, node: Any) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("", plain)
    return Loader


def parse_yaml(text: str) -> SettingsDocument:
    """YAML documents. A file that is a template rather than YAML (Helm charts, Jinja:
    `{{ ... }}` / `{% ... %}` outside strings) and does not parse yields an empty document,
    not a parse error: it only becomes YAML once rendered."""
    try:
        return _parse_yaml(text)
    except DocumentError:
        if any(marker in text for marker in _TEMPLATE_MARKERS):
            return SettingsDocument(None, [], [])
        raise


def _parse_yaml(text: str) -> SettingsDocument:
    import yaml

    values: list[SettingValue] = []
    documents: list[Any] = []
    loader = None
    node = None
    try:
        loader = _yaml_loader_class()(text)  # its reader rejects control characters at once
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            _yaml_leaves(node, (), values, set(), loader.construct_object)
            documents.append(loader.construct_document(node))
    except RecursionError:
        raise DocumentError("invalid YAML: nested too deeply to read") from None
    except (ValueError, OverflowError, TypeError) as exc:
        # a value its loader resolves but cannot build (its leaves were built above: a
        # key, a merge)
        mark = getattr(node, "start_mark", None)
        line = mark.line + 1 if mark is not None else 1
        raise DocumentError(
            f"invalid YAML: a value its loader cannot build ({safe_reason(exc)})", line
        ) from None
    except yaml.MarkedYAMLError as exc:
        # only the problem and its position: the text around it may hold a secret
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise DocumentError(f"invalid YAML: {exc.problem or exc.context}", line, column) from None
    except yaml.YAMLError as exc:
        line = 1
        if isinstance(exc, yaml.reader.ReaderError):
            line = text.count("\n", 0, exc.position) + 1
            return_message = "invalid YAML: control character in the text"
        else:
            return_message = f"invalid YAML: {type(exc).__name__}"
        raise DocumentError(return_message, line) from None
    finally:
        if loader is not None:
            loader.dispose()
    return SettingsDocument(documents[0] if documents else None, values, documents)


def _yaml_leaves(
    node: Any,
    path: tuple[str, ...],
    out: list[SettingValue],
    seen: set[int],
    construct: Callable[[Any], Any],
) -> None:
    import yaml

    if id(node) in seen:
        return  # an alias to a node already walked (and the cure for "billion laughs")
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            _yaml_leaves(value_node, (*path, key), out, seen, construct)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _yaml_leaves(child, (*path, str(index)), out, seen, construct)
    elif isinstance(node, yaml.ScalarNode):
        value: Any = node.value
        if node.tag != "tag:yaml.org,2002:str":
            try:
                value = construct(node)
            except yaml.YAMLError:
                value = node.value
            except (ValueError, OverflowError, TypeError) as exc:
                # `2023-02-30`, a 5000-digit integer: `yaml.safe_load` fails on the file too
                raise DocumentError(
                    f"invalid YAML: a value its loader cannot build ({safe_reason(exc)})",
                    node.start_mark.line + 1,
                    node.start_mark.column + 1,
                ) from None
        out.append(SettingValue(path, value, node.start_mark.line + 1))


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_yaml
DOCUMENT = SettingsDocument
