"""Demo data of points (idempotent): rules, residents 13800000001-3 on the roll, approved awards, store items."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from points import service
from points.models import PointsAward

# code, name, points, category, limit per period, period, evidence required
RULES = [
    ("volunteer", "参加志愿服务", 10, "志愿服务", 4, "month", False),
    ("filial", "孝老爱亲先进", 30, "孝老爱亲", 1, "year", True),
    ("clean_yard", "庭院环境整洁", 5, "环境卫生", 1, "month", False),
    ("mediation", "调解邻里纠纷", 15, "邻里和睦", None, None, False),
    ("frugal_wedding", "红白喜事简办", 20, "移风易俗", None, None, True),
    ("litter", "乱扔垃圾", -10, "违规", None, None, False),
]
ITEMS = [("洗衣液", 20, 50), ("大米 5kg", 60, 20), ("食用油 5L", 80, 10), ("毛巾", 10, 100)]
# (resident phone, rule code) approved in each demo village
AWARDS = [("13800000001", "volunteer"), ("13800000001", "filial"), ("13800000002", "volunteer"),
          ("13800000002", "mediation"), ("13800000003", "clean_yard")]
STAFF = {"village": ("13800000010", "13800000011", "13800000012"),
         "community": ("13800000020", "13800000021", "13800000022")}


def seed(*, session: Session, settings: Settings, world: Any) -> list[str]:
    """Add this domain's demo data to the demo world; returns lines to print."""
    lines = ["厚德积分 (points):"]
    for key, (admin_phone, clerk_phone, approver_phone) in STAFF.items():
        org = world.orgs[key]
        admin = Actor(account_id=world.accounts[admin_phone].id)
        clerk = Actor(account_id=world.accounts[clerk_phone].id)
        approver = Actor(account_id=world.accounts[approver_phone].id)
        existing = {rule.code for rule in service.list_rules(session=session, org_id=org.id, include_inactive=True)}
        for code, name, points, category, limit, period, evidence in RULES:
            if code not in existing:
                service.create_rule(session=session, org_id=org.id, code=code, name=name, points=points,
                                    category=category, limit_per_period=limit, period=period,
                                    evidence_required=evidence)
        residents = {}
        for phone in ("13800000001", "13800000002", "13800000003"):
            residents[phone] = service.add_resident(session=session, settings=settings, actor=admin, org_id=org.id,
                                                    phone=phone).id
        names = {item.name for item in service.list_items(session=session, org_id=org.id, include_inactive=True)}
        for name, price, stock in ITEMS:
            if name not in names:
                service.create_item(session=session, org_id=org.id, name=name, price=price, stock=stock)
        has_awards = session.scalar(select(func.count()).select_from(PointsAward).where(PointsAward.org_id == org.id))
        session.commit()  # end the read: a rollback would expire the demo world's objects
        if not has_awards:
            items = [{"resident_id": residents[phone], "rule_code": code, "note": "演示数据",
                      "evidence": ["https://files.example/demo.jpg"]} for phone, code in AWARDS]
            result = service.submit_awards(session=session, actor=clerk, org_id=org.id, items=items)
            for item in result["items"]:
                if "id" in item:
                    service.approve(session=session, actor=approver, org_id=org.id, award_id=item["id"])
            # one more pending, for the approver to try
            service.submit_awards(session=session, actor=clerk, org_id=org.id, items=[
                {"resident_id": residents["13800000003"], "rule_code": "mediation", "note": "待审批演示"}])
        lines.append(f"  {key}: {len(RULES)} rules, residents 13800000001-3 on the roll, {len(ITEMS)} store items")
    session.commit()
    return lines
