"""What the scenario use cases share: error messages, a person's standing as the rules see it, masking."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.credit import service as credit_service
from backend.errors import NotFound, register_messages
from backend.identity.ids import mask_name
from backend.identity.models import Person
from scenarios.eligibility import LEVEL_NAMES, Subject, effective_level

register_messages(
    {
        "scenario_not_found": ("场景不存在", "Unknown scenario", "没有编码为 {scenario} 的场景。", "There is no scenario with code {scenario}."),
        "offer_limit_locked": ("已有核销，不能改变限次方式", "Limit locked", "这项优惠已有核销记录，不能新设、取消每人限次或改变计次周期；可以调整次数，或发布一项新优惠。", "This offer has redemptions: its per-person limit cannot be added, removed or moved to another period; change the number, or publish a new offer."),
        "scenario_retired": ("场景已停用", "Scenario retired", "场景 {scenario} 已停用，不能再发布优惠。", "The scenario {scenario} is retired; no new offers."),
        "scenario_exists": ("场景编码已存在", "Scenario exists", "编码 {scenario} 已被使用。", "The code {scenario} is taken."),
        "offer_not_found": ("优惠不存在", "Offer not found", "该商户没有这项优惠。", "This merchant has no such offer."),
        "invalid_validity_window": ("有效期不正确", "Invalid validity window", "结束时间必须晚于开始时间。", "valid_to must be later than valid_from."),
        "not_eligible": ("不符合条件", "Not eligible", "该居民不符合条件（{reason}）。", "The resident is not eligible ({reason})."),
        "quota_exhausted": ("名额已用完", "Quota exhausted", "该优惠的名额已经用完。", "This offer has no quota left."),
        "period_needs_limit": ("计次周期需配合每人限次", "Period needs a limit", "period 只在设置 per_person_limit 时有效。", "period applies only with a per_person_limit."),
        "offer_changed": ("优惠正在变更", "Offer changed", "核销时商户正在修改这项优惠，请让居民刷新二维码后重试。", "The merchant changed this offer while it was being redeemed; ask for a fresh code and try again."),
        "redemption_not_found": ("核销记录不存在", "Redemption not found", "该商户没有这条核销记录。", "This merchant has no such redemption."),
        "invalid_month_range": ("月份范围不正确", "Invalid month range", "月份为 2000 至 2100 年间的 YYYY-MM，结束月份不能早于开始月份，且跨度不超过 36 个月。", "Months are YYYY-MM in 2000-2100, to not before from, at most 36 months apart."),
        "credit_line_exceeded": ("超出信用额度", "Credit line exceeded", "可用额度为 {available_yuan} 元，本次 {amount_yuan} 元。", "Available ¥{available_yuan}, asked ¥{amount_yuan}."),
        "visit_not_found": ("就诊记录不存在", "Visit not found", "本院没有这次就诊。", "This hospital has no such visit."),
        "visit_not_open": ("就诊已结算", "Visit settled", "这次就诊已经结算，不能再记账。", "This visit is settled; no more charges."),
        "visit_has_no_charges": ("没有费用可结算", "Nothing to settle", "这次就诊还没有任何费用。", "This visit has no charges yet."),
        "bill_not_found": ("账单不存在", "Bill not found", "本院没有这张账单。", "This hospital has no such bill."),
        "overpayment": ("还款金额超出欠款", "Overpayment", "尚欠 {outstanding_yuan} 元，本次 {amount_yuan} 元。", "Outstanding ¥{outstanding_yuan}, paid ¥{amount_yuan}."),
        "bill_already_paid": ("账单已结清", "Bill paid", "这张账单已经结清。", "This bill is already paid."),
        "invalid_policy": ("政策设置不正确", "Invalid policy", "高等级的额度不能低于低等级的额度。", "A higher level's line must not be below a lower level's."),
    }
)


def subject_of(*, session: Session, person_id: str) -> Subject:
    """The person's credit as the eligibility rules see it (from the credit service's latest snapshot)."""
    standing = credit_service.get_standing(session=session, person_id=person_id)
    return Subject(level=standing.level, serious_dishonesty=standing.serious_dishonesty, red_list=standing.red_list)


def person_subject(session: Session, person_id: str) -> tuple[str, Subject]:
    """The masked name and the Subject of a person, in one statement when a standing is stored."""
    row = session.connection().execute(credit_service.PERSON_STANDING, {"person_id": person_id}).one_or_none()
    return masked_subject(session, person_id, row)


def masked_subject(session: Session, person_id: str, row: Any) -> tuple[str, Subject]:
    """The masked name and the Subject of a row of credit's PERSON_STANDING statement.

    Without a stored snapshot credit computes and stores the first one (the caller commits).
    """
    if row is None:
        raise NotFound("person_not_found")
    if not row.level:
        return mask_name(row.person_name), subject_of(session=session, person_id=person_id)
    return mask_name(row.person_name), Subject(level=row.level, serious_dishonesty=row.serious_dishonesty,
                                               red_list=row.red_list)


def shown_level(subject: Subject) -> str:
    """The level a merchant or hospital is shown (black list forces C)."""
    return effective_level(subject)


def level_name(level: str) -> str:
    return LEVEL_NAMES.get(level, "")


def masked_name(session: Session, person_id: str) -> str:
    return mask_name(session.scalar(select(Person.name).where(Person.id == person_id)))


def masked_names(session: Session, person_ids: Iterable[str]) -> dict[str, str]:
    """The masked names of many persons in one query (lists of redemptions, visits, bills)."""
    wanted = set(person_ids)
    names = dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted))).tuples().all()) \
        if wanted else {}
    return {person_id: mask_name(names.get(person_id)) for person_id in wanted}
