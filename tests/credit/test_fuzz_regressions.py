"""Regressions found by the contract fuzzer (tests/contract): the OpenAPI document says what the service accepts."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.credit.conftest import Dept
from tests.credit.test_disputes import _ingest, _object
from tests.factories import Factory


def test_objection_corrections_are_documented_as_the_corrections_fields_or_null(client: FlaskClient) -> None:
    spec = client.get("/openapi.json").json
    corrections = spec["components"]["schemas"]["ObjectionDecision"]["properties"]["corrections"]
    # apispec used to add a branch {type: object, nullable: true}, i.e. ANY object, which the service refuses
    assert {"$ref": "#/components/schemas/Corrections"} in corrections["anyOf"]
    assert {"type": "object", "nullable": True, "enum": [None]} in corrections["anyOf"]
    assert spec["components"]["schemas"]["Corrections"]["additionalProperties"] is False


def test_objection_corrections_with_an_undocumented_field_are_refused_and_null_is_accepted(
        client: FlaskClient, dept: Dept, factory: Factory) -> None:
    resident = factory.user("resident")
    url = _object(client, dept, resident, _ingest(client, dept, resident))
    odd = client.post(url, json={"outcome": "corrected", "corrections": {"colour": "red"}}, headers=dept.headers)
    assert odd.status_code == 422 and odd.json["code"] == "validation_failed"
    assert "colour" in odd.json["errors"]["corrections"]
    upheld = client.post(url, json={"outcome": "upheld", "corrections": None}, headers=dept.headers)
    assert upheld.status_code == 200, upheld.json
