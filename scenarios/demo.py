"""Demo data of scenarios: offers for the demo merchant, a policy for the demo hospital (idempotent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.config import Settings
from scenarios.models import HospitalPolicy, Offer
from scenarios.service import medical, offers

# (scenario, title, benefit, min level, per-person limit, period, total quota, red-list only)
DEMO_OFFERS = [
    ("public_bikes", "信用骑行免押金", "信用 A 级及以上免 199 元押金，每日前 2 小时免费。", "A", 1, "day", None, False),
    ("deposit_free_rental", "充电宝免押租借", "AA 级及以上免押租借充电宝，每月 4 次。", "AA", 4, "month", 500, False),
    ("scenic_spots", "岳麓山景区门票五折", "诚信之星（红名单）每年一次门票五折。", "A", 1, "year", 100, True),
]


def seed(*, session: Session, settings: Settings, world: Any) -> list[str]:
    """Add this domain's demo data to the demo world; returns lines to print."""
    merchant = world.orgs["merchant"]
    hospital = world.orgs["hospital"]
    existing = set(session.scalars(select(Offer.title).where(Offer.merchant_id == merchant.id)))
    for scenario, title, benefit, min_level, limit, period, quota, red in DEMO_OFFERS:
        if title in existing:
            continue
        offers.create_offer(session=session, merchant_id=merchant.id, scenario=scenario, title=title,
                            benefit=benefit, min_level=min_level, per_person_limit=limit, period=period,
                            total_quota=quota, red_list_only=red)
    if session.get(HospitalPolicy, hospital.id) is None:
        medical.put_policy(session=session, settings=settings, hospital_id=hospital.id, min_level="A",
                           lines_fen={"A": settings.medical_line_a_fen, "AA": settings.medical_line_aa_fen,
                                      "AAA": settings.medical_line_aaa_fen},
                           repayment_days=settings.medical_repayment_days)
    session.commit()  # end the read transaction: the caller prints the world after the session closes
    return [
        f"信易+: {len(DEMO_OFFERS)} offers at {merchant.name} ({merchant.id}); 信用+医疗 policy at {hospital.name}",
        "  (cashier 13800000031 scans/redeems, merchant admin 13800000030 voids/exports; "
        "clinician 13800000041, billing 13800000042)",
    ]
