"""Every operation of the OpenAPI document, given bad input, answers 4xx problem+json, never 5xx.

The caller holds every role in one organisation of each kind, so requests get
past authorisation and reach validation. Schemathesis fuzzes further in CI.
"""

import re

import pytest

from tests.factories import invalid_id_number

KIND_BY_PREFIX = {
    "villages": "village",
    "merchants": "merchant",
    "hospitals": "hospital",
    "departments": "department",
    "enterprises": "enterprise",
    "orgs": "village",
}
ALL_ROLES = {
    "village": ["admin", "clerk", "approver", "cashier"],
    "merchant": ["admin", "cashier"],
    "hospital": ["admin", "clinician", "billing"],
    "department": ["admin", "officer"],
    "enterprise": ["admin", "signer"],
}
BAD_BODIES = [
    ("array", []),
    ("string", "text"),
    ("number", 42),
    ("unknown field", {"surely_not_a_field": 1}),
    ("nested junk", {"items": "x", "records": {"a": 1}, "code": 7, "phone": [], "amount_fen": "1e9",
                     "id_number": invalid_id_number(), "credit_code": "XXXXXXXX", "outcome": "maybe"}),
    ("huge numbers", {"amount_fen": 10**30, "points": -(10**30), "quantity": 10**20, "limit": 10**12}),
]


@pytest.fixture
def superuser(factory):
    user = factory.user("admin")  # platform admin
    orgs = {}
    for kind, roles in ALL_ROLES.items():
        org = factory.org(kind)
        factory.grant(user.account, org, *roles)
        orgs[kind] = org
    factory.verify(user.account)
    user.headers = dict(user.headers)
    return user, orgs


def _operations(client):
    spec = client.get("/openapi.json").json
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in {"post", "put", "patch", "delete", "get"}:
                yield path, method, op


def _fill(path, orgs):
    parts = path.split("/")
    filled = []
    for i, part in enumerate(parts):
        if part.startswith("{") and part.endswith("}"):
            prefix = parts[i - 1] if i else ""
            if part == "{org_id}":
                filled.append(orgs[KIND_BY_PREFIX.get(prefix, "village")].id)
            else:
                filled.append("does_not_exist_01")
        else:
            filled.append(part)
    return "/".join(filled)


def test_bad_bodies_on_every_operation_are_4xx_problem_json(client, superuser):
    user, orgs = superuser
    checked = 0
    for path, method, op in _operations(client):
        url = _fill(path, orgs)
        bodies = BAD_BODIES if "requestBody" in op else [("no body", None)]
        for label, body in bodies:
            kwargs = {"headers": user.headers}
            if body is not None:
                kwargs["json"] = body
            response = client.open(url, method=method.upper(), **kwargs)
            assert response.status_code < 500, f"{method.upper()} {path} with {label}: {response.status_code}"
            if response.status_code >= 400:
                assert response.content_type == "application/problem+json", f"{method.upper()} {path}"
                assert re.fullmatch(r"[a-z0-9_]+", response.json["code"]), response.json
            checked += 1
    assert checked > 20


def test_bad_query_strings_are_4xx(client, superuser):
    user, orgs = superuser
    for path, method, _op in _operations(client):
        if method != "get":
            continue
        url = _fill(path, orgs) + "?limit=abc&cursor=%ZZ&status=nonsense&from=yesterday&period=20xx-99"
        response = client.get(url, headers=user.headers)
        assert response.status_code < 500, f"GET {path}: {response.status_code}"


RAW_BODIES = [  # (label, body, content type, status, code): refused before any view, on every operation
    ("lone surrogate", b'{"name": "\\ud800", "items": [{"note": "x\\udfff"}]}', "application/json", 422, "invalid_text"),
    ("nested too deeply", b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "malformed_json"),
    ("not JSON at all", b'{"x":', "application/json", 400, "malformed_json"),
    ("not sent as JSON", b'{"phone": "13800000001"}', "text/plain", 415, "unsupported_media_type"),
]


def test_undecodable_bodies_are_refused_the_same_way_on_every_operation(client, superuser):
    user, orgs = superuser
    checked = 0
    for path, method, _op in _operations(client):
        if method not in {"post", "put", "patch"}:
            continue
        url = _fill(path, orgs)
        for label, body, content_type, status, code in RAW_BODIES:
            for extra in ({}, {"Idempotency-Key": f"raw-{checked}"}):
                response = client.open(url, method=method.upper(), data=body,
                                       headers={**user.headers, **extra, "Content-Type": content_type})
                assert (response.status_code, response.json["code"]) == (status, code), \
                    f"{method.upper()} {path} with {label}: {response.status_code} {response.json}"
                checked += 1
    assert checked > 100


def test_paired_surrogates_are_one_character_and_welcome(client, factory):
    admin = factory.user("admin")
    response = client.post("/api/v1/auth/login", data=b'{"phone": "\\ud83d\\ude00", "password": "x"}',
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 401 and response.json["code"] == "invalid_credentials"  # valid text, no such phone
    created = client.post("/api/v1/scenarios", data='{"code": "emoji_ok", "name": "\\ud83d\\ude00 骑行"}'.encode(),
                          headers={**admin.headers, "Content-Type": "application/json"})
    assert created.status_code == 201 and created.json["name"] == "😀 骑行"


def test_a_chunked_body_is_checked_like_any_other(client):
    """A body sent with Transfer-Encoding: chunked has no Content-Length; the input checks still read it."""
    import io

    for body, status, code in ((b'{"phone": "\\ud800", "password": "x"}', 422, "invalid_text"),
                               (b"[" * 100_000, 400, "malformed_json")):
        response = client.post("/api/v1/auth/login", input_stream=io.BytesIO(body),
                               headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                               environ_overrides={"wsgi.input_terminated": True})
        assert (response.status_code, response.json["code"]) == (status, code)
