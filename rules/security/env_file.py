"""SEC016: a `.env` file that is (or is about to be) committed."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from typing import ClassVar

from bastion.analysis.tooling import git_status, gitignored
from bastion.file_roles import is_non_production
from bastion.findings import Severity
from bastion.parsers import EnvEntry
from bastion.rule import Example, Rule
from bastion.secret_formats import points_at_local_database

# `.env.example`, `.env.sample`, `example.env`, `.env.template`, `.env.dist`: documentation of
# the variables, meant to be committed.
_TEMPLATE_WORDS = frozenset(
    {"example", "examples", "sample", "template", "tpl", "dist", "defaults"}
)
# `.env.test`, `.env.ci`: settings for the test run, committed on purpose
_TEST_WORDS = frozenset({"test", "tests", "testing", "ci"})


_TEST_FOLDERS = frozenset({"tests", "test", "fixtures", "testdata", "test_data"})


def is_template_env(path: str) -> bool:
    name = PurePosixPath(path).name.lower()
    words = {w for part in name.split(".") for w in part.replace("_", "-").split("-")}
    return bool(words & (_TEMPLATE_WORDS | _TEST_WORDS))


# Words of a variable name that say it holds a credential (`SECRET_KEY`, `STRIPE_KEY`,
# `DB_PASSWORD`, `API_TOKEN`, `SENTRY_DSN`).
_SECRET_WORDS = frozenset(
    {"secret", "password", "passwd", "pwd", "pass", "token", "key", "credential"}
    | {"credentials", "auth", "dsn", "private", "apikey", "salt", "pepper"}
)
# the password part is bounded: unbounded, `://a` repeated with no `@` rescanned the rest of
# the value from every `://` (quadratic; docs/regex-audit.md)
_URL_PASSWORD = re.compile(r"://[^/:@\s]+:(?!\$\{)[^@\s]{1,256}@")
# Values written as "fill me in": `change-me`, `changethis`, `your-api-key`, `<token>`, `${X}`
_TEMPLATE_VALUE = re.compile(
    r"^(?:change[-_ ]?(?:me|this|it)|your[-_].*|<.*>|\$\{.*\}|x{3,}|\*{3,}|todo|replace[-_]?me)$",
    re.IGNORECASE,
)


def holds_secret(entry: EnvEntry) -> bool:
    """A credential-named variable with a real (non-template) value, or a URL with an inline
    password. Paths, public URLs and feature flags are not secrets."""
    value = (entry.value or "").strip().strip("\"'")
    if not value or _TEMPLATE_VALUE.match(value):
        return False
    if _URL_PASSWORD.search(value):
        return True
    words = set(re.findall(r"[a-z]+", entry.key.lower()))
    return bool(words & _SECRET_WORDS)


class EnvFileCommitted(Rule):
    """Flags a `.env`-style file (`.env`, `.env.production`, `prod.env`) that sets at least one
    non-empty value and that git tracks, or that no `.gitignore` ignores. When the project root
    is a git work tree, git itself answers (`git ls-files`, `git check-ignore`, with a
    timeout; a failing git never fails the run); otherwise the `.gitignore` files from the root
    down are matched with pathspec. Templates (`.env.example`, `.env.sample`,
    `.env.template`, `.env.dist`), test settings (`.env.test`, `.env.ci`), development
    container settings (`.devcontainer/*.env`), files with no secret value (measured on real
    applications: committed `.env` files holding only paths, public URLs, feature flags or
    `change-me` placeholders; a value counts when its name says credential - `SECRET`,
    `PASSWORD`, `KEY`, `TOKEN`, `DSN`... - or it is a URL with an inline password) and test
    data (under
    `tests/`, `fixtures/`, `testdata/` or the configured test paths) are not flagged; nor is
    the env file of a local setup, whose database host is `localhost`/`127.0.0.1` (issue #15:
    dispatch's `data/.env` next to its sample-data dump).

    Not covered yet: a project with no `.gitignore` entry for `.env` whose code loads one
    (`load_dotenv()`) while no `.env` exists in the checkout."""

    id = "SEC016"
    name = "env-file-committed"
    severity = Severity.ERROR
    precision = "low"
    precision_measured = (
        "no finding left on 15 application repositories, bench/ecosystem (before: 0 of 1, a local "
        "setup's env file, now not reported); too few findings to measure a band, so it stays at "
        "the last measured one"
    )
    summary = "`.env` file committed to (or not ignored by) git"
    why = (
        "A `.env` file holds the real credentials of an environment. Once committed, every "
        "clone, fork, CI log and backup has them, and removing the file later does not remove "
        "it from history: the secrets must be rotated."
    )
    hint = (
        "Add `.env` (and `.env.*`, with `!.env.example`) to `.gitignore`, `git rm --cached` "
        "the file, rotate the secrets it held, and commit a `.env.example` with placeholders."
    )
    cwe = (538,)
    kinds: ClassVar[frozenset[str]] = frozenset({"dotenv"})
    reads: ClassVar[frozenset[str]] = frozenset({"git"})  # tracked? ignored?
    bad = [
        Example("DATABASE_URL=postgres://app:pw@db/app\n", path=".env"),
        Example("export STRIPE_KEY=sk_live_x\n", path="deploy/.env.production"),
        Example("# prod\nSECRET_KEY=abc\n", path="prod.env"),
    ]
    good = [
        Example("DATABASE_URL=postgres://user:password@localhost/app\n", path=".env.example"),
        Example("SECRET_KEY=change-me\n", path=".env.sample"),
        Example("SECRET_KEY=\n", path=".env.template"),
        Example("SECRET_KEY=\nDEBUG=\n", path=".env"),
        Example("SECRET_KEY=test-only\n", path="tests/fixtures/.env"),
        # issue #15 (dispatch): a local sample-data setup
        Example(
            "DATABASE_HOSTNAME=localhost\nDATABASE_CREDENTIALS=dispatch:dispatch\n"
            "DISPATCH_ENCRYPTION_KEY=NJHDWDJ3PbHT8h\n",
            path="data/.env",
        ),
    ]

    def check(self) -> None:
        if is_template_env(self.ctx.path) or self._is_test_data():
            return
        if is_non_production(self.ctx.path):  # `.devcontainer/backend.env`
            return
        entries = self.ctx.document
        if not isinstance(entries, list):
            return
        valued = [e for e in entries if isinstance(e, EnvEntry) and holds_secret(e)]
        if not valued:
            return  # only paths, public URLs and flags: nothing is leaked
        pairs = [(e.key, e.value or "") for e in entries if isinstance(e, EnvEntry)]
        if points_at_local_database(pairs):
            return  # a local setup's settings (its database is on localhost)
        root = self.ctx.config.root
        status = git_status(root, self.ctx.path)
        if status == "tracked":
            message = f"`{self.ctx.path}` is tracked by git: its values are in the repository"
        elif status == "untracked":
            message = f"`{self.ctx.path}` is not ignored by `.gitignore`: `git add .` commits it"
        elif status is None and not gitignored(root, self.ctx.path):
            message = f"`{self.ctx.path}` is not ignored by any `.gitignore`"
        else:
            return
        self.report_at(valued[0].line, 1, message)

    def _is_test_data(self) -> bool:
        folders = PurePosixPath(self.ctx.path).parts[:-1]
        return self.ctx.is_test_file or any(f in _TEST_FOLDERS for f in folders)
