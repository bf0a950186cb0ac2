"""The village's points roll: residents added by phone, one account each."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.db import insert_ignore, new_id, utcnow
from backend.errors import Invalid, NotFound
from backend.identity.ids import mask_name, mask_phone
from backend.identity.models import Account, Person
from backend.pagination import Page, paginate
from points import ledger
from points.models import PointsAccount, VillageSettings
from points.service.common import resident_by_person, system_account, village


@dataclass
class ResidentView:
    id: str
    village_id: str
    name_masked: str | None
    phone_masked: str | None
    balance: int
    rating: int
    stars: int
    created_at: object


def thresholds(session: Session, settings: Settings, org_id: str) -> tuple[int, ...]:
    row = session.get(VillageSettings, org_id)
    if row is not None:
        return tuple(row.star_thresholds)
    return ledger.parse_thresholds(settings.points_star_thresholds)


def set_thresholds(*, session: Session, org_id: str, star_thresholds: list[int]) -> dict[str, object]:
    village(session, org_id)
    if not ledger.valid_thresholds(star_thresholds):
        raise Invalid("invalid_star_thresholds")
    row = session.get(VillageSettings, org_id)
    if row is None:
        session.add(VillageSettings(org_id=org_id, star_thresholds=list(star_thresholds), updated_at=utcnow()))
    else:
        row.star_thresholds = list(star_thresholds)
        row.updated_at = utcnow()
    session.commit()
    return {"star_thresholds": list(star_thresholds)}


def get_thresholds(*, session: Session, settings: Settings, org_id: str) -> dict[str, object]:
    return {"star_thresholds": list(thresholds(session, settings, org_id))}


def _views(session: Session, settings: Settings, org_id: str, accounts: list[PointsAccount]) -> list[ResidentView]:
    person_ids = [a.person_id for a in accounts if a.person_id]
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(person_ids))).tuples().all())
    phones = dict(session.execute(select(Account.person_id, Account.phone).where(
        Account.person_id.in_(person_ids))).tuples().all())
    marks = thresholds(session, settings, org_id)
    return [
        ResidentView(id=a.id, village_id=a.org_id,
                     name_masked=mask_name(names.get(a.person_id or "")) or None,
                     phone_masked=mask_phone(phones[a.person_id]) if a.person_id in phones else None, balance=a.balance, rating=a.rating,
                     stars=ledger.stars(a.rating, marks), created_at=a.created_at)
        for a in accounts
    ]


def add_resident(*, session: Session, settings: Settings, actor: Actor, org_id: str, phone: str) -> ResidentView:
    """Open the points account of a verified resident (by phone); adding twice returns the same account."""
    village(session, org_id)
    account = session.scalars(select(Account).where(Account.phone == phone)).one_or_none()
    if account is None:
        raise NotFound("account_not_found")
    if account.person_id is None:
        raise Invalid("resident_not_verified")
    system_account(session, org_id, "issuance")
    system_account(session, org_id, "store")
    insert_ignore(session, PointsAccount.__table__,
                  {"id": new_id("pac"), "org_id": org_id, "kind": "resident", "key": account.person_id,
                   "person_id": account.person_id, "balance": 0, "rating": 0, "added_by": actor.account_id,
                   "created_at": utcnow()}, ["org_id", "key"])
    resident = resident_by_person(session, org_id, account.person_id)
    assert resident is not None
    view = _views(session, settings, org_id, [resident])[0]
    session.commit()
    return view


def list_residents(*, session: Session, settings: Settings, org_id: str, limit: int, cursor: str | None) -> Page:
    stmt = select(PointsAccount).where(PointsAccount.org_id == org_id, PointsAccount.kind == "resident")
    page = paginate(session, stmt, PointsAccount.id, limit=limit, cursor=cursor)
    page.items = _views(session, settings, org_id, page.items)
    return page


def is_resident(*, session: Session, org_id: str, person_id: str | None) -> bool:
    return bool(person_id) and resident_by_person(session, org_id, person_id or "") is not None
