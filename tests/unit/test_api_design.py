"""Tricky cases of the route-level API-design rules and ERR004, beyond their examples."""

from __future__ import annotations

import pytest

from bastion.analysis.api_design import path_params, words
from bastion.testing import findings_for

FASTAPI = "from fastapi import FastAPI, APIRouter, Depends, Path, Query\napp = FastAPI()\n\n"


def lines(code: str, rule: str) -> list[int]:
    return [f.line for f in findings_for(code, rule)]


@pytest.mark.parametrize(
    ("segment", "expected"),
    [
        ("getUsers", ["get", "users"]),
        ("create_user", ["create", "user"]),
        ("delete-requests", ["delete", "requests"]),
        ("settings", ["settings"]),
        ("HTTPStatus", ["http", "status"]),
    ],
)
def test_words(segment: str, expected: list[str]) -> None:
    assert words(segment) == expected


def test_path_params() -> None:
    assert path_params("/a/{x}/b/{p:path}", "fastapi") == ["x", "p"]
    assert path_params("/a/<int:x>/<y>/<re('[a-z]+'):z>", "flask") == ["x", "y", "z"]


# -- API003 ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    ["/settings", "/updates", "/getaway", "/posts", "/delete-requests", "/address", "/listing"],
)
def test_verb_in_path_ignores_nouns(path: str) -> None:
    assert lines(FASTAPI + f"@app.get('{path}')\ndef f():\n    return 1\n", "API003") == []


def test_verb_in_path_through_import_alias() -> None:
    code = "from fastapi import APIRouter as R\nr = R()\n\n@r.get('/fetchAll')\ndef f():\n    ...\n"
    assert lines(code, "API003") == [4]


def test_verb_in_path_ignores_bare_names_without_framework() -> None:
    assert lines("@app.get('/getUsers')\ndef f():\n    ...\n", "API003") == []


# -- API008 ---------------------------------------------------------------------------------
def test_singular_collection_reported_once_on_collection_route() -> None:
    code = FASTAPI + (
        "@app.get('/user/{user_id}')\ndef a(user_id: int):\n    ...\n\n"
        "@app.get('/user')\ndef b():\n    ...\n\n"
        "@app.delete('/user/{user_id}')\ndef c(user_id: int):\n    ...\n"
    )
    assert lines(code, "API008") == [8]


def test_singular_path_with_non_item_parameter_is_not_a_collection() -> None:
    code = FASTAPI + "@app.get('/report/{fmt}')\ndef a(fmt: str):\n    ...\n"
    assert lines(code, "API008") == []


# -- API009 ---------------------------------------------------------------------------------
def test_path_param_consumed_by_router_dependency_in_module() -> None:
    code = (
        "from fastapi import APIRouter, Depends\n\n"
        "def org(org_id: int):\n    return org_id\n\n"
        "router = APIRouter(prefix='/orgs/{org_id}', dependencies=[Depends(org)])\n\n"
        "@router.get('/members')\ndef members():\n    return []\n"
    )
    assert lines(code, "API009") == []


def test_path_param_not_consumed_by_local_dependency() -> None:
    code = FASTAPI + (
        "def db():\n    return 1\n\n"
        "@app.get('/items/{item_id}')\ndef read(conn=Depends(db)):\n    return conn\n"
    )
    assert lines(code, "API009") == [7]


def test_path_param_annotated_alias() -> None:
    code = (
        "from typing import Annotated\n" + FASTAPI + "@app.get('/items/{item-id}')\n"
        "def read(item_id: Annotated[int, Path(alias='item-id')]):\n    return item_id\n"
    )
    assert lines(code, "API009") == []


def test_path_param_read_from_request() -> None:
    code = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n\n"
        "@app.get('/items/{item_id}')\nasync def read(request: Request):\n"
        "    return request.path_params['item_id']\n"
    )
    assert lines(code, "API009") == []


def test_flask_view_with_unknown_decorator_is_skipped() -> None:
    code = (
        "from flask import Flask\nfrom .auth import load_user\napp = Flask(__name__)\n\n"
        "@app.route('/users/<int:user_id>')\n@load_user\ndef show(user):\n    return user\n"
    )
    assert lines(code, "API009") == []


def test_class_based_view_methods_are_skipped() -> None:
    code = FASTAPI + (
        "class V:\n    @app.get('/items/{item_id}')\n    def read(self):\n        return 1\n"
    )
    assert lines(code, "API009") == []


# -- API010 / API011 ------------------------------------------------------------------------
def test_redundant_response_model_only_for_identical_expressions() -> None:
    code = FASTAPI + (
        "@app.get('/a', response_model=list[Item])\ndef a() -> list[Item]:\n    return []\n\n"
        "@app.get('/b', response_model=Optional[Item])\ndef b() -> Item | None:\n    return None\n"
    )
    assert lines(code, "API010") == [4]


def test_non_annotated_dependency_hint_moves_the_default_out() -> None:
    code = FASTAPI + "def f(q: str | None = Query(None, max_length=5)):\n    return q\n"
    [finding] = findings_for(code, "API011")
    assert "q: Annotated[str | None, Query(max_length=5)] = None" in finding.fix_hint


# -- API004 / API006 / API007 ---------------------------------------------------------------
def test_created_status_set_through_response_parameter() -> None:
    code = (
        "from fastapi import FastAPI, Response\napp = FastAPI()\n\n"
        "@app.post('/items')\ndef create_item(response: Response):\n"
        "    response.status_code = 201\n    return {}\n"
    )
    assert lines(code, "API004") == []


def test_delete_with_declared_response_model_is_left_alone() -> None:
    code = FASTAPI + (
        "@app.delete('/items/{item_id}', response_model=Item)\n"
        "def remove(item_id: int):\n    return repo.pop(item_id)\n"
    )
    assert lines(code, "API004") == []


def test_dict_query_parameter_is_not_a_body() -> None:
    code = FASTAPI + "@app.get('/a')\ndef a(filters: dict = Depends(parse)):\n    return []\n"
    assert lines(code, "API006") == []


def test_request_json_validated_one_assignment_later() -> None:
    code = (
        "from fastapi import FastAPI, Request\napp = FastAPI()\n\n"
        "@app.post('/items')\nasync def create(request: Request):\n"
        "    raw = await request.json()\n    item = Item(**raw)\n    return item\n"
    )
    assert lines(code, "API006") == []


def test_rate_limit_on_router_dependencies() -> None:
    code = (
        "from fastapi import APIRouter, Depends\nfrom fastapi_limiter.depends import RateLimiter\n"
        "router = APIRouter(dependencies=[Depends(RateLimiter(times=5, seconds=60))])\n\n"
        "@router.post('/login')\ndef login():\n    return {}\n"
    )
    assert lines(code, "API007") == []


# -- ERR004 ---------------------------------------------------------------------------------
def test_error_leak_followed_one_assignment_back() -> None:
    code = (
        "from fastapi import HTTPException\n\ndef f():\n    try:\n        run()\n"
        "    except Exception as e:\n        detail = {'error': str(e)}\n"
        "        raise HTTPException(status_code=500, detail=detail)\n"
    )
    assert lines(code, "ERR004") == [8]


def test_error_leak_specific_exception_with_server_error_status() -> None:
    code = (
        "from fastapi import HTTPException, status\n\ndef f():\n    try:\n        run()\n"
        "    except ValueError as e:\n        raise HTTPException(\n"
        "            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR, detail=str(e)\n        )\n"
    )
    assert lines(code, "ERR004") == [8]


def test_error_leak_ignores_logging_and_non_route_returns() -> None:
    code = (
        "import logging\nfrom flask import jsonify\nlog = logging.getLogger(__name__)\n\n"
        "def f():\n    try:\n        run()\n    except Exception as e:\n"
        "        log.error('failed: %s', e)\n        return {'error': str(e)}\n"
    )
    assert lines(code, "ERR004") == []


def test_error_leak_http_exception_reraised_detail_is_not_a_leak() -> None:
    code = (
        "from fastapi import HTTPException\n\ndef f():\n    try:\n        run()\n"
        "    except HTTPException as e:\n"
        "        raise HTTPException(status_code=e.status_code, detail=e.detail)\n"
    )
    assert lines(code, "ERR004") == []


# -- refinements measured on real code ------------------------------------------------------
def test_singular_with_generic_id_needs_the_bare_collection_route() -> None:
    alone = FASTAPI + "@app.get('/blog/{slug}')\ndef post(slug: str):\n    ...\n"
    assert lines(alone, "API008") == []
    beside = alone + "\n@app.get('/blog')\ndef posts():\n    ...\n"
    assert lines(beside, "API008") == [8]


def test_singletons_followed_by_other_ids_are_not_collections() -> None:
    code = (
        "from flask import Blueprint, jsonify\nbp = Blueprint('cart', __name__)\n\n"
        "@bp.route('/cart/<int:item_id>', methods=['DELETE'])\ndef rm(item_id):\n"
        "    return '', 204\n\n"
        "@bp.route('/checkout/<int:user_id>', methods=['POST'])\ndef pay(user_id):\n"
        "    return jsonify({}), 201\n"
    )
    assert lines(code, "API008") == []


def test_verb_spelled_noun_with_its_own_id() -> None:
    code = FASTAPI + "@app.get('/list/{list_id}')\ndef a(list_id: int):\n    ...\n"
    assert lines(code, "API003") == []
    code = FASTAPI + "@app.get('/list/{user_id}')\ndef a(user_id: int):\n    ...\n"
    assert lines(code, "API003") == [4]


def test_flask_delete_with_explicit_200_and_body() -> None:
    code = (
        "from flask import Flask, jsonify\napp = Flask(__name__)\n\n"
        "@app.route('/items/<int:id>', methods=['DELETE'])\ndef delete(id):\n"
        "    if missing(id):\n        return jsonify({'error': 'nope'}), 404\n"
        "    return jsonify({'message': 'deleted'}), 200\n"
    )
    assert lines(code, "API004") == [4]


def test_flask_delete_returning_a_response_object_is_left_alone() -> None:
    code = (
        "from flask import Flask\napp = Flask(__name__)\n\n"
        "@app.route('/items/<int:id>', methods=['DELETE'])\ndef delete(id):\n"
        "    return ApiResponse(204, 'deleted')\n"
    )
    assert lines(code, "API004") == []


def test_openai_style_completion_is_not_a_created_resource() -> None:
    code = FASTAPI + (
        "@app.post('/v1/chat/completions')\ndef create_chat_completion(req: Req):\n"
        "    return run(req)\n"
    )
    assert lines(code, "API004") == []


def test_token_route_needs_an_auth_context() -> None:
    push = FASTAPI + "@app.post('/devices/token')\ndef register_push(t: T):\n    return t\n"
    assert lines(push, "API007") == []
    login = FASTAPI + "@app.post('/api/v1/token')\ndef login(f: F):\n    return f\n"
    assert lines(login, "API007") == [4]


def test_error_leak_in_nested_handlers_names_the_inner_exception() -> None:
    code = (
        "from fastapi import HTTPException\n\ndef f():\n    try:\n        try:\n            run()\n"
        "        except Exception as db_error:\n"
        "            raise HTTPException(500, detail=f'failed: {db_error}')\n"
        "    except HTTPException:\n        raise\n"
    )
    [finding] = findings_for(code, "ERR004")
    assert finding.line == 8 and "Exception" in finding.message


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # `/user/{user_id}` on a router mounted elsewhere beside its own `/`: orders by user
        (
            "from fastapi import APIRouter\nrouter = APIRouter()\n\n@router.get('/')\n"
            "def a():\n    ...\n\n@router.get('/user/{user_id}')\ndef b(user_id: int):\n    ...\n",
            [],
        ),
        # a router that only serves `/user/...`: the collection is `user`
        (
            "from fastapi import APIRouter\nrouter = APIRouter()\n\n"
            "@router.get('/user/{user_id}')\ndef b(user_id: int):\n    ...\n\n"
            "@router.post('/user/{user_id}')\ndef c(user_id: int):\n    ...\n",
            [4],
        ),
        (
            "from fastapi import APIRouter\nrouter = APIRouter(prefix='/orders')\n\n"
            "@router.get('/user/{user_id}')\ndef b(user_id: int):\n    ...\n",
            [],
        ),
        (
            "from fastapi import FastAPI\napp = FastAPI()\n\n"
            "@app.get('/api/v1/users/{user_id}/post/{post_id}')\n"
            "def b(user_id: int, post_id: int):\n    ...\n",
            [4],
        ),
    ],
)
def test_singular_collection_must_head_a_resource_path(code: str, expected: list[int]) -> None:
    assert lines(code, "API008") == expected


def test_path_param_may_be_taken_by_a_class_dependency() -> None:
    code = FASTAPI + (
        "@app.get('/items/{item_id}')\n"
        "def read(params: ItemParams = Depends()):\n    return params\n"
    )
    assert lines(code, "API009") == []


def test_error_leak_returned_as_text_from_a_flask_view() -> None:
    code = (
        "from flask import Flask\napp = Flask(__name__)\n\n@app.route('/run')\ndef run_it():\n"
        "    try:\n        return work()\n    except Exception as e:\n        return str(e), 500\n"
    )
    assert lines(code, "ERR004") == [9]


def test_run_together_verb_spelled_like_the_handler() -> None:
    code = FASTAPI + "@app.post('/addgame')\ndef add_game(g: G):\n    return g\n"
    assert lines(code, "API003") == [4]
    code = FASTAPI + "@app.get('/address')\ndef get_address():\n    return 1\n"
    assert lines(code, "API003") == []


def test_html_form_targets_may_name_actions() -> None:
    code = (
        "from fastapi import FastAPI\nfrom fastapi.responses import RedirectResponse\n"
        "app = FastAPI()\n\n@app.post('/update/{record_id}', response_class=RedirectResponse)\n"
        "def update(record_id: int):\n    return go(record_id)\n"
    )
    assert lines(code, "API003") == []
