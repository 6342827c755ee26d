"""Third-party and team rules: where they come from, and when bastion may load them.

Two sources, both yielding ordinary modules whose `Rule`/`ProjectRule`/`FactCollector` classes
the registry registers exactly like the built-in ones:

- **Installed plugins**: distributions that declare an entry point in the `bastion.rules`
  group (`my_rules = "my_package.rules"`, the value names a module). They are code the user
  installed on purpose, so they are always loaded.
- **Local rule modules**: `[tool.bastion] plugins = ["lint_rules/", "tools/rules.py"]`, paths
  inside the project. They are part of the scanned tree, and bastion runs on pull requests: a
  tree must not be able to make bastion execute its code. So they load only when the person
  running bastion says so (`--allow-plugins`, or `BASTION_ALLOW_PLUGINS=1` read by the CLI);
  otherwise the run stops with exit 2 and says why.

Plugin rule ids carry their own prefix (`ACME001`): a built-in prefix (`SEC`, `ERR`...) is
refused, so a plugin can never shadow or impersonate a built-in rule.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ENTRY_POINT_GROUP = "bastion.rules"
ALLOW_ENV = "BASTION_ALLOW_PLUGINS"
# A plugin's rule id: its own prefix of 2-10 capitals, then 3 or 4 digits.
PLUGIN_ID = re.compile(r"[A-Z][A-Z]{1,9}[0-9]{3,4}")
_LOCAL_PACKAGE = "bastion_local_plugins"


class PluginError(Exception):
    """A plugin cannot be loaded or breaks the rule API's rules; the message says which."""


@dataclass(frozen=True)
class LocalPlugins:
    root: Path
    specs: tuple[str, ...]


_active = LocalPlugins(Path("."), ())
_allowed = False


def allow_local(allowed: bool = True) -> None:
    """The person running bastion trusts the tree's own rule modules (`--allow-plugins`)."""
    global _allowed
    _allowed = allowed


def local_allowed() -> bool:
    return _allowed


def activate(root: Path, specs: Sequence[str]) -> bool:
    """Make the project's local rule modules part of the registry. Checks the trust and the
    paths now (cheap, nothing is imported); the modules are imported by the registry.
    Returns True when this changed what is active (the registry must be rebuilt)."""
    specs = tuple(specs)
    if specs and not local_allowed():
        raise PluginError(
            f"the configuration asks to load rule modules from the project ({', '.join(specs)}); "
            "bastion never runs code from the tree it checks unless told to: pass "
            f"--allow-plugins (or set {ALLOW_ENV}=1) where the tree is trusted - not on pull "
            "requests from forks"
        )
    for spec in specs:
        _local_path(root, spec)  # validates
    return restore(root, specs)


def restore(root: Path, specs: Sequence[str]) -> bool:
    """`activate` without the trust check, for a worker process of a run that passed it."""
    global _active
    new = LocalPlugins(root.resolve(), tuple(specs))
    changed = new != _active
    _active = new
    return changed


def active() -> LocalPlugins:
    return _active


def _local_path(root: Path, spec: str) -> Path:
    """`spec` as a file or package folder inside `root`; links and `..` may not leave it."""
    if not spec or "\0" in spec or Path(spec).is_absolute():
        raise PluginError(f"tool.bastion.plugins: {spec!r} must be a path inside the project")
    base = root.resolve()
    path = (base / spec).resolve()
    if path != base and base not in path.parents:
        raise PluginError(f"tool.bastion.plugins: {spec!r} leaves the project folder")
    if path.is_dir():
        if not (path / "__init__.py").is_file():
            raise PluginError(f"tool.bastion.plugins: {spec!r} is a folder without __init__.py")
        return path
    if path.suffix != ".py" or not path.is_file():
        raise PluginError(f"tool.bastion.plugins: {spec!r}: no such .py file or package")
    return path


def entry_point_modules() -> Iterator[tuple[str, ModuleType]]:
    """(distribution name, module) of every installed plugin."""
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        origin = ep.dist.name if ep.dist is not None else ep.name
        try:
            module = importlib.import_module(ep.module)
        except Exception as exc:  # a broken plugin must name itself, not crash bastion
            raise PluginError(f"plugin {origin} ({ep.value}): cannot import: {exc}") from None
        yield origin, module


def local_modules() -> Iterator[tuple[str, ModuleType]]:
    """(spec, module) of every active local rule module (and each submodule of a package)."""
    for spec in _active.specs:
        path = _local_path(_active.root, spec)
        yield from ((spec, m) for m in _import_local(spec, path))


def _import_local(spec: str, path: Path) -> Iterator[ModuleType]:
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"{_LOCAL_PACKAGE}.m{digest}"
    if path.is_dir():
        init = path / "__init__.py"
        module = _load_file(name, init, spec, package_dir=path)
        yield module
        for child in sorted(path.rglob("*.py")):
            if child == init or child.name.startswith("_"):
                continue
            relative = child.relative_to(path).with_suffix("")
            yield _load_file(f"{name}.{'.'.join(relative.parts)}", child, spec)
    else:
        yield _load_file(name, path, spec)


def _load_file(name: str, file: Path, spec: str, package_dir: Path | None = None) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    if _LOCAL_PACKAGE not in sys.modules:
        holder = ModuleType(_LOCAL_PACKAGE)
        holder.__path__ = []
        sys.modules[_LOCAL_PACKAGE] = holder
    locations = [str(package_dir)] if package_dir else None
    module_spec = importlib.util.spec_from_file_location(
        name, file, submodule_search_locations=locations
    )
    if module_spec is None or module_spec.loader is None:
        raise PluginError(f"tool.bastion.plugins: {spec!r}: cannot load {file.name}")
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise PluginError(f"tool.bastion.plugins: {spec!r}: {file.name}: {exc}") from None
    return module


def stamp() -> str:
    """Changes whenever the set of plugins or their code changes: part of every cache key, so
    a plugin upgrade or an edited local rule never serves stale results."""
    from importlib.metadata import entry_points

    digest = hashlib.sha256()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: (e.name, e.value)):
        version = ep.dist.version if ep.dist is not None else "?"
        digest.update(f"{ep.name}={ep.value}@{version}\0".encode())
    for spec in _active.specs:
        try:
            path = _local_path(_active.root, spec)
        except PluginError:
            continue
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            try:
                digest.update(str(file).encode() + b"\0" + file.read_bytes())
            except OSError:
                continue
    return digest.hexdigest()
