"""Helpers for scenario tests: codes, credit levels built from real records, merchant and hospital staff."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.credit import service as credit_service
from backend.identity.models import Organisation
from tests.factories import Factory, User, valid_id_number

API = "/api/v1"
_refs = itertools.count(1)


def code_for(client: FlaskClient, user: User) -> str:
    """A fresh one-time code of the resident, as the app would ask for it."""
    response = client.post(f"{API}/me/qr-codes", headers=user.headers)
    assert response.status_code == 201, response.json
    return str(response.json["code"])


def add_records(session: Session, settings: Settings, source: Organisation, person_id: str, category: str,
                count: int = 1, **kwargs: Any) -> None:
    """Ingest real credit records through the credit service (the only way a level changes)."""
    for _ in range(count):
        credit_service.record_event(
            session=session, settings=settings, source_org_id=source.id, category=category,
            source_ref=f"test-{category}-{next(_refs)}", occurred_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=1),
            decision="测试记录", subject_person_id=person_id, **kwargs)
    session.commit()


def raise_to(session: Session, settings: Settings, factory: Factory, person_id: str, level: str) -> None:
    """Lift a new resident (620, A) to AA (750) or AAA (850) with positive records."""
    department = factory.org("department")
    if level in {"AA", "AAA"}:
        add_records(session, settings, department, person_id, "volunteer_service", 10)  # +100
    if level == "AA":
        add_records(session, settings, department, person_id, "administrative_license", 6)  # +30
    if level == "AAA":
        add_records(session, settings, department, person_id, "administrative_license", 24)  # +120
        credit_service.update_points_rating(session=session, person_id=person_id, rating=100)  # +10
        session.commit()
    standing = credit_service.get_standing(session=session, person_id=person_id)
    session.commit()  # end the read (SQLite) without expiring the test's objects
    assert standing.level == level, standing


def black_list(session: Session, settings: Settings, factory: Factory, person_id: str) -> None:
    add_records(session, settings, factory.org("department"), person_id, "black_list", severity="serious")


def standing(session: Session, person_id: str) -> credit_service.Standing:
    result = credit_service.get_standing(session=session, person_id=person_id)
    session.commit()
    return result


@dataclass
class Shop:
    id: str  # plain values, never ORM objects: reading an expired one would open a transaction
    name: str
    admin: User
    cashier: User

    @property
    def base(self) -> str:
        return f"{API}/merchants/{self.id}"


def make_shop(factory: Factory) -> Shop:
    org = factory.org("merchant", region_code="430104")
    return Shop(id=org.id, name=org.name, admin=factory.user("admin", org), cashier=factory.user("cashier", org))


def make_offer(client: FlaskClient, shop: Shop, **overrides: Any) -> dict[str, Any]:
    body = {"scenario": "public_bikes", "title": "免押骑行", "benefit": "免 199 元押金", "min_level": "A"}
    body.update(overrides)
    response = client.post(f"{shop.base}/offers", json=body, headers=shop.admin.headers)
    assert response.status_code == 201, response.json
    return dict(response.json)


@dataclass
class Hospital:
    id: str
    name: str
    admin: User
    clinician: User
    billing: User

    @property
    def base(self) -> str:
        return f"{API}/hospitals/{self.id}"


def make_hospital(factory: Factory) -> Hospital:
    org = factory.org("hospital")
    return Hospital(id=org.id, name=org.name, admin=factory.user("admin", org),
                    clinician=factory.user("clinician", org), billing=factory.user("billing", org))


def residents(factory: Factory, count: int) -> list[User]:
    """``count`` verified residents with distinct ID numbers."""
    return [factory.user("resident", id_number=valid_id_number()) for _ in range(count)]
