"""The security rules survive any syntactically valid Python (no internal errors)."""

from __future__ import annotations

import hypothesmith
from hypothesis import given, settings

from bastion.testing import lint_source

SECURITY_RULES = ["SEC004", "SEC005", "SEC006", "SEC007", "SEC008"]
SECURITY_RULES += ["SEC009", "SEC011", "SEC014", "SEC015", "SEC018"]


@settings(max_examples=20)  # generated code rarely reaches the sinks: keep it cheap
@given(hypothesmith.from_grammar())
def test_security_rules_never_crash(code: str) -> None:
    for path in ("app/views.py", "mysite/settings.py"):
        result = lint_source(code, path, select=SECURITY_RULES)
        assert not result.internal_errors, result.internal_errors
