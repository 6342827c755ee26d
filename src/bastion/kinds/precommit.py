"""`.pre-commit-config.yaml`: its hooks (repo, id, name, entry) with lines (PyYAML's composer)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Hook:
    repo: str
    id: str
    name: str
    entry: str
    line: int


@dataclass
class PrecommitDocument:
    hooks: list[Hook] = field(default_factory=list)
    repos_line: int = 1


def parse_precommit(text: str) -> PrecommitDocument:
    import yaml

    from bastion.kinds.compose import _mapping_items, _scalar, _yaml_compose

    root = _yaml_compose(text)
    doc = PrecommitDocument()
    for key, repos in _mapping_items(root):
        if _scalar(key) != "repos":
            continue
        doc.repos_line = key.start_mark.line + 1
        if not isinstance(repos, yaml.SequenceNode):
            continue
        for repo in repos.value:
            fields = {_scalar(k): v for k, v in _mapping_items(repo)}
            url = _scalar(fields.get("repo")) or ""
            hooks = fields.get("hooks")
            if not isinstance(hooks, yaml.SequenceNode):
                continue
            for hook in hooks.value:
                hf = {_scalar(k): v for k, v in _mapping_items(hook)}
                doc.hooks.append(
                    Hook(
                        url,
                        _scalar(hf.get("id")) or "",
                        _scalar(hf.get("name")) or "",
                        _scalar(hf.get("entry")) or "",
                        hook.start_mark.line + 1,
                    )
                )
    return doc


# what `bastion.kinds.KINDS` reads, when a file of this kind is first parsed
PARSER = parse_precommit
DOCUMENT = PrecommitDocument
