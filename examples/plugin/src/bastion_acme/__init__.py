"""ACME Corp's house rules for bastion (an example plugin)."""
