"""TOML/YAML/INI parsers: every scalar with its line, and errors that never quote content."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bastion.parsers import DocumentError, SettingsDocument, parse_ini, parse_toml, parse_yaml


def _lines(document: SettingsDocument) -> dict[tuple[str, ...], int]:
    return {v.path: v.line for v in document.values}


def test_toml_values_and_lines() -> None:
    text = (
        "[server]\nport = 8000\n\n[database]\nuser = 'app'\npassword = \"p4ss-W0rd!\"\n"
        "\n[[services]]\nname = 'a'\ntoken = 'one'\n\n[[services]]\nname = 'b'\ntoken = 'two'\n"
        "[a.b]\nc.d = 'deep'\n"
    )
    document = parse_toml(text)
    assert document.data["database"]["password"] == "p4ss-W0rd!"
    lines = _lines(document)
    assert lines[("server", "port")] == 2
    assert lines[("database", "password")] == 6
    assert lines[("services", "0", "token")] == 10
    assert lines[("services", "1", "token")] == 14
    assert lines[("a", "b", "c", "d")] == 16
    by_path = {v.path: v for v in document.values}
    assert by_path[("services", "1", "token")].key == "token"


def test_yaml_values_lines_and_documents() -> None:
    text = "a: 1\ndb:\n  password: 'x'\n  hosts:\n    - one\n    - two\n---\nb: true\n"
    document = parse_yaml(text)
    assert document.data == {"a": 1, "db": {"password": "x", "hosts": ["one", "two"]}}
    assert len(document.documents) == 2
    lines = _lines(document)
    assert lines[("db", "password")] == 3
    assert lines[("db", "hosts", "1")] == 6
    assert lines[("b",)] == 8
    values = {v.path: v.value for v in document.values}
    assert values[("a",)] == 1 and values[("b",)] is True


def test_yaml_aliases_are_walked_once() -> None:
    text = "a: &x [1, 2]\nb: [*x, *x, *x]\nc: [*x, *x]\n"
    document = parse_yaml(text)
    assert len(document.values) == 2


def test_ini_values_and_lines() -> None:
    text = "[DEFAULT]\nbase = 1\n[app:main]\nsqlalchemy.url = sqlite://\nPassword = hunter22\n"
    document = parse_ini(text)
    lines = _lines(document)
    assert lines[("DEFAULT", "base")] == 2
    assert lines[("app:main", "sqlalchemy.url")] == 4
    assert lines[("app:main", "password")] == 5
    assert document.data["app:main"]["password"] == "hunter22"


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (parse_toml, 'password = "Sup3r-Secret-Value\n'),
        (parse_yaml, "password: Sup3r-Secret-Value\n  bad: [\n"),
        (parse_ini, "password = Sup3r-Secret-Value\n"),
        (parse_ini, "[a]\npassword = Sup3r-Secret-Value\n[a\nx\n"),
    ],
)
def test_errors_never_quote_the_file(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DocumentError) as info:
        parser(text)
    assert "Sup3r-Secret-Value" not in str(info.value)
    assert info.value.line >= 1


def test_yaml_unknown_tags_are_plain_data() -> None:
    text = "Resources:\n  Bucket:\n    Name: !Ref BucketName\n    Arn: !GetAtt [Bucket, Arn]\n"
    document = parse_yaml(text)
    assert document.data["Resources"]["Bucket"]["Name"] == "BucketName"
    assert {v.path: v.line for v in document.values}[("Resources", "Bucket", "Name")] == 3


def test_yaml_templates_are_not_parse_errors() -> None:
    helm = (
        "apiVersion: v1\nkind: Secret\n{{- if .Values.x }}\ndata:\n"
        "  a: {{ .Values.a }}\n{{- end }}\n"
    )
    document = parse_yaml(helm)
    assert document.values == []
    with pytest.raises(DocumentError):
        parse_yaml("a: [1, 2\n")


_CONFIG_TEXT = st.text(
    alphabet=st.sampled_from(list("ab=:[]{}\"'#-!&*|>%\n \t.,0")) | st.characters(),
    max_size=200,
)


@given(_CONFIG_TEXT)
def test_parsers_either_parse_or_raise_document_error(text: str) -> None:
    for parser in (parse_toml, parse_yaml, parse_ini):
        try:
            document = parser(text)
        except DocumentError as exc:
            assert exc.line >= 1
        else:
            lines = text.splitlines()
            for value in document.values:
                assert 1 <= value.line <= max(1, len(lines))
