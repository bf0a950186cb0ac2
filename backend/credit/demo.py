"""Demo data of credit (idempotent: every record has a fixed source_ref)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from backend.config import Settings
from backend.credit import service as credit_service
from backend.db import utcnow

# phone -> [(source_ref, category, polarity, severity, days before the seed, decision)]
_RESIDENT_RECORDS: dict[str, list[tuple[str, str, str, str | None, int, str]]] = {
    "13800000001": [
        ("DEMO-UTIL-0001", "utility_payment", "positive", None, 30, "2026 年上半年水电气费按时缴纳"),
        ("DEMO-VOL-0001", "volunteer_service", "positive", None, 60, "社区志愿服务 20 小时"),
    ],
    "13800000002": [
        ("DEMO-PEN-0002", "administrative_penalty", "negative", "general", 120,
         "湘发改罚〔2026〕12 号：未按规定明码标价，罚款 2000 元"),
    ],
    "13800000003": [
        ("DEMO-HON-0003", "honour", "positive", None, 90, "2026 年度村级“诚信之星”"),
    ],
}


def seed(*, session: Session, settings: Settings, world: Any) -> list[str]:
    """A few records for the demo residents and the demo enterprise from the demo department."""
    department = world.orgs["department"]
    now = utcnow()
    created = 0
    for phone, records in _RESIDENT_RECORDS.items():
        person_id = world.residents.get(phone)
        if person_id is None:
            continue
        for ref, category, polarity, severity, days, decision in records:
            _record, new = credit_service.record_event(
                session=session, settings=settings, source_org_id=department.id, category=category,
                source_ref=ref, occurred_at=now - dt.timedelta(days=days), decision=decision,
                severity=severity, polarity=polarity, subject_person_id=person_id)
            created += int(new)
    enterprise = world.orgs["enterprise"]
    _record, new = credit_service.record_event(
        session=session, settings=settings, source_org_id=department.id, category="administrative_license",
        source_ref="DEMO-LIC-0006", occurred_at=now - dt.timedelta(days=200), decision="食品经营许可证核发",
        subject_org_id=enterprise.id)
    created += int(new)
    session.commit()
    return [f"Credit: {created} demo record(s) added (utility + volunteer for 张三, a penalty for 李四, "
            "an honour for 王五, a licence for the demo enterprise)."]
