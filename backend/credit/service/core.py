"""Records, scores and standings: ingestion (one or a batch), recomputation, the contract
other domains call (get_standing, record_event, log_query, update_points_rating,
list_subject_records).

Concurrency: a recompute takes the subject's standing row (insert-ignore, then
SELECT ... FOR UPDATE in subject order) before it stores anything, and every change to a
subject's inputs stores a new snapshot id on that row in the same transaction. Scores are
computed first without the lock (so two overlapping batches queue only for their writes);
a subject whose locked row is not the row read before (another transaction committed a
change meanwhile) is read and scored again under the lock. The stored snapshot therefore
never misses a committed record.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, insert, or_, select, text, update
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.credit import scoring
from backend.credit.models import (
    POLARITIES,
    CreditCategory,
    CreditQuery,
    CreditRecord,
    CreditStanding,
    ScoreModel,
    ScoreSnapshot,
)
from backend.credit.service import bulk
from backend.db import dialect_insert, new_id, utcnow
from backend.errors import Invalid, NotFound, register_messages
from backend.identity import ids, pii
from backend.identity import service as identity_service
from backend.identity.models import Organisation, Person

register_messages(
    {
        "unknown_category": ("信用记录类别不存在", "Unknown category", "类别 {category} 不存在。", "Category {category} does not exist."),
        "invalid_polarity": ("记录性质无效", "Invalid polarity", "该类别的记录性质只能是 {allowed}。", "This category allows polarity {allowed}."),
        "invalid_severity": ("严重程度无效", "Invalid severity", "该类别的失信记录严重程度只能是 {allowed}。", "This category allows severity {allowed}."),
        "subject_required": ("缺少信用主体", "Subject required", "请提供 id_number 或 credit_code 其中之一。", "Give exactly one of id_number or credit_code."),
        "not_an_enterprise": ("不是企业", "Not an enterprise", "该统一社会信用代码或机构不是企业，不能作为信用主体。", "This code or organisation is not an enterprise and holds no credit records."),
        "subject_not_found": ("信用主体不存在", "Subject not found", "没有 {subject} 这个人或企业。", "There is no person or enterprise {subject}."),
        "invalid_record": ("记录字段无效", "Invalid record", "字段 {field} 无效。", "Field {field} is invalid."),
        "invalid_subject": ("主体标识无效", "Invalid subject", "subject 应为主体编号（per_… / org_…）、校验正确的公民身份号码或统一社会信用代码。", "subject must be a subject id (per_… / org_…), an ID number or a credit code that passes its checksum."),
        "source_ref_conflict": ("编号已用于另一主体的记录", "Reference names another record", "本部门的 source_ref 已用于另一主体的记录 {record_id}：重发同一记录才算重复，请换一个编号。", "This department's source_ref already names record {record_id} of another subject; only a re-send of the same record is a duplicate: use another reference."),
        "occurred_in_future": ("发生时间晚于当前时间", "Occurred in the future", "记录的发生时间不能晚于当前时间。", "A record cannot have occurred in the future."),
        "too_many_records": ("单批记录过多", "Too many records", "每批最多 {max} 条记录。", "At most {max} records per batch."),
        "person_not_found": ("人员不存在", "Person not found", "找不到该人员。", "No such person."),
        "record_not_found": ("信用记录不存在", "Record not found", "找不到该信用记录。", "No such credit record."),
        "credit_not_found": ("信用信息不存在", "Credit not found", "找不到该主体的信用信息。", "No credit information for this subject."),
        "model_not_found": ("评分模型不存在", "Score model not found", "找不到该评分模型版本。", "No such score model version."),
        "model_exists": ("评分模型版本已存在", "Model version exists", "该评分模型版本已存在。", "This score model version already exists."),
        "invalid_model": ("评分模型参数无效", "Invalid score model", "{problem}", "{problem}"),
    }
)

PERSON = "person"
ENTERPRISE = "enterprise"
_ST = cast(Table, CreditStanding.__table__)
_SNAP = cast(Table, ScoreSnapshot.__table__)
_RECORDS = cast(Table, CreditRecord.__table__)
# The standing is the latest snapshot (plus the two flags, which snapshots do not keep).
_STANDING_FROM_SNAPSHOT = {c: c for c in ("score", "level", "model_version", "dimensions", "reasons",
                                          "serious_dishonesty", "red_list", "as_of")} | {"snapshot_id": "id"}


# --------------------------------------------------------------------------- reference data


def categories(*, session: Session) -> dict[str, CreditCategory]:
    """Every category by code (reference data seeded by the migration)."""
    return {c.code: c for c in session.scalars(select(CreditCategory).order_by(CreditCategory.sort))}


def category_names(*, session: Session) -> dict[str, tuple[str, str]]:
    return {c.code: (c.name_zh, c.name_en) for c in categories(session=session).values()}


def active_model(*, session: Session, kind: str) -> tuple[str, dict[str, Any]]:
    model = session.scalars(select(ScoreModel).where(ScoreModel.subject_kind == kind, ScoreModel.active.is_(True))
                            .order_by(ScoreModel.activated_at.desc())).first()
    if model is None:  # only if the seeded rows were deleted by hand
        default = scoring.DEFAULT_PERSON_MODEL if kind == PERSON else scoring.DEFAULT_ENTERPRISE_MODEL
        return f"{kind}-default", default
    return model.version, model.params


def subject_kind(subject_id: str) -> str:
    return PERSON if subject_id.startswith("per_") else ENTERPRISE


# --------------------------------------------------------------------------- records


def current_status(record: CreditRecord, now: dt.datetime | None = None) -> str:
    """A record's status as of now: an ``active`` record past its publicity period is ``expired``
    from that moment, before the daily job writes it (a ``disputed`` one waits for its objection)."""
    if record.status == "active" and record.publicity_end <= (now or utcnow()):
        return "expired"
    return record.status


def status_is(status: str, now: dt.datetime | None = None) -> ColumnElement[bool]:
    """A filter on ``current_status``: the records whose status is ``status`` as of now."""
    moment = now or utcnow()
    past = CreditRecord.publicity_end <= moment
    if status == "active":
        return and_(CreditRecord.status == "active", ~past)
    if status == "expired":
        return or_(CreditRecord.status == "expired", and_(CreditRecord.status == "active", past))
    return CreditRecord.status == status


def publicity_end(category: CreditCategory, polarity: str, severity: str | None, occurred_at: dt.datetime) -> dt.datetime:
    key = "positive" if polarity == "positive" else (severity or "minor")
    months = category.publicity_months.get(key) or category.publicity_months.get("positive") or [36, 36]
    return scoring.add_months(occurred_at, int(months[1]))


def publicity_min_end(category: CreditCategory, record: CreditRecord) -> dt.datetime:
    """The end of the minimum publicity period (earliest repair)."""
    key = "positive" if record.polarity == "positive" else (record.severity or "minor")
    months = category.publicity_months.get(key) or [0, 0]
    return scoring.add_months(record.occurred_at, int(months[0]))


@dataclass
class ItemResult:
    source_ref: str
    result: str  # created | duplicate | error
    id: str | None = None
    error: dict[str, Any] | None = None
    subject_id: str | None = None


def check_fields(cats: dict[str, CreditCategory], *, category: str, polarity: str | None,
                 severity: str | None) -> tuple[CreditCategory, str, str | None]:
    """The category, polarity and severity of a record, or Invalid with a stable code."""
    cat = cats.get(category)
    if cat is None:
        raise Invalid("unknown_category", category=category)
    allowed_pol = list(POLARITIES) if cat.polarity == "either" else [cat.polarity]
    pol = polarity or (cat.polarity if cat.polarity != "either" else None)
    if pol not in allowed_pol:
        raise Invalid("invalid_polarity", allowed="/".join(allowed_pol))
    if pol == "negative":
        if severity not in cat.severities:
            raise Invalid("invalid_severity", allowed="/".join(cat.severities))
    elif severity is not None:
        raise Invalid("invalid_severity", allowed="-")
    return cat, pol, severity if pol == "negative" else None


def _insert_records(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT ... ON CONFLICT (source_org_id, source_ref) DO NOTHING; the ids actually inserted."""
    if not rows:
        return set()
    return set(bulk.insert_rows(session, _RECORDS, rows, conflict=["source_org_id", "source_ref"], returning="id"))


def _resolve_people(session: Session, settings: Settings, numbers: set[str],
                    spare: Callable[[set[str]], set[str]] = lambda _unknown: set()) -> dict[str, str]:
    """ID number -> person id, creating persons (blind index + cipher) for numbers seen first,
    except the unknown numbers ``spare`` names (whose every item is refused anyway): those are
    left out of the answer, and no row holds them."""
    if not numbers:
        return {}
    blinds = {n: identity_service.blind_index(settings=settings, id_number=n) for n in numbers}
    found = dict(session.execute(select(Person.id_blind, Person.id).where(
        bulk.any_of(session, Person.id_blind, blinds.values()))).tuples().all())
    unknown = {n for n in numbers if blinds[n] not in found}
    spared = spare(unknown) if unknown else set()
    missing = unknown - spared
    if missing:
        now = utcnow()
        rows: list[dict[str, Any]] = [{"id": new_id("per"), "id_blind": blinds[n],
                                       "id_cipher": pii.encrypt(settings.pii_key_bytes, n, "id_number"),
                                       "id_masked": ids.mask_id_number(n), "created_at": now}
                                      for n in sorted(missing)]
        inserted = _insert_persons(session, rows)
        found.update((r["id_blind"], r["id"]) for r in rows if r["id"] in inserted)
        raced = [r["id_blind"] for r in rows if r["id"] not in inserted]  # created meanwhile by another batch
        if raced:
            found.update(session.execute(select(Person.id_blind, Person.id).where(
                bulk.any_of(session, Person.id_blind, raced))).tuples().all())
    return {n: found[blinds[n]] for n in numbers if n not in spared}


def _refused_anyway(session: Session, source_org_id: str, pending: list[tuple[int, dict[str, Any], dict[str, Any]]],
                    results: list[ItemResult], field: str) -> Callable[[set[str]], set[str]]:
    """Of the ID numbers (``field="id_number"``) no person holds yet, or the credit codes
    (``"credit_code"``) no organisation holds yet, those whose every item names a ``source_ref`` of
    another subject: one this department already used (for anyone: the subject is new), or one an
    earlier item of the batch uses for another subject. Each such item ends as
    ``source_ref_conflict``; creating its subject would keep an ID number, or an enterprise stub
    that is graded and drawn for inspection, with no record to show for it (a re-send of the same
    record matches its own subject and is never spared)."""
    def spare(unknown: set[str]) -> set[str]:
        first: dict[str, dict[str, Any]] = {}
        items = []
        for i, _row, key in pending:
            ref = results[i].source_ref
            if "dup_of" not in key:
                first[ref] = key
            if key.get(field) in unknown:
                items.append((ref, key))
        used = set(session.scalars(select(CreditRecord.source_ref).where(
            CreditRecord.source_org_id == source_org_id,
            bulk.any_of(session, CreditRecord.source_ref, {ref for ref, _key in items})))) if items else set()
        kept = {key[field] for ref, key in items
                if ref not in used and ("dup_of" not in key or first.get(ref, {}).get(field) == key[field])}
        return unknown - kept
    return spare


def _insert_persons(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert-ignore new persons; the ids actually inserted.

    On PostgreSQL in a short transaction of their own, committed at once: a person row (blind
    index, cipher) holds no credit, and two batches naming the same new ID number would otherwise
    queue for each other's whole batch (an INSERT waits for the transaction of a conflicting
    uncommitted row to end). Its commit need not wait for the disk: the caller's commit, which
    any record naming these persons waits for, flushes the log up to it. SQLite runs one writer
    at a time anyway, so there they stay in the caller's transaction.
    """
    table = cast(Table, Person.__table__)
    if not bulk.is_postgresql(session):
        return set(bulk.insert_rows(session, table, rows, conflict=["id_blind"], returning="id"))
    with Session(bind=session.get_bind()) as own:
        own.execute(text("SET LOCAL synchronous_commit = off"))
        inserted = set(bulk.insert_rows(own, table, rows, conflict=["id_blind"], returning="id"))
        own.commit()
    return inserted


def _resolve_orgs(session: Session, codes: set[str],
                  spare: Callable[[set[str]], set[str]] = lambda _unknown: set()) -> dict[str, str | None]:
    """Credit code -> enterprise id (None when the code is an organisation of another kind: a
    village or department holds no credit records). A valid code with no organisation yet gets an
    enterprise stub (name = the code, region = the code's division digits), so its records count
    from the start and an enterprise claim for that code later finds them; not the unknown codes
    ``spare`` names (whose every item is refused anyway), which are left out of the answer."""
    if not codes:
        return {}

    def by_code(wanted: set[str] | list[str]) -> dict[str, str | None]:
        return {code or "": org_id if kind == "enterprise" else None for code, org_id, kind in session.execute(
            select(Organisation.credit_code, Organisation.id, Organisation.kind)
            .where(bulk.any_of(session, Organisation.credit_code, wanted))).tuples()}

    found = by_code(codes)
    unknown = {c for c in codes if c not in found}
    spared = spare(unknown) if unknown else set()
    missing = sorted(unknown - spared)
    if missing:
        now = utcnow()
        rows = [{"id": new_id("org"), "kind": "enterprise", "name": ids.stub_enterprise_name(c), "credit_code": c,
                 "region_code": c[2:8], "created_at": now} for c in missing]
        session.execute(dialect_insert(session)(Organisation.__table__).on_conflict_do_nothing(
            index_elements=["credit_code"]), rows)
        found.update(by_code(missing))
    return {c: found[c] for c in codes if c not in spared}


def _drop_unknown_subjects(session: Session, pending: list[tuple[int, dict[str, Any], dict[str, Any]]],
                           results: list[ItemResult], orgs: dict[str, str | None], people: dict[str, str],
                           parties: frozenset[str]) -> list[tuple[int, dict[str, Any], dict[str, Any]]]:
    """The pending items whose subject can hold records; the others (and their repeats in the
    batch) become per-item errors: a person id or organisation id that does not exist
    (``person_not_found`` / ``org_not_found``), an organisation that is not an enterprise
    (``not_an_enterprise``: villages, merchants, departments are no credit subjects), or a subject
    among ``parties``, the submitter's own person and organisations (``conflict_of_interest``: no
    one files records about themselves, a red-list record least of all)."""
    person_ids = {k["person_id"] for _i, _r, k in pending if "person_id" in k}
    org_ids = {k["org_id"] for _i, _r, k in pending if "org_id" in k}
    persons = set(session.scalars(select(Person.id).where(bulk.any_of(session, Person.id, person_ids)))) \
        if person_ids else set()
    kinds = dict(session.execute(select(Organisation.id, Organisation.kind).where(
        bulk.any_of(session, Organisation.id, org_ids))).tuples().all()) if org_ids else {}

    def error_of(key: dict[str, Any]) -> str | None:
        subject = people.get(key.get("id_number", "")) or orgs.get(key.get("credit_code", "")) \
            or key.get("person_id") or key.get("org_id")
        if subject in parties:
            return "conflict_of_interest"
        if "person_id" in key and key["person_id"] not in persons:
            return "person_not_found"
        if "org_id" in key:
            kind = kinds.get(key["org_id"])
            return "org_not_found" if kind is None else None if kind == "enterprise" else "not_an_enterprise"
        if "credit_code" in key and key["credit_code"] in orgs and orgs[key["credit_code"]] is None:
            return "not_an_enterprise"
        return None

    kept: list[tuple[int, dict[str, Any], dict[str, Any]]] = []
    failed: dict[str, str | None] = {}
    for i, row, key in pending:
        error = failed.get(key["dup_of"]) if "dup_of" in key else error_of(key)
        if error is None:
            kept.append((i, row, key))
            continue
        if "dup_of" not in key:
            failed[results[i].source_ref] = error
        results[i].result, results[i].error = "error", {"code": error}
    return kept


def ingest(*, session: Session, settings: Settings, source_org_id: str, items: Sequence[dict[str, Any]],
           cause: str = "record_created", parties: frozenset[str] = frozenset()) -> list[ItemResult]:
    """Validate, resolve subjects, insert-ignore and recompute, for a batch of raw items.

    Each item: id_number | credit_code | person_id | org_id, category, polarity?, severity?,
    source_ref, occurred_at (aware datetime or ISO string), decision. A bad item gets an error
    result and never stops the others. Does not commit.
    """
    cats = categories(session=session)
    now = utcnow()
    latest = now + dt.timedelta(minutes=5)  # the latest occurred_at accepted (clocks drift)
    results: list[ItemResult] = []
    pending: list[tuple[int, dict[str, Any], dict[str, Any]]] = []  # (result index, row, subject key)
    seen_refs: set[str] = set()
    numbers: set[str] = set()
    codes: set[str] = set()
    for raw in items:
        ref = raw.get("source_ref") if isinstance(raw, dict) else None
        ref_s = ref.strip() if isinstance(ref, str) else ""
        res = ItemResult(source_ref=ref_s if isinstance(ref, str) else "", result="error")
        results.append(res)
        try:
            row, key = _check_item(cats, raw, ref_s, latest)
        except Invalid as exc:
            res.error = {"code": exc.code, **exc.params}
            continue
        if "id_number" in key:
            numbers.add(key["id_number"])
        elif "credit_code" in key:
            codes.add(key["credit_code"])
        if ref_s in seen_refs:
            res.result = "duplicate"  # resolved to the first occurrence's id below
            pending.append((len(results) - 1, {}, {"dup_of": ref_s, **key}))
            continue
        seen_refs.add(ref_s)
        pending.append((len(results) - 1, row, key))

    people = _resolve_people(session, settings, numbers,
                             _refused_anyway(session, source_org_id, pending, results, "id_number"))
    orgs = _resolve_orgs(session, codes, _refused_anyway(session, source_org_id, pending, results, "credit_code"))
    pending = _drop_unknown_subjects(session, pending, results, orgs, people, parties)
    rows: list[dict[str, Any]] = []
    for _i, row, key in pending:
        if "dup_of" in key or ("id_number" in key and key["id_number"] not in people) \
                or ("credit_code" in key and key["credit_code"] not in orgs):
            continue  # a repeat, or a reference of another subject's record (no subject was made for it)
        row.update(person_id=None, org_id=None)  # every row the same columns: one statement for all
        if "id_number" in key:
            row["person_id"] = people[key["id_number"]]
        elif "credit_code" in key:
            row["org_id"] = orgs[key["credit_code"]]
        else:
            row.update(key)
        row.update(id=new_id("crr"), source_org_id=source_org_id, status="active", created_at=now, updated_at=now)
        rows.append(row)
    # In source_ref order, so two batches naming the same refs in another order cannot deadlock
    # on each other's uncommitted inserts.
    rows.sort(key=lambda r: r["source_ref"])
    inserted = _insert_records(session, rows)
    found: dict[str, tuple[str, str]] = {  # source_ref -> (record id, subject), ours first
        r["source_ref"]: (r["id"], r["person_id"] or r["org_id"]) for r in rows if r["id"] in inserted}
    taken = [ref for ref in seen_refs if ref not in found]  # stored before (retry, concurrent twin batch)
    if taken:
        found.update({r: (i, p or o or "") for r, i, p, o in session.execute(
            select(CreditRecord.source_ref, CreditRecord.id, CreditRecord.person_id, CreditRecord.org_id)
            .where(CreditRecord.source_org_id == source_org_id,
                   bulk.any_of(session, CreditRecord.source_ref, taken))).tuples()})
    def subject_of(key: dict[str, Any]) -> str:
        if "id_number" in key:
            return people.get(key["id_number"], "")
        if "credit_code" in key:
            return orgs.get(key["credit_code"]) or ""
        return str(key.get("person_id") or key.get("org_id") or "")

    changed: dict[str, list[dict[str, Any]]] = {}
    categories_by_id = {r["id"]: r["category"] for r in rows}
    for i, _row, key in pending:
        res = results[i]
        rid, subject = found[key.get("dup_of", res.source_ref)]
        if ("dup_of" in key or rid not in inserted) and subject_of(key) != subject:
            # The reference names another subject's record: not a re-send, which would update nothing.
            res.result, res.error = "error", {"code": "source_ref_conflict", "record_id": rid}
            continue
        res.id, res.subject_id = rid, subject
        if "dup_of" not in key and rid in inserted:
            res.result = "created"
            changed.setdefault(subject, []).append(
                {"record_id": rid, "change": "created", "category": categories_by_id[rid]})
        else:
            res.result = "duplicate"
    if changed:
        recompute(session=session, subject_ids=list(changed), cause=cause, changes=changed)
    return results


def _parse_time(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise Invalid("invalid_record", field="occurred_at") from exc
    else:
        raise Invalid("invalid_record", field="occurred_at")
    if moment.tzinfo is None:  # a local time from a Chinese department: Beijing time
        moment = moment.replace(tzinfo=scoring.SHANGHAI)
    # the platform's calendar, checked on the year first: converting year 1 or 9999 overflows
    if moment.year > 2100:
        raise Invalid("occurred_in_future")
    if moment.year < 2000 or moment < EARLIEST_OCCURRED:
        raise Invalid("invalid_record", field="occurred_at")
    return moment.astimezone(dt.UTC)


EARLIEST_OCCURRED = dt.datetime(2000, 1, 1, tzinfo=scoring.SHANGHAI)  # local times are Beijing time


@functools.lru_cache(maxsize=65536)
def _normal_id_number(value: str) -> str | None:
    """ids.normalize_id_number, cached: a batch names the same people again and again."""
    return ids.normalize_id_number(value)


def _text(raw: dict[str, Any], name: str, max_len: int, required: bool = True) -> str | None:
    value = raw.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise Invalid("invalid_record", field=name)
    return value.strip()


_ITEM_FIELDS = frozenset({"id_number", "credit_code", "person_id", "org_id", "category", "polarity", "severity",
                          "source_ref", "occurred_at", "decision"})


def _check_item(cats: dict[str, CreditCategory], raw: Any, ref: str,
                latest: dt.datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(raw, dict):
        raise Invalid("invalid_record", field="record")
    unknown = sorted(set(raw) - _ITEM_FIELDS)
    if unknown:
        raise Invalid("invalid_record", field=unknown[0])
    _text(raw, "source_ref", 100)
    subjects = [k for k in ("id_number", "credit_code", "person_id", "org_id") if raw.get(k) not in (None, "")]
    if len(subjects) != 1:
        raise Invalid("subject_required")
    key: dict[str, Any]
    if subjects[0] == "id_number":
        number = _normal_id_number(raw["id_number"]) if isinstance(raw["id_number"], str) else None
        if number is None:
            raise Invalid("invalid_id_number")
        key = {"id_number": number}
    elif subjects[0] == "credit_code":
        code = ids.normalize_credit_code(raw["credit_code"]) if isinstance(raw["credit_code"], str) else None
        if code is None:
            raise Invalid("invalid_credit_code")
        key = {"credit_code": code}
    else:
        value = raw[subjects[0]]
        if not isinstance(value, str) or len(value) > 40:
            raise Invalid("invalid_record", field=subjects[0])
        key = {subjects[0]: value}
    category = raw.get("category")
    polarity = raw.get("polarity")
    severity = raw.get("severity")
    if not isinstance(category, str) or not (polarity is None or isinstance(polarity, str)) \
            or not (severity is None or isinstance(severity, str)):
        raise Invalid("invalid_record", field="category/polarity/severity")
    cat, pol, sev = check_fields(cats, category=category, polarity=polarity, severity=severity)
    occurred = _parse_time(raw.get("occurred_at"))
    if occurred > latest:
        raise Invalid("occurred_in_future")
    decision = _text(raw, "decision", 2000)
    row = {"category": cat.code, "polarity": pol, "severity": sev, "source_ref": ref, "occurred_at": occurred,
           "decision": decision, "publicity_end": publicity_end(cat, pol, sev, occurred)}
    return row, key


# --------------------------------------------------------------------------- recomputation


@dataclass
class StandingRow:
    """A subject's standing as computed (the attributes of CreditStanding)."""

    subject_id: str
    score: int
    level: str
    model_version: str
    dimensions: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    serious_dishonesty: bool
    red_list: bool
    points_rating: int
    as_of: dt.datetime
    snapshot_id: str | None = None




# What a subject's score depends on besides its records, as its standing row says:
# (snapshot id, score, level, points rating, real-name verified).
_Standing = tuple[str | None, int, str, int, bool]
_NO_STANDING: _Standing = (None, 0, "", 0, False)  # a new row, as _lock_standings creates it


def _standings(session: Session, subject_ids: list[str], *, lock: bool) -> dict[str, _Standing]:
    """The standing rows there are; with ``lock``, locked FOR UPDATE in subject order."""
    stmt = (select(_ST.c.subject_id, _ST.c.snapshot_id, _ST.c.score, _ST.c.level, _ST.c.points_rating,
                   Person.verified_at.is_not(None))
            .outerjoin(Person, Person.id == _ST.c.subject_id)
            .where(bulk.any_of(session, _ST.c.subject_id, subject_ids)))
    if lock:
        stmt = stmt.order_by(_ST.c.subject_id).with_for_update(of=_ST)
    return {sid: (snap, score, level, rating, verified)
            for sid, snap, score, level, rating, verified in session.execute(stmt).tuples()}


def _lock_standings(session: Session, subject_ids: list[str]) -> dict[str, _Standing]:
    """Create missing standing rows, then lock them in subject order."""
    now = utcnow()
    for kind, group in itertools.groupby(subject_ids, key=subject_kind):  # in subject order too
        bulk.insert_keys(session, _ST, "subject_id", list(group), {
            "subject_kind": kind, "score": 0, "level": "", "model_version": "", "dimensions": [], "reasons": [],
            "serious_dishonesty": False, "red_list": False, "points_rating": 0, "as_of": now})
    return _standings(session, subject_ids, lock=True)


def record_inputs(session: Session, subject_ids: list[str], cats: dict[str, CreditCategory]) -> dict[str, list[scoring.RecordInput]]:
    """The counted-status records of each subject, as scoring reads them (Core rows: no ORM
    loading for the thousands a batch reads)."""
    r = _RECORDS.c
    people = [s for s in subject_ids if subject_kind(s) == PERSON]
    orgs = [s for s in subject_ids if subject_kind(s) != PERSON]
    out: dict[str, list[scoring.RecordInput]] = {s: [] for s in subject_ids}
    conds = []
    if people:
        conds.append(bulk.any_of(session, r.person_id, people))
    if orgs:
        conds.append(bulk.any_of(session, r.org_id, orgs))
    if not conds:
        return out
    stmt = select(r.id, r.person_id, r.org_id, r.category, r.polarity, r.severity, r.status, r.occurred_at,
                  r.publicity_end).where(or_(*conds), r.status.in_(scoring.COUNTED_STATUSES))
    dimension = {code: c.positive_dimension for code, c in cats.items()}
    for rid, pid, oid, cat, pol, sev, status, occ, end in session.execute(stmt).tuples():
        out[pid or oid or ""].append(scoring.RecordInput(rid, cat, pol, sev, status, occ, end, dimension.get(cat)))
    return out


def _score(session: Session, subject_ids: list[str], standings: dict[str, _Standing],
           cats: dict[str, CreditCategory], as_of: dt.datetime) -> dict[str, tuple[str, scoring.ScoreResult]]:
    """{subject: (model version, result with its reasons rendered)} from the records and standings as
    read now."""
    inputs = record_inputs(session, subject_ids, cats)
    models = {kind: active_model(session=session, kind=kind) for kind in {subject_kind(s) for s in subject_ids}}
    names = {c.code: (c.name_zh, c.name_en) for c in cats.values()}
    out = {}
    for sid in subject_ids:
        *_, rating, verified = standings.get(sid, _NO_STANDING)
        version, params = models[subject_kind(sid)]
        result = scoring.compute(inputs[sid], scoring.Subject(verified=verified, points_rating=rating),
                                 params, version, as_of)
        for reason in result.reasons:  # rendered once here, so reads never look anything up
            reason["text_zh"] = scoring.render_reason(reason, "zh", names)
            reason["text_en"] = scoring.render_reason(reason, "en", names)
        out[sid] = version, result
    return out


def recompute(*, session: Session, subject_ids: Iterable[str], cause: str,
              changes: dict[str, list[dict[str, Any]]] | None = None,
              as_of: dt.datetime | None = None, locked: dict[str, _Standing] | None = None) -> dict[str, StandingRow]:
    """Recompute and store a snapshot for each subject, in the caller's transaction.

    ``locked``: the standing rows of all the subjects, which the caller already holds locked
    (as they stand now); they are then neither read unlocked first nor locked again.
    """
    ordered = sorted(set(subject_ids))
    if not ordered:
        return {}
    as_of = as_of or utcnow()
    cats = categories(session=session)
    if locked is not None:
        scored = _score(session, ordered, locked, cats, as_of)
    else:
        seen = _standings(session, ordered, lock=False)
        scored = _score(session, ordered, seen, cats, as_of)
        locked = _lock_standings(session, ordered)
        moved = [sid for sid in ordered if locked[sid] != seen.get(sid, _NO_STANDING)]
        if moved:  # another transaction stored a snapshot since: its change may not be in what was read
            scored.update(_score(session, moved, locked, cats, as_of))
    snapshots: list[dict[str, Any]] = []
    out: dict[str, StandingRow] = {}
    for sid in ordered:
        _snap, previous, previous_level, rating, _verified = locked[sid]
        version, result = scored[sid]
        snap_id = new_id("csn")
        snapshots.append({
            "id": snap_id, "subject_id": sid, "score": result.score, "level": result.level,
            "previous_score": previous if previous_level else None, "model_version": version,
            "dimensions": result.dimensions, "reasons": result.reasons, "cause": cause,
            "changes": (changes or {}).get(sid, []), "as_of": as_of,
            "serious_dishonesty": result.serious_dishonesty, "red_list": result.red_list,
        })
        out[sid] = StandingRow(subject_id=sid, score=result.score, level=result.level, model_version=version,
                               dimensions=result.dimensions, reasons=result.reasons,
                               serious_dishonesty=result.serious_dishonesty, red_list=result.red_list,
                               points_rating=rating, as_of=as_of, snapshot_id=snap_id)
    bulk.insert_and_update(session, snapshots, insert_into=_SNAP, update_table=_ST, key="subject_id",
                           set_from=_STANDING_FROM_SNAPSHOT)
    return out


# --------------------------------------------------------------------------- contract used by other domains


@dataclass(frozen=True)
class Standing:
    """A person's current credit as other domains may use it (read from the latest snapshot)."""

    person_id: str
    score: int
    level: str  # AAA | AA | A | B | C
    serious_dishonesty: bool  # an active black_list record: never eligible for any benefit
    red_list: bool  # an active red_list record
    model_version: str


def _standing(row: CreditStanding | StandingRow) -> Standing:
    return Standing(person_id=row.subject_id, score=row.score, level=row.level,
                    serious_dishonesty=row.serious_dishonesty, red_list=row.red_list,
                    model_version=row.model_version)


def latest_standing(*, session: Session, subject_id: str) -> CreditStanding | None:
    """The stored standing (fresh from the database: recomputes write it with Core statements)."""
    row = session.get(CreditStanding, subject_id, populate_existing=True)
    return row if row is not None and row.level else None


def get_standing(*, session: Session, person_id: str) -> Standing:
    """The person's latest score snapshot (computed and stored first if the person has none)."""
    row: CreditStanding | StandingRow | None = latest_standing(session=session, subject_id=person_id)
    if row is None:
        if session.get(Person, person_id) is None:
            raise NotFound("person_not_found")
        row = recompute(session=session, subject_ids=[person_id], cause="first_read")[person_id]
    return _standing(row)


def record_event(*, session: Session, settings: Settings, source_org_id: str, category: str,
                 source_ref: str, occurred_at: dt.datetime, decision: str, severity: str | None = None,
                 polarity: str | None = None, subject_person_id: str | None = None,
                 subject_org_id: str | None = None) -> tuple[CreditRecord, bool]:
    """Write one credit record for a person or an enterprise, in the caller's transaction.

    Idempotent on (source_org_id, source_ref): returns (record, created). Recomputes the
    subject's score and stores a snapshot. Polarity defaults to the category's.
    """
    if (subject_person_id is None) == (subject_org_id is None):
        raise Invalid("subject_required")
    if subject_person_id is not None and session.get(Person, subject_person_id) is None:
        raise NotFound("person_not_found")
    if subject_org_id is not None and session.get(Organisation, subject_org_id) is None:
        raise NotFound("org_not_found")
    item: dict[str, Any] = {"category": category, "polarity": polarity, "severity": severity,
                            "source_ref": source_ref, "occurred_at": occurred_at, "decision": decision}
    if subject_person_id is not None:
        item["person_id"] = subject_person_id
    else:
        item["org_id"] = subject_org_id
    (res,) = ingest(session=session, settings=settings, source_org_id=source_org_id, items=[item])
    if res.result == "error":
        assert res.error is not None
        params = {k: v for k, v in res.error.items() if k != "code"}
        raise Invalid(res.error["code"], **params)
    record = session.get(CreditRecord, res.id)
    assert record is not None
    return record, res.result == "created"


_LOG_QUERY = insert(CreditQuery)  # built once: every scan, redemption and eligibility check writes one


def log_query(*, session: Session, actor: Actor, org_id: str, person_id: str, purpose: str) -> None:
    """Append an organisation's look at a person's credit to the query log (caller commits)."""
    session.connection().execute(_LOG_QUERY, {"id": new_id("cqy"), "person_id": person_id, "org_id": org_id,
                                              "account_id": actor.account_id, "purpose": purpose[:200],
                                              "at": utcnow()})


def query_logger(*, actor: Actor, org_id: str, person_id: str, purpose: str) -> Callable[[Session], None]:
    """``log_query`` for later: the write a refusal keeps (``AppError.keep``) when its reason came
    from the person's credit, so a refused look is in the person's query log like an answered one."""
    return lambda session: log_query(session=session, actor=actor, org_id=org_id, person_id=person_id,
                                     purpose=purpose)


def update_points_rating(*, session: Session, person_id: str, rating: int) -> None:
    """Points calls this with the person's total 厚德积分 rating across villages when it changes;
    credit stores it and recomputes the public-welfare dimension (caller commits)."""
    snapshot_id, score, level, previous, verified = _lock_standings(session, [person_id])[person_id]
    if previous == rating and level:
        return
    session.execute(update(_ST).where(_ST.c.subject_id == person_id).values(points_rating=rating))
    recompute(session=session, subject_ids=[person_id], cause="points_rating",
              changes={person_id: [{"change": "points_rating", "from": previous, "to": rating}]},
              locked={person_id: (snapshot_id, score, level, rating, verified)})


SHOWN_TO_OTHERS = ("active", "disputed")


def list_subject_records(*, session: Session, person_id: str | None = None,
                         org_id: str | None = None) -> list[CreditRecord]:
    """The records of a subject that others may be shown (sealed credit reports), newest first.

    Only those that stand and are published: ``active`` or ``disputed`` (under objection, still
    counted) and inside their publicity period, whether or not the expiry job has run yet; minor
    negative records never ("minor not published", DOMAIN.md). A revoked record was wrong, a
    repaired one is "no longer counted or shown to others", an expired one is past its publicity:
    all stay for audit and the subject's own record list, never in a document for a third party.
    """
    if (person_id is None) == (org_id is None):
        raise Invalid("subject_required")
    col = CreditRecord.person_id if person_id is not None else CreditRecord.org_id
    return list(session.scalars(select(CreditRecord).where(
        col == (person_id or org_id), CreditRecord.status.in_(SHOWN_TO_OTHERS), CreditRecord.publicity_end > utcnow(),
        or_(CreditRecord.polarity != "negative", CreditRecord.severity.is_(None), CreditRecord.severity != "minor"),
    ).order_by(CreditRecord.occurred_at.desc(), CreditRecord.id.desc())))


def _on_verified(session: Session, person_id: str) -> None:
    recompute(session=session, subject_ids=[person_id], cause="verified",
              changes={person_id: [{"change": "verified"}]})


if _on_verified not in identity_service.verification_hooks:
    identity_service.verification_hooks.append(_on_verified)
