"""Merchant offers and a resident's benefits (each offer: eligible, or the reason not)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, func, or_, select
from sqlalchemy.orm import Session

from backend.db import utcnow
from backend.errors import Conflict, Invalid, NotFound
from backend.identity.models import Organisation
from backend.pagination import Page, paginate
from scenarios.eligibility import OfferTerms, Subject, offer_reason, period_key
from scenarios.models import Offer, OfferUsage, Redemption
from scenarios.service.catalogue import LIVE_SCENARIO, get_scenario
from scenarios.service.common import subject_of


def terms_of(offer: Offer | Row[Any], *, scenario_active: bool = True) -> OfferTerms:
    """The eligibility terms of an offer, from the ORM object or a row of its columns (the counter's reads).

    An offer under a retired scenario is as inactive as one its merchant switched off.
    """
    return OfferTerms(
        min_level=offer.min_level, red_list_only=offer.red_list_only, per_person_limit=offer.per_person_limit,
        remaining_quota=offer.remaining_quota, valid_from=offer.valid_from, valid_to=offer.valid_to,
        active=bool(offer.active and scenario_active),
    )


def _check_window(valid_from: dt.datetime | None, valid_to: dt.datetime | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to <= valid_from:
        raise Invalid("invalid_validity_window")


def create_offer(*, session: Session, merchant_id: str, scenario: str, title: str, benefit: str, min_level: str,
                 red_list_only: bool = False, per_person_limit: int | None = None, period: str | None = None,
                 total_quota: int | None = None, valid_from: dt.datetime | None = None,
                 valid_to: dt.datetime | None = None, active: bool = True) -> Offer:
    """Publish an offer under a live scenario (merchant admin)."""
    if not get_scenario(session=session, code=scenario).active:
        raise Conflict("scenario_retired", scenario=scenario)
    _check_window(valid_from, valid_to)
    if period is not None and per_person_limit is None:
        raise Invalid("period_needs_limit")
    merchant = session.get(Organisation, merchant_id)
    assert merchant is not None  # the route's org_role checked it
    offer = Offer(
        merchant_id=merchant_id, scenario_code=scenario, region_code=merchant.region_code, title=title,
        benefit=benefit, min_level=min_level, red_list_only=red_list_only, per_person_limit=per_person_limit,
        period=(period or "month") if per_person_limit is not None else None,
        total_quota=total_quota, remaining_quota=total_quota, valid_from=valid_from, valid_to=valid_to,
        active=active, created_at=utcnow(),
    )
    session.add(offer)
    session.commit()
    return offer


def merchant_offer(*, session: Session, merchant_id: str, offer_id: str) -> Offer:
    """One of this merchant's offers (404 for another merchant's)."""
    offer = session.get(Offer, offer_id)
    if offer is None or offer.merchant_id != merchant_id:
        raise NotFound("offer_not_found")
    return offer


def update_offer(*, session: Session, merchant_id: str, offer_id: str, **changes: Any) -> Offer:
    """Change an offer's text, window, limit or active flag; a new total quota keeps what was used."""
    offer = merchant_offer(session=session, merchant_id=merchant_id, offer_id=offer_id)
    _check_window(changes.get("valid_from", offer.valid_from), changes.get("valid_to", offer.valid_to))
    if "total_quota" in changes:
        session.refresh(offer, with_for_update=True)  # the quota must not move while we rebase it
        offer.total_quota = changes.pop("total_quota")
        rebase_quota(session, offer)
    if "per_person_limit" in changes and changes["per_person_limit"] is not None and "period" not in changes:
        changes["period"] = offer.period or "month"
    if "per_person_limit" in changes and changes["per_person_limit"] is None:
        changes.setdefault("period", None)  # no limit, nothing counted per period
    new_limit, new_period = changes.get("per_person_limit", offer.per_person_limit), changes.get("period", offer.period)
    if changes.get("period") is not None and new_limit is None:  # a period counts nothing without a limit
        raise Invalid("period_needs_limit")
    if _limit_kind_changes(offer, new_limit, new_period):
        session.refresh(offer, with_for_update=True)  # redemptions in flight finish first (see rebase_quota)
        if _limit_kind_changes(offer, new_limit, new_period) and _standing_redemptions(session, offer.id):
            # The counts a limit is checked on are kept per period only while a limit is set: adding
            # one, or another period, would start them at 0 and let everyone redeem again; removing
            # one would stop them, so it could never come back.
            raise Conflict("offer_limit_locked")
    for name, value in changes.items():
        setattr(offer, name, value)
    session.commit()
    return offer


def _limit_kind_changes(offer: Offer, new_limit: int | None, new_period: str | None) -> bool:
    """Whether a change adds or removes the per-person limit or moves its period (not just its number)."""
    if (offer.per_person_limit is None) != (new_limit is None):
        return True
    return new_limit is not None and new_period != offer.period


def rebase_quota(session: Session, offer: Offer) -> None:
    """Set what is left of the offer's total quota from the redemptions that stand (caller commits).

    Counted, not adjusted by one: while an offer had no quota nothing was subtracted, and a quota
    lowered below what was used keeps no trace of the excess, so a void or a new total must not
    give back places that were never there. The caller has locked the offer row, and a redemption
    locks it before it writes and takes the quota the row has then (``scenarios_redeem``): every
    redemption is committed and counted by the statement below, or waits and takes from the new
    quota.
    """
    if offer.total_quota is None:
        offer.remaining_quota = None
        return
    offer.remaining_quota = max(offer.total_quota - _standing_redemptions(session, offer.id), 0)


def _standing_redemptions(session: Session, offer_id: str) -> int:
    return int(session.scalar(select(func.count()).select_from(Redemption).where(
        Redemption.offer_id == offer_id, Redemption.status == "redeemed")) or 0)


def _listing(scenario: str | None, region: str | None, merchant_id: str | None, active_only: bool,
             now: dt.datetime) -> Select[Any]:
    stmt = select(Offer)
    if scenario:
        stmt = stmt.where(Offer.scenario_code == scenario)
    if region:
        stmt = stmt.where(Offer.region_code.startswith(region, autoescape=True))
    if merchant_id:
        stmt = stmt.where(Offer.merchant_id == merchant_id)
    if active_only:
        stmt = stmt.where(Offer.active.is_(True), or_(Offer.valid_to.is_(None), Offer.valid_to > now),
                          LIVE_SCENARIO)
    return stmt


def list_offers(*, session: Session, scenario: str | None = None, region: str | None = None,
                merchant_id: str | None = None, include_inactive: bool = False, limit: int = 20,
                cursor: str | None = None, now: dt.datetime | None = None) -> Page:
    """Offers, newest first: by scenario, by region (prefix of the merchant's region code), by merchant."""
    stmt = _listing(scenario, region, merchant_id, not include_inactive, now or utcnow())
    return paginate(session, stmt, Offer.id, limit=limit, cursor=cursor)


@dataclass
class Benefit:
    offer: Offer
    merchant_name: str
    eligible: bool
    reason: str | None
    used: int


def usage(session: Session, *, person_id: str, offers: list[Offer], now: dt.datetime) -> dict[str, int]:
    """How often the person used each offer: in its current period when it has a per-person limit
    (the usage row the limit is counted on), else all the redemptions that stand."""
    keys = {o.id: period_key(o.period, now) for o in offers if o.per_person_limit is not None}
    unlimited = [o.id for o in offers if o.per_person_limit is None]
    used: dict[str, int] = {}
    if keys:
        rows = session.execute(
            select(OfferUsage.offer_id, OfferUsage.period_key, OfferUsage.used)
            .where(OfferUsage.person_id == person_id, OfferUsage.offer_id.in_(keys))
        )
        used.update({offer_id: n for offer_id, key, n in rows if keys.get(offer_id) == key})
    if unlimited:
        used.update(session.execute(
            select(Redemption.offer_id, func.count())
            .where(Redemption.person_id == person_id, Redemption.offer_id.in_(unlimited),
                   Redemption.status == "redeemed")
            .group_by(Redemption.offer_id)
        ).tuples().all())
    return used


def judge(session: Session, *, subject: Subject, person_id: str, offers: list[Offer],
          now: dt.datetime) -> list[tuple[Offer, str | None, int]]:
    """Each offer with the reason the person may not use it now (None: eligible) and the uses so far."""
    used = usage(session, person_id=person_id, offers=offers, now=now)
    return [(o, offer_reason(terms_of(o), subject, used=used.get(o.id, 0), now=now), used.get(o.id, 0))
            for o in offers]


def my_benefits(*, session: Session, person_id: str, scenario: str | None = None, region: str | None = None,
                limit: int = 20, cursor: str | None = None, now: dt.datetime | None = None) -> Page:
    """The live offers with, for each, whether this resident may use it or why not."""
    now = now or utcnow()
    page = paginate(session, _listing(scenario, region, None, True, now), Offer.id, limit=limit, cursor=cursor)
    subject = subject_of(session=session, person_id=person_id)
    names = dict(session.execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_({o.merchant_id for o in page.items}))
    ).all())
    items = [Benefit(offer=o, merchant_name=names.get(o.merchant_id, ""), eligible=reason is None, reason=reason,
                     used=used)
             for o, reason, used in judge(session, subject=subject, person_id=person_id, offers=page.items, now=now)]
    session.commit()  # get_standing may have stored the person's first snapshot
    return Page(items=items, next_cursor=page.next_cursor)


def merchant_offers(*, session: Session, merchant_id: str, scenario: str | None = None,
                    include_inactive: bool = False, limit: int = 20, cursor: str | None = None) -> Page:
    """A merchant's live offers (public), or all of them (``include_inactive``: the caller checked it
    is the merchant's staff); 404 when there is no such merchant."""
    merchant = session.get(Organisation, merchant_id)
    if merchant is None or merchant.kind != "merchant":
        raise NotFound("org_not_found")
    return list_offers(session=session, merchant_id=merchant_id, scenario=scenario,
                       include_inactive=include_inactive, limit=limit, cursor=cursor)
