"""Demo data of commitments (idempotent): a template of each type, one signed commitment."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.commitments.models import Commitment, CommitmentTemplate
from backend.commitments.service import commitments, public, templates
from backend.config import Settings

RESIDENT_PHONE = "13800000001"

# type -> (title, text, fields, validity days)
TEMPLATES: dict[str, tuple[str, str, list[dict[str, Any]], int]] = {
    "public_disclosure": (
        "主动公示型信用承诺书",
        # No name slot: the seal names the signer from their verified identity (masked in public),
        # so a typed name can neither be someone else's nor publish a full name.
        "本人/本单位郑重承诺：所提交的{matter}相关材料真实、合法、有效，"
        "并同意将本承诺向社会公示。如有虚假，愿承担相应法律责任并接受失信惩戒。",
        [{"name": "matter", "type": "string", "required": True, "label": "事项"}],
        365,
    ),
    "industry_self_discipline": (
        "行业自律型信用承诺书",
        "本单位作为{industry}行业经营者，承诺遵守行业规范，诚信经营，不欺诈、不虚假宣传。",
        [{"name": "industry", "type": "string", "required": True, "label": "行业"}],
        365,
    ),
    "approval_substitute": (
        "审批替代（容缺受理）型信用承诺书",
        "本人申请办理{matter}，现缺少{missing}，承诺于{due_date}前补齐，逾期未补齐的，"
        "同意撤销审批结果并记入信用记录。",
        [{"name": "matter", "type": "string", "required": True, "label": "办理事项"},
         {"name": "missing", "type": "string", "required": True, "label": "容缺材料"},
         {"name": "due_date", "type": "date", "required": True, "label": "补齐期限"}],
        90,
    ),
    "credit_repair": (
        "信用修复承诺书",
        "本人就{record}已完成整改（{correction}），承诺今后守法诚信，如再次失信愿接受从重惩戒。",
        [{"name": "record", "type": "string", "required": True, "label": "失信记录"},
         {"name": "correction", "type": "string", "required": True, "label": "整改情况"}],
        730,
    ),
}


def seed(*, session: Session, settings: Settings, world: Any) -> list[str]:
    """Add this domain's demo data to the demo world; returns lines to print."""
    department = world.orgs["department"]
    officer = world.accounts.get("13800000051")
    by_type: dict[str, CommitmentTemplate] = {}
    for kind, (title, text, fields, days) in TEMPLATES.items():
        existing = session.scalars(select(CommitmentTemplate).where(
            CommitmentTemplate.department_id == department.id, CommitmentTemplate.type == kind,
            CommitmentTemplate.is_current.is_(True))).first()
        by_type[kind] = existing or templates.create_template(
            session=session, actor=Actor(account_id=officer.id if officer else ""), department_id=department.id,
            type=kind, title=title, text=text, fields=fields, validity_days=days)
    lines = ["Commitment templates of the demo department: "
             + ", ".join(f"{k}={t.id}" for k, t in by_type.items())]
    account = world.accounts.get(RESIDENT_PHONE)
    person_id = world.residents.get(RESIDENT_PHONE)
    if account is None or person_id is None:
        session.commit()
        return lines
    signed = session.scalars(select(Commitment).where(Commitment.subject_person_id == person_id,
                                                      Commitment.public_id.is_not(None))).first()
    if signed is None:
        from backend.demo import DEMO_PASSWORD

        actor = Actor(account_id=account.id, person_id=person_id, ip="127.0.0.1", user_agent="demo seed")
        draft = commitments.draft(session=session, actor=actor, template_id=by_type["public_disclosure"].id,
                                  fields={"matter": "个体工商户登记"})
        signed = commitments.sign(session=session, settings=settings, actor=actor, commitment_id=draft.id,
                                  password=DEMO_PASSWORD)
    assert signed.public_id is not None
    lines.append(f"Signed demo commitment of {RESIDENT_PHONE}: {public.verify_url(settings, signed.public_id)}")
    session.commit()  # end the read transaction: the caller's final rollback must not expire the world's objects
    return lines
