"""`bastion.redact`: what it masks, what it leaves alone, that it stays linear, and `visible`.

Secrets are generated at run time (the repository must not hold credential-shaped strings).
"""

from __future__ import annotations

import random
import string
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.findings import Finding, Severity
from bastion.redact import json_text, redact, redact_data, visible
from bastion.suppression import parse_suppressions

_RNG = random.Random(1204)
_ALNUM = string.ascii_letters + string.digits


def _pick(n: int, alphabet: str = _ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(n))


STRIPE = "sk_live_" + _pick(24)
AWS = "AKIA" + _pick(16, string.ascii_uppercase + string.digits)
GITHUB = "ghp_" + _pick(36)
JWT = "eyJ" + _pick(30) + ".eyJ" + _pick(40) + "." + _pick(43)
RANDOM = _pick(28)
PEM_BODY = [_pick(64, _ALNUM + "+/") for _ in range(3)] + [_pick(12)]


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f'stripe.api_key = "{STRIPE}"', STRIPE),
        (f"AWS_ACCESS_KEY_ID={AWS}", AWS),
        (f"headers = {{'Authorization': 'token {GITHUB}'}}", GITHUB),
        (f"Authorization: Bearer {JWT}", JWT),
        (f"Authorization: Bearer {RANDOM}", RANDOM),
        (f"git+https://deploy:{RANDOM}@github.com/acme/lib.git", RANDOM),
        (f"RUN pip install --index-url https://ci:{RANDOM}@pypi.acme/simple app", RANDOM),
        (f'DB_PASSWORD = "{RANDOM}"', RANDOM),
        (f'    api_key: str = "{RANDOM}"', RANDOM),
        (f'{{"client_secret": "{RANDOM}"}}', RANDOM),
        (f"  password: {RANDOM}#x&y", RANDOM),
        (f"SECRET_KEY={RANDOM}", RANDOM),
        (f"--password={RANDOM},", RANDOM),
        (f"api_token = '{RANDOM}'  # prod", RANDOM),
        (f"ENV DB_PASSWORD {RANDOM}", RANDOM),
        (f'ENV API_TOKEN "{RANDOM}"', RANDOM),
        (PEM_BODY[0], PEM_BODY[0]),
        (f'    "{PEM_BODY[1]}"', PEM_BODY[1]),
    ],
)
def test_masks_every_secret_looking_value(line: str, secret: str) -> None:
    masked = redact(line)
    assert secret not in masked
    assert "****" in masked
    assert redact(masked) == masked  # idempotent: a masked line is a fixed point


@pytest.mark.parametrize(
    "line",
    [
        "except:",
        "password = os.environ['DB_PASSWORD']",
        "password=get_password()",
        "f(password=new_password, user=u)",
        "token = request.headers.get('X-Token')",
        "PASSWORD_FIELD = 'password'",
        "DATABASE_URL = 'postgres://user:${DB_PASSWORD}@db/app'",
        "DATABASE_URL = 'postgres://postgres:postgres@localhost/app'",
        "api_key = settings.API_KEY",
        "secret_key_file: /run/secrets/key",
        "--hash=sha256:4f2d8c3b9a0e1f5d6c7b8a9e0f1d2c3b4a5e6f7d8c9b0a1e2f3d4c5b6a7e8f9d",
        "AKIAIOSFODNN7EXAMPLE",
        "x" * 5000,
        "ENV PATH /usr/local/bin:$PATH",
        "ENV PASSWORD_FILE /run/secrets/db",
        "\u00e9t\u00e9 = 'caf\u00e9'",
    ],
)
def test_leaves_secret_free_lines_unchanged(line: str) -> None:
    assert redact(line) == line


def test_a_pem_key_is_masked_line_by_line_even_its_short_last_line() -> None:
    lines = [
        "KEY = '''-----BEGIN RSA PRIVATE KEY-----",
        *PEM_BODY,
        "-----END RSA PRIVATE KEY-----'''",
    ]
    text = "\n".join(lines) + "\n"
    masked = redact(text)
    assert masked.count("\n") == text.count("\n")  # same lines: frames keep their numbers
    for body in PEM_BODY:
        assert body not in masked
    inline = (
        "KEY = '-----BEGIN PRIVATE KEY-----\\n"
        + "\\n".join(PEM_BODY)
        + "\\n-----END PRIVATE KEY-----'"
    )
    assert not any(body in redact(inline) for body in PEM_BODY)


def test_a_pem_header_constant_masks_nothing_after_it() -> None:
    text = 'HEADER = "-----BEGIN PRIVATE KEY-----"\npassword = os.environ["X"]\nx = 1\n'
    assert redact(text) == text


def test_a_diff_keeps_its_prefixes() -> None:
    diff = f"--- a/x.py\n+++ b/x.py\n@@ -1 +1 @@\n-KEY = '{STRIPE}'\n+KEY = '{STRIPE}'  # x\n"
    masked = redact(diff)
    assert STRIPE not in masked
    assert [line[:1] for line in masked.splitlines()] == ["-", "+", "@", "-", "+"]


def test_many_secrets_on_one_line_are_all_masked() -> None:
    keys = ["sk_live_" + _pick(24) for _ in range(40)]
    masked = redact(" ".join(keys))
    assert not any(k in masked for k in keys)


def test_redact_data_masks_nested_strings_and_keys() -> None:
    data = {"requirements": [{"url": f"git+https://u:{RANDOM}@h/r.git", "n": 1}], STRIPE: True}
    masked = redact_data(data)
    assert RANDOM not in repr(masked) and STRIPE not in repr(masked)
    assert masked["requirements"][0]["n"] == 1


def test_a_finding_masks_its_texts_whoever_builds_it() -> None:
    finding = Finding(
        rule="LOG002",
        name="eager-formatting",
        severity=Severity.WARNING,
        category="logging",
        path="app.py",
        line=1,
        column=1,
        end_line=1,
        end_column=2,
        message=f"f-string `charging with {STRIPE}`",
        fix_hint=f"use %s, not {GITHUB}",
        source_line=f'logger.info(f"charging with {STRIPE}")',
        suppressed_by=f"key {STRIPE} was revoked",
    )
    for text in (finding.message, finding.fix_hint, finding.source_line, finding.suppressed_by):
        assert text is not None and STRIPE not in text and GITHUB not in text
    assert finding.source_line == 'logger.info(f"charging with sk_l****")'


def test_a_justification_never_quotes_a_secret() -> None:
    parsed = parse_suppressions([f"# bastion: ignore[SEC001] key {STRIPE} was revoked"])
    (directive,) = parsed.directives
    assert directive.reason == "key sk_l**** was revoked"


# -- linear time ----------------------------------------------------------------------------------

ADVERSARIAL = [
    "password" + "=" * 50_000,
    "a" * 100_000,
    "a-" * 50_000,
    "password: " + "x," * 50_000,
    "token = " + "'" * 50_000,
    "Bearer " * 20_000,
    "ENV password " * 10_000,
    "password: str" + " " * 50_000,
    "key" + ": [" * 30_000,
    "https://" * 20_000,
    ("password_" + "a" * 70 + " ") * 1_000,
]


@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_stays_fast_on_adversarial_lines(text: str) -> None:
    start = time.perf_counter()
    redact(text)
    elapsed = time.perf_counter() - start
    # the same text ten times shorter takes about a tenth: no super-linear blow-up
    assert elapsed < 1.5, elapsed


@given(st.text(alphabet=st.sampled_from("pasword_key:= \"'ABC12/+@\n"), max_size=400))
def test_masking_is_a_fixed_point(text: str) -> None:
    once = redact(text)
    assert redact(once) == once
    assert once.count("\n") == text.count("\n")


# -- visible --------------------------------------------------------------------------------------

RAW = (
    "\x00\x07\x08\x0b\x0c\x0d\x1b\x7f\x85\x9b\u061c\u200e\u200f\u2028\u2029\u202a\u202e\u2066\u2069"
)


def test_visible_spells_out_every_control() -> None:
    shown = visible("a" + RAW + "\n\tb")
    assert not any(c in shown for c in RAW + "\n")
    assert "\\x1b" in shown and "\\u202e" in shown and "\\x0a" in shown and "\t" in shown
    kept = visible("a\r\nb\rc\n", keep_newlines=True)
    assert kept == "a\r\nb\\x0dc\n"
    assert visible("plain text: caf\u00e9 \u4e2d") == "plain text: caf\u00e9 \u4e2d"


@given(st.text(max_size=200))
def test_visible_never_lets_a_control_through(text: str) -> None:
    shown = visible(text)
    assert not any(c in shown for c in RAW + "\n")


def test_json_text_escapes_what_json_leaves_raw() -> None:
    assert json_text('{"p": "a\u202eb\x9b"}') == '{"p": "a\\u202eb\\u009b"}'
