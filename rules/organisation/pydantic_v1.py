"""ORG004: Pydantic v1 APIs in a Pydantic 2 project."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.fixes import append_arg, ast_path_at, ast_start, keyword_arg
from bastion.analysis.nodes import keyword, walk_statements
from bastion.analysis.pydantic import (
    MODEL_BASES,
    class_definitions,
    declared_pydantic_major,
    model_classes,
)
from bastion.analysis.web import routes_of
from bastion.findings import Finding, FixSafety, Severity
from bastion.rule import Example, Fix, Rule

# method -> v2 spelling, for instances of models
_INSTANCE_METHODS = {
    "dict": "model_dump()",
    "json": "model_dump_json()",
    "copy": "model_copy()",
}
# classmethod -> v2 spelling, for model classes
_CLASS_METHODS = {
    "parse_obj": "Model.model_validate(data)",
    "parse_raw": "Model.model_validate_json(text)",
    "parse_file": "Model.model_validate_json(path.read_text())",
    "from_orm": "Model.model_validate(obj, from_attributes=True)",
    "schema": "Model.model_json_schema()",
    "schema_json": "json.dumps(Model.model_json_schema())",
    "construct": "Model.model_construct()",
    "update_forward_refs": "Model.model_rebuild()",
}
# The mechanical (safe) rewrites: v2 runs the v1 method as exactly this call.
_INSTANCE_KEYWORDS = {
    "dict": frozenset(
        {"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults", "exclude_none"}
    ),
    "json": frozenset(
        {"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults", "exclude_none"}
    ),
    "copy": frozenset({"update", "deep"}),
}
_RENAMED = {
    "dict": "model_dump",
    "json": "model_dump_json",
    "copy": "model_copy",
    "parse_obj": "model_validate",
    "from_orm": "model_validate",
    "schema": "model_json_schema",
    "construct": "model_construct",
    "update_forward_refs": "model_rebuild",
}
_KEYWORD_RENAMES = {"regex": "pattern", "min_items": "min_length", "max_items": "max_length"}
# classmethods whose names only pydantic v1 uses: flagged on any class-like receiver
_DISTINCTIVE = frozenset(
    {"parse_obj", "parse_raw", "parse_file", "from_orm", "update_forward_refs"}
)
_DECORATORS = {
    "pydantic.validator": ("@validator", "@field_validator"),
    "pydantic.class_validators.validator": ("@validator", "@field_validator"),
    "pydantic.root_validator": ("@root_validator", '@model_validator(mode="before"/"after")'),
    "pydantic.class_validators.root_validator": (
        "@root_validator",
        '@model_validator(mode="before"/"after")',
    ),
}
_FUNCTIONS = {
    "pydantic.parse_obj_as": ("parse_obj_as(T, data)", "TypeAdapter(T).validate_python(data)"),
    "pydantic.tools.parse_obj_as": (
        "parse_obj_as(T, data)",
        "TypeAdapter(T).validate_python(data)",
    ),
    "pydantic.parse_raw_as": ("parse_raw_as(T, text)", "TypeAdapter(T).validate_json(text)"),
    "pydantic.schema_of": ("schema_of(T)", "TypeAdapter(T).json_schema()"),
}
_FIELD_FUNCTIONS = frozenset(
    {
        "pydantic.Field",
        "pydantic.fields.Field",
        "sqlmodel.Field",
        "pydantic.constr",
        "pydantic.conlist",
        "pydantic.conset",
        "fastapi.Query",
        "fastapi.Path",
        "fastapi.Body",
        "fastapi.Header",
        "fastapi.Cookie",
        "fastapi.Form",
        "fastapi.params.Query",
        "fastapi.params.Path",
        "fastapi.params.Body",
    }
)
_FIELD_KEYWORDS = {
    "regex": "pattern=",
    "min_items": "min_length=",
    "max_items": "max_length=",
    "allow_mutation": "frozen=",
    "const": "a `Literal[...]` type",
}
# route parameter types that are not request bodies
_NOT_MODELS = frozenset(
    {
        "Request",
        "Response",
        "WebSocket",
        "BackgroundTasks",
        "UploadFile",
        "Session",
        "AsyncSession",
        "HTTPConnection",
        "SecurityScopes",
        "OAuth2PasswordRequestForm",
        "HTTPAuthorizationCredentials",
        "HTTPBasicCredentials",
    }
)
_VERSION_WORDS = ("pydantic", "version")

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


def _keywords_within(call: ast.Call, allowed: frozenset[str]) -> bool:
    return not call.args and all(kw.arg in allowed for kw in call.keywords)


def _class_call_fixable(call: ast.Call, method: str) -> bool:
    if method in ("parse_obj", "from_orm"):
        return (
            len(call.args) == 1 and not call.keywords and not isinstance(call.args[0], ast.Starred)
        )
    if method == "schema":
        return _keywords_within(call, frozenset({"by_alias", "ref_template"}))
    if method == "update_forward_refs":
        return not call.args and not call.keywords
    return method == "construct"


def _keyword_fixable(call: ast.Call, kw: ast.keyword, qualified: str) -> bool:
    """`regex=` -> `pattern=` (pydantic and FastAPI), `min_items=`/`max_items=` ->
    `min_length=`/`max_length=` (pydantic), `allow_mutation=<bool>` -> `frozen=<not bool>`
    (pydantic `Field`); never when the new keyword is already given."""
    key = kw.arg or ""
    pydantic = qualified.startswith("pydantic.")
    if key == "regex":
        ok = pydantic or qualified.startswith("fastapi.")
        new = "pattern"
    elif key in ("min_items", "max_items"):
        ok, new = pydantic, _KEYWORD_RENAMES[key]
    elif key == "allow_mutation":
        value = kw.value
        ok = pydantic and qualified.endswith(".Field")
        ok = ok and isinstance(value, ast.Constant) and type(value.value) is bool
        new = "frozen"
    else:
        return False
    return ok and all(other.arg != new for other in call.keywords)


_DICT_LIKE = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "None"})


def _union_members(annotation: ast.expr | None) -> list[ast.expr]:
    """`A | B`, `Union[A, B]`, `Optional[A]` -> [A, B] (None included as a constant)."""
    if annotation is None:
        return []
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        return [*_union_members(annotation.left), *_union_members(annotation.right)]
    if isinstance(annotation, ast.Subscript):
        head = annotation.value
        name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
        if name == "Optional":
            return [*_union_members(annotation.slice), ast.Constant(None)]
        if name == "Union":
            inner = annotation.slice
            elts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            return [m for e in elts for m in _union_members(e)]
    return [annotation]


def _member_name(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    if isinstance(node, ast.Subscript):
        node = node.value  # Dict[str, Any] -> Dict
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return ast.unparse(node)
    return ""


def _annotation_class(annotation: ast.expr | None) -> str | None:
    """`User`, `User | None`, `Optional[User]` -> "User" (the single non-None member)."""
    members = [m for m in _union_members(annotation) if _member_name(m) != "None"]
    if len(members) == 1 and isinstance(members[0], ast.Name):
        return members[0].id
    return None


_DECORATOR_NAMES = last_parts(_DECORATORS)


def _attribute_bases(cls: ast.ClassDef) -> bool:
    """A base spelled `x.BaseSettings`, the only spelling of `pydantic.BaseSettings` flagged."""
    return any(isinstance(b, ast.Attribute) and b.attr == "BaseSettings" for b in cls.bases)


# the last part of every call name looked at below
_CALL_NAMES = last_parts([*_FUNCTIONS, *_FIELD_FUNCTIONS, *_INSTANCE_METHODS, *_CLASS_METHODS])


class PydanticV1Api(Rule):
    """Flags Pydantic v1 APIs in a project on Pydantic 2, each with its v2 spelling:
    `from pydantic import BaseSettings` (now in pydantic-settings), an inner `class Config` in a
    model (`model_config = ConfigDict(...)`), `@validator` / `@root_validator`
    (`@field_validator` / `@model_validator`), `Field(regex=)` and friends (`pattern=`,
    `min_length=`...; also FastAPI's `Query(regex=)`), `parse_obj_as`, and the v1 model methods
    `.dict()`, `.json()`, `.copy()`, `.parse_obj()`, `.parse_raw()`, `.from_orm()`,
    `.schema()`, `.construct()`, `.update_forward_refs()`.

    The project's Pydantic version comes from its declared dependencies (pyproject.toml,
    requirements files, lock files at the project root); a project that pins Pydantic 1 is
    left alone, and one that does not say is taken to use Pydantic 2.

    Precision: `.dict()`/`.json()`/`.copy()` are flagged only on objects known to be models:
    `self` in a model's method, a variable built from a model class of this module, a
    parameter annotated with a model - a class of this module, a `TypeVar` bound to
    `BaseModel`, or a class imported from a `schemas` module (the FastAPI convention), alone or
    in a union with `dict`/`None` - or a FastAPI route's body parameter. Not flagged: classes
    built on the `pydantic.v1` compatibility shim, code under `if PYDANTIC_V2:`-style version
    checks, fallback imports in `except ImportError:` handlers, and wrappers that forward
    their own argument (`Query(regex=regex)`)."""

    id = "ORG004"
    name = "pydantic-v1-api"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "20 of 20 judged findings right (100%) on 15 application repositories, bench/ecosystem"
    )
    summary = "Pydantic v1 API used in a Pydantic 2 project"
    why = (
        "Pydantic 2 keeps most v1 APIs only as deprecated shims: they emit warnings, run "
        "slower than their v2 replacements, sometimes behave differently (`.copy()`, "
        "`.json()` encoders, `Config` keys that were renamed and are silently ignored), and "
        "will be removed in v3. `BaseSettings` is no longer importable from `pydantic` at all."
    )
    hint = (
        "Use the v2 spelling: `model_dump()`, `model_dump_json()`, `model_validate()`, "
        "`@field_validator`, `model_config = ConfigDict(...)`, `pattern=`."
    )
    requires = ("pydantic", "fastapi", "sqlmodel", "schema", "parse_obj", "from_orm", "parse_raw")
    call_names = _CALL_NAMES  # visit_Call's only calls (see may_name)
    # safe where v2 runs the v1 spelling as exactly the new call (`.dict()` -> `.model_dump()`
    # with the same keywords, `regex=` -> `pattern=`...); the rest is hint only
    fix_safety = FixSafety.SAFE
    fix_safety_note = (
        "Only renames that Pydantic 2 runs identically are fixed (`.dict()` -> `.model_dump()`, "
        "`.parse_obj()` -> `.model_validate()`, `from_orm` -> `model_validate(..., "
        "from_attributes=True)`, `regex=` -> `pattern=`...): the deprecated v1 names are thin "
        "aliases of these calls in v2. Calls on a model that overrides the v1 method are left "
        "alone, since renaming them would skip the override."
    )
    bad = [
        "from pydantic import BaseSettings\n\nclass Settings(BaseSettings):\n"
        "    database_url: str\n",
        "from pydantic import BaseModel, validator\n\nclass User(BaseModel):\n    email: str\n\n"
        "    @validator('email')\n    def lower(cls, v):\n        return v.lower()\n",
        "from pydantic import BaseModel\n\nclass User(BaseModel):\n    name: str\n\n"
        "    class Config:\n        orm_mode = True\n",
        Example(
            "from pydantic import BaseModel, Field\n\nclass User(BaseModel):\n"
            "    code: str = Field(regex='^[A-Z]+$', min_items=1)\n",
            fixed="from pydantic import BaseModel, Field\n\nclass User(BaseModel):\n"
            "    code: str = Field(pattern='^[A-Z]+$', min_length=1)\n",
        ),
        Example(
            "from pydantic import BaseModel\n\nclass User(BaseModel):\n    name: str\n\n"
            "def save(data):\n    user = User.parse_obj(data)\n    return user.dict()\n",
            fixed="from pydantic import BaseModel\n\nclass User(BaseModel):\n    name: str\n\n"
            "def save(data):\n    user = User.model_validate(data)\n    return user.model_dump()\n",
        ),
        Example(
            "from pydantic import BaseModel\n\nclass User(BaseModel):\n    name: str\n\n"
            "def show(row, user: User):\n    out = User.from_orm(row)\n"
            "    return out.json(exclude_none=True), user.copy(update={'name': 'x'})\n",
            fixed="from pydantic import BaseModel\n\nclass User(BaseModel):\n    name: str\n\n"
            "def show(row, user: User):\n    out = User.model_validate(row, from_attributes=True)\n"
            "    return out.model_dump_json(exclude_none=True), "
            "user.model_copy(update={'name': 'x'})\n",
        ),
        # not mechanical: `model_dump_json` takes no `json.dumps` keywords (hint only)
        "from pydantic import BaseModel\n\nclass User(BaseModel):\n    name: str\n\n"
        "def show(user: User):\n    return user.json(sort_keys=True)\n",
        "from fastapi import APIRouter\nfrom app.schemas import UserCreate\n\n"
        "router = APIRouter()\n\n@router.post('/users')\nasync def create(user: UserCreate):\n"
        "    return await repo.insert(user.dict())\n",
        "from typing import Any, Dict, TypeVar, Union\nfrom pydantic import BaseModel\n\n"
        "UpdateT = TypeVar('UpdateT', bound=BaseModel)\n\n"
        "def update(db_obj, obj_in: Union[UpdateT, Dict[str, Any]]):\n"
        "    if isinstance(obj_in, dict):\n        return obj_in\n"
        "    return obj_in.dict(exclude_unset=True)\n",
        "from app.schemas.user import UserUpdate\n\n"
        "def apply(user, obj_in: UserUpdate | None):\n"
        "    return obj_in.dict(exclude_unset=True) if obj_in else {}\n",
    ]
    good = [
        "from pydantic_settings import BaseSettings\n\nclass Settings(BaseSettings):\n"
        "    database_url: str\n",
        "from pydantic import BaseModel, ConfigDict\n\nclass User(BaseModel):\n"
        "    model_config = ConfigDict(from_attributes=True)\n    name: str\n\n"
        "def save(data):\n    return User.model_validate(data).model_dump()\n",
        "import requests\n\ndef fetch(url):\n    response = requests.get(url)\n"
        "    return response.json()\n",
        "from pydantic import BaseModel\n\ndef merge(options: dict, extra):\n"
        "    cfg = options.copy()\n    return extra.dict()\n",
        "from app.models import Order\n\ndef export(order: Order, rows: list):\n"
        "    return order.dict(), rows.copy()\n",
        "from pydantic.v1 import BaseModel\n\nclass Legacy(BaseModel):\n    name: str\n\n"
        "    class Config:\n        orm_mode = True\n",
        "try:\n    from pydantic_settings import BaseSettings\nexcept ImportError:\n"
        "    from pydantic import BaseSettings\n",
        "class Meta:\n    pass\n\nclass Form:\n    class Config:\n        strict = True\n",
    ]

    fix_node = ("Call", "Arg")

    def report(
        self,
        node: ast.AST,
        message: str,
        *,
        hint: str | None = None,
        redact: Iterable[str] = (),
        fixable: bool | None = False,
    ) -> None:
        """Only the mechanical cases are fixable: they say so."""
        super().report(node, message, hint=hint, redact=redact, fixable=fixable)

    def fix_position(self, finding: Finding) -> tuple[int, int] | None:
        """`Field(regex=...)` is flagged at the value; the fix renames its keyword argument."""
        line, column = finding.line, finding.column - 1
        path = ast_path_at(self.ctx, line, column, (ast.expr,))
        if path is not None and len(path) >= 2:
            parent = path[-2]
            if isinstance(parent, ast.keyword) and parent.arg in _FIELD_KEYWORDS:
                return ast_start(self.ctx, parent)
        return line, column

    def fix(self, node: Any, finding: Finding) -> Fix | None:
        import libcst as cst

        if isinstance(node, cst.Arg) and node.keyword is not None:
            key = node.keyword.value
            if key in _KEYWORD_RENAMES:
                return Fix(node.with_changes(keyword=cst.Name(_KEYWORD_RENAMES[key])))
            if key == "allow_mutation" and isinstance(node.value, cst.Name):
                flipped = {"True": "False", "False": "True"}.get(node.value.value)
                if flipped is not None:
                    return Fix(
                        node.with_changes(keyword=cst.Name("frozen"), value=cst.Name(flipped))
                    )
            return None
        if not isinstance(node, cst.Call) or not isinstance(node.func, cst.Attribute):
            return None
        method = node.func.attr.value
        new = _RENAMED.get(method)
        if new is None:
            return None
        call = node.with_changes(func=node.func.with_changes(attr=cst.Name(new)))
        if method == "from_orm":
            call = append_arg(call, keyword_arg("from_attributes", cst.Name("True")))
        return Fix(call)

    def visit_Module(self, node: ast.Module) -> None:
        self._active = declared_pydantic_major(self.ctx.config.root) != 1
        # a model (or `pydantic.v1` class) has a base whose qualified name starts with
        # `pydantic` or `sqlmodel`, which the text then spells out (in an import or in the
        # base itself): without either word there is no class worth collecting
        text = self.ctx.source.text
        classes = class_definitions(node) if "pydantic" in text or "sqlmodel" in text else []
        self._models, self._v1_models = model_classes(node, self.ctx.imports, classes)
        # v1 methods a model of this module overrides: renaming a call would skip the override
        self._overridden = {
            stmt.name
            for cls in (classes if self._models else ())
            if cls.name in self._models
            for stmt in cls.body
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name in _RENAMED
        }
        self._model_typevars = self._typevars_bound_to_models(node)
        self._scopes: list[dict[str, str]] = []  # variable -> model class, per function
        imports = self.ctx.imports
        # variables can only be known models where models exist or can come in: skip the
        # per-function bookkeeping in every other module (most of a large code base)
        self._tracks_variables = self._active and bool(
            self._models
            or self._model_typevars
            or imports.is_imported("pydantic")
            or imports.is_imported("fastapi")
            or any(
                part in ("schemas", "schema")
                for target in imports.aliases.values()
                for part in target.lstrip(".").split(".")[:-1]
            )
        )

    def _typevars_bound_to_models(self, tree: ast.Module) -> set[str]:
        """`SchemaT = TypeVar("SchemaT", bound=BaseModel)`."""
        out: set[str] = set()
        text = self.ctx.source.text
        if "TypeVar" not in text and text.isascii():
            # a name resolving to `...TypeVar` is spelled so in the call or in its import
            return out
        for stmt in tree.body:
            if not (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
                and isinstance(stmt.value, ast.Call)
                and (self.ctx.imports.qualname(stmt.value.func) or "").endswith("TypeVar")
            ):
                continue
            bound = keyword(stmt.value, "bound")
            if bound is None:
                continue
            target = bound.value
            qualified = self.ctx.imports.qualname(target) or ""
            if qualified in MODEL_BASES or (
                isinstance(target, ast.Name) and target.id in self._models
            ):
                out.add(stmt.targets[0].id)
        return out

    # -- helpers --------------------------------------------------------------------------------
    def _silenced(self) -> bool:
        """Inactive project, version-guarded branch, or ImportError fallback."""
        if not self._active:
            return True
        for node in self.ctx.stack:
            if isinstance(node, ast.If):
                test = ast.unparse(node.test).lower()
                if any(word in test for word in _VERSION_WORDS):
                    return True
            if (
                isinstance(node, ast.ExceptHandler)
                and node.type is not None
                and "ImportError" in ast.unparse(node.type)
            ):
                return True
            if isinstance(node, ast.ClassDef) and node.name in self._v1_models:
                return True
        return False

    def _model_of(self, node: ast.expr) -> str | None:
        """The model class of an instance expression, when known."""
        if isinstance(node, ast.Name):
            if node.id == "self":
                cls = self.ctx.enclosing_class()
                return cls.name if cls is not None and cls.name in self._models else None
            for scope in reversed(self._scopes):
                if node.id in scope:
                    return scope[node.id]
        return None

    def _is_model_class(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Name) and node.id in self._models

    # -- scopes -----------------------------------------------------------------------------------
    def _enter(self, func: FunctionNode) -> None:
        scope: dict[str, str] = {}
        if func.decorator_list and self._tracks_variables:
            # the routes are computed once per function, here as before (whoever asks later
            # gets them as the imports were at this point)
            routes_of(func, self.ctx)
        if not self._tracks_variables:
            self._scopes.append(scope)
            return
        args = func.args
        # an argument without annotation is neither a route body nor a model
        annotated = [
            arg
            for arg in (*args.posonlyargs, *args.args, *args.kwonlyargs)
            if arg.annotation is not None
        ]
        route_params = self._route_body_params(func) if annotated else set()
        for arg in annotated:
            annotation = arg.annotation
            kind = type(annotation)
            if kind is ast.Constant:
                continue  # `"User"`, `None`: neither helper below names a class for it
            if kind is ast.Name:
                # what the two helpers below say of a bare name, without the union lists
                name = annotation.id  # type: ignore[union-attr]
                if arg.arg in route_params or (
                    name not in _DICT_LIKE and self._is_model_name(name)
                ):
                    scope[arg.arg] = name
                continue
            cls = _annotation_class(arg.annotation)
            if cls is not None and arg.arg in route_params:
                scope[arg.arg] = cls
                continue
            model = self._model_annotation(arg.annotation)
            if model is not None:
                scope[arg.arg] = model
        # every variable below is bound to a model class of this module: none, nothing to find
        for node in walk_statements(func) if self._models else ():
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            elif isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
                cls = _annotation_class(node.annotation)
                if isinstance(target, ast.Name) and cls in self._models:
                    scope[target.id] = cls
                    continue
            else:
                continue
            if not isinstance(target, ast.Name) or not isinstance(value, ast.Call):
                continue
            built = self._built_model(value)
            if built is not None:
                scope[target.id] = built
        self._scopes.append(scope)

    def _is_model_name(self, name: str) -> bool:
        """A class known to be a model: defined here, a TypeVar bound to a model, or imported
        from a `schemas` module (the FastAPI convention for request/response models)."""
        if name in self._models or name in self._model_typevars:
            return True
        if "." in name:
            qualified = self.ctx.imports.qualname(ast.parse(name, mode="eval").body) or ""
        else:
            qualified = self.ctx.imports.aliases.get(name, "")
        parts = qualified.lstrip(".").split(".")[:-1]
        return any(p in ("schemas", "schema") for p in parts)

    def _model_annotation(self, annotation: ast.expr | None) -> str | None:
        """The model an annotation names, alone or in a union with dict-likes/None
        (`UserUpdate | dict[str, Any]`: the non-dict branch is the model)."""
        members = _union_members(annotation)
        names = [_member_name(m) for m in members]
        models = [n for n in names if n not in _DICT_LIKE]
        if len(models) == 1 and models[0] and self._is_model_name(models[0]):
            return models[0]
        return None

    def _built_model(self, call: ast.Call) -> str | None:
        func = call.func
        if self._is_model_class(func):
            assert isinstance(func, ast.Name)
            return func.id
        if (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self._models
            and func.attr in ("parse_obj", "model_validate", "from_orm", "construct")
        ):
            return func.value.id
        return None

    def _route_body_params(self, func: FunctionNode) -> set[str]:
        """FastAPI route parameters annotated with a class and no dependency default: bodies."""
        routes = [r for r in routes_of(func, self.ctx) if r.framework == "fastapi"]
        if not routes:
            return set()
        args = func.args
        positional = [*args.posonlyargs, *args.args]
        defaults: dict[str, ast.expr] = dict(
            zip(
                [a.arg for a in positional[len(positional) - len(args.defaults) :]],
                args.defaults,
                strict=True,
            )
        )
        defaults.update(
            {a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d}
        )
        out: set[str] = set()
        for arg in (*positional, *args.kwonlyargs):
            cls = _annotation_class(arg.annotation)
            if cls is None or cls in _NOT_MODELS or not cls[:1].isupper():
                continue
            default = defaults.get(arg.arg)
            if default is not None:
                called = self.ctx.imports.qualname(
                    default.func if isinstance(default, ast.Call) else default
                )
                if called not in ("fastapi.Body", "fastapi.params.Body"):
                    continue
            out.add(arg.arg)
        return out

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._enter(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._enter(node)

    def leave_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._scopes.pop()

    def leave_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._scopes.pop()

    # -- checks -----------------------------------------------------------------------------------
    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module != "pydantic" or node.level or self._silenced():
            return
        for alias in node.names:
            if alias.name == "BaseSettings":
                self.report(
                    node,
                    "`from pydantic import BaseSettings` fails on Pydantic 2: it moved to "
                    "pydantic-settings",
                    hint="Install pydantic-settings and write "
                    "`from pydantic_settings import BaseSettings`.",
                )

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        parent = self.ctx.parent
        config = (
            node.name == "Config"
            and isinstance(parent, ast.ClassDef)
            and parent.name in self._models
            and node in parent.body
        )
        # whether the walk up the stack (`_silenced`) is worth it: most classes have nothing
        if not (config or self._may_have_v1_decorators(node) or _attribute_bases(node)):
            return
        if self._silenced():
            return
        if config:
            assert isinstance(parent, ast.ClassDef)
            self.report(
                node,
                f"inner `class Config` in model `{parent.name}` is the Pydantic v1 spelling",
                hint="Write `model_config = ConfigDict(...)` (`SettingsConfigDict` for "
                "settings); renamed keys: `orm_mode` -> `from_attributes`, "
                "`allow_population_by_field_name` -> `populate_by_name`.",
            )
        for decorator_holder in node.body:
            if isinstance(decorator_holder, FunctionNode):
                self._check_decorators(decorator_holder)
        for base in node.bases:
            if self.ctx.imports.qualname(base) == "pydantic.BaseSettings" and isinstance(
                base, ast.Attribute
            ):
                self.report(
                    base,
                    "`pydantic.BaseSettings` does not exist on Pydantic 2",
                    hint="Use `pydantic_settings.BaseSettings` (package pydantic-settings).",
                )

    def _may_have_v1_decorators(self, cls: ast.ClassDef) -> bool:
        """A method decorator of `cls` whose name can be one of `_DECORATORS` (`may_name`)."""
        imports = self.ctx.imports
        for stmt in cls.body:
            if isinstance(stmt, FunctionNode):
                for decorator in stmt.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if may_name(target, _DECORATOR_NAMES, imports):
                        return True
        return False

    def _check_decorators(self, func: FunctionNode) -> None:
        for decorator in func.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            qualified = self.ctx.imports.qualname(target) or ""
            if qualified in _DECORATORS:
                old, new = _DECORATORS[qualified]
                self.report(
                    decorator,
                    f"`{old}` is deprecated in Pydantic 2: use `{new}`",
                    hint=f"Replace `{old}` with `{new}` and make the method a `@classmethod` "
                    '(`pre=True` becomes `mode="before"`; `values` becomes `info.data`).',
                )

    def visit_Call(self, node: ast.Call) -> None:
        imports = self.ctx.imports
        func = node.func
        if not may_name(func, _CALL_NAMES, self.ctx.imports):
            return
        qualified = imports.qualname(func) or ""
        candidate = (
            qualified in _FUNCTIONS
            or qualified in _FIELD_FUNCTIONS
            or (
                isinstance(func, ast.Attribute)
                and (func.attr in _INSTANCE_METHODS or func.attr in _CLASS_METHODS)
            )
        )
        if not candidate or self._silenced():
            return
        if qualified in _FUNCTIONS:
            old, new = _FUNCTIONS[qualified]
            self.report(node, f"`{old}` is deprecated in Pydantic 2", hint=f"Use `{new}`.")
            return
        if qualified in _FIELD_FUNCTIONS:
            for key, new in _FIELD_KEYWORDS.items():
                kw = keyword(node, key)
                # `regex=regex`: a wrapper forwarding its caller's argument
                forwarded = kw is not None and isinstance(kw.value, ast.Name) and kw.value.id == key
                unset = (
                    kw is not None and isinstance(kw.value, ast.Constant) and kw.value.value is None
                )
                if kw is not None and not forwarded and not unset:
                    name = qualified.rpartition(".")[2]
                    self.report(
                        kw.value,
                        f"`{name}({key}=...)` is the Pydantic v1 spelling",
                        hint=f"Use {new} instead of `{key}=`.",
                        fixable=_keyword_fixable(node, kw, qualified),
                    )
            return
        if not isinstance(func, ast.Attribute):
            return
        method = func.attr
        receiver = func.value
        if method in _INSTANCE_METHODS and not node.args:
            model = self._model_of(receiver)
            if model is not None:
                new = _INSTANCE_METHODS[method]
                self.report(
                    node,
                    f"`.{method}()` on `{model}` instance is the Pydantic v1 API: use `.{new}`",
                    hint=f"Call `.{new}` (same keyword arguments: `exclude_unset=True`...).",
                    fixable=_keywords_within(node, _INSTANCE_KEYWORDS[method])
                    and method not in self._overridden,
                )
            return
        if method in _CLASS_METHODS:
            known = self._is_model_class(receiver)
            distinctive = (
                method in _DISTINCTIVE
                and isinstance(receiver, ast.Name)
                and receiver.id[:1].isupper()
                and receiver.id in imports.aliases  # an imported class, not a local variable
                and not imports.aliases[receiver.id].startswith("pydantic.v1")
            )
            if known or distinctive:
                assert isinstance(receiver, ast.Name)
                new = _CLASS_METHODS[method].replace("Model", receiver.id)
                self.report(
                    node,
                    f"`{receiver.id}.{method}()` is the Pydantic v1 API: use `{new}`",
                    hint=f"Call `{new}`.",
                    fixable=_class_call_fixable(node, method) and method not in self._overridden,
                )
