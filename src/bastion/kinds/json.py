"""JSON settings files bastion reads (pyrightconfig.json): no parser yet, rules read the text."""

from __future__ import annotations

from bastion.kinds.common import Kind

KIND = Kind("json", ("pyrightconfig.json",))
