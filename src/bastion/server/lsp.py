"""The Language Server. Positions: bastion's findings are 1-based lines and 1-based columns
(code points), LSP's 0-based lines and 0-based UTF-16 columns; `_to_lsp` converts."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from bastion import __version__
from bastion.config import Config, ConfigError
from bastion.discovery import SourceFile, file_kind
from bastion.engine import FileAnalyzer, FileResult
from bastion.findings import Finding, FixSafety, Severity
from bastion.redact import shown, visible
from bastion.registry import load_registry
from bastion.reporters.sarif import HELP_URI_BASE
from bastion.rule import Rule
from bastion.selection import enabled_rules, load_config

DEBOUNCE_SECONDS = 0.3  # after the last keystroke, before re-linting the buffer
SOURCE = "bastion"
_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


@dataclass
class _Document:
    config: Config
    source: SourceFile
    findings: list[Finding] = field(default_factory=list)


class BastionServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "bastion", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full
        )
        self.documents: dict[str, _Document] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        # project-rule findings per (project root, path) from the last workspace run
        self.project_findings: dict[tuple[Path, str], list[Finding]] = {}
        self.lock = threading.Lock()

    # -- linting ------------------------------------------------------------------------------
    def document(self, uri: str) -> _Document | None:
        doc = self.workspace.get_text_document(uri)
        if not doc.path:
            return None
        path = Path(doc.path).resolve()
        kind = file_kind(path.name)
        if kind is None:
            return None
        try:
            config = load_config([path])
        except ConfigError as exc:
            self.window_show_message(
                types.ShowMessageParams(types.MessageType.Error, shown(f"bastion: {exc}"))
            )
            return None
        try:
            relative = path.relative_to(config.root).as_posix()
        except ValueError:
            relative = path.name
        return _Document(config, SourceFile(relative, path, kind))

    def lint(self, uri: str) -> None:
        """Lint the buffer as it is now and publish the diagnostics."""
        entry = self.document(uri)
        if entry is None:
            return
        text = self.workspace.get_text_document(uri).source
        result = FileResult()
        FileAnalyzer(entry.config).analyze_bytes(entry.source, text.encode("utf-8"), result)
        project = self.project_findings.get((entry.config.root, entry.source.path), [])
        entry.findings = [*result.findings, *project]
        self.documents[uri] = entry
        version = self.workspace.get_text_document(uri).version
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri,
                version=version,
                diagnostics=[_diagnostic(f, text) for f in entry.findings],
            )
        )

    def schedule(self, uri: str, delay: float) -> None:
        """Lint `uri` after `delay` seconds, unless another change comes first."""
        previous = self.timers.pop(uri, None)
        if previous is not None:
            previous.cancel()
        loop = asyncio.get_running_loop()
        self.timers[uri] = loop.call_later(delay, self.lint, uri)

    async def refresh_project(self, uri: str) -> None:
        """Run the project rules over the document's project (cached like `bastion check`),
        then lint the buffer again with their findings."""
        entry = self.document(uri)
        if entry is None or not enabled_rules(entry.config):
            return
        root = entry.config.root
        findings = await asyncio.to_thread(self._project_run, entry.config)
        with self.lock:
            for key in [k for k in self.project_findings if k[0] == root]:
                del self.project_findings[key]
            for finding in findings:
                self.project_findings.setdefault((root, finding.path), []).append(finding)
        self.lint(uri)

    @staticmethod
    def _project_run(config: Config) -> list[Finding]:
        from bastion.engine import run
        from bastion.rule import ProjectRule

        project_ids = {r.id for r in enabled_rules(config) if issubclass(r, ProjectRule)}
        if not project_ids:
            return []
        result = run([config.root], config, jobs=1, cache_dir=config.root / ".bastion_cache")
        return [f for f in result.findings if f.rule in project_ids]


def _utf16(text: str, column: int) -> int:
    """0-based UTF-16 offset of the 0-based code-point `column` in `text`."""
    return len(text[:column].encode("utf-16-le")) // 2


def _to_lsp(lines: list[str], line: int, column: int) -> types.Position:
    index = max(line - 1, 0)
    text = lines[index] if index < len(lines) else ""
    return types.Position(line=index, character=_utf16(text, max(column - 1, 0)))


def _message(finding: Finding) -> str:
    """The finding's message as an editor shows it: secrets masked (`Finding` did that) and
    control and bidi characters quoted from the tree spelled out, as on a terminal, so that a
    message cannot reorder or hide what the editor displays around it."""
    return visible(finding.message)


def _diagnostic(finding: Finding, text: str) -> types.Diagnostic:
    lines = text.splitlines()
    start = _to_lsp(lines, finding.line, finding.column)
    end = _to_lsp(lines, max(finding.end_line, finding.line), finding.end_column)
    if (end.line, end.character) <= (start.line, start.character):
        end = types.Position(line=start.line, character=start.character + 1)
    return types.Diagnostic(
        range=types.Range(start=start, end=end),
        message=_message(finding),
        severity=_SEVERITY[finding.severity],
        code=finding.rule,
        code_description=types.CodeDescription(href=f"{HELP_URI_BASE}{finding.rule}.md"),
        source=SOURCE,
        data={"fixable": finding.fixable, "name": finding.name},
    )


def _finding_for(entry: _Document, diagnostic: types.Diagnostic) -> Finding | None:
    for finding in entry.findings:
        if (
            finding.rule == diagnostic.code
            and finding.line - 1 == diagnostic.range.start.line
            and _message(finding) == diagnostic.message
        ):
            return finding
    return None


def fix_text(config: Config, source: SourceFile, text: str, finding: Finding | None) -> str:
    """`text` with the fix of `finding` applied (None: every safe fix), or unchanged."""
    from bastion.fixer import Fixer, _Rewriter, parse_for_fix

    data = text.encode("utf-8")
    if finding is None:
        return Fixer(config).fix_bytes(source, data).fixed.decode("utf-8")
    rule = load_registry().by_id(finding.rule)
    fixer = Fixer(config, unsafe=rule is not None and rule.fix_safety is FixSafety.UNSAFE)
    for targets in fixer._targets_each(source, data, [finding]):
        fixed = _Rewriter(targets, fixer.line_length).transform(data, parse_for_fix(data))
        return fixed.decode("utf-8")
    return text


def _whole_document(uri: str, old: str, new: str) -> types.WorkspaceEdit:
    lines = old.splitlines(keepends=True)
    end = types.Position(line=len(lines), character=0)
    edit = types.TextEdit(range=types.Range(types.Position(0, 0), end), new_text=new)
    return types.WorkspaceEdit(changes={uri: [edit]})


def _ignore_edit(uri: str, text: str, finding: Finding) -> types.WorkspaceEdit:
    """Append `# bastion: ignore[ID] <reason>` to the flagged line (or add the id
    to the directive already there)."""
    import re

    lines = text.splitlines()
    index = finding.line - 1
    line = lines[index] if index < len(lines) else ""
    # the id list stops at `#` too: linear on an open `[` repeated (docs/regex-audit.md)
    existing = re.search(r"#\s*bastion:\s*ignore\[([^\]#]*)\]", line)
    if existing:
        ids = existing.group(1).strip()
        start, end = existing.span(1)
        new_text = f"{ids}, {finding.rule}" if ids else finding.rule
        character_start, character_end = _utf16(line, start), _utf16(line, end)
    else:
        new_text = f"  # bastion: ignore[{finding.rule}] reason: why this is fine here"
        character_start = character_end = _utf16(line, len(line.rstrip()))
        if line.rstrip() != line:
            character_end = _utf16(line, len(line))
    edit = types.TextEdit(
        range=types.Range(
            types.Position(index, character_start), types.Position(index, character_end)
        ),
        new_text=new_text,
    )
    return types.WorkspaceEdit(changes={uri: [edit]})


def create_server() -> BastionServer:
    server = BastionServer()

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: BastionServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.lint(params.text_document.uri)
        await ls.refresh_project(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: BastionServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: BastionServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri, 0)
        await ls.refresh_project(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: BastionServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.documents.pop(uri, None)
        timer = ls.timers.pop(uri, None)
        if timer is not None:
            timer.cancel()
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[
                types.CodeActionKind.QuickFix,
                types.CodeActionKind.SourceFixAll,
            ]
        ),
    )
    def code_action(ls: BastionServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        entry = ls.documents.get(uri)
        if entry is None:
            return []
        text = ls.workspace.get_text_document(uri).source
        actions: list[types.CodeAction] = []
        for diagnostic in params.context.diagnostics:
            if diagnostic.source != SOURCE:
                continue
            finding = _finding_for(entry, diagnostic)
            if finding is None:
                continue
            actions += _actions_for(uri, entry, text, finding, diagnostic)
        fixed = fix_text(entry.config, entry.source, text, None)
        if fixed != text:
            actions.append(
                types.CodeAction(
                    title="bastion: apply all safe fixes",
                    kind=types.CodeActionKind.SourceFixAll,
                    edit=_whole_document(uri, text, fixed),
                )
            )
        return actions

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    def hover(ls: BastionServer, params: types.HoverParams) -> types.Hover | None:
        from bastion.docs import render_markdown

        entry = ls.documents.get(params.text_document.uri)
        if entry is None:
            return None
        line = params.position.line + 1
        rules = load_registry()
        for finding in entry.findings:
            if finding.line <= line <= max(finding.end_line, finding.line):
                rule = rules.by_id(finding.rule)
                if rule is not None:
                    return types.Hover(
                        contents=types.MarkupContent(
                            kind=types.MarkupKind.Markdown, value=render_markdown(rule)
                        )
                    )
        return None

    return server


def _actions_for(
    uri: str, entry: _Document, text: str, finding: Finding, diagnostic: types.Diagnostic
) -> list[types.CodeAction]:
    actions: list[types.CodeAction] = []
    rule = load_registry().by_id(finding.rule)
    if finding.fixable and isinstance(rule, type) and issubclass(rule, Rule):
        fixed = fix_text(entry.config, entry.source, text, finding)
        if fixed != text:
            unsafe = rule.fix_safety is FixSafety.UNSAFE
            title = f"bastion: fix {finding.rule} ({finding.name})"
            actions.append(
                types.CodeAction(
                    title=title + (" - unsafe: review the change" if unsafe else ""),
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=not unsafe,
                    edit=_whole_document(uri, text, fixed),
                )
            )
    actions.append(
        types.CodeAction(
            title=f"bastion: ignore {finding.rule} on this line",
            kind=types.CodeActionKind.QuickFix,
            diagnostics=[diagnostic],
            edit=_ignore_edit(uri, text, finding),
        )
    )
    return actions


def serve() -> None:
    create_server().start_io()
