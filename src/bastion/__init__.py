"""bastion: a static best-practice linter and audit tool for Python backends."""

__version__ = "0.1.0"
