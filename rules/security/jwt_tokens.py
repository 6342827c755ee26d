"""SEC004-SEC005: how JSON Web Tokens are issued and verified (PyJWT, python-jose)."""

from __future__ import annotations

import ast

from bastion.analysis.fastpath import last_parts, may_name
from bastion.analysis.injection import LocalAssignments
from bastion.analysis.nodes import argument, has_kwargs_splat, is_false, keyword_value, string_value
from bastion.findings import Severity
from bastion.rule import Rule

JWT_ENCODE = frozenset(
    {"jwt.encode", "jwt.api_jwt.encode", "jose.jwt.encode", "jose.jwt.jwt.encode"}
)
JWT_DECODE = frozenset(
    {"jwt.decode", "jwt.api_jwt.decode", "jose.jwt.decode", "jose.jwt.jwt.decode"}
)
_ENCODE_NAMES = last_parts(JWT_ENCODE)
_DECODE_NAMES = last_parts(JWT_DECODE)


def _dict_keys(node: ast.expr) -> tuple[set[str], bool] | None:
    """The constant keys of a dict literal / `dict(k=...)` call, and whether the set is
    complete (no `**other`, no computed keys). None when `node` is neither."""
    if isinstance(node, ast.Dict):
        keys: set[str] = set()
        complete = True
        for key in node.keys:
            value = string_value(key) if key is not None else None
            if value is None:
                complete = False
            else:
                keys.add(value)
        return keys, complete
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        keys = {kw.arg for kw in node.keywords if kw.arg is not None}
        complete = not node.args and not has_kwargs_splat(node)
        return keys, complete
    return None


def _later_keys(scope: ast.AST, name: str) -> tuple[set[str], bool]:
    """Keys added to the variable `name` anywhere in the scope: `name["exp"] = ...`,
    `name.update(exp=...)`, `name.update({...})`, `name.setdefault("exp", ...)`. The flag says
    whether every addition was understood (an `update(other)` is not)."""
    keys: set[str] = set()
    complete = True
    for node in ast.walk(scope):
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id == name:
                key = string_value(node.slice)
                if key is None:
                    complete = False
                else:
                    keys.add(key)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == name
        ):
            method = node.func.attr
            if method == "update":
                keys.update(kw.arg for kw in node.keywords if kw.arg)
                if has_kwargs_splat(node):
                    complete = False
                for arg in node.args:
                    found = _dict_keys(arg)
                    if found is None:
                        complete = False
                    else:
                        keys |= found[0]
                        complete = complete and found[1]
            elif method == "setdefault":
                key = string_value(node.args[0]) if node.args else None
                if key is None:
                    complete = False
                else:
                    keys.add(key)
            elif method in ("__setitem__", "__ior__"):
                complete = False
        elif (
            isinstance(node, ast.AugAssign)
            and isinstance(node.target, ast.Name)
            and node.target.id == name
        ):
            found = _dict_keys(node.value)
            if found is None:
                complete = False
            else:
                keys |= found[0]
                complete = complete and found[1]
    return keys, complete


class JwtWithoutExpiry(Rule):
    """Flags `jwt.encode(payload, ...)` (PyJWT, python-jose) where the payload is a dict literal,
    or a variable assigned a dict literal / `dict(...)` in the same function, that never gets an
    `exp` claim. Keys added later in the function (`payload["exp"] = ...`,
    `payload.update({"exp": ...})`) count. Payloads whose keys cannot be known here (a
    parameter, `data.copy()`, `{**claims}`, `update(other)`) are not flagged. Test files are
    skipped."""

    id = "SEC004"
    name = "jwt-without-expiry"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "1 of 1 judged findings right (100%) on 15 application repositories, "
        "bench/ecosystem; too few findings to be sure of the band"
    )
    cwe = (613,)
    summary = "JWT issued without an `exp` (expiry) claim"
    why = (
        "A token with no expiry is valid forever: once leaked (logs, browser storage, a "
        "proxy), it grants access until the signing key is rotated, and logging out or "
        "changing a password does not end it. Short-lived access tokens limit the damage."
    )
    hint = (
        'Add an expiry: `payload["exp"] = datetime.now(timezone.utc) + timedelta(minutes=15)` '
        "(and refresh tokens for longer sessions)."
    )
    requires = ("jwt",)
    call_names = _ENCODE_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "import jwt\n\ndef token(user):\n"
        '    return jwt.encode({"sub": str(user.id)}, KEY, algorithm="HS256")\n',
        "from jose import jwt\n\ndef token(user):\n"
        '    claims = {"sub": user.email, "role": user.role}\n'
        '    return jwt.encode(claims, KEY, algorithm="HS256")\n',
        "import jwt as pyjwt\n\ndef token(uid):\n    payload = dict(sub=uid)\n"
        '    payload["scope"] = "api"\n    return pyjwt.encode(payload, KEY)\n',
    ]
    good = [
        "import jwt\n\ndef token(user, expires):\n"
        '    return jwt.encode({"sub": str(user.id), "exp": expires}, KEY, algorithm="HS256")\n',
        "from jose import jwt\n\ndef token(data, expires):\n    to_encode = data.copy()\n"
        '    to_encode.update({"exp": expires})\n    return jwt.encode(to_encode, KEY)\n',
        "import jwt\n\ndef token(uid, ttl):\n    payload = {'sub': uid}\n"
        "    payload['exp'] = ttl\n    return jwt.encode(payload, KEY)\n",
        "def token(payload):\n    return jwt.encode(payload, KEY)\n",
        "import jwt\n\ndef token(claims):\n    return jwt.encode({**claims, 'iss': 'me'}, KEY)\n",
    ]

    def visit_Call(self, node: ast.Call) -> None:
        if self.ctx.is_test_file:
            return
        if not may_name(node.func, _ENCODE_NAMES, self.ctx.imports):
            return
        if self.ctx.imports.imported_qualname(node.func) not in JWT_ENCODE:
            return
        payload = argument(node, 0, "payload") or keyword_value(node, "claims")
        if payload is None:
            return
        found = _dict_keys(payload)
        if found is not None:
            keys, complete = found
            if complete and "exp" not in keys:
                self.report(payload, "JWT payload has no `exp` claim: the token never expires")
            return
        if not isinstance(payload, ast.Name):
            return
        scope = self.ctx.enclosing_function() or self.ctx.tree
        if scope is None:
            return
        assigned = LocalAssignments.of(scope).values(payload.id, before=node.lineno)
        if len(assigned) != 1 or assigned[0][1]:
            return  # several or augmented assignments: not one known dict
        found = _dict_keys(assigned[0][0])
        if found is None or not found[1] or "exp" in found[0]:
            return
        later, later_complete = _later_keys(scope, payload.id)
        if "exp" in later or not later_complete:
            return
        self.report(
            payload,
            f"JWT payload `{payload.id}` never gets an `exp` claim: the token never expires",
        )


def _options_disable_signature(node: ast.expr | None) -> bool:
    if not isinstance(node, ast.Dict):
        return False
    for key, value in zip(node.keys, node.values, strict=True):
        if key is not None and string_value(key) == "verify_signature" and is_false(value):
            return True
    return False


def _allows_none(node: ast.expr | None) -> bool:
    elements = node.elts if isinstance(node, ast.List | ast.Tuple | ast.Set) else [node]
    return any((string_value(e) or "").lower() == "none" for e in elements if e is not None)


# claims that say who issued a token (and so whose key verifies it), not what it grants
_ROUTING_CLAIMS = frozenset({"iss", "kid", "owner", "typ"})


def _routing_key(key: ast.expr | None) -> bool:
    if key is None:
        return False
    if isinstance(key, ast.Name):  # `payload.get(JWT_OWNER_FIELD)`
        return key.id.isupper() and ("ISS" in key.id or "OWNER" in key.id)
    return string_value(key) in _ROUTING_CLAIMS


def _reads_only_routing_claims(function: ast.AST, name: str) -> bool:
    """Every use of the variable `name` reads a routing claim: `name.get("iss")`,
    `name["owner"]`."""
    uses = 0
    routing: set[int] = set()
    for sub in ast.walk(function):
        if isinstance(sub, ast.Name) and sub.id == name and isinstance(sub.ctx, ast.Load):
            uses += 1
        elif (
            isinstance(sub, ast.Call)
            and isinstance(sub.func, ast.Attribute)
            and sub.func.attr == "get"
            and isinstance(sub.func.value, ast.Name)
            and sub.func.value.id == name
            and sub.args
            and _routing_key(sub.args[0])
        ):
            routing.add(id(sub.func.value))
        elif (
            isinstance(sub, ast.Subscript)
            and isinstance(sub.value, ast.Name)
            and sub.value.id == name
            and _routing_key(sub.slice)
        ):
            routing.add(id(sub.value))
    return uses > 0 and uses == len(routing)


class JwtInsecureDecode(Rule):
    """Flags `jwt.decode(...)` (PyJWT, python-jose) that does not really verify the token:
    signature verification switched off (`options={"verify_signature": False}`, PyJWT 1's
    `verify=False`), the `"none"` algorithm allowed, or no `algorithms=` list at all (the
    algorithm is then chosen by the token's own header, which allows algorithm-confusion
    attacks). A call passing `**kwargs` is not flagged for a missing `algorithms=`. Test files
    are skipped.

    An unverified decode that only picks how to verify is not flagged (issue #15: flagsmith's
    OIDC token exchange, saleor's token routing): the same function decodes the token again
    with verification, or the claims are read only for the issuer/owner (`iss`, `kid`,
    `owner`, `typ`, or an `..._ISSUER`/`..._OWNER_...` constant key)."""

    id = "SEC005"
    name = "jwt-insecure-decode"
    severity = Severity.WARNING
    precision = "very-high"
    precision_measured = (
        "3 of 3 judged findings right (100%) on 15 application repositories, bench/ecosystem, too "
        "few findings to be sure of the band (before: 3 of 5; unverified decodes that only route "
        "to the verifying key are no longer reported)"
    )
    cwe = (347,)
    summary = "`jwt.decode` without signature verification or a fixed `algorithms=` list"
    why = (
        "A JWT is only as trustworthy as the check of its signature. With verification off, "
        "anyone can forge a token with any claims; with `none` allowed, an unsigned token "
        "passes; without a fixed algorithm list, an attacker can pick the algorithm (e.g. "
        "HS256 keyed with your RSA public key) and forge a valid signature."
    )
    hint = (
        'Verify with a fixed list: `jwt.decode(token, key, algorithms=["HS256"])` (or '
        '`["RS256"]`), never `"none"`, and keep `verify_signature` on.'
    )
    requires = ("jwt",)
    call_names = _DECODE_NAMES  # visit_Call's only calls (see may_name)
    bad = [
        "import jwt\n\ndef claims(token):\n    return jwt.decode(token, KEY)\n",
        "import jwt\n\ndef claims(token):\n"
        '    return jwt.decode(token, options={"verify_signature": False})\n',
        "from jose import jwt\n\ndef claims(token):\n"
        '    return jwt.decode(token, KEY, algorithms=["HS256", "none"])\n',
        "import jwt\n\ndef claims(token):\n"
        '    return jwt.decode(token, KEY, verify=False, algorithms=["HS256"])\n',
        # the unverified claims decide what the caller may do
        "import jwt\n\ndef is_admin(token):\n"
        '    payload = jwt.decode(token, options={"verify_signature": False})\n'
        '    return payload.get("iss") == ISSUER and payload["role"] == "admin"\n',
    ]
    good = [
        "import jwt\n\ndef claims(token):\n"
        '    return jwt.decode(token, KEY, algorithms=["HS256"])\n',
        "from jose import jwt\n\ndef claims(token):\n"
        "    return jwt.decode(\n"
        '        token, KEY, algorithms=[ALGORITHM], options={"verify_aud": False}\n    )\n',
        "import jwt\n\ndef claims(token, **kw):\n    return jwt.decode(token, KEY, **kw)\n",
        "def claims(token):\n    return jwt.decode(token, KEY)\n",
        # issue #15 (flagsmith, saleor): unverified claims only say whose key verifies
        "import jwt\n\ndef exchange(token):\n"
        '    claims = jwt.decode(token, options={"verify_signature": False})\n'
        '    key = keys_for(claims.get("iss"))\n'
        '    return jwt.decode(token, key, algorithms=["RS256"])\n',
        "import jwt\n\ndef is_own_token(token):\n"
        '    payload = jwt.decode(token, options={"verify_signature": False})\n'
        "    return payload.get(JWT_OWNER_FIELD) == OWNER\n",
    ]

    def _only_routes(self, node: ast.Call) -> bool:
        """The unverified claims only pick how to verify (issue #15: flagsmith, saleor): the
        same function decodes the token again with verification, or the claims are read only
        for the issuer/owner that says whose key checks the token."""
        function = self.ctx.enclosing_function()
        if function is None:
            return False
        for sub in ast.walk(function):
            if (
                isinstance(sub, ast.Call)
                and sub is not node
                and self.ctx.imports.imported_qualname(sub.func) in JWT_DECODE
                and not _options_disable_signature(argument(sub, 3, "options"))
                and not is_false(keyword_value(sub, "verify"))
            ):
                return True
        parent = self.ctx.parent
        if not (
            isinstance(parent, ast.Assign)
            and len(parent.targets) == 1
            and isinstance(parent.targets[0], ast.Name)
        ):
            return False
        return _reads_only_routing_claims(function, parent.targets[0].id)

    def visit_Call(self, node: ast.Call) -> None:
        if self.ctx.is_test_file:
            return
        if not may_name(node.func, _DECODE_NAMES, self.ctx.imports):
            return
        qualified = self.ctx.imports.imported_qualname(node.func)
        if qualified not in JWT_DECODE:
            return
        options = argument(node, 3, "options")
        if _options_disable_signature(options) or is_false(keyword_value(node, "verify")):
            if not self._only_routes(node):
                self.report(node, "`jwt.decode` with signature verification turned off")
            return
        algorithms = argument(node, 2, "algorithms")
        if isinstance(algorithms, ast.Constant) and algorithms.value is None:
            algorithms = None  # `algorithms=None` is the default spelled out
        if algorithms is None:
            if not has_kwargs_splat(node):
                self.report(
                    node,
                    "`jwt.decode` without `algorithms=`: the token's header picks the algorithm",
                )
            return
        if _allows_none(algorithms):
            self.report(algorithms, 'JWT algorithms include `"none"`: unsigned tokens pass')
