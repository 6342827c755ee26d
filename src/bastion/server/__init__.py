"""`bastion server`: a Language Server (LSP over stdio, on pygls) for editors.

Diagnostics on open, change (debounced) and save, from the same engine as `bastion check`;
project rules (routes, settings, dependencies across files) from a run over the workspace that
uses the same cache; code actions for the fixes (safe ones preferred, unsafe ones marked) and a
`# bastion: ignore[ID]` quick-fix; hover shows the rule's documentation. pygls is an optional
dependency: `pip install "bastion-lint[server]"`.
"""

from __future__ import annotations
