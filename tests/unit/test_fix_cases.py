"""Tricky cases of the fixes of ERR006, API004, API009, API011, PERF005, SEC019 and ORG004, the
`fixable` flag (set only where the fix applies), and the edits SARIF carries for safe fixes."""

from __future__ import annotations

import ast
import difflib
import json
from pathlib import Path

import hypothesmith
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings

from bastion.cli import cli
from bastion.config import Config
from bastion.discovery import SourceFile
from bastion.findings import FixSafety
from bastion.fixer import Fixer, NotRoundTrippable, Replacement, replacements
from bastion.registry import load_registry
from bastion.testing import findings_for

MINE = ("ERR006", "API004", "API009", "API011", "PERF005", "SEC019", "ORG004")


def fix(code: str, rule: str, path: str = "m.py") -> str:
    fixer = Fixer(Config(root=Path("."), select=(rule,)), unsafe=True)
    return fixer.fix_bytes(SourceFile(path, Path(path), "python"), code.encode()).fixed.decode()


def fixable(code: str, rule: str) -> list[bool]:
    return [f.fixable for f in findings_for(code, rule)]


# -- the flag says the truth --------------------------------------------------------------------


def _bad_examples() -> list[object]:
    registry = load_registry()
    cases = []
    for rule_id in MINE:
        rule = registry.by_id(rule_id)
        assert rule is not None
        for index, example in enumerate(rule.bad_examples()):
            cases.append(pytest.param(rule_id, example, id=f"{rule_id}-{index}"))
    return cases


@pytest.mark.parametrize(("rule", "example"), _bad_examples())
def test_findings_marked_fixable_are_fixed_and_the_rest_are_not_marked(rule, example) -> None:  # type: ignore[no-untyped-def]
    before = findings_for(example.code, rule, example.path)
    after_code = fix(example.code, rule, example.path)
    ast.parse(after_code)
    after = findings_for(after_code, rule, example.path)
    assert not [f for f in after if f.fixable], after_code
    if not any(f.fixable for f in before):
        assert after_code == example.code  # nothing marked fixable: nothing changes


# -- ERR006 ---------------------------------------------------------------------------------------


def test_err006_no_fix_when_the_name_is_rebound_or_unbound_by_a_nested_handler() -> None:
    nested = (
        "try:\n    a()\nexcept KeyError as e:\n    try:\n        b()\n"
        "    except ValueError as e:\n        pass\n    raise Missing('x')\n"
    )
    assert fixable(nested, "ERR006") == [False]
    assert fix(nested, "ERR006") == nested
    deleted = "try:\n    a()\nexcept KeyError as e:\n    del e\n    raise Missing('x')\n"
    assert fixable(deleted, "ERR006") == [False]


def test_err006_no_fix_for_a_factory_that_may_return_the_caught_exception() -> None:
    code = "try:\n    a()\nexcept KeyError as e:\n    raise self.error(token, e)\n"
    assert fixable(code, "ERR006") == [False]
    made = "try:\n    a()\nexcept KeyError as e:\n    raise make_error(token)\n"
    assert fixable(made, "ERR006") == [True]


def test_err006_fixes_every_raise_of_the_handler_with_its_own_name() -> None:
    code = (
        "try:\n    a()\nexcept KeyError as missing:\n    if x:\n        raise A(1)\n"
        "    raise B(\n        2,\n    )\n"
    )
    assert fix(code, "ERR006") == (
        "try:\n    a()\nexcept KeyError as missing:\n    if x:\n        raise A(1) from missing\n"
        "    raise B(\n        2,\n    ) from missing\n"
    )


# -- PERF005 --------------------------------------------------------------------------------------


def test_perf005_rewrites_the_flagged_call_not_the_one_starting_at_the_same_place() -> None:
    code = "import requests\n\ndef f(url):\n    return requests.Session().get(url)\n"
    assert fix(code, "PERF005") == (
        "import requests\n\ndef f(url):\n    return requests.Session().get(url, timeout=10)\n"
    )


def test_perf005_keeps_one_argument_per_line_layouts() -> None:
    code = "import requests\n\nr = requests.get(\n    url,\n    params=q\n)\n"
    assert fix(code, "PERF005") == (
        "import requests\n\nr = requests.get(\n    url,\n    params=q,\n    timeout=10\n)\n"
    )


# -- API004 ---------------------------------------------------------------------------------------


def test_api004_flask_findings_are_not_fixable() -> None:
    code = (
        "from flask import Flask, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/api/items', methods=['POST'])\ndef add_item():\n"
        "    return jsonify(repo.add(request.get_json()))\n"
    )
    assert fixable(code, "API004") == [False]
    assert fix(code, "API004") == code


# -- SEC019 ---------------------------------------------------------------------------------------


def test_sec019_no_fix_when_secrets_is_another_name_of_the_module() -> None:
    code = (
        "import random\nfrom app import secrets\n\n"
        "def make_token():\n    return random.choice(secrets.ALPHABET)\n"
    )
    assert fixable(code, "SEC019") == [False]
    assert fix(code, "SEC019") == code


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        ("random.randrange(10**6)", "secrets.randbelow(10**6)"),
        ("random.randint(low, high)", "secrets.SystemRandom().randint(low, high)"),
        ("random.randint(1, 6) * 2", "(secrets.randbelow(6) + 1) * 2"),
        ("(random.randint(1, 6))", "(secrets.randbelow(6) + 1)"),
        ("random.sample(ALPHABET, 8)", "secrets.SystemRandom().sample(ALPHABET, 8)"),
        ("random.randbytes(16)", "secrets.token_bytes(16)"),
        ("random.choice(seq=ALPHABET)", "secrets.SystemRandom().choice(seq=ALPHABET)"),
    ],
)
def test_sec019_mapping(call: str, expected: str) -> None:
    code = f"import random\n\ndef make_token():\n    return {call}\n"
    # `import random` goes: nothing uses it after the fix (ruff F401 otherwise)
    assert fix(code, "SEC019") == (f"import secrets\n\ndef make_token():\n    return {expected}\n")


# -- API011 ---------------------------------------------------------------------------------------


def test_api011_reuses_an_existing_annotated_import() -> None:
    code = (
        "from typing_extensions import Annotated\nfrom fastapi import Depends\n\n"
        "def me(user: User = Depends(current_user)):\n    return user\n"
    )
    assert fix(code, "API011") == (
        "from typing_extensions import Annotated\nfrom fastapi import Depends\n\n"
        "def me(user: Annotated[User, Depends(current_user)]):\n    return user\n"
    )


@pytest.mark.parametrize(
    "code",
    [
        # no annotation to put in `Annotated[...]`
        "from fastapi import Depends\n\ndef me(user=Depends(current_user)):\n    return user\n",
        # `Annotated` is something else here
        "from fastapi import Depends\nfrom app import Annotated\n\n"
        "def me(user: User = Depends(current_user)):\n    return user\n",
        # a default factory cannot move out
        "from fastapi import Query\n\ndef f(q: list[str] = Query(default_factory=list)):\n"
        "    return q\n",
    ],
)
def test_api011_not_fixable(code: str) -> None:
    assert fixable(code, "API011") == [False]
    assert fix(code, "API011") == code


def test_api011_default_keyword_and_ordering_in_one_signature() -> None:
    code = (
        "from typing import Annotated\nfrom fastapi import Depends, Query\n\n"
        "def items(db: Session = Depends(get_db), q: str = Query(default='', max_length=9),\n"
        "          user: User = Depends(me)):\n    return db\n"
    )
    # `db` loses its default first in line: fine; `q` keeps one; `user` after it cannot lose its
    assert fixable(code, "API011") == [True, True, False]
    assert fix(code, "API011") == (
        "from typing import Annotated\nfrom fastapi import Depends, Query\n\n"
        "def items(db: Annotated[Session, Depends(get_db)], "
        "q: Annotated[str, Query(max_length=9)] = '',\n"
        "          user: User = Depends(me)):\n    return db\n"
    )


# -- API009 ---------------------------------------------------------------------------------------


def test_api009_adds_every_missing_parameter_typed_from_its_converter() -> None:
    code = (
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.route('/o/<int:org>/p/<float:price>/<slug>')\ndef view():\n    return ''\n"
    )
    assert fix(code, "API009") == (
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.route('/o/<int:org>/p/<float:price>/<slug>')\n"
        "def view(org: int, price: float, slug: str):\n    return ''\n"
    )


def test_api009_positional_only_parameters() -> None:
    head = "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/<int:org>')\n"
    code = head + "def view(a, /):\n    return ''\n"
    assert fix(code, "API009") == head + "def view(a, /, org: int):\n    return ''\n"
    no_room = head + "def view(a=1, /):\n    return ''\n"
    assert fixable(no_room, "API009") == [False]
    assert fix(no_room, "API009") == no_room


def test_api009_with_star_args_goes_keyword_only() -> None:
    code = (
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/items/{item_id}')\nasync def item(*args, q: str = ''):\n    return q\n"
    )
    assert fix(code, "API009") == (
        "from fastapi import FastAPI\napp = FastAPI()\n\n"
        "@app.get('/items/{item_id}')\nasync def item(*args, q: str = '', item_id: str):\n"
        "    return q\n"
    )


# -- ORG004 ---------------------------------------------------------------------------------------


ORG = "from pydantic import BaseModel, Field\n\nclass User(BaseModel):\n    name: str\n\n"


@pytest.mark.parametrize(
    "body",
    [
        "def show(user: User):\n    return user.json(indent=2, sort_keys=True)\n",
        "def show(user: User):\n    return user.copy(include={'name'})\n",
        "class Item(BaseModel):\n    code: str = Field(regex='x', pattern='y')\n",
        "def load(raw):\n    return User.parse_raw(raw)\n",
        # a model of the module overrides `dict()`: `model_dump()` would skip the override
        "class Out(User):\n    def dict(self, **kw):\n        return {'name': self.name}\n\n"
        "def show(user: Out):\n    return user.dict()\n",
    ],
)
def test_org004_not_mechanical_is_not_fixable(body: str) -> None:
    code = ORG + body
    assert fixable(code, "ORG004") == [False]
    assert fix(code, "ORG004") == code


def test_org004_sqlmodel_regex_is_not_fixable() -> None:
    code = (
        "from sqlmodel import Field, SQLModel\n\nclass T(SQLModel):\n"
        "    c: str = Field(regex='x')\n"
    )
    assert fixable(code, "ORG004") == [False]


def test_org004_call_in_a_keyword_argument_is_fixed_as_a_call() -> None:
    code = ORG + "def save(user: User):\n    return repo.put(data=user.dict(), regex=1)\n"
    assert fix(code, "ORG004") == code.replace("user.dict()", "user.model_dump()")


def test_org004_allow_mutation_flips_into_frozen() -> None:
    code = (
        "from pydantic import BaseModel, Field\n\nclass T(BaseModel):\n"
        "    c: int = Field(allow_mutation=False)\n"
    )
    assert fix(code, "ORG004") == code.replace("allow_mutation=False", "frozen=True")


# -- SARIF edits ----------------------------------------------------------------------------------


def apply(text: str, edits: list[Replacement]) -> str:
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(line: int, column: int) -> int:
        return (starts[line - 1] if line - 1 < len(starts) else starts[-1]) + column - 1

    for edit in sorted(edits, key=lambda e: (e.start_line, e.start_column), reverse=True):
        start = offset(edit.start_line, edit.start_column)
        end = offset(edit.end_line, edit.end_column)
        text = text[:start] + edit.inserted + text[end:]
    return text


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("a\nb\nc\n", "a\nB\nc\n"),
        ("a\nb\n", "a\nb\nc\n"),
        ("x = 1\n", ""),
        ("import os\n\nf(é)\n", "import os\nimport sys\n\nf(é, 1)\n"),
        ("a\r\nb\r\n", "a\r\nbb\r\n"),
        ("no newline", "no newline at all"),
    ],
)
def test_replacements_turn_before_into_after(before: str, after: str) -> None:
    edits = list(replacements(before, after))
    assert apply(before, edits) == after


def _safe_examples() -> list[object]:
    cases = []
    for rule in load_registry().file_rules:
        if not rule.is_fixable() or rule.fix_safety is not FixSafety.SAFE:
            continue
        for index, example in enumerate(rule.bad_examples()):
            if example.fixed is not None:
                cases.append(pytest.param(rule.id, example, id=f"{rule.id}-{index}"))
    return cases


@pytest.mark.parametrize(("rule", "example"), _safe_examples())
def test_sarif_edits_reproduce_the_fix(rule, example, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each result's replacements, applied to the file, give the code the fixer writes (all
    of them together when they do not overlap, as in every example)."""
    target = tmp_path / example.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(example.code.encode())
    (tmp_path / "pyproject.toml").write_text("[tool.bastion]\n", encoding="utf-8")
    result = CliRunner().invoke(
        cli,
        ["check", str(tmp_path), "--select", rule, "--format", "sarif", "--no-cache"],
        catch_exceptions=False,
    )
    log = json.loads(result.stdout)
    edits = [
        Replacement(
            r["deletedRegion"]["startLine"],
            r["deletedRegion"]["startColumn"],
            r["deletedRegion"]["endLine"],
            r["deletedRegion"]["endColumn"],
            r["insertedContent"]["text"],
        )
        for res in log["runs"][0]["results"]
        for f in res.get("fixes", [])
        for change in f["artifactChanges"]
        for r in change["replacements"]
    ]
    assert edits
    # every fix adding the same import adds it once in the fixer: keep one of each
    unique = list(dict.fromkeys(edits))
    assert apply(example.code, unique) == example.fixed


def test_sarif_carries_no_fix_for_unsafe_rules(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import requests\n\ndef f(url):\n    return requests.get(url)\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli, ["check", str(tmp_path), "--select", "PERF005", "--format", "sarif", "--no-cache"]
    )
    results = json.loads(result.stdout)["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["PERF005"]
    assert "fixes" not in results[0]


# -- properties over generated programs ------------------------------------------------------------

PLANTED = (
    "import random\nimport requests\nfrom fastapi import FastAPI, Depends, Query\n"
    "app = FastAPI()\n\n"
    "@app.post('/users/{org}')\n"
    "def create_user(page: int = Query(1), db: Session = Depends(get_db)):\n"
    "    try:\n        requests.get('https://x', params={'a': 1}).json()\n"
    "    except KeyError as e:\n        raise Missing(str(e))\n"
    "    token = random.choice(ALPHABET)\n    return token\n"
)


@given(hypothesmith.from_grammar())
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_unsafe_fixes_on_generated_programs_compile_are_idempotent_and_local(code: str) -> None:
    prefix = code + ("\n" if code and not code.endswith("\n") else "")
    data = (prefix + PLANTED).encode()
    try:
        compile(data, "planted.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        assume(False)
    fixer = Fixer(Config(root=Path("."), select=MINE), unsafe=True)
    source = SourceFile("m.py", Path("m.py"), "python")
    try:
        first = fixer.fix_bytes(source, data).fixed
    except NotRoundTrippable:
        return
    compile(first, "fixed.py", "exec", dont_inherit=True)
    assert fixer.fix_bytes(source, first).fixed == first
    before, after = data.decode().splitlines(), first.decode().splitlines()
    planted_from = len(prefix.splitlines())
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        if i1 < planted_from:  # above the planted code: only whole new import lines
            assert tag == "insert", (before[i1:i2], after[j1:j2])
            added = [line for line in after[j1:j2] if line.strip()]
            assert all(line.startswith(("import ", "from ")) for line in added), added
