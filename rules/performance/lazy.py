"""PERF004: a relationship lazy-loaded once per row of a query result.

Relationships are declared in model modules and used in others, so this is a project rule:
a fact collector records, per file, the models' lazy relationships and the attribute reads on
loop items of a query result (with the eager-loading options that query has); the project
rule joins the two.
"""

from __future__ import annotations

import ast
from typing import Any

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.function_text import function_text
from bastion.analysis.nodes import string_value, walk_local
from bastion.analysis.one_off import is_one_off
from bastion.analysis.orm import (
    EAGER_LOADERS,
    MANAGER,
    SELECT_FUNCTIONS,
    absolute_qualname,
    call_method,
    is_django_manager,
    is_flask_query_property,
    model_relationships,
)
from bastion.context import FileContext
from bastion.file_roles import is_migration
from bastion.findings import Severity
from bastion.function_index import walk_breadth
from bastion.rule import FactCollector, ProjectRule

FACT_KEY = "perf004"
_ALL = "*"
# Chains whose items are not model instances.
_NOT_INSTANCES = frozenset(
    {
        "values",
        "values_list",
        "count",
        "exists",
        "aggregate",
        # a single object: what the loop iterates is something reached from it
        "get",
        "first",
        "last",
        "one",
        "one_or_none",
        "scalar",
        "scalar_one",
        "scalar_one_or_none",
        "get_or_create",
        "earliest",
        "latest",
    }
)
_MAX_DEPTH = 4


class _Query:
    def __init__(self, model: ast.expr, covered: list[str], line: int) -> None:
        self.model = model
        self.covered = covered
        self.line = line


def _trees(
    expr: ast.expr, assigned: dict[str, list[ast.Assign]], before: int, depth: int = 0
) -> list[ast.expr] | None:
    """`expr` and the expressions its names were last assigned before line `before`, followed
    through up to a few assignments (`stmt = select(...)`, `result = await db.execute(stmt)`,
    `posts = result.scalars().all()`). None when a name was assigned more than once (which
    value reaches the loop is unknown)."""
    out = [expr]
    if depth > _MAX_DEPTH:
        return out
    for node in walk_breadth(expr):
        if type(node) is ast.Name and node.id in assigned:
            candidates = [a for a in assigned[node.id] if a.lineno < before]
            if not candidates:
                continue
            if len(assigned[node.id]) > 1:
                return None
            more = _trees(candidates[-1].value, assigned, candidates[-1].lineno, depth + 1)
            if more is None:
                return None
            out.extend(more)
    return out


def _loader_targets(call: ast.Call) -> list[str]:
    """The first-level relationship names a loader option covers (`_ALL` when unknown)."""
    if not call.args:
        return [_ALL]  # `select_related()` follows every FK
    names: list[str] = []
    for arg in call.args:
        if isinstance(arg, ast.Attribute):
            names.append(arg.attr)
        elif (text := string_value(arg)) is not None:
            names.append(text.split("__")[0].split(".")[0])
        elif isinstance(arg, ast.Call) and call_method(arg) == "Prefetch" and arg.args:
            lookup = string_value(arg.args[0])
            names.append(lookup.split("__")[0] if lookup else _ALL)
        else:
            return [_ALL]
    return names


def _query_of(trees: list[ast.expr], ctx: FileContext) -> _Query | None:
    """The model a query result yields, and what its eager-loading options cover."""
    models: list[ast.expr] = []
    covered: list[str] = []
    scalars = False
    executes = False
    line = 0
    imports = ctx.imports
    for tree in trees:
        for node in walk_breadth(tree):
            if not isinstance(node, _CALL_OR_ATTRIBUTE):
                continue
            if isinstance(node, ast.Attribute):
                if is_django_manager(node) or is_flask_query_property(node):
                    models.append(node.value)
                    line = line or node.lineno
                continue
            method = call_method(node)
            if method in EAGER_LOADERS:
                covered.extend(_loader_targets(node))
            elif method == "options":
                for arg in node.args:
                    if not (isinstance(arg, ast.Call) and call_method(arg) in EAGER_LOADERS):
                        covered.append(_ALL)
            elif method == "scalars":
                scalars = True
            elif method == "execute":
                executes = True
            elif method in _NOT_INSTANCES:
                return None
            is_query = method == "query" and isinstance(node.func, ast.Attribute)
            # the cheap name test before resolving through the imports (see `may_name`)
            if is_query or (
                may_name(node.func, _SELECT_NAMES, imports)
                and imports.qualname(node.func) in SELECT_FUNCTIONS
            ):
                if len(node.args) != 1:
                    return None
                models.append(node.args[0])
                line = line or node.lineno
    if executes and not scalars:
        return None  # rows, not model instances
    names = {ast.dump(m) for m in models}
    if len(names) != 1:
        return None
    model = models[0]
    if not isinstance(model, ast.Name | ast.Attribute):
        return None
    return _Query(model, covered, line)


_SELECT_NAMES = last_parts(SELECT_FUNCTIONS)
# the words every query `_query_of` recognises spells (`X.objects`, `X.query`, `.query(...)`,
# `select(...)`)
_WORDS = ("objects", "query", *sorted(_SELECT_NAMES))
_CALL_OR_ATTRIBUTE = (ast.Call, ast.Attribute)
_EVALUATING = frozenset({"count", "exists", "first", "last", "get", "aggregate", "earliest"})
_CONSUMERS = frozenset({"list", "len", "set", "tuple", "sorted", "sum", "any", "all", "max", "min"})


def _evaluated(attribute: ast.Attribute, parents: dict[int, ast.AST]) -> bool:
    """For a Django related manager (`order.lines`): is a query run here? `order.lines.count()`,
    `for x in order.lines.all()`, `list(order.lines.all())` - not `qs = order.lines.all()`
    handed on, nor `order.lines.add(x)`."""
    method = parents.get(id(attribute))
    call = parents.get(id(method)) if method is not None else None
    if not (isinstance(method, ast.Attribute) and isinstance(call, ast.Call)):
        return False
    if call.func is not method:
        return False
    if method.attr in _EVALUATING:
        return True
    if method.attr != "all":
        return False
    user = parents.get(id(call))
    if isinstance(user, ast.For | ast.AsyncFor | ast.comprehension):
        return getattr(user, "iter", None) is call
    if isinstance(user, ast.Call) and isinstance(user.func, ast.Name):
        return user.func.id in _CONSUMERS
    return False


class LazyLoadFacts(FactCollector):
    """Models' lazy relationships, and attribute reads on loop items of query results."""

    key = FACT_KEY
    requires = ("relationship", "Relationship", "ForeignKey", "ToOneField", "ManyToMany", "for")

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # one-off data migrations: a query per row there costs nothing at request time
        # migrations (also Alembic/`db_migrations`) run once (bench/ecosystem)
        # and data fix-ups, demo-data generators, test-support modules (`one_off`)
        # (decided on the first loop that needs it: most modules have none)
        self._skip: bool | None = None
        self._module: str | None = None
        self._renames: bool | None = None  # for `_may_query`
        # `_query_of` only knows queries spelled with `objects`, `query` or `select`: a module
        # without any of them has no loop over a query result (models are read elsewhere)
        text = ctx.source.text
        self._no_queries = not any(word in text for word in ("objects", "query", "select"))

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if not self.ctx.at_module_level():
            return
        own, reverse = model_relationships(node, self.ctx.imports)
        if own:
            if self._module is None:
                self._module = self.ctx.module_name  # (a path computation: once per file)
            module = self._module
            self.add(kind="model", model=f"{module}.{node.name}", name=node.name, attrs=own)
        for target, attrs in reverse.items():
            self.add(kind="reverse", model="", name=target, attrs=attrs)

    # Loops are met by the engine's single walk (not by re-walking each function body); the
    # assignments of the enclosing function are collected once per function, on first need.
    def visit_For(self, node: ast.For) -> None:
        self._loop(node, node.target, node.iter, list(node.body))

    def visit_AsyncFor(self, node: ast.AsyncFor) -> None:
        self._loop(node, node.target, node.iter, list(node.body))

    def _comprehension(
        self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp
    ) -> None:
        gen = node.generators[0]
        if self._no_queries or type(gen.target) is not ast.Name:
            return  # what `_loop` returns on first, before the body is gathered
        body: list[ast.AST] = list(gen.ifs) + [g for g in node.generators[1:]]
        if isinstance(node, ast.DictComp):
            body += [node.key, node.value]
        else:
            body.append(node.elt)
        self._loop(node, gen.target, gen.iter, body)

    visit_ListComp = _comprehension
    visit_SetComp = _comprehension
    visit_GeneratorExp = _comprehension
    visit_DictComp = _comprehension

    def _loop(
        self, node: ast.AST, target: ast.expr, iterable: ast.expr, loop_body: list[ast.AST]
    ) -> None:
        if self._no_queries or not isinstance(target, ast.Name):
            return
        if self._skip is None:
            path = self.ctx.path
            self._skip = self.ctx.is_test_file or is_migration(path) or is_one_off(path)
        if self._skip:
            return
        scope = self.ctx.enclosing(ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
        if not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
            return  # module level, class bodies and lambdas hold no request-time loops
        if not self._may_query(scope):
            return
        assigned = self.ctx.function_index(scope).single_assignments
        trees = _trees(iterable, assigned, getattr(node, "lineno", 0))
        if trees is None:
            return
        query = _query_of(trees, self.ctx)
        if query is None:
            return
        self._reads(target.id, query, loop_body, node)

    def _may_query(self, scope: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """False when the function's text spells no query `_query_of` knows: no `objects`,
        `query` or `select` (nor a name imported as `select`), so no loop of it iterates over
        one. Every node `_query_of` reads (the loop's iterable, the values assigned to its
        names) lies in the function's lines; `function_text` is None (no shortcut) where the
        text cannot be trusted for that."""
        text = function_text(scope, self.ctx)
        if text is None:
            return True
        if any(word in text for word in _WORDS):
            return True
        if self._renames is None:
            # a name imported as `select` comes from an import statement that spells it
            self._renames = "select" in self.ctx.source.text
        if not self._renames:
            return False
        aliases = self.ctx.imports.aliases  # as `may_name` reads them, at this point
        renamed = [
            local
            for local, qualified in aliases.items()
            if qualified.rpartition(".")[2] in _SELECT_NAMES and local not in _WORDS
        ]
        return any(local in text for local in renamed)

    def _reads(self, var: str, query: _Query, body: list[ast.AST], loop: ast.AST) -> None:
        model = absolute_qualname(query.model, self.ctx)
        ref = query.model
        bare = ref.id if isinstance(ref, ast.Name) else getattr(ref, "attr", "")
        seen: set[tuple[str, bool]] = set()
        parents: dict[int, ast.AST] = {}
        for part in body:
            for sub in walk_local(part):
                for child in ast.iter_child_nodes(sub):
                    parents[id(child)] = sub
        for part in body:
            for sub in walk_local(part):
                if (
                    isinstance(sub, ast.Attribute)
                    and isinstance(sub.value, ast.Name)
                    and sub.value.id == var
                    and isinstance(sub.ctx, ast.Load)
                    and not sub.attr.startswith("_")
                ):
                    evaluated = _evaluated(sub, parents)
                    if (sub.attr, evaluated) in seen:
                        continue
                    seen.add((sub.attr, evaluated))
                    self.add(
                        kind="read",
                        model=model or "",
                        name=bare,
                        attr=sub.attr,
                        var=var,
                        line=sub.lineno,
                        column=sub.col_offset + 1,
                        loop_line=getattr(loop, "lineno", 0),
                        evaluated=evaluated,
                        query_line=query.line,
                        covered=query.covered,
                    )


def _lazy_attrs(project_facts: list[tuple[str, dict[str, Any]]]) -> Any:
    by_model: dict[str, dict[str, str]] = {}
    by_name: dict[str, list[str]] = {}
    reverse: dict[str, dict[str, str]] = {}
    for _path, fact in project_facts:
        if fact["kind"] == "model":
            by_model.setdefault(fact["model"], {}).update(fact["attrs"])
            by_name.setdefault(fact["name"], []).append(fact["model"])
        elif fact["kind"] == "reverse":
            reverse.setdefault(fact["name"], {}).update(fact["attrs"])
    return by_model, by_name, reverse


class LazyRelationshipInLoop(ProjectRule):
    """Flags a read of a lazy relationship on the items of a query result inside a `for` loop
    or comprehension, when the query that produced the items has no eager-loading option for
    it: SQLAlchemy `session.query(M)` / `select(M)` (through `scalars()`) without
    `joinedload`/`selectinload`/`subqueryload`/`immediateload`/`contains_eager` for that
    attribute, or Django `M.objects...` without `select_related`/`prefetch_related`.

    The relationship must be known: declared with `relationship()`/`Relationship()` (default
    `lazy="select"`) or as a Django `ForeignKey`/`OneToOneField`/`ManyToManyField` (or its
    reverse accessor) on a model class anywhere in the project. The query must be visible in
    the same function (the loop's iterable, or a name assigned once from it).

    Not flagged: relationships declared `lazy="selectin"`/`"joined"`/`"raise"`..., queries
    with options the rule cannot read (assumed to cover), result rows from `execute()` without
    `scalars()`, `values()`/`values_list()`, a model name defined more than once in the
    project, assignments (`item.author = ...`), files under `migrations/`, and test files.
    As a project rule it runs when a directory is checked;
    `per-file-ignores` apply, inline `# bastion: ignore` comments do not yet."""

    id = "PERF004"
    needs = frozenset({"perf004"})  # the facts it reads
    name = "lazy-relationship-in-loop"
    severity = Severity.INFO
    precision = "very-high"
    precision_measured = (
        "15 of 15 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem, after leaving out data fix-ups, migration commands and test-support "
        "modules (the 5 wrong ones of 20); info since an earlier, noisier measurement"
    )
    summary = "Lazy relationship read on every row of a query result (N+1)"
    why = (
        "Reading a lazy relationship (`post.author`) issues one query the first time it is "
        "read on each object: a loop over 100 posts runs 101 queries. With `selectinload` / "
        "`joinedload` (SQLAlchemy) or `select_related` / `prefetch_related` (Django) the "
        "related rows come with the first query. With an `AsyncSession` the lazy load is "
        "not even allowed: it raises `MissingGreenlet`."
    )
    hint = (
        "Eager-load the relationship in the query: `.options(selectinload(Post.author))` "
        "(SQLAlchemy) or `.select_related('author')` / `.prefetch_related('tags')` (Django)."
    )
    bad = [
        "from sqlalchemy.orm import relationship\n\nclass Post(Base):\n"
        "    author = relationship('User')\n\ndef names(db):\n"
        "    for post in db.query(Post).all():\n        print(post.author.name)\n",
        "from sqlalchemy import select\nfrom sqlalchemy.orm import relationship\n\n"
        "class Post(Base):\n    tags = relationship('Tag')\n\nasync def f(session):\n"
        "    posts = (await session.scalars(select(Post))).all()\n"
        "    return [len(p.tags) for p in posts]\n",
        "from django.db import models\n\nclass Book(models.Model):\n"
        "    author = models.ForeignKey('Author', on_delete=models.CASCADE)\n\n"
        "def titles():\n    for book in Book.objects.filter(published=True):\n"
        "        print(book.author.name)\n",
    ]
    good = [
        "from sqlalchemy.orm import relationship, selectinload\n\nclass Post(Base):\n"
        "    author = relationship('User')\n\ndef names(db):\n"
        "    for post in db.query(Post).options(selectinload(Post.author)):\n"
        "        print(post.author.name)\n",
        "from django.db import models\n\nclass Book(models.Model):\n"
        "    author = models.ForeignKey('Author', on_delete=models.CASCADE)\n\n"
        "def titles():\n    for book in Book.objects.select_related('author'):\n"
        "        print(book.author.name)\n",
        "from sqlalchemy.orm import relationship\n\nclass Post(Base):\n"
        "    author = relationship('User', lazy='selectin')\n\ndef names(db):\n"
        "    for post in db.query(Post):\n        print(post.author.name)\n",
        "from sqlalchemy.orm import relationship\n\nclass Post(Base):\n"
        "    author = relationship('User')\n\ndef titles(db):\n"
        "    for post in db.query(Post):\n        print(post.title)\n",
    ]

    def check_project(self) -> None:
        facts = self.project.facts(FACT_KEY)
        by_model, by_name, reverse = _lazy_attrs(facts)
        reported: set[tuple[str, int, str, str]] = set()
        for path, fact in facts:
            if fact["kind"] != "read":
                continue
            key = (path, fact["loop_line"], fact["var"], fact["attr"])
            if key in reported:
                continue
            attrs = by_model.get(fact["model"])
            if attrs is None:
                owners = by_name.get(fact["name"], [])
                if len(set(owners)) == 1:
                    attrs = by_model[owners[0]]
                elif not owners and fact["name"] in reverse:
                    attrs = {}
                else:
                    continue
            if len(set(by_name.get(fact["name"], []))) <= 1:
                attrs = {**reverse.get(fact["name"], {}), **attrs}
            attr = fact["attr"]
            covered = fact["covered"]
            if attr not in attrs or attr in covered or _ALL in covered:
                continue
            if attrs[attr] == MANAGER and not fact["evaluated"]:
                continue  # a related manager only queries when evaluated
            reported.add(key)
            self.report_at(
                path,
                fact["line"],
                fact["column"],
                f"`{fact['var']}.{attr}` lazy-loads `{fact['name']}.{attr}` once per item of the "
                f"loop at line {fact['loop_line']} (the query at line {fact['query_line']} "
                "does not eager-load it)",
            )
