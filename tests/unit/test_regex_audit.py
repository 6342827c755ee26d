"""The regex audit (issue #14, docs/regex-audit.md): no regex in bastion backtracks
super-linearly.

Every regex literal of src/ and rules/ is found by reading the source (so a new one is audited
without being registered), and each is timed on the adversarial families that break
backtracking engines: a prefix the pattern wants (its own literal text), then a unit repeated
to 2 KB and to 20 KB, then a character that makes the match fail. A linear pattern takes ~10x
longer on the larger input; a quadratic one 100x, an exponential one never finishes.
"""

from __future__ import annotations

import ast
import contextlib
import re
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bastion import secret_formats as secrets
from bastion.parsers import DocumentError, check_toml_keys, parse_document
from bastion.suppression import parse_suppressions

if sys.version_info >= (3, 11):
    import re._parser as sre_parse  # type: ignore[import-not-found,unused-ignore]
else:  # pragma: no cover - exercised on 3.10 only
    import sre_parse

ROOT = Path(__file__).resolve().parents[2]
_FUNCS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}
# the one regex call that compiles another process's input (the scanned tree's CORS origin
# pattern: timed by its own test below), and the patterns built at import time from fixed
# tables or escaped text (their parts are audited as literals where they are written)
DYNAMIC = {
    ("rules/security/cors.py", "pattern"),
    ("src/bastion/secret_formats.py", "pattern"),  # `_re(pattern)`: the wrapper itself
    ("src/bastion/discovery.py", "fnmatch"),
    ("src/bastion/kinds/pyproject.py", "re.escape"),
    ("src/bastion/linear_glob.py", "linear_regex"),  # pathspec's regexes made linear
}


def _flags(node: ast.expr | None) -> int:
    if node is None:
        return 0
    return int(eval(compile(ast.Expression(node), "<flags>", "eval"), {"re": re}))


def _anchored_names(tree: ast.Module) -> set[str]:
    """Names of compiled patterns that the module only ever calls `.match`/`.fullmatch` on
    (one start position: timed that way)."""
    methods: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            methods.setdefault(node.value.id, set()).add(node.attr)
    return {name for name, used in methods.items() if used <= {"match", "fullmatch"}}


def _module_pattern(rel: str, name: str | None) -> str | None:
    """The pattern of module constant `name` of the file `rel`, if it is a compiled regex."""
    if name is None:
        return None
    import importlib

    module = rel.removeprefix("src/").removesuffix(".py").replace("/", ".")
    value = getattr(importlib.import_module(module), name, None)
    return value.pattern if isinstance(value, re.Pattern) else None


def regex_literals() -> Iterator[tuple[str, int, str, int, bool]]:
    """(file, line, pattern, flags, anchored) for each regex literal passed to `re.*` (or to
    secrets.py's `_re`) in src/ and rules/; `anchored` when it is only ever matched from the
    start of a text (`re.match`, `re.fullmatch`, or a constant used only that way)."""
    files = sorted([*ROOT.glob("src/bastion/**/*.py"), *ROOT.glob("rules/**/*.py")])
    for path in files:
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        anchored_names = _anchored_names(tree)
        assigned: dict[int, str] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and isinstance(node.value, ast.Call):
                    assigned[id(node.value)] = target.id
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            is_re = (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "re"
                and func.attr in _FUNCS
            )
            if not (is_re or (isinstance(func, ast.Name) and func.id == "_re")):
                continue
            try:
                pattern = ast.literal_eval(node.args[0])
            except ValueError:
                # built from other constants (`f"{_TOKEN}*"`): the compiled module constant
                built = _module_pattern(rel, assigned.get(id(node)))
                if built is None:
                    text = ast.unparse(node.args[0])
                    assert any(rel == f and key in text for f, key in DYNAMIC), (rel, text)
                    continue
                pattern = built
            name = func.attr if isinstance(func, ast.Attribute) else "compile"
            position = 1 if name == "compile" else 2 if name in {"search", "match"} else 3
            flag_node = next((k.value for k in node.keywords if k.arg == "flags"), None)
            if flag_node is None and len(node.args) > position:
                flag_node = node.args[position] if name != "split" else None
            anchored = name in {"match", "fullmatch"} or (
                name == "compile" and assigned.get(id(node)) in anchored_names
            )
            yield rel, node.lineno, pattern, _flags(flag_node), anchored


LITERALS = list(regex_literals())


def test_the_audit_table_lists_every_regex() -> None:
    """docs/regex-audit.md says how many regexes there are and how each is linear: adding one
    without auditing it fails here."""
    doc = (ROOT / "docs" / "regex-audit.md").read_text(encoding="utf-8")
    count = re.search(r"\*\*(\d+) regex literals\*\*", doc)
    assert count is not None and int(count.group(1)) == len(LITERALS), len(LITERALS)
    for rel, *_ in LITERALS:
        assert f"`{rel}`" in doc, rel
    assert len({literal[2] for literal in LITERALS}) > 60


# -- adversarial inputs -----------------------------------------------------------------------

_BASE_CHARS = "aA0 \n_-.:/\\@=+!#'\"`<({[%$,"


def _literal_runs(pattern: str, flags: int) -> list[str]:
    """The literal texts a pattern spells out (`-----BEGIN `, `://`, `eyJ`): prefixes that get
    an engine past the cheap first steps."""
    runs: list[str] = []

    def walk(items: Any) -> None:
        current = ""
        for op, arg in items:
            name = str(op)
            if name == "LITERAL":
                current += chr(arg)
                continue
            if len(current) >= 2:
                runs.append(current)
            current = ""
            if name in {"SUBPATTERN"}:
                walk(arg[-1])
            elif name in {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}:
                walk(arg[2])
            elif name == "BRANCH":
                for branch in arg[1]:
                    walk(branch)
            elif name in {"ASSERT", "ASSERT_NOT"}:
                walk(arg[1])
        if len(current) >= 2:
            runs.append(current)

    parsed = sre_parse.parse(pattern, flags)
    walk(parsed)
    # the skeleton: every top-level literal, the optional parts left out (`#\s*bastion:\s*
    # ignore\[` -> `#bastion:ignore[`): repeated, it starts a match at every copy
    skeleton, literals = "", ""
    for op, arg in parsed:
        if str(op) == "LITERAL":
            literals += chr(arg)
        else:
            skeleton = literals  # the literals before the last part that is not one
    found = sorted(set(runs), key=lambda r: (-len(r), r))[:6]
    return [skeleton, *found] if len(skeleton) >= 2 and skeleton not in found else found


def _units(pattern: str, runs: list[str]) -> list[str]:
    """Units to repeat: every character the pattern mentions and a few classes' members, pairs
    of them alternating with a blank or a letter, and the pattern's literal texts."""
    chars = sorted(set(_BASE_CHARS) | {c for c in pattern if c.isprintable() and c != "\\"})
    units = list(chars)
    units += [c + " " for c in chars] + ["a" + c for c in chars] + [c + "a" for c in chars]
    units += ["a ", "a\n", "\\n", "aB", "a1", "\t\n"]
    units += runs + [r + "a" for r in runs] + [r + " " for r in runs]
    return list(dict.fromkeys(units))


def _families(pattern: str, flags: int) -> Iterator[tuple[str, str, str]]:
    runs = _literal_runs(pattern, flags)
    units = _units(pattern, runs)
    for unit in units:
        yield "", unit, "\x00"
    for prefix in runs[:3]:
        for unit in units:
            if len(unit) == 1 or unit in runs:
                yield prefix, unit, "\x00"


def _best_time(fn: Callable[[], object], repeat: int = 1) -> float:
    """CPU time of this process (the machine may be busy with other work: wall time is not a
    measure of the algorithm)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def _runner(compiled: re.Pattern[str], anchored: bool) -> Callable[[str], object]:
    if anchored:
        return lambda text: (compiled.match(text), compiled.fullmatch(text))
    # search finds the worst start; findall also runs every start after a match
    return lambda text: (compiled.search(text), compiled.findall(text))


def assert_linear(run: Callable[[str], object], make: Callable[[int], str], label: str) -> None:
    """`run` on a 50 KB input takes at most ~20x its time on 5 KB (a linear algorithm: 10x)."""
    small, large = make(5_000), make(50_000)
    base = _best_time(lambda: run(small), repeat=3)
    bound = 20 * base + 0.05
    took = _best_time(lambda: run(large))
    if took > bound:  # one retry: the machine may have been busy
        took = _best_time(lambda: run(large), repeat=3)
    assert took <= bound, f"{label}: {took:.3f}s on 50 KB vs {base:.4f}s on 5 KB"


def _sized(prefix: str, unit: str, suffix: str) -> Callable[[int], str]:
    return lambda size: prefix + unit * max(1, (size - len(prefix)) // len(unit)) + suffix


@pytest.mark.parametrize(
    ("where", "pattern", "flags", "anchored"),
    [pytest.param(f"{f}:{n}", p, fl, a, id=f"{f}:{n}") for f, n, p, fl, a in LITERALS],
)
def test_regex_is_linear_on_adversarial_families(
    where: str, pattern: str, flags: int, anchored: bool
) -> None:
    compiled = re.compile(pattern, flags)
    run = _runner(compiled, anchored)
    for prefix, unit, suffix in _families(pattern, flags):
        make = _sized(prefix, unit, suffix)
        label = f"{where} {pattern!r} on {prefix!r}+{unit!r}*n+{suffix!r}"
        with _deadline(10, label):  # an exponential pattern would never return
            # a cheap screen at 5 KB first: most families are far below any bound
            if _best_time(lambda make=make: run(make(5_000))) < 0.01:
                continue
            assert_linear(run, make, label)


@contextlib.contextmanager
def _deadline(seconds: float, label: str) -> Iterator[None]:
    def expire(signum: int, frame: object) -> None:
        raise AssertionError(f"{label}: still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_audit_catches_the_patterns_it_replaced() -> None:
    """The check above fails on the former patterns (it is not a tautology)."""
    former = {
        # secrets.py `_JOINED_WORDS` (exponential), parsers.py `_TOML_TABLE` (quadratic),
        # engine.py `_NEWER_SYNTAX` (quadratic on blank lines)
        r"^[_\-]*[A-Za-z][a-z]*(?:[_\-.]*[A-Za-z][a-z]*)*[_\-]*$": ("", "a", "!"),
        r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?": ("[", " ", "\x00"),
        r"^\s*type\s+\w+": ("", "\n", "\x00"),
        # suppress_command.py / server/lsp.py before the audit's skeleton family found them
        r"#\s*bastion:\s*ignore\[(?P<ids>[^\]]*)\]": ("", "#bastion:ignore[", "\x00"),
    }
    for pattern, (prefix, unit, suffix) in former.items():
        run = _runner(re.compile(pattern, re.MULTILINE), anchored=False)
        with pytest.raises(AssertionError), _deadline(3, pattern):
            assert_linear(run, _sized(prefix, unit, suffix), pattern)


# -- per detector: hypothesis draws the adversarial family ------------------------------------


_PEM = "-----BEGIN " + "PRIVATE KEY-----"
_PREFIXES = [
    "",
    _PEM,
    _PEM + "\n",
    _PEM + "\\n",
    "-----BEGIN RSA ",
    "postgres://",
    "a://b:",
    "eyJ",
    "eyJa.eyJ",
    "xoxb-123456-",
    "ghp_",
    "sk_live_",
    "AKIA",
    "AIza",
    "https://hooks.slack.com/services/T",
    "${",
    "{{",
    "{%",
    "%(",
    "<",
    "pbkdf2_sha256$",
    "$2b$",
    "# bastion: ignore[",
    "[",
    "[[",
    "type ",
    "a.",
]
_ALPHABET = "aAzZ09 \n\t_-.:/\\@=+!#'\"`<>({[]})%$,;*?^~&|"


@st.composite
def adversarial(draw: st.DrawFn) -> str:
    """A prefix a pattern wants, a short unit repeated to 5-50 KB, and a character that makes
    the match fail at the very end."""
    prefix = draw(st.sampled_from(_PREFIXES))
    unit = draw(st.text(alphabet=_ALPHABET, min_size=1, max_size=4))
    size = draw(st.integers(5_000, 50_000))
    suffix = draw(st.sampled_from(["", "!", "\x00", " ", "\n", "\\"]))
    return prefix + unit * max(1, (size - len(prefix)) // len(unit)) + suffix


def _linear_bound(text: str) -> float:
    # generous: 20 microseconds a character (50 KB: 1 s), where a quadratic detector needs
    # minutes and an exponential one never returns
    return 0.1 + 20e-6 * len(text)


DETECTORS: dict[str, Callable[[str], object]] = {
    "known_format": secrets.known_format,
    "dsn_password": secrets.dsn_password,
    "secret_for": lambda text: secrets.secret_for("API_TOKEN", text),
    "secret_for(value as name)": lambda text: secrets.secret_for(text, "Pr0d-s3cret"),
    "setting_secret": lambda text: secrets.setting_secret("DB_PASSWORD", text, template=False),
    "is_placeholder": secrets.is_placeholder,
    "is_password_hash": secrets.is_password_hash,
    "looks_random": secrets.looks_random,
    "is_secret_name": secrets.is_secret_name,
    "suppressions": lambda text: parse_suppressions(text.splitlines()),
    "toml key depth": lambda text: _swallow(check_toml_keys, text),
    "toml settings": lambda text: _swallow(parse_document, "toml", text),
    "ini settings": lambda text: _swallow(parse_document, "ini", text),
    "dotenv": lambda text: _swallow(parse_document, "dotenv", text),
    "requirements": lambda text: _swallow(parse_document, "requirements", text),
}


def _swallow(fn: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(DocumentError):
        fn(*args)


@pytest.mark.parametrize("name", sorted(DETECTORS))
def test_detector_is_linear_on_adversarial_input(name: str) -> None:
    detector = DETECTORS[name]

    @settings(max_examples=12, deadline=None, database=None)
    @given(adversarial())
    def check(text: str) -> None:
        with _deadline(30, name):
            took = _best_time(lambda: detector(text))
        assert took <= _linear_bound(text), (name, len(text), text[:60])

    check()


def test_rewritten_patterns_match_what_the_former_ones_matched() -> None:
    """Same language, linear algorithm: on short texts (where the former patterns are still
    fast) the new ones agree with them."""
    pairs = [
        (
            r"^[_\-]*[A-Za-z][a-z]*(?:[_\-.]*[A-Za-z][a-z]*)*[_\-]*$",
            secrets._JOINED_WORDS,
            "aAbB_-.!1",
        ),
    ]
    from bastion.kinds import ini as ini_kind
    from bastion.kinds import toml as toml_kind

    @settings(max_examples=400, deadline=None, database=None)
    @given(st.text(alphabet="aAbB_-.!1", max_size=12))
    def joined(text: str) -> None:
        former = re.compile(pairs[0][0])
        assert bool(former.match(text)) == bool(secrets._JOINED_WORDS.match(text)), text

    @settings(max_examples=400, deadline=None, database=None)
    @given(st.text(alphabet="[] a.\"'\t=", max_size=14))
    def toml_table(text: str) -> None:
        former = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?").match(text)
        new = toml_kind._TOML_TABLE.match(text)
        assert (former is None) == (new is None), text
        if former and new:
            old_name = ".".join(p.strip().strip("\"'") for p in former.group(1).split("."))
            new_name = ".".join(p.strip().strip("\"'") for p in new.group(1).split("."))
            assert old_name == new_name, text

    @settings(max_examples=400, deadline=None, database=None)
    @given(st.text(alphabet="ab =:#; \t", max_size=12))
    def ini_option(text: str) -> None:
        former = re.compile(r"^([^\s=:#;][^=:]*?)\s*[=:]").match(text)
        new = ini_kind._INI_OPTION.match(text)
        assert (former is None) == (new is None), text
        if former and new:
            assert former.group(1).strip() == new.group(1).strip(), text

    @settings(max_examples=400, deadline=None, database=None)
    @given(st.text(alphabet="ab-_=\"' \t.", max_size=14))
    def toml_key(text: str) -> None:
        pattern = r"""([A-Za-z0-9_\-]+|"[^"\n]*"|'[^'\n]*')\s*=(?!=)"""
        former = [m.group(1) for m in re.finditer(pattern, text)]
        assert former == [m.group(1) for m in toml_kind._TOML_KEY.finditer(text)], text

    @settings(max_examples=300, deadline=None, database=None)
    @given(st.text(alphabet="ab \n=" + "-+/", max_size=40))
    def private_key(text: str) -> None:
        former = re.compile(
            r"-----BEGIN (?:[A-Z0-9]+ ){0,2}PRIVATE KEY(?: BLOCK)?-----"
            r"(?:\\n|\s)+(?:[A-Za-z0-9+/=:,\- ]+(?:\\n|\s)+)*?[A-Za-z0-9+/=]{40,}"
            r"[\s\S]*?-----END (?:[A-Z0-9]+ ){0,2}PRIVATE KEY(?: BLOCK)?-----"
        )
        body = _PEM + "\n" + text + "\n" + "Ab1+" * 11 + "\n" + text
        value = body + "\n" + _PEM.replace("BEGIN", "END")
        assert [m.group(0) for m in former.finditer(value)] == list(secrets._private_keys(value)), (
            value
        )

    for check in (joined, toml_table, ini_option, toml_key, private_key):
        check()
