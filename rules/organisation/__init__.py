"""ORG: code organisation and configuration."""
