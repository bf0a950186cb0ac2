"""The service contract other domains code against: get_standing, record_event, log_query,
update_points_rating, list_subject_records (none commits; the caller's use case does)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from backend.config import Settings
from backend.credit import service as credit_service
from backend.credit.models import CreditQuery, CreditRecord
from backend.errors import Invalid, NotFound
from backend.identity import service as identity_service
from tests.factories import Factory, valid_id_number

WHEN = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


def test_a_newly_verified_resident_has_a_snapshot_of_620_a(factory: Factory, session: Session) -> None:
    user = factory.user("resident")
    standing = credit_service.get_standing(session=session, person_id=user.person_id)
    assert (standing.score, standing.level) == (620, "A")
    assert standing.model_version == "person-2026.1"
    assert not standing.serious_dishonesty and not standing.red_list


def test_record_event_is_idempotent_on_source_org_and_ref_and_recomputes(
        factory: Factory, session: Session, settings: Settings) -> None:
    dept = factory.org("department")
    user = factory.user("resident")
    kwargs = dict(session=session, settings=settings, source_org_id=dept.id, category="administrative_penalty",
                  source_ref="P-1", occurred_at=WHEN, decision="罚款 200 元", severity="general",
                  subject_person_id=user.person_id)
    record, created = credit_service.record_event(**kwargs)
    again, created_again = credit_service.record_event(**kwargs)
    session.commit()
    assert created and not created_again and again.id == record.id
    assert record.polarity == "negative" and record.status == "active"
    standing = credit_service.get_standing(session=session, person_id=user.person_id)
    assert (standing.score, standing.level) == (580, "B")


def test_record_event_accepts_any_source_org_and_enterprise_subjects(
        factory: Factory, session: Session, settings: Settings) -> None:
    hospital = factory.org("hospital")
    enterprise = factory.org("enterprise")
    record, created = credit_service.record_event(
        session=session, settings=settings, source_org_id=hospital.id, category="medical_credit_default",
        source_ref="visit-9", occurred_at=WHEN, decision="逾期未还", severity="general",
        subject_org_id=enterprise.id)
    session.commit()
    assert created and record.org_id == enterprise.id and record.person_id is None
    assert [r.id for r in credit_service.list_subject_records(session=session, org_id=enterprise.id)] == [record.id]


def test_record_event_rejects_bad_category_severity_and_subject(
        factory: Factory, session: Session, settings: Settings) -> None:
    dept = factory.org("department")
    user = factory.user("resident")
    base = dict(session=session, settings=settings, source_org_id=dept.id, source_ref="x", occurred_at=WHEN,
                decision="d", subject_person_id=user.person_id)
    with pytest.raises(Invalid) as bad_cat:
        credit_service.record_event(category="nope", **base)
    assert bad_cat.value.code == "unknown_category"
    with pytest.raises(Invalid) as bad_sev:
        credit_service.record_event(category="black_list", severity="minor", **base)
    assert bad_sev.value.code == "invalid_severity"
    with pytest.raises(Invalid) as no_pol:
        credit_service.record_event(category="inspection", **base)
    assert no_pol.value.code == "invalid_polarity"
    with pytest.raises(NotFound):
        credit_service.record_event(session=session, settings=settings, source_org_id=dept.id, category="honour",
                                    source_ref="y", occurred_at=WHEN, decision="d", subject_person_id="per_nobody")


def test_black_list_record_sets_serious_dishonesty_and_level_c(
        factory: Factory, session: Session, settings: Settings) -> None:
    dept = factory.org("department")
    user = factory.user("resident")
    credit_service.record_event(session=session, settings=settings, source_org_id=dept.id, category="black_list",
                                source_ref="B-1", occurred_at=WHEN, decision="列入严重失信名单",
                                severity="serious", subject_person_id=user.person_id)
    session.commit()
    standing = credit_service.get_standing(session=session, person_id=user.person_id)
    assert standing.serious_dishonesty and standing.level == "C"


def test_get_standing_computes_for_a_person_known_only_from_records(
        session: Session, settings: Settings) -> None:
    person = identity_service.get_or_create_person(session=session, settings=settings, id_number=valid_id_number())
    standing = credit_service.get_standing(session=session, person_id=person.id)
    session.commit()
    assert (standing.score, standing.level) == (600, "A")  # not verified: no identity points
    with pytest.raises(NotFound):
        credit_service.get_standing(session=session, person_id="per_missing")


def test_update_points_rating_moves_the_public_welfare_dimension(factory: Factory, session: Session) -> None:
    user = factory.user("resident")
    credit_service.update_points_rating(session=session, person_id=user.person_id, rating=250)
    session.commit()
    assert credit_service.get_standing(session=session, person_id=user.person_id).score == 645
    credit_service.update_points_rating(session=session, person_id=user.person_id, rating=5000)
    session.commit()
    assert credit_service.get_standing(session=session, person_id=user.person_id).score == 680  # capped at +60


def test_log_query_appends_and_does_not_commit(factory: Factory, session: Session) -> None:
    merchant = factory.org("merchant")
    staff = factory.user("cashier", merchant)
    resident = factory.user("resident")
    credit_service.log_query(session=session, actor=staff.actor, org_id=merchant.id, person_id=resident.person_id,
                             purpose="信易+ 优惠资格")
    assert session.scalar(select(func.count()).select_from(CreditQuery)) == 1
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CreditQuery)) == 0


def test_list_subject_records_shows_only_that_subjects_records(
        factory: Factory, session: Session, settings: Settings) -> None:
    dept = factory.org("department")
    a, b = factory.user("resident"), factory.user("resident")
    for i, user in enumerate((a, b, a)):
        credit_service.record_event(session=session, settings=settings, source_org_id=dept.id,
                                    category="volunteer_service", source_ref=f"V-{i}",
                                    occurred_at=WHEN + dt.timedelta(days=i), decision="志愿服务 8 小时",
                                    subject_person_id=user.person_id)
    session.commit()
    records = credit_service.list_subject_records(session=session, person_id=a.person_id)
    assert [r.source_ref for r in records] == ["V-2", "V-0"]
    assert all(isinstance(r, CreditRecord) for r in records)
