"""`bastion server` end to end: pygls' own LanguageClient starts the real server as a
subprocess over stdio, opens a file, gets the diagnostics, applies a code action, and sees the
diagnostic go."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("pygls")

from lsprotocol import types
from pygls.lsp.client import LanguageClient

pytestmark = pytest.mark.e2e

CODE = (
    "import logging\n\nlogger = logging.getLogger(__name__)\n\n\n"
    'def login(user):\n    logger.info(f"user {user.id} logged in")\n'
    "    try:\n        user.save()\n    except:\n        return None\n"
)
TIMEOUT = 60


class Session:
    """A client, the diagnostics the server published (per uri, newest last) and a log."""

    def __init__(self) -> None:
        self.client = LanguageClient("bastion-test", "1")
        self.published: dict[str, list[list[types.Diagnostic]]] = {}
        self.arrived = asyncio.Event()
        self.transcript: list[str] = []

        @self.client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
            self.published.setdefault(params.uri, []).append(params.diagnostics)
            codes = sorted(str(d.code) for d in params.diagnostics)
            self.transcript.append(f"publishDiagnostics {Path(params.uri).name} {codes}")
            self.arrived.set()

    async def diagnostics(self, uri: str, predicate: Any) -> list[types.Diagnostic]:
        """Wait for a publication for `uri` that satisfies `predicate`."""

        async def wait() -> list[types.Diagnostic]:
            while True:
                self.arrived.clear()  # before looking: a publication from now on wakes us
                newest = self.published.get(uri, [])[-1:]
                if newest and predicate(newest[0]):
                    return newest[0]
                await self.arrived.wait()

        return await asyncio.wait_for(wait(), TIMEOUT)

    def open(self, path: Path, text: str) -> None:
        self.client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                types.TextDocumentItem(
                    uri=path.as_uri(), language_id="python", version=1, text=text
                )
            )
        )
        self.transcript.append(f"didOpen {path.name}")

    def change(self, uri: str, version: int, text: str, why: str) -> None:
        """Send the whole new text of `uri`, as editors without incremental sync do."""
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)],
            )
        )
        self.transcript.append(f"didChange ({why})")

    async def code_actions(self, uri: str, diagnostic: types.Diagnostic) -> list[types.CodeAction]:
        """The code actions offered for `diagnostic`, logged by title."""
        actions = await self.client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=diagnostic.range,
                context=types.CodeActionContext(diagnostics=[diagnostic]),
            )
        )
        assert actions is not None
        found = [a for a in actions if isinstance(a, types.CodeAction)]
        self.transcript.append(f"codeAction {diagnostic.code} -> {[a.title for a in found]}")
        return found


def _offset(text: str, position: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    return sum(len(x) for x in lines[: position.line]) + position.character  # ASCII text


def apply(text: str, edit: types.WorkspaceEdit, uri: str) -> str:
    """Apply a workspace edit's text edits to `text`, last first."""
    assert edit.changes is not None
    for change in sorted(
        edit.changes[uri], key=lambda e: (e.range.start.line, e.range.start.character), reverse=True
    ):
        start, end = _offset(text, change.range.start), _offset(text, change.range.end)
        text = text[:start] + change.new_text + text[end:]
    return text


async def scenario(root: Path) -> list[str]:
    session = Session()
    client = session.client
    await client.start_io(sys.executable, "-m", "bastion", "server")
    log = session.transcript
    try:
        await client.initialize_async(
            types.InitializeParams(
                capabilities=types.ClientCapabilities(),
                root_uri=root.as_uri(),
                workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name="p")],
            )
        )
        client.initialized(types.InitializedParams())
        path = root / "app" / "auth.py"
        uri = path.as_uri()
        text = path.read_text()
        session.open(path, text)
        first = await session.diagnostics(
            uri, lambda ds: {"LOG002", "ERR001"} <= {d.code for d in ds}
        )
        log2 = next(d for d in first if d.code == "LOG002")
        assert log2.range.start.line == 6 and log2.source == "bastion"
        assert log2.severity == types.DiagnosticSeverity.Information  # LOG002 is info

        # the safe fix of LOG002, offered as the preferred quick fix
        actions = await session.code_actions(uri, log2)
        fix = next(a for a in actions if "fix LOG002" in a.title)
        assert fix.is_preferred and fix.edit is not None
        text = apply(text, fix.edit, uri)
        assert 'logger.info("user %s logged in", user.id)' in text
        session.change(uri, 2, text, "fix applied")
        after = await session.diagnostics(uri, lambda ds: "LOG002" not in {d.code for d in ds})
        assert "ERR001" in {d.code for d in after}

        # ERR001: its fix is unsafe (marked), and the ignore quick-fix silences it
        err = next(d for d in after if d.code == "ERR001")
        actions = await session.code_actions(uri, err)
        titles = [a.title for a in actions]
        assert any("fix ERR001" in t and "unsafe" in t for t in titles)
        ignore = next(a for a in actions if "ignore ERR001" in a.title)
        assert ignore.edit is not None
        text = apply(text, ignore.edit, uri)
        assert "except:  # bastion: ignore[ERR001] reason:" in text
        session.change(uri, 3, text, "ignore added")
        await session.diagnostics(uri, lambda ds: "ERR001" not in {d.code for d in ds})

        # hover on a flagged line shows the rule's documentation
        path.write_text(text)
        client.text_document_did_save(
            types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
        log.append("didSave")
        text += "\n\ndef later():\n    print('x')\n"
        hover_line = text.splitlines().index("    print('x')")
        session.change(uri, 4, text, "a print added")
        await session.diagnostics(uri, lambda ds: "LOG001" in {d.code for d in ds})
        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(line=hover_line, character=5),
            )
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert hover.contents.value.startswith("# LOG001 print-in-app-code")
        log.append("hover LOG001 -> rule doc")

        # a project rule (LOG004: the app has no health endpoint) from the workspace run
        main = root / "app" / "main.py"
        session.open(main, main.read_text())
        await session.diagnostics(main.as_uri(), lambda ds: "LOG004" in {d.code for d in ds})
        await client.shutdown_async(None)
        client.exit(None)
    finally:
        # after a failed step the server was never asked to exit: stop it, bounded, so that a
        # failure is reported instead of hanging the suite
        server = getattr(client, "_server", None)
        if server is not None and server.returncode is None:
            server.kill()
        await asyncio.wait_for(client.stop(), TIMEOUT)
    return log


def test_lsp_open_diagnose_fix_and_ignore(tmp_path: Path) -> None:
    root = tmp_path / "p"
    (root / "app").mkdir(parents=True)
    (root / "app" / "auth.py").write_text(CODE)
    (root / "app" / "main.py").write_text("from fastapi import FastAPI\n\napp = FastAPI()\n")
    (root / "pyproject.toml").write_text('[tool.bastion]\nselect = ["ERR001", "LOG"]\n')
    transcript = asyncio.run(scenario(root))
    print("\n".join(transcript))  # shown with -s: the session, step by step
    assert transcript[0] == "didOpen auth.py"
    assert any(line.startswith("hover LOG001") for line in transcript)


def test_server_without_pygls_says_how_to_install(tmp_path: Path) -> None:
    import subprocess

    blocker = tmp_path / "pygls"
    blocker.mkdir()
    (blocker / "__init__.py").write_text("raise ImportError('blocked', name='pygls')\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "bastion", "server"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2
    assert 'pip install "bastion-lint[server]"' in done.stderr
