"""Tooling files: `.pre-commit-config.yaml` (PyYAML), INI files (`setup.cfg`, `tox.ini`,
`mypy.ini`, `.coveragerc`, `alembic.ini`: `configparser`) and `.gitignore` (`pathspec`)."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from bastion.context import ProjectContext

# The documents and parsers of these kinds live in `bastion.kinds`; re-exported for the rules.
from bastion.kinds.gitignore import GitignoreDocument as GitignoreDocument
from bastion.kinds.gitignore import gitignore_spec
from bastion.kinds.gitignore import parse_gitignore as parse_gitignore
from bastion.kinds.ini import IniDocument as IniDocument
from bastion.kinds.ini import parse_ini as parse_ini
from bastion.kinds.precommit import Hook as Hook
from bastion.kinds.precommit import PrecommitDocument as PrecommitDocument
from bastion.kinds.precommit import parse_precommit as parse_precommit

# -- git ------------------------------------------------------------------------------------------

_GIT_TIMEOUT = 10.0
_git_roots: dict[str, bool] = {}


def _git(root: Path, *args: str) -> int | None:
    """The exit code of `git args...` in `root`, None when git is missing, slow or broken.
    Through `bastion.safe_git`: the scanned repository's config can make git run nothing."""
    from bastion.safe_git import GitUnavailable, run_git

    try:
        return run_git(args, root, timeout=_GIT_TIMEOUT, limit=1 << 20).returncode
    except GitUnavailable:
        return None


def git_status(root: Path, path: str) -> str | None:
    """ "tracked", "ignored" or "untracked" for a file (posix path relative to `root`), or None
    when `root` is not inside a git work tree (or git cannot answer)."""
    key = str(root)
    if key not in _git_roots:
        _git_roots[key] = root.is_dir() and _git(root, "rev-parse", "--is-inside-work-tree") == 0
    if not _git_roots[key]:
        return None
    tracked = _git(root, "ls-files", "--error-unmatch", "--", path)
    if tracked is None:
        return None
    if tracked == 0:
        return "tracked"
    ignored = _git(root, "check-ignore", "-q", "--", path)
    if ignored is None or ignored > 1:
        return None
    return "ignored" if ignored == 0 else "untracked"


def gitignored(root: Path, path: str) -> bool:
    """Without git: does a `.gitignore` between `root` and the file ignore it (pathspec, git's
    own semantics, later and deeper files overriding earlier ones)?"""
    from bastion.safe_fs import read_tree_text

    parts = PurePosixPath(path).parts
    result = False
    for depth in range(len(parts)):
        directory = root.joinpath(*parts[:depth])
        gitignore = directory / ".gitignore"
        try:
            if not gitignore.is_file() or gitignore.is_symlink():
                continue
            lines = read_tree_text(gitignore, root, errors="replace").splitlines()
        except OSError:
            continue
        spec = gitignore_spec(lines)
        outcome = spec.check_file("/".join(parts[depth:]))
        if outcome.include is not None:
            result = outcome.include
    return result


# -- project-level anchors ------------------------------------------------------------------------

_MANIFEST_ORDER = ("pyproject.toml", "setup.cfg", "setup.py", "requirements.txt")


def manifest_anchor(manifests: list[str]) -> str | None:
    """Where a project-level finding is reported: the shallowest project manifest
    (pyproject.toml first, then setup.cfg, setup.py, requirements.txt)."""

    def key(path: str) -> tuple[int, int, str]:
        name = PurePosixPath(path).name
        rank = _MANIFEST_ORDER.index(name) if name in _MANIFEST_ORDER else len(_MANIFEST_ORDER)
        return (path.count("/"), rank, path)

    return min(manifests, key=key) if manifests else None


def project_anchor(project: ProjectContext) -> str | None:
    """The project's manifest to report project-level findings on; None when the scan holds
    no manifest (a scan of a sub-folder says nothing about the project's tooling)."""
    manifests = [
        p for key in ("tooling", "code") for p, f in project.facts(key) if f["type"] == "manifest"
    ]
    return manifest_anchor(manifests)


# pre-commit hook ids (or the program of a local hook's `entry`) by what they check
FORMATTERS = frozenset(
    {"black", "black-jupyter", "ruff-format", "autopep8", "yapf", "blue", "pyink"}
)
LINTERS = frozenset(
    {"ruff", "ruff-check", "flake8", "pylint", "pyflakes", "pycodestyle", "prospector"}
)
TYPE_CHECKERS = frozenset({"mypy", "pyright", "basedpyright", "pytype", "pyre-check", "pyre"})


def hook_categories(hooks: list[Hook]) -> set[str]:
    from bastion.analysis.deploy import split_shell, strip_launchers

    found: set[str] = set()
    for hook in hooks:
        names = {hook.id.lower()}
        # a local hook's program: `mypy src`, `pdm run pyright`, `python -m mypy`
        entry = strip_launchers(split_shell(hook.entry)) if hook.entry else []
        if entry:
            program = entry[0].rsplit("/", 1)[-1].lower()
            names.add(program)
            if program == "ruff" and "format" in entry[1:2]:
                names.add("ruff-format")
        if names & FORMATTERS:
            found.add("formatter")
        if names & LINTERS:
            found.add("linter")
        if names & TYPE_CHECKERS:
            found.add("type checker")
    return found
