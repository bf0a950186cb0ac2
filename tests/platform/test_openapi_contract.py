"""Regressions found by the contract fuzzer (tests/contract) in how the OpenAPI document is generated."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from tests.factories import Factory


def _branches(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        found.extend(b for b in node.get("anyOf", []) if isinstance(b, dict))
        for value in node.values():
            found.extend(_branches(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_branches(value))
    return found


def test_a_nullable_nested_field_is_documented_as_its_schema_or_null_never_as_any_object(
        client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    null_branches = [b for b in _branches(spec) if b.get("nullable") and "$ref" not in b and "properties" not in b
                     and b.get("type") == "object"]
    assert null_branches, "the API has nullable nested fields (objection corrections, a visit's bill)"
    assert all(b.get("enum") == [None] for b in null_branches), null_branches


def test_text_with_a_nul_character_is_refused_with_422_in_body_path_and_query(client: FlaskClient,
                                                                              factory: Factory) -> None:
    # PostgreSQL text cannot hold U+0000: these were 500s on the second backend (and stored on SQLite)
    resident = factory.user("resident")
    attempts = [
        client.post("/api/v1/me/credit/objections", json={"record_id": "rec\u0000x", "reason": "r"},
                    headers=resident.headers),
        client.post("/api/v1/auth/login", json={"phone": "1380000\u00000000", "password": "x"}),
        client.get("/api/v1/scenarios/a%00b"),
        client.get("/api/v1/commitments/a%00b", headers=resident.headers),
        client.get("/api/v1/me/credit/records?cursor=%00", headers=resident.headers),
    ]
    for response in attempts:
        assert response.status_code == 422 and response.json["code"] == "nul_character", response.json
        assert response.content_type == "application/problem+json"
    # an escaped backslash followed by the text "u0000" is ordinary text
    fine = client.post("/api/v1/me/credit/objections", json={"record_id": "\\u0000", "reason": "r"},
                       headers=resident.headers)
    assert fine.status_code == 404 and fine.json["code"] == "record_not_found", fine.json
