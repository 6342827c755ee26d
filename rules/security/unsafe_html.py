"""SEC014: HTML marked safe (or rendered as a template) after string building."""

from __future__ import annotations

import ast

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.injection import StringBuilding, building_label, describe
from bastion.analysis.nodes import argument
from bastion.context import FileContext
from bastion.findings import Severity
from bastion.rule import Rule

# qualified sink -> (what it does, argument position, keyword name)
_SINKS: dict[str, tuple[str, int, str]] = {
    "markupsafe.Markup": ("marks it safe", 0, "object"),
    "flask.Markup": ("marks it safe", 0, "object"),
    "jinja2.Markup": ("marks it safe", 0, "object"),
    "jinja2.utils.Markup": ("marks it safe", 0, "object"),
    "django.utils.safestring.mark_safe": ("marks it safe", 0, "s"),
    "django.utils.safestring.SafeString": ("marks it safe", 0, "s"),
    "django.utils.html.format_html": ("uses it as the unescaped template", 0, "format_string"),
    "flask.render_template_string": ("renders it as a template", 0, "source"),
    "flask.templating.render_template_string": ("renders it as a template", 0, "source"),
    "quart.render_template_string": ("renders it as a template", 0, "source"),
    "fastapi.responses.HTMLResponse": ("sends it as HTML", 0, "content"),
    "starlette.responses.HTMLResponse": ("sends it as HTML", 0, "content"),
}
# Calls whose result is already escaped HTML (or a marked-safe value checked on its own).
_SINK_NAMES = last_parts(_SINKS)
_HTML_SAFE_CALLS = (
    "Markup",
    "mark_safe",
    "SafeString",
    "render_to_string",
    "render_template",
    "json_script",
    "strip_tags",
    "linebreaks",
    "urlize",
    "escapejs",
    "static",
    # URLs built by the framework quote their arguments; counts are numbers
    "reverse",
    "reverse_lazy",
    "url_for",
    "get_absolute_url",
    "count",
    # dates and numbers formatted for display carry no markup (bench/ecosystem: NetBox)
    "naturalday",
    "naturaltime",
    "isoformat",
    "strftime",
    "date_format",
    "intcomma",
    "filesizeformat",
)


class UnsafeHtml(Rule):
    """Flags HTML built with an f-string, `%`, `.format()` or `+` from non-literal values that
    is then trusted as markup: `Markup(...)` (markupsafe/Flask/Jinja2), Django `mark_safe(...)`
    / `SafeString(...)`, the template of `format_html(...)`, Flask `render_template_string(...)`
    (server-side template injection) and `HTMLResponse(...)` (FastAPI/Starlette). A variable
    is followed one assignment back in the same function.

    Not flagged: `format_html("<b>{}</b>", name)` (it escapes its arguments - only a template
    that is itself built from values is), values passed through an escaping call
    (`escape()`, `conditional_escape()`, `html.escape()`, `format_html()`), other marked-safe
    or rendered HTML (`mark_safe(...)`, `render_to_string(...)`), URLs from `reverse()` /
    `url_for()` (they quote their arguments), `.count()`, constants, ALL_CAPS names,
    numbers, dates formatted for display (`naturaltime()`, `isoformat()`, `strftime()`),
    `get_absolute_url()`, and variables whose name says they already hold HTML (`html`,
    `row_html`). Test files are skipped. Default severity `info`: on 15 real applications
    (bench/ecosystem) most findings interpolated values that were escaped or came from code
    constants in ways the analysis cannot prove, so the finding asks for a review rather than
    failing CI; raise it with `[tool.bastion.severity]` to gate on it."""

    id = "SEC014"
    name = "unsafe-html"
    aliases = ("S308", "S703", "S704")  # ruff/flake8 codes honoured in `# noqa:`
    bandit = ("B308", "B703")  # bandit test ids honoured in `# nosec`
    severity = Severity.INFO
    precision = "low"
    precision_measured = (
        "3 of 24 judged findings right (12%) on 15 application repositories, "
        "bench/ecosystem; default severity lowered from error to info for it"
    )
    cwe = (79, 1336)
    summary = "HTML built from non-literal values and marked safe, rendered or sent unescaped"
    why = (
        "Template engines escape values so that a `<script>` in a user name stays text. "
        "`Markup`, `mark_safe`, `HTMLResponse` and template strings switch that off for the "
        "whole string: whatever was interpolated into it runs in your users' browsers (XSS), "
        "and in `render_template_string` it even runs on the server as template code (SSTI)."
    )
    hint = (
        'Let the framework escape: `format_html("<b>{}</b>", name)` (Django), '
        '`Markup("<b>{}</b>").format(name)` / `escape(name)` (markupsafe), or a template file '
        "with `render_template(...)` and the value as a context variable."
    )
    # the commonest first: a file that has one is let through after a short search
    requires = ("HTML", "mark_safe", "format_html", "Markup", "SafeString", "template_string")
    call_names = _SINK_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "from markupsafe import Markup\n\ndef badge(user):\n"
        "    return Markup(f'<b>{user.name}</b>')\n",
        "from django.utils.safestring import mark_safe\n\ndef link(url, label):\n"
        "    return mark_safe('<a href=\"%s\">%s</a>' % (url, label))\n",
        "from flask import render_template_string, request\n\ndef hello():\n"
        "    page = '<h1>Hello ' + request.args['name'] + '</h1>'\n"
        "    return render_template_string(page)\n",
        "from fastapi.responses import HTMLResponse\n\ndef page(q: str):\n"
        "    return HTMLResponse(content='<p>You searched {}</p>'.format(q))\n",
        "from django.utils.html import format_html\n\ndef cell(value):\n"
        "    return format_html(f'<td>{value}</td>')\n",
    ]
    good = [
        "from django.utils.html import format_html\n\ndef cell(value):\n"
        "    return format_html('<td>{}</td>', value)\n",
        "from markupsafe import Markup, escape\n\ndef badge(user):\n"
        "    return Markup(f'<b>{escape(user.name)}</b>')\n",
        "from fastapi.responses import HTMLResponse\n\ndef page():\n"
        "    return HTMLResponse('<p>static</p>')\n",
        "from markupsafe import Markup\n\ndef badge(user):\n"
        "    return Markup('<b>{}</b>').format(user.name)\n",
        "def badge(user):\n    return Markup(f'<b>{user.name}</b>')\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self.strings = StringBuilding(
            extra_safe_calls=_HTML_SAFE_CALLS, fragment_word="html", safe_prefixes=("render",)
        )

    def visit_Call(self, node: ast.Call) -> None:
        if self.ctx.is_test_file:
            return
        if not may_name(node.func, _SINK_NAMES, self.ctx.imports):
            return
        qualified = self.ctx.imports.imported_qualname(node.func)
        sink = _SINKS.get(qualified or "")
        if sink is None or qualified is None:
            return
        effect, position, keyword = sink
        value = argument(node, position, keyword)
        if value is None:
            return
        found = self.strings.dynamic_building(
            value, self.strings.enter(self.ctx), before=node.lineno
        )
        if found is None:
            return
        building, values = found
        name = qualified.rpartition(".")[2]
        self.report(
            value,
            f"HTML built with {building_label(building)} from `{describe(values[0])}`: "
            f"`{name}()` {effect} without escaping it",
        )
