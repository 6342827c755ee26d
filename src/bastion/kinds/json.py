"""JSON settings files bastion reads (pyrightconfig.json): no parser yet, rules read the text."""

from __future__ import annotations

PARSER = None  # no parser yet: rules read the text
DOCUMENT = None
