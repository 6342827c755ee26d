"""The plugin's rules run their own examples, with bastion's helper for rule authors."""

from bastion_acme.rules import RouteWithoutOwnerTag

from bastion.testing import check_rule_examples


def test_examples() -> None:
    check_rule_examples(RouteWithoutOwnerTag)
