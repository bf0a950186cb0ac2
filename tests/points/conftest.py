"""A village with its staff, residents on the points roll and helpers that talk HTTP."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.factories import Factory, User, valid_id_number


@dataclass
class Village:
    client: FlaskClient
    factory: Factory
    org: Any
    admin: User
    clerk: User
    approver: User
    cashier: User
    id: str = ""
    name: str = ""
    residents: dict[str, str] = field(default_factory=dict)  # person_id -> resident_id

    def url(self, path: str) -> str:
        return f"/api/v1/villages/{self.id}{path}"

    def add_resident(self, user: User | None = None) -> tuple[User, str]:
        user = user or self.factory.user("resident", id_number=valid_id_number())
        response = self.client.post(self.url("/residents"), json={"phone": user.phone}, headers=self.admin.headers)
        assert response.status_code == 201, response.json
        self.residents[str(user.person_id)] = response.json["id"]
        return user, response.json["id"]

    def rule(self, code: str = "volunteer", points: int = 10, **extra: Any) -> dict[str, Any]:
        body = {"code": code, "name": f"规则{code}", "points": points, "category": "志愿服务", **extra}
        response = self.client.post(self.url("/rules"), json=body, headers=self.admin.headers)
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]

    def submit(self, resident_id: str, rule_code: str, **extra: Any) -> dict[str, Any]:
        response = self.client.post(self.url("/awards"), json={"items": [
            {"resident_id": resident_id, "rule_code": rule_code, **extra}]}, headers=self.clerk.headers)
        assert response.status_code == 201, response.json
        return response.json["items"][0]  # type: ignore[no-any-return]

    def approve(self, award_id: str) -> Any:
        return self.client.post(self.url(f"/awards/{award_id}/approve"), headers=self.approver.headers)

    def award(self, resident_id: str, rule_code: str) -> dict[str, Any]:
        """Submit and approve: the resident gets the rule's points."""
        item = self.submit(resident_id, rule_code)
        response = self.approve(item["id"])
        assert response.status_code == 200 and response.json["status"] == "approved", response.json
        return response.json  # type: ignore[no-any-return]

    def item(self, name: str = "肥皂", price: int = 10, stock: int = 100) -> dict[str, Any]:
        response = self.client.post(self.url("/store-items"), json={"name": name, "price": price, "stock": stock},
                                    headers=self.admin.headers)
        assert response.status_code == 201, response.json
        return response.json  # type: ignore[no-any-return]

    def code(self, user: User, client: FlaskClient | None = None) -> str:
        response = (client or self.client).post("/api/v1/me/qr-codes", headers=user.headers)
        assert response.status_code == 201, response.json
        return response.json["code"]  # type: ignore[no-any-return]

    def my_points(self, user: User) -> dict[str, Any]:
        items = self.client.get("/api/v1/me/points", headers=user.headers).json["items"]
        return next(i for i in items if i["village_id"] == self.id)


def make_village(client: FlaskClient, factory: Factory, kind: str = "village") -> Village:
    org = factory.org(kind)
    # plain copies: the org object expires whenever a test rolls its session back
    return Village(client=client, factory=factory, org=org, admin=factory.user("admin", org),
                   clerk=factory.user("clerk", org), approver=factory.user("approver", org),
                   cashier=factory.user("cashier", org), id=org.id, name=org.name)


@pytest.fixture
def village(client: FlaskClient, factory: Factory, session: Any) -> Village:
    made = make_village(client, factory)
    session.rollback()
    return made


def run_verify(app: Any) -> Any:
    return app.test_cli_runner().invoke(args=["points", "verify"])
