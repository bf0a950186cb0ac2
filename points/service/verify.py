"""The ledger's invariants, checked from the entries (``flask --app backend points verify``)."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from points import ledger
from points.models import PointsAccount, PointsEntry


def verify(*, session: Session) -> list[str]:
    """Differences found: Σ entries ≠ 0, a transaction that does not balance, a balance or rating ≠ its entries."""
    problems: list[str] = []
    total = session.scalar(select(func.coalesce(func.sum(PointsEntry.amount), 0))) or 0
    if total != 0:
        problems.append(f"entries sum to {total}, not 0")
    for tx_id, amount in session.execute(
        select(PointsEntry.transaction_id, func.sum(PointsEntry.amount)).group_by(PointsEntry.transaction_id)
        .having(func.sum(PointsEntry.amount) != 0)
    ):
        problems.append(f"transaction {tx_id} sums to {amount}")
    rated = case((PointsEntry.kind.in_(ledger.RATED_KINDS), PointsEntry.amount), else_=0)
    sums = (
        select(PointsEntry.account_id.label("account_id"), func.sum(PointsEntry.amount).label("balance"),
               func.sum(rated).label("rating"))
        .group_by(PointsEntry.account_id).subquery()
    )
    rows = session.execute(
        select(PointsAccount.id, PointsAccount.kind, PointsAccount.balance, PointsAccount.rating,
               func.coalesce(sums.c.balance, 0), func.coalesce(sums.c.rating, 0))
        .outerjoin(sums, sums.c.account_id == PointsAccount.id)
    )
    for account_id, kind, balance, rating, entry_balance, entry_rating in rows:
        if balance != entry_balance:
            problems.append(f"account {account_id}: balance {balance} but entries sum to {entry_balance}")
        if kind == "resident" and rating != entry_rating:
            problems.append(f"account {account_id}: rating {rating} but award entries sum to {entry_rating}")
    return problems
