"""村规民约: the village's points rules (village admins write, members read)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.errors import Conflict, Invalid, NotFound
from points.models import PointsRule
from points.service.common import village


def _check(points: int, limit_per_period: int | None, period: str | None) -> None:
    if points == 0:
        raise Invalid("invalid_points")
    if (limit_per_period is None) != (period is None):
        raise Invalid("invalid_rule_limit")


def create_rule(*, session: Session, org_id: str, code: str, name: str, points: int, category: str,
                limit_per_period: int | None = None, period: str | None = None,
                evidence_required: bool = False) -> PointsRule:
    """Add a rule; its code is unique in the village (409 ``rule_code_taken``)."""
    village(session, org_id)
    _check(points, limit_per_period, period)
    rule = PointsRule(org_id=org_id, code=code, name=name.strip(), points=points, category=category.strip(),
                      limit_per_period=limit_per_period, period=period, evidence_required=evidence_required,
                      active=True)
    try:
        with session.begin_nested():
            session.add(rule)
            session.flush()
    except IntegrityError as exc:
        raise Conflict("rule_code_taken") from exc
    session.commit()
    return rule


def list_rules(*, session: Session, org_id: str, include_inactive: bool = False) -> list[PointsRule]:
    stmt = select(PointsRule).where(PointsRule.org_id == org_id)
    if not include_inactive:
        stmt = stmt.where(PointsRule.active.is_(True))
    return list(session.scalars(stmt.order_by(PointsRule.code)))


def update_rule(*, session: Session, org_id: str, code: str, **changes: Any) -> PointsRule:
    """Change a rule's name, points, category, limit, evidence flag or retire it (``active: false``).

    Pending awards keep the points they were submitted with.
    """
    rule = session.scalars(
        select(PointsRule).where(PointsRule.org_id == org_id, PointsRule.code == code)
    ).one_or_none()
    if rule is None:
        raise NotFound("rule_not_found")
    for field, value in changes.items():
        setattr(rule, field, value)
    _check(rule.points, rule.limit_per_period, rule.period)
    session.commit()
    return rule
