"""Fixtures of the commitment tests: a department with an officer and a published template."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.factories import PASSWORD, Factory, User

TEMPLATE = {
    "type": "public_disclosure",
    "title": "主动公示型信用承诺书",
    "text": "本人{name}承诺：申报的{matter}材料真实有效，金额{amount}元。",
    "fields": [
        {"name": "name", "type": "string", "required": True},
        {"name": "matter", "type": "string", "required": True, "pattern": "^[\\u4e00-\\u9fa5A-Za-z0-9]{2,40}$"},
        {"name": "amount", "type": "integer", "required": False},
    ],
    "validity_days": 365,
}


@dataclass
class Desk:
    """A department, one of its officers and a template it published."""

    department: Any
    officer: User
    template: dict[str, Any]
    dept_id: str = ""  # a plain copy: reading an ORM attribute after session.rollback() would reopen
    # a transaction on the test session, and on SQLite that blocks the next request


def publish(client: FlaskClient, desk_or_dept: Any, officer: User, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/departments/{desk_or_dept.id}/commitment-templates",
                           json={**TEMPLATE, **overrides}, headers=officer.headers)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


@pytest.fixture
def desk(client: FlaskClient, factory: Factory) -> Desk:
    department = factory.org("department")
    officer = factory.user("officer", department)
    return Desk(department=department, officer=officer, template=publish(client, department, officer),
                dept_id=department.id)


def draft(client: FlaskClient, user: User, template_id: str, **extra: Any) -> dict[str, Any]:
    body = {"template_id": template_id, "fields": {"name": "张三", "matter": "个体工商户登记", "amount": 100}}
    body.update(extra)
    response = client.post("/api/v1/commitments", json=body, headers=user.headers)
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def sign(client: FlaskClient, user: User, commitment_id: str, password: str = PASSWORD,
         **headers: str) -> Any:
    return client.post(f"/api/v1/commitments/{commitment_id}/sign", json={"password": password},
                       headers={**user.headers, **headers})


def signed(client: FlaskClient, user: User, template_id: str, **extra: Any) -> dict[str, Any]:
    commitment = draft(client, user, template_id, **extra)
    response = sign(client, user, commitment["id"])
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]
