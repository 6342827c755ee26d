"""Rule documentation, generated from each rule's metadata and examples (ruff's page layout:
What it does / Why is this bad? / Example / Use instead / Fix safety / Options)."""

from __future__ import annotations

from bastion.findings import FixSafety
from bastion.rule import RuleMeta

_FIX_TEXT = {
    FixSafety.NONE: "No automatic fix: the hint says what to write instead.",
    FixSafety.SAFE: "Safe fix: `bastion fix` applies it; behaviour that the rule is about "
    "changes as intended and nothing else does.",
    FixSafety.UNSAFE: "Unsafe fix: applied only with `bastion fix --unsafe-fixes`, because it "
    "can change behaviour; review the diff.",
}


def _block(code: str, lang: str = "python") -> str:
    return f"```{lang}\n{code.rstrip()}\n```"


def _lang(path: str) -> str:
    return "python" if path.endswith(".py") else ""


def render_markdown(rule: type[RuleMeta]) -> str:
    parts = [
        f"# {rule.id} {rule.name}",
        "",
        f"**{rule.summary}** - area: {rule.area().value}, default severity: "
        f"{rule.severity.label}, fix: {rule.fix_label()}"
        + (f", CWE: {', '.join(f'CWE-{c}' for c in rule.cwe)}" if rule.cwe else ""),
        "",
        "## What it does",
        rule.description(),
        "",
        "## Why is this bad?",
        rule.why,
        "",
    ]
    bad = rule.bad_examples()
    if bad:
        parts += ["## Example", ""]
        for ex in bad:
            label = f"`{ex.path}`:\n" if ex.path != "example.py" else ""
            parts += [label + _block(ex.code, _lang(ex.path)), ""]
    parts += ["## Use instead", rule.hint, ""]
    fixed = [ex for ex in bad if ex.fixed is not None]
    for ex in fixed:
        parts += [_block(ex.fixed or "", _lang(ex.path)), ""]
    good = rule.good_examples()
    if good:
        parts += ["Not flagged:", ""]
        for ex in good:
            label = f"`{ex.path}`:\n" if ex.path != "example.py" else ""
            parts += [label + _block(ex.code, _lang(ex.path)), ""]
    fix_text = _FIX_TEXT[rule.fix_safety if rule.is_fixable() else FixSafety.NONE]
    parts += ["## Fix safety", fix_text, ""]
    if rule.options:
        parts += ["## Options", ""]
        for key, default in rule.options.items():
            parts.append(f"- `{key}` (default `{default!r}`), in `[tool.bastion.rules.{rule.id}]`")
        parts.append("")
    if rule.references:
        parts += ["## References", ""] + [f"- {ref}" for ref in rule.references] + [""]
    return "\n".join(parts).rstrip() + "\n"
