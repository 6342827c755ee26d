"""The shared secret detector (`bastion.secret_formats`): formats, names, placeholders.

Credential-shaped strings are assembled at run time so that the repository itself never holds
one (secret scanners would rightly refuse the push)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.findings import redact_text
from bastion.secret_formats import (
    is_placeholder,
    is_secret_name,
    known_format,
    looks_random,
    secret_for,
)
from bastion.testing import findings_for

A36 = "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
FORMATS = {
    "AWS access key id": "AKIA" + "Q3EGRZ7H2WJXK5PM",
    "GitHub token": "ghp_" + A36,
    "GitHub fine-grained token": "github_pat_" + A36[:22] + "_" + (A36 * 2)[:59],
    "Slack token": "xoxb-" + "73829104652-" + A36[:24],
    "Stripe live key": "sk_" + "live_" + A36[:24],
    "Google API key": "AIza" + A36[:35],
    "JSON Web Token": "eyJ" + A36[:20] + ".eyJ" + A36 + "." + A36[::-1],
}


@pytest.mark.parametrize(("description", "value"), FORMATS.items())
def test_known_formats_are_recognised_anywhere_in_a_string(description: str, value: str) -> None:
    found = known_format(f"Authorization: token {value} ")
    assert found is not None and found.description == description
    assert found.secret == value
    # whatever the name, even a harmless one
    match = secret_for("headers", value)
    assert match is not None and match.by_format


def test_private_key_needs_a_body() -> None:
    header = "-----BEGIN RSA PRIVATE KEY-----"
    footer = "-----END RSA PRIVATE KEY-----"
    assert known_format(header) is None
    assert known_format(f'PEM_HEADER = "{header}"') is None
    body = "\n".join(A36 * 2 for _ in range(3))
    found = known_format(f"{header}\n{body}\n{footer}")
    assert found is not None and found.description == "private key"
    assert not found.issued
    # each line of the key is masked on its own in code frames
    assert A36 * 2 in found.redact


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",  # AWS's documentation key
        "ghp_" + "x" * 36,
        "sk_" + "live_" + "0" * 24,
        "AKIA" + "A" * 16,
    ],
)
def test_documentation_fillers_are_not_credentials(value: str) -> None:
    assert known_format(value) is None


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        ("postgresql://app:Wq7pLz93xKv@db.internal:5432/app", "Wq7pLz93xKv"),
        ("amqp://worker:R4bb1t-Pr0d@mq.internal//", "R4bb1t-Pr0d"),
    ],
)
def test_inline_url_passwords(value: str, secret: str) -> None:
    found = known_format(value)
    assert found is not None and found.secret == secret
    assert found.description == "password in a connection URL"


@pytest.mark.parametrize(
    "value",
    [
        "postgresql://postgres:postgres@localhost/app",
        "postgresql://user:password@localhost/app",
        "postgresql://scott:tiger@localhost/test",
        "redis://:${REDIS_PASSWORD}@cache:6379/0",
        "postgresql://%s:%s@db/app",
        "postgresql://{user}:{password}@{host}/app",
        "postgresql://<user>:<password>@<host>/app",
        "https://example.com/path?next=/a@b",
    ],
)
def test_placeholder_url_passwords(value: str) -> None:
    assert known_format(value) is None


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_KEY",
        "db_password",
        "DB_PASSWD",
        "api_key",
        "apiKey",
        "x-api-key",
        "client_secret",
        "clientSecret",
        "AWS_SECRET_ACCESS_KEY",
        "private_key",
        "access_token",
        "GITHUB_TOKEN",
        "credentials",
        "pwd",
    ],
)
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "PASSWORD_FIELD",
        "password_label",
        "token_url",
        "SECRET_KEY_FILE",
        "password_hash",
        "PASSWORD_HASHERS",
        "password_reset_timeout",
        "token_type",
        "username",
        "cache_key",
        "primary_key",
        "BACKEND_SESSION_KEY",
        "max_password_length",
    ],
)
def test_names_about_a_secret_are_not_secret_names(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "abc",
        "changeme",
        "change-me",
        "<your-api-key>",
        "${API_KEY}",
        "{{ secret_key }}",
        "%(password)s",
        "{password}",
        "xxxxxxxx",
        "********",
        "your-api-key-here",
        "dummy-secret",
        "example-token",
        "test-secret",
        "django-insecure-0123456789",
        "...",
    ],
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "q8#Lr2!vXz7@Pm4kT9wB"),
        ("password", "Tr0ub4dor&3"),
        ("db_password", "hunter22"),
        ("client_secret", "9fK2mQ7xL0pW4vB8nZ3c"),
        ("access_token", "Zx81kQ0pLm29vNc47tRb"),
    ],
)
def test_secret_bindings(name: str, value: str) -> None:
    match = secret_for(name, value)
    assert match is not None and not match.by_format
    assert match.secret == value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PASSWORD_FIELD", "password"),
        ("password_label", "Password"),
        ("password", "Password:"),
        ("password_help", "Enter your password"),
        ("password", "Enter your password"),
        ("apiKey", "apiKey"),
        ("token", "csrftoken"),
        ("token", "IDENTIFIER"),
        ("auth_token", "X-Auth-Token"),
        ("TOKEN_BACKEND", "myapp.auth.backends.TokenBackend"),
        ("password", "pbkdf2_sha256$600000$salt$hash="),
        ("password", "$2b$12$abcdefghijklmnopqrstuv"),
        ("secret", "https://vault.internal/v1/secret/app"),
        ("password", "postgres"),
        ("token", "short"),
        ("SECRET_KEY", "changeme"),
    ],
)
def test_not_secret_bindings(name: str, value: str) -> None:
    assert secret_for(name, value) is None


def test_weak_names_need_random_values() -> None:
    assert secret_for("token", "refresh") is None
    assert secret_for("token", "aZ3kQ9mL2pX7vB4nW8cR") is not None
    assert looks_random("aZ3kQ9mL2pX7vB4nW8cR")
    assert not looks_random("_auth_user_backend")
    assert not looks_random("some words here")


def test_names_only_skips_formats() -> None:
    value = FORMATS["GitHub token"]
    assert secret_for("headers", value, names_only=True) is None


def test_full_length_private_key() -> None:
    import random
    import string

    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "+/"
    lines = ["".join(rng.choice(alphabet) for _ in range(64)) for _ in range(25)]
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"
    found = known_format(pem)
    assert found is not None and found.description == "private key"
    assert set(lines) <= set(found.redact)
    # written with escaped newlines in one string literal, too
    found = known_format(pem.replace("\n", "\\n"))
    assert found is not None and set(lines) <= set(found.redact)


def test_setting_secret_policy_for_other_file_kinds() -> None:
    from bastion.secret_formats import is_template_file, message, setting_secret

    github = FORMATS["GitHub token"]
    assert setting_secret("DB_PASSWORD", "Pr0d-Passw0rd!") is not None
    assert setting_secret("DB_PASSWORD", "") is None
    assert setting_secret("DB_PASSWORD", "${DB_PASSWORD}") is None
    # test files: only service-issued formats; templates: only known formats
    assert setting_secret("DB_PASSWORD", "Pr0d-Passw0rd!", test_file=True) is None
    assert setting_secret("TOKEN", github, test_file=True) is not None
    assert setting_secret("JWT", FORMATS["JSON Web Token"], test_file=True) is None
    assert setting_secret("DB_PASSWORD", "Pr0d-Passw0rd!", template=True) is None
    assert setting_secret("TOKEN", github, template=True) is not None
    match = setting_secret("GITHUB_TOKEN", github)
    assert match is not None
    text = message(match, "in `GITHUB_TOKEN`")
    assert text == "hardcoded GitHub token in `GITHUB_TOKEN`" and github not in text
    assert is_template_file(".env.example") and is_template_file("env.sample")
    assert is_template_file(".env.template") and is_template_file("example.env")
    assert not is_template_file(".env") and not is_template_file(".env.production")


def test_django_insecure_keys_are_real_keys() -> None:
    key = "django-insecure-" + "k2#v9!qz&x7@l3m$w8p^r4t*y6u(b1n)"
    assert secret_for("SECRET_KEY", key) is not None
    assert secret_for("SECRET_KEY", "django-insecure-changeme") is None


def test_jwt_io_sample_token_is_documentation() -> None:
    sample = (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
        ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
        ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    assert known_format(sample) is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("password", "PasswordInput"),
        ("password", "new-password"),
        ("first_superuser_password", "changethis"),
        ("api_key", "X-Api-Key"),
    ],
)
def test_values_about_a_secret(name: str, value: str) -> None:
    assert secret_for(name, value) is None


@given(
    st.text(
        alphabet=st.characters(min_codepoint=33, max_codepoint=126, exclude_characters='"\\'),
        min_size=8,
        max_size=40,
    )
)
def test_a_reported_secret_is_masked_in_its_line(secret: str) -> None:
    code = f'DB_PASSWORD = "{secret}"\n'
    for finding in findings_for(code, "SEC001", "app/settings.py"):
        assert secret not in finding.message
        assert secret not in redact_text(finding.source_line, finding.redact)
