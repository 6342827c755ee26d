"""SEC001: hardcoded secrets in Python, `.env`, TOML, YAML and INI files."""

from __future__ import annotations

import ast
import functools
import re
from urllib.parse import urlsplit

from bastion.analysis.deploy import ComposeDocument, DockerfileDocument
from bastion.analysis.deploy import EnvEntry as DeployEntry
from bastion.analysis.django import production_overrides
from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.nodes import string_value, target_names
from bastion.analysis.secret_sinks import (
    KEY_SINK_NAMES,
    SinkSecret,
    assign_sinks,
    call_sinks,
    compare_sinks,
    dict_sinks,
)
from bastion.astcompat import is_template
from bastion.context import FileContext
from bastion.file_roles import (
    is_container_bootstrap_password,
    is_lock_file,
    secret_context,
)
from bastion.findings import Severity
from bastion.parsers import EnvEntry, SettingsDocument
from bastion.rule import Example, Rule
from bastion.secret_formats import (
    SecretMatch,
    is_secret_name,
    is_template_file,
    known_format,
    looks_random,
    message,
    password_is_user_name,
    points_at_local_database,
    reportable,
    secret_for,
    setting_secret,
)

# Environment lookups whose second argument / `default=` is a fallback value.
_ENV_LOOKUPS = frozenset(
    {
        "os.getenv",
        "os.environ.get",
        "os.environ.setdefault",
        "os.getenv_b",
        "decouple.config",
        "environ.Env",
    }
)
# their last names (and `environ.get`'s): the calls worth resolving
_ENV_LOOKUP_NAMES = last_parts(_ENV_LOOKUPS) | {"get"}
# calls that matter even without a literal keyword argument: environment lookups and key sinks
_NAMED_CALLS = _ENV_LOOKUP_NAMES | KEY_SINK_NAMES

# `secret_for(name, value)` is None whenever the name is not secret-like and the value is in
# no known format: the name's half of that answer, once per distinct name
_cached_secret_name = functools.lru_cache(maxsize=4096)(is_secret_name)


def _secret_name(name: str) -> bool:
    # names are identifiers and dict keys: a long key (a sentence, a blob) is not kept alive
    return _cached_secret_name(name) if len(name) <= 80 else is_secret_name(name)


def _service_entries(document: object) -> list[tuple[str, DeployEntry]]:
    """(service, entry) of a compose file's `environment:` blocks; ("", entry) for a
    Dockerfile's `ENV`/`ARG`."""
    if isinstance(document, ComposeDocument):
        return [(str(service), entry) for service, entry in document.environment]
    if isinstance(document, DockerfileDocument):
        return [("", entry) for entry in document.env_entries()]
    return []


def _severity(match: SecretMatch) -> Severity | None:
    """A credential in a format a service issues (AWS, GitHub, Slack, Stripe, Google keys,
    private keys) is an error; a value found by its name (`PASSWORD = "..."`) is a warning:
    measured on real applications (bench/ecosystem), those were often development defaults."""
    if match.by_format and (match.issued or "private key" in match.description):
        return None
    return Severity.WARNING


def _local_url(match: SecretMatch, value: str) -> bool:
    """A connection URL to a database on the developer's own machine (`alembic.ini`'s
    `postgresql://app:pw@localhost/app`): the password of a local development database."""
    if match.by_format and "://" in value:
        try:
            host = urlsplit(value.strip()).hostname
        except ValueError:
            return False
        return host in ("localhost", "127.0.0.1", "::1")
    return False


_STRING_LITERAL = re.compile(r"^[rRbBuU]{0,2}('''|\"\"\"|'|\")(.*)\1$", re.DOTALL)


def _written_text(source: str, node: ast.expr) -> str | None:
    """The text between the quotes of a string literal as it appears in the source."""
    segment = ast.get_source_segment(source, node)
    match = _STRING_LITERAL.match(segment) if segment else None
    return match.group(2) if match and len(match.group(2)) >= 4 else None


_EXAMPLE_KEYS = frozenset({"example", "examples", "x-example", "x-examples", "sample"})


class HardcodedSecret(Rule):
    """Flags credentials written into the code or the settings files of the repository.

    In Python files:
    - a string literal bound to a secret-like name: `SECRET_KEY = "..."`, `self.password =
      "..."`, `settings["api_key"] = "..."`, class attributes and annotated fields
      (`password: str = "..."`), dict literals (`{"client_secret": "..."}`), keyword
      arguments (`connect(password="...")`) and parameter defaults (`def login(pwd="...")`:
      the default is used whenever a caller leaves it out);
    - a fallback given to an environment lookup for a secret-like variable when it looks like
      a real key (`os.getenv("API_KEY", "9f8a...")`);
    - any string literal in a known credential format (AWS access key id, GitHub, Slack,
      Stripe live and Google API keys, PEM private keys, JWTs) or a URL with an inline
      password (`postgres://app:s3cr3t@db/app`), whatever its name.

    In `.env` files and TOML/YAML/INI settings files, the same checks run on every
    `key = value`. Template files (`.env.example`, `.env.sample`, `.env.template`) only
    report known credential formats: their values are meant to be placeholders.

    Deliberately silent on: empty and very short values, placeholders (`changeme`, `<token>`,
    `${VAR}`, `{{ secret }}`, `%(password)s`, `{password}`, `xxx`, `***`,
    `your-api-key-here`, `dummy`, `example`, `test`, `insecure`...), environment lookups
    (`os.environ["X"]`, `os.getenv("X", "dev-default")`), Pydantic fields without a literal
    default (`password: SecretStr = Field(...)`), names about a secret rather than holding one
    (`PASSWORD_FIELD = "password"`, `password_label = "Password"`, `token_url`,
    `password_hash`), stored password hashes (`pbkdf2_sha256$...`), labels and sentences,
    URLs and dotted paths. For `token`/`auth`/`credentials` names the value must also look
    machine-made (16+ characters, mixed classes, high entropy).

    Measured on real application repositories (bench/ecosystem), most name-based matches
    outside the application's own settings were throwaway credentials, so these files are
    treated like test files (only service-issued formats are reported): CI configuration
    (`.github/workflows/`, `.gitlab-ci.yml`, `.ci/`: the `services:` database passwords,
    `secrets: inherit`), development and test configuration (`.devcontainer/`, `dev/`, `e2e/`,
    task-runner files, `docker-compose.dev.yml`, `compose.ci.yaml`, `.env.testing`,
    `Dockerfile.dev`) and test/dev settings modules (`settings/test.py`,
    `configuration_testing.py`). Lock files (`pnpm-lock.yaml`, `poetry.lock`...) are not read:
    `@inquirer/password` is a package. In compose files the bootstrap password of a database
    container the file itself creates (`POSTGRES_PASSWORD`, `MARIADB_ROOT_PASSWORD`... on a
    service named `db`, `postgres`, `mariadb`...) is not reported, nor are helm
    `existingSecret*` keys (they name a Kubernetes Secret) or connection
    URLs to `localhost` in settings files (a local development database).

    Severity: a credential in a service-issued format (or a PEM private key) is an `error`;
    a value found by its name (`SECRET_KEY = "..."`, `password: ...`) is reported as a
    `warning`, since on real applications those were as often development defaults.

    In test files, name-based matches are not reported (test passwords are fixtures); known
    formats issued by a service (AWS, GitHub, Slack, Stripe, Google keys) still are, since
    they grant access wherever they are committed, but JWTs, PEM keys and URL passwords are
    not: tests generate and sign their own. Docstrings likewise only report service-issued
    formats (example URLs and tokens there are documentation). A Django `startproject` key
    (`"django-insecure-..."` followed by a random key) is flagged: the prefix is a warning,
    not a placeholder.

    Where the position makes a literal a secret, its looks do not matter
    (`bastion.analysis.secret_sinks`): keys passed to `jwt.encode/decode`, `Fernet`,
    `hmac.new`, itsdangerous signers; `app.secret_key = ...`, `app.config["*SECRET*KEY*"] =
    ...`, `SECRET_KEY = ...` in a deployment settings module or a non-dev `*Config` class
    (a placeholder there is a key everyone knows); passwords and tokens compared with a
    literal (`if password == "hunter2":`); short passwords passed as `password=`/`pwd=` or
    under a `"password"` key. Only empty values and templates are left alone there, and test
    and documentation files are skipped.

    The secret never appears in any output: messages name the place, and the value is
    redacted from code frames and fingerprints."""

    id = "SEC001"
    name = "hardcoded-secret"
    aliases = ("S105", "S106", "S107")  # ruff/flake8 codes honoured in noqa comments
    bandit = ("B105", "B106", "B107")  # bandit test ids honoured in `# nosec`
    severity = Severity.ERROR
    precision = "very-high"
    precision_measured = (
        "4 of 4 judged findings right (100%) on 15 application repositories, bench/ecosystem, too "
        "few findings to be sure of the band (before: 4 of 8; base settings replaced by "
        "production.py, local-setup env files and passwords equal to the user name are no longer "
        "reported); name-based matches are warnings, service-issued formats stay errors"
    )
    summary = "Secret (password, key, token, credential) hardcoded in source or settings"
    why = (
        "A secret in the repository is readable by everyone who can read the code, its forks, "
        "its CI logs and its history - removing it later does not un-leak it. Secrets belong in "
        "the environment or a secrets manager, loaded by a settings object, so that each "
        "deployment has its own and a leaked one can be rotated without a code change."
    )
    hint = (
        'Load it from the environment (`os.environ["NAME"]`, or a pydantic `BaseSettings` '
        "field typed `SecretStr`), keep real values out of the repository, and rotate this one."
    )
    cwe = (798, 259)
    kinds = frozenset({"python", "dotenv", "toml", "yaml", "ini", "dockerfile", "compose"})
    bad = [
        'SECRET_KEY = "k7#q9!vLx2@pR4zT8wYb"\n',
        'db = connect(host="db.internal", user="app", password="Tr0ub4dor&3")\n',
        'settings = {"client_secret": "9d8f7a6s5d4f3g2h1j0k"}\n',
        # format-based, whatever the name (credential-shaped strings of service-issued formats
        # stay out of the repository: the unit tests assemble them at run time)
        # bastion: ignore[SEC001] a made-up token: the rule's own example of what it flags
        'HEADERS = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzdmMtYmlsbGluZyJ9'
        '.q7Xz2LmN9vB4kR8tW1yP5sD3fG6hJ0aQ"}\n',
        # bastion: ignore[SEC001] a made-up password: the rule's own example
        'DATABASE_URL = "postgresql://app:Pr0dPassw0rd@db.internal:5432/app"\n',
        'class Settings(BaseSettings):\n    api_key: str = "a8F3k2L9q7Z1x5C0v6B4"\n',
        'def login(user, password="S3cure!Pass"):\n    ...\n',
        Example("SECRET_KEY=k7#q9!vLx2@pR4zT8wYb\nDEBUG=false\n", path=".env"),
        Example('[database]\npassword = "Pr0d-Passw0rd!"\n', path="config/app.toml"),
        Example("database:\n  password: Pr0d-Passw0rd!\n", path="config.yaml"),
        Example(
            "FROM python:3.12-slim\nENV DJANGO_SECRET_KEY=k7#q9!vLx2@pR4zT8wYb\n", path="Dockerfile"
        ),
        Example(
            "services:\n  api:\n    environment:\n      DB_PASSWORD: Pr0d-Passw0rd!\n",
            path="docker-compose.yml",
        ),
    ]
    good = [
        'SECRET_KEY = os.environ["SECRET_KEY"]\n',
        'SECRET_KEY = os.getenv("SECRET_KEY", "dev-insecure-key")\n',
        'PASSWORD_FIELD = "password"\npassword_label = "Password"\n',
        "class User(BaseModel):\n    password: SecretStr = Field(..., min_length=12)\n",
        'API_KEY = "<your-api-key>"\nTOKEN = "${API_TOKEN}"\nSECRET = "changeme"\n',
        'DATABASE_URL = f"postgresql://{user}:{password}@{host}/app"\n',
        'AWS_KEY = "AKIAIOSFODNN7EXAMPLE"\n',
        Example(
            'def test_login():\n    login("bob", password="Tr0ub4dor&3")\n',
            path="tests/test_auth.py",
        ),
        Example(
            "SECRET_KEY=change-me\nAPI_KEY=your-api-key-here\nDB_PASSWORD=\n", path=".env.example"
        ),
        Example("steps:\n  - env:\n      TOKEN: ${{ secrets.PYPI_TOKEN }}\n", path="ci.yml"),
        Example(
            "FROM python:3.12-slim\nARG API_TOKEN\nENV API_TOKEN=${API_TOKEN}\n", path="Dockerfile"
        ),
        Example(
            "services:\n  api:\n    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n",
            path="docker-compose.yml",
        ),
    ]

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._seen: set[int] = set()
        self._reported: set[int] = set()  # literals already reported (sinks check them again)
        self._skipped: set[int] = set()  # literals known not to be secrets (visit_ClassDef)

    @functools.cached_property
    def _overridden(self) -> frozenset[str]:
        """Settings a production module next to this base settings module assigns again.
        Asked only for a string assigned at module level: most files never need it."""
        if self.ctx.kind != "python" or "settings/" not in self.ctx.path:
            return frozenset()  # only a module of a `settings/` package has such a neighbour
        return production_overrides(self.ctx)

    @functools.cached_property
    def _relaxed(self) -> bool:
        """CI workflows, dev/test compose and env files, test settings modules: treated like
        test files (only service-issued credential formats are reported). Asked only once
        something is found: most files never need the path's roles."""
        return self.ctx.is_test_file or secret_context(self.ctx.path) is not None

    # -- Python -----------------------------------------------------------------------------
    def _check(self, node: ast.expr | None, name: str, where: str) -> None:
        """`node` bound to `name`: report it when it is a literal secret. `where` places it,
        `{}` standing for the name: worded only for a report, most bindings are not."""
        value = string_value(node)
        if value is None or node is None or id(node) in self._skipped:
            return
        self._seen.add(id(node))
        if not _secret_name(name) and known_format(value) is None:
            return  # what `secret_for` answers for most bindings, without its name parsing
        match = secret_for(name, value, names_only=False)
        if match is None:
            return
        if not self._reportable(match):
            return
        self._report_node(node, match, where.format(name))

    def _reportable(self, match: SecretMatch) -> bool:
        return reportable(match, test_file=self._relaxed)

    def _report_node(self, node: ast.expr, match: SecretMatch, where: str) -> None:
        self._reported.add(id(node))
        # the literal as written, when escapes make it differ from its value (`"ab\x41"`):
        # code frames show the source, so that text is masked too
        written = _written_text(self.ctx.source.text, node)
        extra = (written,) if written and written not in match.redact else ()
        redact = (*match.redact, *extra)
        severity = _severity(match)
        if severity is None:
            self.report(node, message(match, where), redact=redact)
            return
        self.report_at(
            node.lineno,
            node.col_offset + 1,
            message(match, where),
            end_line=node.end_lineno,
            end_column=(node.end_col_offset or 0) + 1,
            redact=redact,
            severity=severity,
        )

    def _report_sinks(self, found: list[SinkSecret]) -> None:
        """Literals that a key sink, a comparison or a credential position makes secrets
        (`bastion.analysis.secret_sinks`), unless already reported by name and value."""
        if found and self._relaxed:
            return  # CI, dev and test contexts: only service-issued formats (see __init__)
        for sink in found:
            if id(sink.node) not in self._reported:
                match = SecretMatch(sink.description, sink.secret, by_format=False, issued=False)
                if sink.secret.strip().lower() in message(match, sink.where).lower():
                    # a value like "secret" would be masked inside the message's own words,
                    # telling the reader what it is: say less
                    match = SecretMatch("credential", sink.secret, by_format=False, issued=False)
                    self._report_node(sink.node, match, "in this statement")
                else:
                    self._report_node(sink.node, match, sink.where)

    def visit_Assign(self, node: ast.Assign) -> None:
        value = node.value
        if type(value) is ast.Constant:
            if not isinstance(value.value, str | bytes):
                return  # numbers, None, booleans: no secret by name nor by position
        elif type(value) is not ast.Tuple:
            return  # only a literal (or a tuple of them, unpacked) can be checked below
        for target in node.targets:
            if isinstance(target, ast.Tuple | ast.List) and isinstance(node.value, ast.Tuple):
                # `user, password = "bob", "..."`
                if len(target.elts) == len(node.value.elts):
                    for element, value in zip(target.elts, node.value.elts, strict=True):
                        for name in target_names(element):
                            self._check(value, name, "assigned to `{}`")
                continue
            for name in target_names(target):
                if name in self._overridden and self.ctx.at_module_level():
                    return  # production replaces it: a development default
                self._check(node.value, name, "assigned to `{}`")
        self._report_sinks(assign_sinks(node, self.ctx))

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        for name in target_names(node.target):
            self._check(node.value, name, "assigned to `{}`")

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        """A settings class's `POSTGRES_PASSWORD: str = "mealie"` next to `POSTGRES_USER: str
        = "mealie"`: a local container's default, overridden by the environment."""
        pairs: list[tuple[str, str, ast.expr]] = []
        for stmt in node.body:
            target: ast.expr
            if type(stmt) is ast.AnnAssign:
                target = stmt.target
            elif type(stmt) is ast.Assign and len(stmt.targets) == 1:
                target = stmt.targets[0]
            else:
                continue  # methods, docstrings, multiple targets: no `NAME = "text"` pair
            value = stmt.value
            if type(target) is ast.Name and type(value) is ast.Constant:
                text = value.value
                if isinstance(text, str):
                    pairs.append((target.id, text, value))
        if not pairs:
            return
        plain = [(name, text) for name, text, _ in pairs]
        for name, text, value in pairs:
            if password_is_user_name(name, text, plain):
                self._seen.add(id(value))
                self._skipped.add(id(value))

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            name = string_value(key)
            if name is not None:
                self._check(value, name, 'under the key "{}"')
        self._report_sinks(dict_sinks(node, self.ctx))

    def visit_Compare(self, node: ast.Compare) -> None:
        if len(node.ops) != 1 or (
            type(node.left) is not ast.Constant and type(node.comparators[0]) is not ast.Constant
        ):
            return  # `compare_sinks` needs one comparison with a literal on one side
        self._report_sinks(compare_sinks(node, self.ctx))

    def visit_Call(self, node: ast.Call) -> None:
        # `may_name(node.func, _NAMED_CALLS, ...)` spelled out: asked for every call
        func = node.func
        if type(func) is ast.Attribute:
            named = func.attr in _NAMED_CALLS
        elif type(func) is ast.Name:
            local = func.id
            named = self.ctx.imports.aliases.get(local, local).rpartition(".")[2] in _NAMED_CALLS
        else:
            named = True
        if not named:
            # neither an environment lookup nor a key sink: only a literal passed by keyword
            # can be a secret (by name, or as a short `password=`)
            for kw in node.keywords:
                if type(kw.value) is ast.Constant:
                    break
            else:
                return
        if may_name(node.func, _ENV_LOOKUP_NAMES, self.ctx.imports):
            qualified = self.ctx.imports.qualname(node.func) or ""
            if qualified in _ENV_LOOKUPS or qualified.endswith((".environ.get", "environ.get")):
                self._check_env_default(node)
                return
        for kw in node.keywords:
            if kw.arg is not None:
                self._check(kw.value, kw.arg, "passed as `{}=`")
        self._report_sinks(call_sinks(node, self.ctx))

    def _check_env_default(self, node: ast.Call) -> None:
        """`os.getenv("API_KEY", "<default>")`: the default is what runs wherever the variable
        is unset, so a real-looking key there is a hardcoded key. Placeholders and dev
        defaults are left alone."""
        var = string_value(node.args[0]) if node.args else None
        default = node.args[1] if len(node.args) > 1 else None
        for kw in node.keywords:
            if kw.arg == "default":
                default = kw.value
        value = string_value(default)
        if default is None or value is None:
            return
        self._seen.add(id(default))
        match = known_format(value)
        if match is None and var is not None and not self.ctx.is_test_file:
            candidate = secret_for(var, value, names_only=True)
            if candidate is not None and looks_random(candidate.secret):
                match = candidate
        if match is not None and self._reportable(match):
            self._report_node(default, match, f"as the fallback of env var `{var or '?'}`")

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        # only a literal default can be a secret (`_check` returns at once for the others)
        args = node.args
        defaults = args.defaults
        if defaults:
            positional = [*args.posonlyargs, *args.args] if args.posonlyargs else args.args
            first = len(positional) - len(defaults)  # the parameters with a default
            for index, default in enumerate(defaults):
                if type(default) is ast.Constant:
                    name = positional[first + index].arg
                    self._check(default, name, "as the default of parameter `{}`")
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if type(kw_default) is ast.Constant:
                self._check(kw_default, arg.arg, "as the default of parameter `{}`")

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Constant(self, node: ast.Constant) -> None:
        # the cheapest tests first: most constants are short or not strings
        if not isinstance(node.value, str) or len(node.value) < 16 or id(node) in self._seen:
            return
        if isinstance(self.ctx.parent, ast.JoinedStr) or is_template(self.ctx.parent):
            return  # a fragment of an f-string: `f"postgres://u:{pw}@h"` is not a password
        match = known_format(node.value)
        if match is None or not self._reportable(match):
            return
        if isinstance(self.ctx.parent, ast.Expr) and not match.issued:
            # a docstring: example URLs and tokens there are documentation
            return
        if match is not None:
            self._report_node(node, match, "in a string literal")

    # -- .env, TOML, YAML, INI, Dockerfile ENV/ARG, compose environment ---------------------
    def check(self) -> None:
        document = self.ctx.document
        if is_lock_file(self.ctx.path):
            return  # package names and hashes (`@inquirer/password` is a package)
        if self.ctx.kind in ("dockerfile", "compose"):
            # `ENV`/`ARG` defaults are baked into image layers (`docker history` shows them);
            # compose `environment:` values are committed with the file
            entries = _service_entries(document)
            for service, deploy_entry in entries:
                same_service = [(e.key, e.value) for s, e in entries if s == service]
                if (
                    deploy_entry.value
                    and not is_container_bootstrap_password(service, deploy_entry.key)
                    and not password_is_user_name(
                        deploy_entry.key, deploy_entry.value, same_service
                    )
                ):
                    self._check_setting(
                        deploy_entry.key, deploy_entry.value, deploy_entry.line, template=False
                    )
        elif self.ctx.kind == "dotenv":
            pairs = [(e.key, e.value or "") for e in document if isinstance(e, EnvEntry)]
            # a local setup's env file is read like a template: only service-issued formats
            template = is_template_file(self.ctx.filename) or points_at_local_database(pairs)
            for entry in document:
                assert isinstance(entry, EnvEntry)
                if entry.value:
                    self._check_setting(entry.key, entry.value, entry.line, template=template)
        elif isinstance(document, SettingsDocument):
            for setting in document.values:
                if not isinstance(setting.value, str) or not setting.value:
                    continue
                if any(part.lower() in _EXAMPLE_KEYS for part in setting.path):
                    # OpenAPI/JSON-schema `example:` values are documentation
                    match = known_format(setting.value)
                    if match is not None and match.issued:
                        self._report_setting(setting.key, setting.line, match)
                    continue
                self._check_setting(setting.key, setting.value, setting.line, template=False)

    def _check_setting(self, name: str, value: str, line: int, *, template: bool) -> None:
        if name.lower().startswith("existing"):
            return  # helm `existingSecret: name`: names a Kubernetes Secret, holds no value
        match = setting_secret(name, value, test_file=self._relaxed, template=template)
        if match is not None and not _local_url(match, value):
            self._report_setting(name, line, match)

    def _report_setting(self, name: str, line: int, match: SecretMatch) -> None:
        text = self.ctx.source.line(line)
        first = match.secret.splitlines()[0] if match.secret else ""
        column = text.find(first) + 1 if first and first in text else 1
        where = f"in `{name}`" if name else "in a setting"
        self.report_at(
            line, column, message(match, where), redact=match.redact, severity=_severity(match)
        )
