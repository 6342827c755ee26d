"""SEC014: HTML marked safe (or rendered as a template) after string building."""

from __future__ import annotations

import ast
import re
import weakref
from typing import Any

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.html_provenance import HtmlProvenance, literal_argument
from bastion.analysis.injection import (
    Scope,
    StringBuilding,
    building_label,
    building_parts,
    describe,
)
from bastion.analysis.nodes import argument, is_false, keyword_value
from bastion.analysis.scripts import is_script_file
from bastion.analysis.web import module_name_of
from bastion.context import FileContext, ProjectContext
from bastion.findings import Finding, Severity
from bastion.rule import Example, FactCollector, Rule

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
    "jinja2.Template": ("renders it as a template", 0, "source"),
    "jinja2.environment.Template": ("renders it as a template", 0, "source"),
    "fastapi.responses.HTMLResponse": ("sends it as HTML", 0, "content"),
    "starlette.responses.HTMLResponse": ("sends it as HTML", 0, "content"),
}
# Jinja2 environments: `env.from_string(source)` compiles a template like `Template(source)`.
_JINJA_ENVIRONMENTS = frozenset(
    {"jinja2.Environment", "jinja2.environment.Environment", "jinja2.sandbox.SandboxedEnvironment"}
)
# Where `autoescape=False` switches escaping off for every template rendered.
_AUTOESCAPE_SETUPS = frozenset(
    {
        "jinja2.Environment",
        "jinja2.environment.Environment",
        "jinja2.Template",
        "aiohttp_jinja2.setup",
    }
)
# Reads of the request that carry what the client sent (Flask, Django, Starlette, aiohttp).
_REQUEST_DATA = frozenset(
    {"args", "form", "values", "json", "data", "cookies", "GET", "POST", "query_params"}
)
# Calls whose result is already escaped HTML (or a marked-safe value checked on its own).
_SINK_NAMES = last_parts(_SINKS) | {"from_string", "setup", "Environment"}
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
    "isodate",
    "isotime",
    # Django's documented idiom in `needs_autoescape` filters: `esc = conditional_escape`
    "esc",
)
# Django choice labels (`get_status_display()`, code constants) and methods that return
# HTML (`get_html()`, `to_html()`: their own building is checked where it is made)
_HTML_SAFE_SUFFIXES = ("_display", "_html")
# names of values that cannot carry markup: colours, ids, sizes, counts (bench/ecosystem:
# NetBox badge colours, DefectDojo ids and counts)
_NON_TEXT = re.compile(r"(^|_)(colou?r|pk|id|height|width|count|total)$")


def _non_text_name(name: str) -> bool:
    return bool(_NON_TEXT.search(name.lower()))


# facts for `review`: findings that rest on a function's parameters, and the project's calls
_PARAMETER_FINDINGS = "unsafe_html_parameter_findings_SEC014"
_CALLS = "unsafe_html_calls"

# Jinja2 loaders that read template files (issue #16: vulnpy's HTML pages)
_FILE_LOADERS = frozenset({"FileSystemLoader", "PackageLoader"})


class UnsafeHtml(Rule):
    """Flags HTML built with an f-string, `%`, `.format()` or `+` and then trusted as markup -
    `Markup(...)` (markupsafe/Flask/Jinja2), Django `mark_safe(...)` / `SafeString(...)`, the
    template of `format_html(...)`, `HTMLResponse(...)` (FastAPI/Starlette) - when a value
    built into it comes from somewhere untrusted that the file shows
    (`bastion.analysis.html_provenance`): request data (`request.GET[...]`,
    `request.args.get(...)`...), a parameter of a plain function (a view's URL captures, a
    helper's arguments - unless its callers are visible, in the file or in other modules of
    the project that import it, and every one passes a literal or a translated literal for
    it: ihatemoney's `format_form_errors(form, _("Error deleting bill"))`), the value of a
    template filter (`@register.filter`) passed through as it is or sliced, or text rendered
    outside an escaping template layer (the parts a project's own `render(...)` returns,
    NetBox's custom links; a Jinja2 environment of the module without `autoescape`). A
    variable is followed through its assignments in the function. Also flagged:
    `json.dumps(...)` of such a value marked safe (a `</script>` in a value ends the script
    block), a placeholder replaced by such a value (`TEMPLATE.replace("FOO", name)`), and
    request data used as it is (`Markup(request.form["bio"])`).

    Templates compiled from strings - Flask `render_template_string(...)`,
    `jinja2.Template(...)`, `env.from_string(...)` - are flagged for any value built into
    them, whatever its provenance: that value is template code (server-side template
    injection). So is `autoescape=False` on a Jinja2 `Environment`/`Template` or
    `aiohttp_jinja2.setup` (not on environments with their own delimiters: those render code
    or text), and a Jinja2 `Environment(loader=FileSystemLoader(...))` (or `PackageLoader`)
    with no `autoescape` at all: Jinja2's default is to escape nothing (issue #16: vulnpy);
    not with `**options` (they may set it), nor in scripts and Django management commands
    (they render files, not pages). A Flask view (`@app.route`, `@bp.get`, or a function
    registered with `add_url_rule`) that returns HTML built from request data - read directly
    or through a helper of the module that returns it - is flagged too: Flask sends a
    returned string as HTML (issue #16: vulnpy).

    Not flagged (issue #15: on 15 real applications, bench/ecosystem, these were 18 of 22
    findings, all wrong): values of unknown provenance - methods' parameters (framework hooks
    such as a table column's `render(self, value)` or a widget's `render(self, name,
    value)`), `self.` attributes, results of other calls (`job = Job.enqueue(...)`), loop
    variables over constants, attributes of a model instance handed to a filter
    (`finding.severity`), arguments of template tags (written in the template by its
    authors), translated labels (`_(display)`), and `json.dumps` of data the view computes.
    Nor values passed through an escaping call (`escape()`, `conditional_escape()`,
    `format_html()`, Django's `esc = conditional_escape` idiom), `format_html("<b>{}</b>",
    name)` (it escapes its arguments), or a Django `Template(...).render(...)` (autoescaped).
    Test files are skipped. Default severity `info`: the finding asks for a review; raise it
    with `[tool.bastion.severity]` to gate on it."""

    id = "SEC014"
    name = "unsafe-html"
    aliases = ("S308", "S703", "S704")  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B308", "B703")  # bandit test ids honoured in `# nosec`
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "4 of 4 judged findings right (100%) on 15 application repositories, bench/ecosystem, "
        "too few findings to be sure of the band (before flagging only values of untrusted "
        "provenance: 4 of 22, 18%); severity kept at info"
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
    requires = (
        "HTML",
        "mark_safe",
        "format_html",
        "Markup",
        "SafeString",
        "template_string",
        "Template",
        "from_string",
        "autoescape",
        "Environment",
        "add_url_rule",
        "route(",
    )
    call_names = _SINK_NAMES  # visit_Call's only calls (see may_name)
    needs = frozenset({_PARAMETER_FINDINGS, _CALLS})  # the facts `review` reads
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
        # issue #16 (vulnpy): a Flask view returns HTML built from what the client sent
        "from flask import Flask, request\n\napp = Flask(__name__)\n\n"
        "@app.route('/hello')\ndef hello():\n    name = request.args.get('name', '')\n"
        "    return '<h1>Hello ' + name + '</h1>'\n",
        # issue #15 (NetBox truncate_middle): a template filter marks its own value safe
        "from django import template\nfrom django.utils.safestring import mark_safe\n\n"
        "register = template.Library()\n\n@register.filter\ndef truncate_middle(value, n):\n"
        "    first, last = value[: n // 2], value[-n // 2 :]\n"
        "    return mark_safe(f'{first}&hellip;{last}')\n",
        # issue #16 (vulnpy): Jinja2 escapes nothing unless asked to
        "from jinja2 import Environment, FileSystemLoader\n\n"
        "loader = FileSystemLoader('templates')\nenvironment = Environment(loader=loader)\n",
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
        "import jinja2\n\nenv = jinja2.Environment(\n"
        "    loader=jinja2.FileSystemLoader(DIR), autoescape=jinja2.select_autoescape()\n)\n",
        "import jinja2\n\ndef env(**options):\n"
        "    return jinja2.Environment(loader=jinja2.PackageLoader('app'), **options)\n",
        # issue #16, from NetBox: a management command renders a JSON schema file
        Example(
            "from jinja2 import Environment, FileSystemLoader\n\n"
            "env = Environment(loader=FileSystemLoader(DIR))\n",
            path="dcim/management/commands/buildschema.py",
        ),
        # a Flask view returning HTML built from values that are not the request's
        "from flask import Flask\n\napp = Flask(__name__)\n\n"
        "@app.route('/count')\ndef count():\n    return '<b>' + str(total()) + '</b>'\n",
        "from flask import Flask, request\nfrom markupsafe import Markup\n\n"
        "app = Flask(__name__)\n\n@app.route('/hi')\ndef hi():\n"
        "    return Markup('<b>{}</b>').format(request.args['name'])\n",
        # issue #15, from DefectDojo and NetBox: escaped, constant or non-text values
        "from django.utils.html import conditional_escape\n"
        "from django.utils.safestring import mark_safe\n\n"
        "def jira_link(project, autoescape=True):\n"
        "    esc = conditional_escape if autoescape else (lambda x: x)\n"
        "    fields = (esc(project.key), esc(project.name))\n"
        "    return mark_safe('<a title=\"%s\">%s</a>' % (*fields,))\n",
        "from django.utils.safestring import mark_safe\n\ndef history(changes):\n"
        "    out = ''\n    for c in changes:\n"
        "        out += '<b>' + c.created.strftime('%b %d') + '</b>: ' + c.get_action_display()\n"
        "    return mark_safe('<i>%s</i>' % out)\n",
        "from django.utils.safestring import mark_safe\n\nclass Banner:\n"
        "    base = 'Upgrade'\n    outreach = f'{base} or contact us.'\n\n"
        "    def show(self):\n        return mark_safe(f'<b>{self.outreach}</b>')\n",
        "from django.utils.safestring import mark_safe\n\ndef badge(record, bg_color):\n"
        "    return mark_safe(f'<span class=\"bg-{bg_color}\">{record.pk}</span>')\n",
        # issue #15, from NetBox and DefectDojo: values of unknown provenance - a table
        # column's `render(self, value)`, fields of a model instance handed to a filter
        "from django.utils.safestring import mark_safe\n\nclass ColorColumn:\n"
        "    def render(self, value):\n"
        "        return mark_safe(f'<span style=\"background: #{value}\">&nbsp;</span>')\n",
        "from django import template\nfrom django.utils.safestring import mark_safe\n\n"
        "register = template.Library()\n\n@register.filter\ndef finding_sla(finding):\n"
        "    text = 'Remediation for ' + finding.severity.lower() + ' findings'\n"
        "    return mark_safe(f'<a data-content=\"{text}\">SLA</a>')\n",
        # issue #15, from Flagsmith: JSON of counts and dates the view computes
        "import json\nfrom django.utils.safestring import mark_safe\n\n"
        "def dashboard(request, organisation_id):\n"
        "    events, labels = get_event_list(organisation_id)\n"
        "    return {'labels': mark_safe(json.dumps(labels))}\n",
        # templates from strings the code builds: `from_string` is checked where it is called
        "from jinja2.sandbox import SandboxedEnvironment\nfrom jinja2 import BaseLoader\n\n"
        "env = SandboxedEnvironment(loader=BaseLoader())\n",
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._url_rule_views: frozenset[str] | None = None  # asked once per file
        self._flask_text: bool | None = None  # the text may import flask (`visit_Return`)
        self.strings = StringBuilding(
            extra_safe_calls=_HTML_SAFE_CALLS,
            fragment_word="html",
            safe_prefixes=("render",),
            safe_suffixes=_HTML_SAFE_SUFFIXES,
            non_text=_non_text_name,
            class_attributes=True,
        )
        self.provenance = HtmlProvenance(ctx, self.strings)

    def _escapes_nothing_by_default(self, node: ast.Call) -> bool:
        """`Environment(loader=FileSystemLoader(...))` with no `autoescape` (nor `**options`
        that may hold one): Jinja2's default is no escaping at all. Command-line code
        (scripts, Django management commands) renders files, not pages, and is left out."""
        if any(k.arg is None or k.arg == "autoescape" for k in node.keywords):
            return False
        if keyword_value(node, "variable_start_string") is not None:
            return False  # own delimiters: it renders code or text, not HTML
        if "/management/commands/" in f"/{self.ctx.path}" or is_script_file(self.ctx):
            return False
        return _file_loader(keyword_value(node, "loader"), self.ctx)

    def visit_Return(self, node: ast.Return) -> None:
        """A Flask view returning HTML built from request data: Flask sends a returned
        string as `text/html`, unescaped (issue #16: vulnpy's Flask blueprint)."""
        if self.ctx.is_test_file or node.value is None:
            return
        if self._flask_text is None:
            # an import of flask spells `flask` in the source (NFKC-normalised identifiers
            # aside: a non-ASCII text is always asked): one search per file, where
            # `is_imported` scans every import at every `return`
            text = self.ctx.source.text
            self._flask_text = "flask" in text or not text.isascii()
        if not self._flask_text:
            return
        function = self.ctx.enclosing_function()
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            return
        if not self.ctx.imports.is_imported("flask"):
            return
        if self._url_rule_views is None:
            self._url_rule_views = _url_rule_views(self.ctx)
        if not _flask_view(function, self._url_rule_views):
            return
        scope = self.strings.enter(self.ctx)
        found = self.strings.dynamic_building(node.value, scope, before=node.lineno)
        if found is None:
            return
        building, values = found
        if _escaping_format(building, self.ctx):
            return  # `Markup("<b>{}</b>").format(name)` escapes what it formats
        text = self.strings.literal_text(node.value, scope, node.lineno)
        if not _has_tag(text):
            return
        for value in values:
            if _request_read(value, scope) is not None or _from_request_helper(
                value, scope, self.ctx
            ):
                self.report(
                    node.value,
                    f"HTML built with {building_label(building)} from `{describe(value)}` "
                    "(request data) is returned by a Flask view: Flask sends a returned "
                    "string as HTML, unescaped",
                )
                return

    def visit_Call(self, node: ast.Call) -> None:
        if self.ctx.is_test_file:
            return
        if not may_name(node.func, _SINK_NAMES, self.ctx.imports):
            return
        qualified = self.ctx.imports.imported_qualname(node.func)
        if (
            qualified in _AUTOESCAPE_SETUPS
            and is_false(keyword_value(node, "autoescape"))
            # own delimiters (`variable_start_string="<<"`): it renders code or text, not HTML
            and keyword_value(node, "variable_start_string") is None
        ):
            name = qualified.rpartition(".")[2]
            self.report(
                node,
                f"`{name}(..., autoescape=False)`: every value its templates render is "
                "inserted unescaped",
                hint="Leave autoescaping on (`autoescape=True`, or `select_autoescape()` for "
                "HTML templates); mark the few trusted fragments with `Markup` instead.",
            )
            return
        if qualified in _JINJA_ENVIRONMENTS and self._escapes_nothing_by_default(node):
            self.report(
                node,
                f"`{qualified.rpartition('.')[2]}(loader=...)` without `autoescape`: Jinja2 "
                "escapes nothing by default, so every value its templates render is inserted "
                "unescaped",
                hint="Pass `autoescape=select_autoescape()` (or `autoescape=True`); mark the few "
                "trusted fragments with `Markup` instead.",
            )
            return
        sink = _SINKS.get(qualified or "")
        if sink is None and _is_from_string(node, self.ctx):
            sink, qualified = ("renders it as a template", 0, "source"), "from_string"
        if sink is None or qualified is None:
            return
        effect, position, keyword = sink
        value = argument(node, position, keyword)
        if value is None:
            return
        scope = self.strings.enter(self.ctx)
        name = qualified.rpartition(".")[2]
        if effect == "renders it as a template":
            self._template_source(value, scope, node.lineno, name)
            return
        self.provenance.enter()
        if _json_dump(value):
            assert isinstance(value, ast.Call)  # for mypy: `_json_dump` checked it
            origin = self.provenance.untrusted(value.args[0], scope)
            if origin is not None:
                self._report_markup(
                    value,
                    f"JSON of `{describe(value.args[0])}` ({origin}) marked safe with "
                    f"`{name}()`: a `</script>` in a value ends the script block "
                    "(`json.dumps` does not escape it)",
                    [value.args[0]],
                    scope,
                    hint="Use Django's `json_script` filter / `django.utils.html.json_script()`, "
                    "which escapes `<`, `>` and `&` inside the JSON.",
                )
            return
        replaced = _replaced_with_value(value, scope)
        if replaced is not None:
            origin = self.provenance.untrusted(replaced, scope)
            if origin is not None:
                self._report_markup(
                    value,
                    f"HTML built with `.replace()` from `{describe(replaced)}` ({origin}): "
                    f"`{name}()` {effect} without escaping it",
                    [replaced],
                    scope,
                )
            return
        read = _request_read(value, scope)
        if read is not None:
            self.report(
                value,
                f"HTML from the request (`{describe(read)}`): `{name}()` {effect} "
                "without escaping it",
            )
            return
        found = self._untrusted_building(value, scope, node.lineno)
        if found is not None:
            building, part, origin, parts = found
            self._report_markup(
                value,
                f"HTML built with {building_label(building)} from `{describe(part)}` "
                f"({origin}): `{name}()` {effect} without escaping it",
                parts,
                scope,
            )

    def _template_source(self, value: ast.expr, scope: Scope | None, line: int, name: str) -> None:
        """A template compiled from a string: any value built into it is template code
        (server-side template injection), whatever its provenance."""
        effect = "renders it as a template"
        found = self.strings.dynamic_building(value, scope, before=line)
        if found is not None:
            building, values = found
            self.report(
                value,
                f"HTML built with {building_label(building)} from `{describe(values[0])}`: "
                f"`{name}()` {effect} without escaping it",
            )
            return
        replaced = _replaced_with_value(value, scope)
        if replaced is not None:
            self.report(
                value,
                f"HTML built with `.replace()` from `{describe(replaced)}`: "
                f"`{name}()` {effect} without escaping it",
            )
            return
        read = _request_read(value, scope)
        if read is not None:
            self.report(
                value,
                f"HTML from the request (`{describe(read)}`): `{name}()` {effect} "
                "without escaping it",
            )

    def _untrusted_building(
        self, value: ast.expr, scope: Scope | None, line: int
    ) -> tuple[ast.expr, ast.expr, str, list[ast.expr]] | None:
        """The string building of `value` (itself, or any assignment of the variable before
        `line`) with a value this file shows to be untrusted: (building, value, origin, every
        value built in). Values the string analysis proves safe are skipped, except text
        rendered by a project's own `render` (trusted by name there, untrusted here)."""
        candidates: list[tuple[ast.expr, list[ast.expr]]] = []
        parts = building_parts(value)
        if parts is not None:
            candidates.append((value, parts))
        elif isinstance(value, ast.Name) and scope is not None:
            for assigned, aug in self.strings.locals_of(scope).values(value.id, line):
                inner = building_parts(assigned)
                if inner is not None:
                    candidates.append((assigned, inner))
                elif aug:
                    candidates.append((assigned, [assigned]))
        every = [part for _building, values in candidates for part in values]
        for building, values in candidates:
            for part in values:
                origin = self.provenance.untrusted(part, scope)
                if origin is None:
                    continue
                if origin.startswith("text rendered") or not self.strings.is_safe(part, scope):
                    return building, part, origin, every
        return None

    def _report_markup(
        self,
        value: ast.expr,
        message: str,
        parts: list[ast.expr],
        scope: Scope | None,
        hint: str | None = None,
    ) -> None:
        """Report; when the finding rests only on parameters of a module-level function (no
        request data, no rendered text), record them: `review` drops the finding when every
        call of that function elsewhere in the project passes literals for them."""
        self.report(value, message, hint=hint)
        function = next((f for f in self.provenance.functions if f.top), None)
        if function is None:
            return
        provenance = self.provenance
        provenance.trust_parameters = True
        provenance.parameter_hits = set()
        try:
            if any(provenance.untrusted(part, scope) is not None for part in parts):
                return  # untrusted whatever the callers pass
            hits = sorted(provenance.parameter_hits)
        finally:
            provenance.trust_parameters = False
        if not hits:
            return
        module, _package = module_name_of(self.ctx.path)
        self.ctx.facts.setdefault(_PARAMETER_FINDINGS, []).append(
            {
                "line": value.lineno,
                "function": f"{module}.{function.name}",
                "params": [[name, index] for _function, name, index in hits],
            }
        )

    @classmethod
    def review(cls, findings: list[Finding], project: ProjectContext) -> list[Finding]:
        """Drop a finding that rests only on parameters of a function when its callers are
        visible in the project (in other modules) and every one passes a literal or a
        translated literal for those parameters (issue #15: ihatemoney's
        `format_form_errors(form, _("Error deleting bill"))`)."""
        candidates = project.facts(_PARAMETER_FINDINGS)
        if not candidates:
            return findings
        # `_same_function` names share their last part: look only among those
        by_last: dict[str, list[dict[str, Any]]] = {}
        for _path, call in project.facts(_CALLS):
            by_last.setdefault(str(call["callee"]).rpartition(".")[2], []).append(call)
        drop: set[tuple[str, int]] = set()
        for path, fact in candidates:
            function = str(fact["function"])
            matched = [
                c
                for c in by_last.get(function.rpartition(".")[2], [])
                if _same_function(str(c["callee"]), function)
            ]
            params = [(str(name), int(index)) for name, index in fact["params"]]
            if matched and all(_passes_literals(call, params) for call in matched):
                drop.add((path, int(fact["line"])))
        return [f for f in findings if f.rule != cls.id or (f.path, f.line) not in drop]


def _file_loader(value: ast.expr | None, ctx: FileContext) -> bool:
    """`FileSystemLoader(...)`/`PackageLoader(...)` - or a module-level name assigned one -:
    templates read from files (HTML pages), not strings the code builds itself."""
    if isinstance(value, ast.Name) and ctx.tree is not None:
        for stmt in ctx.tree.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and stmt.targets[0].id == value.id
            ):
                value = stmt.value
                break
    if not isinstance(value, ast.Call):
        return False
    name = ctx.imports.imported_qualname(value.func) or ""
    return name.startswith("jinja2") and name.rpartition(".")[2] in _FILE_LOADERS


_ROUTE_METHODS = frozenset({"route", "get", "post", "put", "patch", "delete"})


def _flask_view(
    function: ast.FunctionDef | ast.AsyncFunctionDef, registered: frozenset[str]
) -> bool:
    """Decorated with `@app.route(...)`/`@bp.get(...)`, or named in `registered` (see
    `_url_rule_views`)."""
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in _ROUTE_METHODS
        ):
            return True
    return function.name in registered


def _url_rule_views(ctx: FileContext) -> frozenset[str]:
    """Names of the functions this module registers with `add_url_rule(rule, endpoint,
    function)` / `add_url_rule(..., view_func=function)`: one walk per file, not one per
    `return` (a long Flask module would otherwise cost returns x nodes)."""
    if ctx.tree is None or "add_url_rule" not in ctx.source.text:
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(ctx.tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "add_url_rule"
        ):
            view = keyword_value(node, "view_func") or (
                node.args[2] if len(node.args) > 2 else None
            )
            if isinstance(view, ast.Name):
                names.add(view.id)
    return frozenset(names)


def _escaping_format(building: ast.expr, ctx: FileContext) -> bool:
    """`Markup(template).format(...)`: markupsafe escapes every argument it formats."""
    return (
        isinstance(building, ast.Call)
        and isinstance(building.func, ast.Attribute)
        and building.func.attr == "format"
        and isinstance(building.func.value, ast.Call)
        and (ctx.imports.imported_qualname(building.func.value.func) or "").endswith("Markup")
    )


def _has_tag(text: str) -> bool:
    """The literal text opens an HTML tag (`<p>`, `<a href=`)."""
    start = text.find("<")
    while start != -1:
        if text[start + 1 : start + 2].isalpha():
            return True
        start = text.find("<", start + 1)
    return False


def _from_request_helper(value: ast.expr, scope: ast.AST | None, ctx: FileContext) -> bool:
    """`user_input = _get_user_input()` where that function of this module returns what the
    client sent (`return request.args.get("q", "")`)."""
    if not isinstance(value, ast.Name) or scope is None or ctx.tree is None:
        return False
    called: set[str] = set()
    for node in ast.walk(scope):
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == value.id for t in node.targets)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
        ):
            called.add(node.value.func.id)
    if not called:
        return False
    for stmt in ctx.tree.body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name in called:
            for sub in ast.walk(stmt):
                if (
                    isinstance(sub, ast.Return)
                    and sub.value is not None
                    and _request_read(sub.value, stmt) is not None
                ):
                    return True
    return False


# name -> the value of its first plain `name = ...` (in `ast.walk` order), per scope: read
# once per scope, not once per value asked about (a function with thousands of markup calls
# would otherwise cost calls x nodes); kept only while the tree lives
_FIRST_ASSIGNMENTS: weakref.WeakKeyDictionary[ast.AST, dict[str, ast.expr]] = (
    weakref.WeakKeyDictionary()
)


def _first_assigned(value: ast.expr, scope: ast.AST | None) -> ast.expr:
    """A name's value as the first plain `name = ...` in `scope` assigns it (the expression
    itself when it is not a name, or nothing in `scope` assigns it)."""
    if not isinstance(value, ast.Name) or scope is None:
        return value
    assigned = _FIRST_ASSIGNMENTS.get(scope)
    if assigned is None:
        assigned = {}
        for node in ast.walk(scope):
            if (
                isinstance(node, ast.Assign)
                and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name)
            ):
                assigned.setdefault(node.targets[0].id, node.value)
        _FIRST_ASSIGNMENTS[scope] = assigned
    return assigned.get(value.id, value)


def _replaced_with_value(value: ast.expr, scope: ast.AST | None) -> ast.expr | None:
    """`TEMPLATE.replace("FOO", name)` - or a name assigned one in `scope` -: a placeholder
    replaced by a value that is not a literal; that value."""
    value = _first_assigned(value, scope)
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "replace"
        and len(value.args) >= 2
        and not isinstance(value.args[1], ast.Constant)
    ):
        return value.args[1]
    return None


def _is_from_string(node: ast.Call, ctx: FileContext) -> bool:
    """`env.from_string(source)` on a Jinja2 environment created in this module."""
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "from_string"
        and ctx.imports.instance_of(func.value) in _JINJA_ENVIRONMENTS
    )


def _request_read(value: ast.expr, scope: ast.AST | None) -> ast.expr | None:
    """`request.args["t"]`, `request.form.get("bio")` - or a name assigned one in `scope` - :
    what the client sent, used as markup or as a template as it is."""
    value = _first_assigned(value, scope)
    inner = value
    if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute):
        if inner.func.attr not in ("get", "getlist"):
            return None
        inner = inner.func.value
    elif isinstance(inner, ast.Subscript):
        inner = inner.value
    else:
        return None
    if (
        isinstance(inner, ast.Attribute)
        and inner.attr in _REQUEST_DATA
        and isinstance(inner.value, ast.Name)
        and inner.value.id == "request"
    ):
        return value
    return None


def _json_dump(value: ast.expr) -> bool:
    """`json.dumps(data)` of something that is not a literal."""
    if not (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "dumps"
        and isinstance(value.func.value, ast.Name)
        and value.func.value.id == "json"
        and value.args
    ):
        return False
    try:
        ast.literal_eval(value.args[0])
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return True  # built from values
    return False


def _same_function(callee: str, function: str) -> bool:
    """`app.utils.fmt` called as `app.utils.fmt` (or from a layout that roots the package
    elsewhere: one name ends with the other)."""
    return callee == function or function.endswith("." + callee) or callee.endswith("." + function)


def _passes_literals(callee: dict[str, Any], params: list[tuple[str, int]]) -> bool:
    """Every recorded call of `callee` passes a literal (or nothing: the default) for each
    parameter: none unpacks, none passes anything else at the parameter's position, nor by
    the parameter's keyword when it gave fewer positional arguments."""
    if callee.get("unpacked"):
        return False
    other_args = set(callee.get("o_args", ()))
    other_kw = [(str(name), int(count)) for name, count in callee.get("o_kw", ())]
    for name, index in params:
        if index in other_args:
            return False
        # by keyword matters when that call's positional arguments do not reach the
        # parameter (keyword-only parameters have no position: index -1)
        if any(kw == name and not 0 <= index < count for kw, count in other_kw):
            return False
    return True


def _absolute(qualified: str, path: str) -> str:
    """`.utils.fmt` imported in `app/views.py` -> `app.utils.fmt`."""
    level = len(qualified) - len(qualified.lstrip("."))
    if not level:
        return qualified
    module, package = module_name_of(path)
    parts = module.split(".") if package else module.split(".")[:-1]
    base = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*base, qualified[level:]]) if base else qualified[level:]


class CallArgumentFacts(FactCollector):
    """Calls of the project's own functions (imported from a module of the project), one fact
    per callee and file, for SEC014's `review`: the argument positions at which some call
    passes something other than a literal (`o_args`), the keywords that some call passes so
    (`o_kw`, each with that call's number of positional arguments) and whether some call
    unpacks `*args`/`**kwargs`. Summed up per callee rather than kept per call: on a large
    project one record per call made most of the per-file cache (1.7 of 2.5 MB on the bench
    corpus) and slowed every warm run."""

    key = _CALLS

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._callees: dict[str, tuple[set[int], set[tuple[str, int]], list[bool]]] = {}
        # the parts of this module's dotted name: an absolute import from the project starts
        # with one of them (computed once per file, asked for every call)
        self._module_parts = frozenset(module_name_of(ctx.path)[0].split("."))
        self._absolute: dict[str, str] = {}  # `_absolute(name, path)` by name: same path

    def visit_Call(self, node: ast.Call) -> None:
        # The root name decides first, before any string is built: most calls are of names
        # not imported (locals, builtins, methods of `self`) or imported from another
        # distribution (django, flask...). Imports met later in the walk update `aliases`,
        # so it is read at each call.
        root = node.func
        while type(root) is ast.Attribute:
            root = root.value
        if type(root) is not ast.Name:
            return
        imported = self.ctx.imports.aliases.get(root.id)
        if imported is None:
            return  # not imported in this module
        internal = imported.startswith(".")
        if not internal and imported.partition(".")[0] not in self._module_parts:
            return  # another distribution's function (django, flask...)
        written = self.ctx.imports.imported_qualname(node.func)
        if not written:
            return
        qualified = self._absolute.get(written)
        if qualified is None:
            qualified = self._absolute[written] = _absolute(written, self.ctx.path)
        other_args, other_kw, unpacked = self._callees.setdefault(
            qualified, (set(), set(), [False])
        )
        args = node.args
        for index, arg in enumerate(args):
            if type(arg) is ast.Starred:
                unpacked[0] = True
            if not literal_argument(arg):
                other_args.add(index)
        for kw in node.keywords:
            if kw.arg is None:
                unpacked[0] = True  # `**options`
            elif not literal_argument(kw.value):
                other_kw.add((kw.arg, len(args)))

    def finish(self) -> None:
        for callee, (other_args, other_kw, unpacked) in sorted(self._callees.items()):
            self.add(
                callee=callee,
                o_args=sorted(other_args),
                o_kw=sorted([name, count] for name, count in other_kw),
                unpacked=unpacked[0],
            )
