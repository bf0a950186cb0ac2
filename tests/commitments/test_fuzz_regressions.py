"""Regressions found by the contract fuzzer (tests/contract): the OpenAPI document says what the service accepts."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.commitments.conftest import Desk, draft
from tests.factories import Factory


def test_commitment_fields_are_documented_as_at_most_50_properties_of_any_name(client: FlaskClient) -> None:
    schemas = client.get("/openapi.json").json["components"]["schemas"]
    for name in ("CommitmentCreate", "CommitmentUpdate"):
        fields = schemas[name]["properties"]["fields"]
        # a key length rule (OpenAPI 3.0 cannot state one) used to refuse schema-valid names, and the
        # count was written as maxLength, which JSON Schema ignores for objects
        assert fields["type"] == "object" and fields["maxProperties"] == 50 and "maxLength" not in fields, fields


def test_a_field_name_the_template_lacks_is_refused_as_unknown_field_whatever_its_length(
        client: FlaskClient, desk: Desk, factory: Factory) -> None:
    resident = factory.user("resident")
    body = {"template_id": desk.template["id"], "fields": {"name": "张三", "matter": "个体工商户登记", "x" * 33: 1}}
    response = client.post("/api/v1/commitments", json=body, headers=resident.headers)
    assert response.status_code == 422 and response.json["code"] == "unknown_field", response.json
    commitment = draft(client, resident, desk.template["id"])
    too_many = {f"f{i}": i for i in range(51)}
    response = client.patch(f"/api/v1/commitments/{commitment['id']}", json={"fields": too_many},
                            headers=resident.headers)
    assert response.status_code == 422 and response.json["code"] == "validation_failed"
    assert "fields" in response.json["errors"]
