"""PROD002-PROD006: how the container image is built (Dockerfile)."""

from __future__ import annotations

import re
from typing import ClassVar

from bastion.analysis.deploy import (
    DockerfileDocument,
    Instruction,
    Stage,
    simple_commands,
)
from bastion.file_roles import is_non_production
from bastion.findings import Severity
from bastion.kinds import kinds_taking
from bastion.rule import Example, Rule

# the document these rules take, and the kinds (from `bastion.kinds.KINDS`) that produce it
_TAKES = (DockerfileDocument,)
_DOCKERFILE = kinds_taking(*_TAKES)


def _doc(rule: Rule) -> DockerfileDocument | None:
    """The Dockerfile of a production image; None for CI, development and test Dockerfiles
    (`.devcontainer/`, `Dockerfile.dev`, `Dockerfile.e2e`, `.ci/`): measured on real
    applications (bench/ecosystem), findings there were noise."""
    doc = rule.ctx.document_as(DockerfileDocument)
    if is_non_production(rule.ctx.path):
        return None
    return doc if doc.stages else None


# The entrypoint switches to an unprivileged user (`gosu`, `su-exec`, s6-overlay's
# `s6-setuidgid`...), or the platform runs the image unprivileged (AWS Lambda).
_PRIVILEGE_DROP = re.compile(r"\b(?:gosu|su-exec|setpriv|s6-overlay|s6-setuidgid|runuser)\b")
_UNPRIVILEGED_BASES = ("public.ecr.aws/lambda/", "amazon/aws-lambda-", "lambda/")


def _df(code: str) -> Example:
    return Example(code, path="Dockerfile")


_ROOT_USERS = frozenset({"root", "0"})


def _user_of(stage: Stage) -> Instruction | None:
    users = [i for i in stage.instructions if i.name == "USER"]
    return users[-1] if users else None


def _is_root(user: str) -> bool:
    name = user.strip().split(":", 1)[0]
    return name in _ROOT_USERS


class ContainerRunsAsRoot(Rule):
    """Flags a Dockerfile whose final stage (or the earlier stage it is built `FROM`) sets no
    `USER`, or whose last `USER` is `root`/`0`. Only the final stage matters: builder stages
    may run as root since they never run in production. Base images whose tag says they run
    unprivileged (`...:nonroot`, distroless `nonroot`), AWS Lambda base images (Lambda runs
    the function as an unprivileged user), images whose final stages install a privilege
    dropper the entrypoint uses (`gosu`, `su-exec`, `setpriv`, s6-overlay) and CI, development
    and test Dockerfiles (`.devcontainer/`, `Dockerfile.dev`, `Dockerfile.e2e`, `.ci/`) are
    not flagged."""

    id = "PROD002"
    name = "container-runs-as-root"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "10 of 10 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Container image whose final stage runs as root"
    why = (
        "A process running as root inside the container turns any code-execution bug into root "
        "in the container, and one kernel or runtime escape away from root on the host. Running "
        "as an unprivileged user costs two lines and limits the blast radius of every other bug."
    )
    hint = (
        "Create an unprivileged user and switch to it before CMD: `RUN useradd --create-home "
        "app` then `USER app` (or `USER 10001`)."
    )
    cwe = (250,)
    takes = _TAKES
    kinds: ClassVar[frozenset[str]] = _DOCKERFILE
    bad = [
        _df('FROM python:3.12-slim\nCOPY . /app\nCMD ["gunicorn", "app:app"]\n'),
        _df("FROM python:3.12-slim\nRUN useradd app\nUSER app\nUSER root\nCMD gunicorn app:app\n"),
        _df(
            "FROM python:3.12 AS build\nUSER app\nRUN pip wheel .\n"
            "FROM python:3.12-slim\nCOPY --from=build /w /w\nCMD gunicorn app:app\n"
        ),
    ]
    good = [
        _df("FROM python:3.12-slim\nRUN useradd app\nUSER app\nCMD gunicorn app:app\n"),
        _df(
            "FROM python:3.12 AS build\nRUN pip wheel .\n"
            "FROM python:3.12-slim\nUSER 10001:10001\nCMD gunicorn app:app\n"
        ),
        _df("FROM python:3.12 AS base\nUSER app\nFROM base\nCMD gunicorn app:app\n"),
        _df('FROM gcr.io/distroless/python3-debian12:nonroot\nCMD ["app.py"]\n'),
    ]

    def check(self) -> None:
        doc = _doc(self)
        if doc is None or doc.final_stage is None:
            return
        final = doc.final_stage
        chain = doc.ancestry(final)
        base = chain[-1].image.lower()
        if "nonroot" in base or "rootless" in base or base.startswith(_UNPRIVILEGED_BASES):
            return
        if any(_PRIVILEGE_DROP.search(i.value) for stage in chain for i in stage.instructions):
            return
        for stage in chain:
            user = _user_of(stage)
            if user is None:
                continue
            if _is_root(user.value):
                self.report_at(
                    user.line,
                    1,
                    f"the final image switches to `USER {user.value.strip()}` and runs as root",
                )
            return
        self.report_at(
            final.from_line,
            1,
            f"the final stage (`FROM {final.image}`) sets no `USER`: the container runs as root",
        )


_DIGEST = re.compile(r"@sha256:[0-9a-f]{16,}", re.IGNORECASE)
_FULL_VERSION = re.compile(r"^v?\d+\.\d+\.\d+")


def split_image(image: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) of an image reference."""
    digest = None
    if "@" in image:
        image, _, digest = image.partition("@")
    last = image.rsplit("/", 1)[-1]
    tag = None
    if ":" in last:
        tag = last.rsplit(":", 1)[1]
        image = image[: -(len(tag) + 1)]
    return image, tag, digest


class UnpinnedBaseImage(Rule):
    """Flags `FROM` lines whose image has no tag or the `latest` tag (warning), and, as info,
    images pinned only by a floating tag (`python:3.12-slim`, `python:3`, `alpine`) with no
    `@sha256:` digest. A tag that names a full version (`python:3.12.4-slim`) is treated as
    pinned enough. `FROM scratch`, references to earlier build stages and images whose name or
    tag is a build variable that cannot be resolved from a default `ARG` are not flagged."""

    id = "PROD003"
    name = "unpinned-base-image"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "21 of 21 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Dockerfile `FROM` with no tag, `:latest`, or a floating tag without digest"
    why = (
        "An untagged or `latest` base image changes under you: the same Dockerfile builds a "
        "different Python, a different OS, a different libc next week, and a rollback no longer "
        "rebuilds what ran before. A full version tag is reproducible; a digest is exact."
    )
    hint = (
        "Pin the base image to a version tag (`python:3.12.4-slim-bookworm`), ideally with its "
        "digest (`python:3.12.4-slim@sha256:...`), and update it on purpose (Renovate/Dependabot)."
    )
    takes = _TAKES
    kinds: ClassVar[frozenset[str]] = _DOCKERFILE
    bad = [
        _df("FROM python\nCMD python app.py\n"),
        _df("FROM python:latest AS base\nCMD python app.py\n"),
        _df("FROM docker.io/library/python:3.12-slim\nCMD python app.py\n"),
        _df("FROM registry.example.com:5000/team/base\nCMD python app.py\n"),
    ]
    good = [
        _df("FROM python:3.12.4-slim-bookworm\nCMD python app.py\n"),
        _df("FROM python:3.12-slim@sha256:" + "a" * 64 + "\nCMD python app.py\n"),
        _df("FROM python:3.12.4 AS build\nRUN pip wheel .\nFROM build\nCMD python app.py\n"),
        _df("FROM scratch\nCOPY app /app\n"),
        _df("ARG BASE=python:3.12.4-slim\nFROM $BASE\nCMD python app.py\n"),
    ]

    def check(self) -> None:
        doc = _doc(self)
        if doc is None:
            return
        for stage in doc.stages:
            image = stage.image
            if image.lower() == "scratch" or "$" in image:
                continue
            earlier = doc.stage_named(image)
            if earlier is not None and earlier.index < stage.index:
                continue
            _, tag, digest = split_image(image)
            if digest:
                continue
            if tag is None:
                self.report_at(
                    stage.from_line,
                    1,
                    f"`FROM {image}` has no tag: it pulls whatever `latest` is at build time",
                )
            elif tag.lower() == "latest":
                self.report_at(
                    stage.from_line,
                    1,
                    f"`FROM {image}` uses the moving `latest` tag",
                )
            elif not _FULL_VERSION.match(tag):
                self.report_at(
                    stage.from_line,
                    1,
                    f"`FROM {image}`: the floating tag `{tag}` is re-pushed with new contents "
                    "and has no digest",
                    severity=Severity.INFO,
                )


def _pip_installs(words: list[str]) -> list[list[str]]:
    """The `pip install ...` commands of a RUN line (also `python -m pip`, `pip3`)."""
    out = []
    for command in simple_commands(words):
        for index, word in enumerate(command):
            program = word.rsplit("/", 1)[-1]
            is_pip = re.fullmatch(r"pip(3(\.\d+)?)?", program) is not None
            via_python = (
                program.startswith("python")
                and command[index + 1 : index + 3] == ["-m", "pip"]
                and command[index + 3 : index + 4] == ["install"]
            )
            if via_python:
                out.append(command[index + 3 :])
                break
            if is_pip and command[index + 1 : index + 2] == ["install"]:
                if index > 0 and command[index - 1] == "uv":
                    break  # `uv pip install`: uv's own cache, not pip's
                out.append(command[index + 1 :])
                break
    return out


def _final_chain(doc: DockerfileDocument) -> list[Stage]:
    final = doc.final_stage
    return list(reversed(doc.ancestry(final))) if final else []


class PipCacheInImage(Rule):
    """Flags `RUN pip install ...` in the final image (the final stage and the stages it is
    built `FROM`) without `--no-cache-dir`, unless `PIP_NO_CACHE_DIR` is set by an `ENV` before
    it, the RUN mounts a BuildKit cache (`--mount=type=cache`), or the same RUN removes the
    cache (`pip cache purge`, `rm -rf /root/.cache`). Builder stages whose files are copied
    selectively are not flagged: their cache never reaches the final image; nor is an upgrade
    of pip's own tools alone (`pip install --upgrade pip setuptools wheel`: a few MB, judged
    noise on real images in bench/ecosystem)."""

    id = "PROD004"
    name = "pip-cache-in-image"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "1 of 1 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem, after leaving out upgrades of pip's own tools (the wrong one of "
        "2); too few findings to be sure of the band"
    )
    summary = "`pip install` in a Dockerfile without `--no-cache-dir`"
    why = (
        "pip keeps every downloaded wheel in `~/.cache/pip`; in an image layer that cache is "
        "dead weight (often tens to hundreds of MB) shipped to every node and scanned on every "
        "pull."
    )
    hint = (
        "Use `pip install --no-cache-dir ...`, set `ENV PIP_NO_CACHE_DIR=1`, or use a BuildKit "
        "cache mount (`RUN --mount=type=cache,target=/root/.cache/pip pip install ...`)."
    )
    takes = _TAKES
    kinds: ClassVar[frozenset[str]] = _DOCKERFILE
    requires = ("pip",)
    bad = [
        _df("FROM python:3.12.4\nRUN pip install -r requirements.txt\n"),
        _df("FROM python:3.12.4\nRUN apt-get update && python -m pip install gunicorn\n"),
        _df("FROM python:3.12.4\nRUN pip3 install \\\n    fastapi uvicorn\n"),
    ]
    good = [
        _df("FROM python:3.12.4\nRUN pip install --no-cache-dir -r requirements.txt\n"),
        _df("FROM python:3.12.4\nENV PIP_NO_CACHE_DIR=1\nRUN pip install -r requirements.txt\n"),
        _df(
            "FROM python:3.12.4\n"
            "RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt\n"
        ),
        _df(
            "FROM python:3.12.4 AS build\nRUN pip install --prefix=/install -r req.txt\n"
            "FROM python:3.12.4-slim\nCOPY --from=build /install /usr/local\n"
        ),
        _df("FROM python:3.12.4\nRUN uv pip install --system -r requirements.txt\n"),
        # only pip's own upgrade is cached (healthchecks, bench/ecosystem)
        _df(
            "FROM python:3.12.4\nRUN pip install --upgrade pip && \\\n"
            "    pip install --no-cache /wheels/*\n"
        ),
    ]

    def check(self) -> None:
        doc = _doc(self)
        if doc is None:
            return
        no_cache_env = False
        for stage in _final_chain(doc):
            for ins in stage.instructions:
                if ins.name == "ENV" and "PIP_NO_CACHE_DIR" in ins.value:
                    no_cache_env = True
                if ins.name != "RUN" or no_cache_env:
                    continue
                if "type=cache" in ins.flags().get("mount", ""):
                    continue
                text = ins.value
                if "pip cache purge" in text or (".cache" in text and "rm " in text):
                    continue
                words = ins.arguments()
                for install in _pip_installs(words):
                    if _upgrades_pip_only(install):
                        continue
                    if not any(w in {"--no-cache-dir", "--no-cache"} for w in install):
                        self.report_at(
                            ins.line,
                            1,
                            "`pip install` without `--no-cache-dir` leaves pip's download cache "
                            "in the image layer",
                            end_line=ins.end_line,
                        )
                        break


_TOOLING = frozenset({"pip", "setuptools", "wheel", "uv", "poetry", "pipenv", "pdm", "--upgrade"})
# pip's own packaging tools: upgrading them caches a few MB, not the application's wheels
_PIP_ITSELF = frozenset({"pip", "setuptools", "wheel"})


def _upgrades_pip_only(install: list[str]) -> bool:
    """`pip install --upgrade pip` (setuptools, wheel): no application dependency
    (healthchecks' image upgrades pip, then installs its wheels with `--no-cache`)."""
    targets = [w.lower() for w in install[1:] if not w.startswith("-")]
    return bool(targets) and all(t in _PIP_ITSELF for t in targets)


def _is_dependency_install(ins: Instruction) -> bool:
    if ins.name != "RUN":
        return False
    for command in simple_commands(ins.arguments()):
        text = " ".join(command)
        for install in _pip_installs(command):
            targets = [w for w in install[1:] if not w.startswith("-")]
            if "-r" in install or any(t.lower() not in _TOOLING for t in targets):
                return True
        if re.search(r"\b(poetry|pipenv|pdm) install\b|\buv sync\b|\buv pip install\b", text):
            return True
    return False


def _copies_whole_context(ins: Instruction) -> bool:
    if ins.name not in {"COPY", "ADD"} or "from" in ins.flags():
        return False
    args = ins.arguments()
    sources = args[:-1]
    return any(s in {".", "./", "*"} for s in sources)


class CopyBeforeDependencies(Rule):
    """Flags `COPY . .` (the whole build context) that comes, in the same stage, before the
    first step that installs dependencies (`pip install`, `poetry install`, `uv sync`,
    `pipenv install`). A stage that installs from a copied manifest first and copies the
    sources afterwards is the pattern to follow and is not flagged."""

    id = "PROD005"
    name = "copy-before-dependencies"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "3 of 3 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    summary = "`COPY . .` before the dependency install step"
    why = (
        "Docker reuses a layer only while everything before it is unchanged. Copying the whole "
        "source tree before installing dependencies means every code change re-downloads and "
        "re-installs every dependency: slow builds and slow deploys."
    )
    hint = (
        "Copy only the dependency manifest first (`COPY requirements.txt .` / `COPY "
        "pyproject.toml uv.lock ./`), install, then `COPY . .`."
    )
    takes = _TAKES
    kinds: ClassVar[frozenset[str]] = _DOCKERFILE
    requires = ("COPY", "ADD", "copy", "add")
    bad = [
        _df("FROM python:3.12.4\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n"),
        _df("FROM python:3.12.4\nCOPY . /app\nRUN cd /app && poetry install --no-root\n"),
        _df("FROM python:3.12.4\nADD . /srv\nRUN uv sync --frozen\n"),
    ]
    good = [
        _df(
            "FROM python:3.12.4\nCOPY requirements.txt .\nRUN pip install -r requirements.txt\n"
            "COPY . .\n"
        ),
        _df("FROM python:3.12.4\nCOPY . .\nCMD python app.py\n"),
        _df(
            "FROM python:3.12.4 AS build\nCOPY . .\nRUN echo built\n"
            "FROM python:3.12.4\nCOPY --from=build . .\nRUN pip install -r requirements.txt\n"
        ),
    ]

    def check(self) -> None:
        doc = _doc(self)
        if doc is None:
            return
        for stage in doc.stages:
            copy: Instruction | None = None
            for ins in stage.instructions:
                if _is_dependency_install(ins):
                    if copy is not None:
                        self.report_at(
                            copy.line,
                            1,
                            f"`{copy.name} {copy.value.strip()}` copies the whole source tree "
                            f"before the dependencies are installed (line {ins.line})",
                        )
                    break
                if copy is None and _copies_whole_context(ins):
                    copy = ins


_BUILD_PACKAGES = frozenset(
    {
        "build-essential",
        "gcc",
        "g++",
        "clang",
        "make",
        "cmake",
        "python3-dev",
        "python-dev",
        "libpq-dev",
        "default-libmysqlclient-dev",
        "libffi-dev",
        "libssl-dev",
        "build-base",
        "musl-dev",
        "cargo",
        "rust",
        "rustc",
        "gcc-c++",
        "python3-devel",
        "postgresql-dev",
    }
)
_INSTALLERS = {"apt-get": "install", "apt": "install", "apk": "add", "yum": "install"}
_INSTALLERS.update({"dnf": "install", "microdnf": "install"})
_REMOVERS = {"purge", "remove", "del", "autoremove"}


def _build_tools(ins: Instruction) -> list[str]:
    found: list[str] = []
    commands = list(simple_commands(ins.arguments()))
    for command in commands:
        if not command:
            continue
        program = command[0].rsplit("/", 1)[-1]
        verb = _INSTALLERS.get(program)
        if verb and verb in command:
            found.extend(w for w in command if w in _BUILD_PACKAGES)
        if program.startswith("pip") and command[1:2] == ["wheel"]:
            found.append("pip wheel")
    removed = any(
        (c and c[0].rsplit("/", 1)[-1] in _INSTALLERS) and any(w in _REMOVERS for w in c[1:3])
        for c in commands
    )
    return [] if removed else found


class SingleStageImage(Rule):
    """Flags a Dockerfile with a single `FROM` whose RUN installs build tools (`gcc`,
    `build-essential`, `*-dev` headers, `cargo`...) or builds wheels (`pip wheel`) and does not
    remove them in the same RUN: the compilers ship in the production image."""

    id = "PROD006"
    name = "single-stage-image"
    severity = Severity.INFO
    summary = "Single-stage Dockerfile that installs build tools"
    why = (
        "Compilers and headers are only needed to build wheels. Left in the runtime image they "
        "add hundreds of MB and hand an attacker a toolchain. A multi-stage build compiles in a "
        "builder stage and copies only the results into a slim runtime stage."
    )
    hint = (
        "Split the Dockerfile: `FROM python:3.12-slim AS build` installs build tools and runs "
        "`pip wheel`/`pip install --prefix`, then `FROM python:3.12-slim` copies the result "
        "with `COPY --from=build`."
    )
    takes = _TAKES
    kinds: ClassVar[frozenset[str]] = _DOCKERFILE
    bad = [
        _df(
            "FROM python:3.12.4\nRUN apt-get update && apt-get install -y build-essential "
            "libpq-dev\nRUN pip install --no-cache-dir psycopg2\n"
        ),
        _df("FROM python:3.12.4-alpine\nRUN apk add --no-cache gcc musl-dev\n"),
        _df("FROM python:3.12.4\nRUN pip wheel --wheel-dir /wheels -r requirements.txt\n"),
    ]
    good = [
        _df(
            "FROM python:3.12.4 AS build\nRUN apt-get install -y build-essential\n"
            "FROM python:3.12.4-slim\nCOPY --from=build /w /w\n"
        ),
        _df("FROM python:3.12.4-slim\nRUN apt-get install -y libpq5 curl\n"),
        _df(
            "FROM python:3.12.4-alpine\nRUN apk add --virtual .b gcc musl-dev && pip install x"
            " && apk del .b\n"
        ),
    ]

    def check(self) -> None:
        doc = _doc(self)
        if doc is None or len(doc.stages) != 1:
            return
        for ins in doc.stages[0].instructions:
            if ins.name != "RUN":
                continue
            tools = _build_tools(ins)
            if tools:
                listed = ", ".join(f"`{t}`" for t in dict.fromkeys(tools))
                self.report_at(
                    ins.line,
                    1,
                    f"the only stage installs build tools ({listed}): they ship in the "
                    "production image",
                    end_line=ins.end_line,
                )
                return
