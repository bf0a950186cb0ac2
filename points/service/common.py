"""Shared pieces of the points use cases: error messages, accounts, posting, the credit link."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from backend.credit import service as credit_service
from backend.db import insert_ignore, new_id, rowcount, utcnow
from backend.errors import NotFound, register_messages
from backend.identity.models import Organisation
from points import ledger
from points.models import PointsAccount, PointsEntry, PointsTransaction

VILLAGE_KINDS = ("village", "community")

register_messages(
    {
        "village_not_found": ("村（社区）不存在", "Village not found", "找不到该村（社区）。", "No such village or community."),
        "resident_not_found": ("村民不存在", "Resident not found", "该村民不在本村（社区）积分名册中。", "This resident is not on this village's points roll."),
        "resident_not_verified": ("村民未实名认证", "Resident not verified", "只能添加已完成实名认证的账号。", "Only accounts that passed real-name verification can be added."),
        "rule_not_found": ("积分规则不存在", "Rule not found", "找不到该积分规则。", "No such points rule."),
        "rule_inactive": ("积分规则已停用", "Rule inactive", "该积分规则已停用。", "This points rule is no longer in use."),
        "rule_code_taken": ("规则编码已存在", "Rule code taken", "本村已有相同编码的规则。", "This village already has a rule with this code."),
        "invalid_rule_limit": ("规则限次设置无效", "Invalid rule limit", "限次和周期（day/month/year）须同时提供。", "Give both limit_per_period and period (day/month/year), or neither."),
        "invalid_points": ("分值无效", "Invalid points", "分值不能为 0。", "Points must not be zero."),
        "evidence_required": ("缺少佐证材料", "Evidence required", "该规则要求提供佐证材料。", "This rule requires evidence."),
        "rule_limit_reached": ("已达规则限次", "Rule limit reached", "该村民本周期内此规则的次数已用完。", "This resident has reached this rule's limit for the period."),
        "award_not_found": ("积分申报不存在", "Award not found", "找不到该积分申报。", "No such award."),
        "award_not_pending": ("申报已处理", "Award already decided", "该申报已经处理过。", "This award has already been decided."),
        "award_not_approved": ("申报未通过", "Award not approved", "只有已通过的申报可以撤销。", "Only an approved award can be reversed."),
        "same_person": ("不能审批与自己有关的申报", "Same person", "审批人不能是申报的提交人或受奖人。", "The approver must be neither the person who submitted the award nor the one it is for."),
        "item_not_found": ("商品不存在", "Item not found", "积分超市中没有该商品。", "No such store item."),
        "stock_too_large": ("库存过多", "Stock too large", "补货后库存不能超过 {max_stock}。", "The stock may not exceed {max_stock} after a restock."),
        "out_of_stock": ("库存不足", "Out of stock", "该商品库存不足。", "Not enough stock of this item."),
        "item_changed": ("商品刚刚调整", "Item just changed", "该商品的价格刚刚调整（现价 {price} 积分），请让居民出示新码后重试。", "The item was repriced a moment ago (now {price} points); ask the resident for a fresh code and retry."),
        "insufficient_points": ("积分不足", "Insufficient points", "积分余额不足以兑换。", "The resident's balance does not cover this redemption."),
        "invalid_period": ("统计周期无效", "Invalid period", "请使用 YYYY-MM 格式、2000 至 2100 年间的月份。", "Use a month as YYYY-MM, between 2000 and 2100."),
        "invalid_star_thresholds": ("星级门槛无效", "Invalid star thresholds", "需要 5 个严格递增的整数。", "Give five strictly ascending integers."),
        "sale_not_found": ("兑换记录不存在", "Sale not found", "本村积分超市没有这条兑换记录。", "This village's store has no such sale."),
        "points_account_missing": ("积分账户缺失", "Points account missing", "本村积分账户尚未开设。", "The village's points accounts are missing."),
    }
)


def village(session: Session, org_id: str) -> Organisation:
    org = session.get(Organisation, org_id)
    if org is None or org.kind not in VILLAGE_KINDS:
        raise NotFound("village_not_found")
    return org


def system_account(session: Session, org_id: str, kind: str) -> PointsAccount:
    """The village's issuance or store account, opened on first use (safe under races)."""
    account = session.scalars(
        select(PointsAccount).where(PointsAccount.org_id == org_id, PointsAccount.key == kind)
    ).one_or_none()
    if account is not None:
        return account
    insert_ignore(session, PointsAccount.__table__,
                  {"id": new_id("pac"), "org_id": org_id, "kind": kind, "key": kind, "balance": 0, "rating": 0,
                   "created_at": utcnow()}, ["org_id", "key"])
    return session.scalars(
        select(PointsAccount).where(PointsAccount.org_id == org_id, PointsAccount.key == kind)
    ).one()


def resident_account(session: Session, org_id: str, resident_id: str, *, lock: bool = False) -> PointsAccount:
    stmt = select(PointsAccount).where(PointsAccount.id == resident_id, PointsAccount.org_id == org_id,
                                       PointsAccount.kind == "resident")
    if lock:
        stmt = stmt.with_for_update()
    account = session.scalars(stmt).one_or_none()
    if account is None:
        raise NotFound("resident_not_found")
    return account


def resident_by_person(session: Session, org_id: str, person_id: str) -> PointsAccount | None:
    return session.scalars(
        select(PointsAccount).where(PointsAccount.org_id == org_id, PointsAccount.key == person_id)
    ).one_or_none()


def post(session: Session, *, org_id: str, kind: str, memo: str, legs: Sequence[ledger.Leg],
         created_by: str | None, rating_delta: dict[str, int] | None = None,
         skip_balance: Sequence[str] = ()) -> PointsTransaction:
    """Write a balanced transaction and move the balances (and ratings) in the same transaction.

    ``skip_balance`` names accounts whose balance the caller already moved with
    its own conditional UPDATE (the resident's in a redemption).
    """
    if not ledger.is_balanced(legs):
        raise ValueError("unbalanced posting")
    now = utcnow()
    tx = PointsTransaction(id=new_id("ptx"), org_id=org_id, kind=kind, memo=memo[:200], created_by=created_by,
                           created_at=now)
    session.add(tx)
    session.flush()
    session.execute(insert(PointsEntry), [
        {"id": new_id("pen"), "transaction_id": tx.id, "account_id": leg.account, "org_id": org_id, "kind": kind,
         "amount": leg.amount, "memo": memo[:200], "created_at": now}
        for leg in legs
    ])
    ratings = rating_delta or {}
    for leg in legs:
        values: dict[str, object] = {}
        if leg.account not in skip_balance:
            values["balance"] = PointsAccount.balance + leg.amount
        if ratings.get(leg.account):
            values["rating"] = PointsAccount.rating + ratings[leg.account]
        if values:
            rowcount(session, update(PointsAccount).where(PointsAccount.id == leg.account).values(**values))
    return tx


def rating_changed(session: Session, person_id: str) -> None:
    """Tell credit the person's total rating across villages (in the caller's transaction)."""
    session.flush()
    total = session.scalar(
        select(func.coalesce(func.sum(PointsAccount.rating), 0)).where(PointsAccount.person_id == person_id)
    )
    credit_service.update_points_rating(session=session, person_id=person_id, rating=int(total or 0))
