"""Public verification of sealed documents: JSON views, QR code and the /v/ page data.

``valid`` is recomputed on every read from the stored bytes: the SHA-256 must match the stored
hash, the Ed25519 signature must verify with the key it names, and the document must carry the
public id it is looked up by (a seal copied onto another id does not verify).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import qrcode
import qrcode.constants
from sqlalchemy import select
from sqlalchemy.orm import Session

from backend.commitments import sealing
from backend.commitments.models import TYPE_NAMES, Commitment, CreditReport, Seal
from backend.commitments.service import keys
from backend.commitments.service.commitments import effective_status
from backend.commitments.service.common import SHANGHAI, iso, parse_content, subject_of
from backend.config import Settings
from backend.errors import NotFound

STATUS_NAMES = {"draft": "草稿", "signed": "有效", "fulfilled": "已履约", "breached": "已违约", "expired": "已过期"}
RECORD_STATUS_NAMES = {"active": "有效", "disputed": "异议处理中"}


def verify_url(settings: Settings, public_id: str) -> str:
    return f"{settings.public_base_url.rstrip('/')}/v/{public_id}"


def _seal(session: Session, public_id: str, kind: str | None, code: str) -> Seal:
    seal = session.get(Seal, public_id) if sealing.is_public_id(public_id) else None
    if seal is None or (kind is not None and seal.kind != kind):
        raise NotFound(code)
    return seal


def _checked(session: Session, seal: Seal) -> tuple[bool, dict[str, Any]]:
    document = parse_content(seal.content) or {}
    valid = keys.verify_stored(session=session, seal=seal) and document.get("public_id") == seal.public_id
    return valid, document


def _seal_fields(seal: Seal, valid: bool, settings: Settings) -> dict[str, Any]:
    return {"public_id": seal.public_id, "hash": seal.content_hash, "signature": seal.signature,
            "key_id": seal.key_id, "content": seal.content, "valid": valid, "algorithm": "Ed25519",
            "verify_url": verify_url(settings, seal.public_id)}


def commitment_view(*, session: Session, settings: Settings, public_id: str) -> dict[str, Any]:
    """What anyone may see of a signed commitment: masked subject, text, seal and ``valid``."""
    row = session.execute(
        select(Seal, Commitment).join(Commitment, Commitment.public_id == Seal.public_id)
        .where(Seal.public_id == public_id, Seal.kind == "commitment")
    ).first() if sealing.is_public_id(public_id) else None  # one round trip: the seal and its commitment
    if row is None:
        raise NotFound("commitment_not_found")
    seal, commitment = row
    valid, doc = _checked(session, seal)
    subject = doc.get("subject") if isinstance(doc.get("subject"), dict) else None
    department: dict[str, Any] = doc["department"] if isinstance(doc.get("department"), dict) else {}
    return {
        **_seal_fields(seal, valid, settings),
        "kind": "commitment",
        "type": doc.get("type", commitment.type),
        "type_name": doc.get("type_name", TYPE_NAMES.get(commitment.type, ("", ""))[0]),
        "title": doc.get("title", commitment.title),
        "text": doc.get("text", commitment.text),
        "subject": subject or subject_of(session, person_id=commitment.subject_person_id,
                                         org_id=commitment.subject_org_id),
        "department_name": department.get("name", ""),
        "status": effective_status(commitment),
        "signed_at": doc.get("signed_at", iso(commitment.signed_at)),
        "valid_until": doc.get("valid_until", iso(commitment.valid_until)),
    }


def report_view(*, session: Session, settings: Settings, public_id: str) -> dict[str, Any]:
    seal = _seal(session, public_id, "credit_report", "report_not_found")
    report = session.scalars(select(CreditReport).where(CreditReport.public_id == seal.public_id)).one_or_none()
    if report is None:
        raise NotFound("report_not_found")
    valid, doc = _checked(session, seal)
    subject = doc.get("subject") if isinstance(doc.get("subject"), dict) else None
    return {
        **_seal_fields(seal, valid, settings),
        "kind": "credit_report",
        "title": doc.get("title", "专用信用报告"),
        "subject": subject or subject_of(session, person_id=report.subject_person_id, org_id=report.subject_org_id),
        "purpose": doc.get("purpose", report.purpose or ""),
        "issued_at": doc.get("issued_at", iso(report.issued_at)),
        "standing": doc.get("standing"),
        "records": doc.get("records") if isinstance(doc.get("records"), list) else [],
    }


def beijing_time(value: Any) -> str:
    """'2026-11-23 22:59' in Asia/Shanghai, from a sealed ISO time (as given when it does not parse)."""
    if not isinstance(value, str):
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def page_view(*, session: Session, settings: Settings, public_id: str) -> dict[str, Any] | None:
    """Data of the /v/ page for either kind of sealed document; None when the id is unknown."""
    try:
        seal = _seal(session, public_id, None, "seal_not_found")
        if seal.kind == "commitment":
            view = commitment_view(session=session, settings=settings, public_id=public_id)
            view["status_name"] = STATUS_NAMES.get(view["status"], view["status"])
            view["signed_at_local"] = beijing_time(view["signed_at"])
            view["valid_until_local"] = beijing_time(view["valid_until"])
            return view
        view = report_view(session=session, settings=settings, public_id=public_id)
        view["issued_at_local"] = beijing_time(view["issued_at"])
        from backend.credit import service as credit_service

        names = {c.code: c.name_zh for c in credit_service.list_categories(session=session)}
        for record in view.get("records") or []:  # the page reads in Chinese; the sealed bytes keep the codes
            record["category_name"] = names.get(record.get("category"), record.get("category"))
            record["status_name"] = RECORD_STATUS_NAMES.get(record.get("status"), record.get("status"))
            record["occurred_on_local"] = beijing_time(record.get("occurred_at"))[:10]  # the day in Beijing
        return view
    except NotFound:
        return None


def qr_png(*, session: Session, settings: Settings, public_id: str, kind: str) -> bytes:
    """PNG of the verification URL, for printing on the paper copy."""
    _seal(session, public_id, kind, "commitment_not_found" if kind == "commitment" else "report_not_found")
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    qr.add_data(verify_url(settings, public_id))
    qr.make(fit=True)
    buffer = io.BytesIO()
    qr.make_image().save(buffer)
    return buffer.getvalue()


def _seals(session: Session, public_ids: list[str]) -> dict[str, Seal]:
    ids = [p for p in public_ids if p]
    if not ids:
        return {}
    return {s.public_id: s for s in session.scalars(select(Seal).where(Seal.public_id.in_(ids)))}


def commitment_out(*, session: Session, settings: Settings, items: list[Commitment]) -> list[dict[str, Any]]:
    """Commitments as the owner or the department sees them, with their seal and verification URL."""
    seals = _seals(session, [c.public_id or "" for c in items])
    out = []
    for c in items:
        seal = seals.get(c.public_id or "")
        row = {column: getattr(c, column) for column in (
            "id", "channel", "template_id", "department_id", "type", "title", "text", "fields", "subject_kind",
            "subject_org_id", "public_id", "signed_at", "valid_until", "paper_ref", "decided_at",
            "decision_reason", "fulfilled_at", "fulfilment_reason", "credit_record_id", "created_at")}
        row["status"] = effective_status(c)
        # who it binds, masked as on the public page: an officer deciding a breach sees whose record it makes
        row["subject"] = subject_of(session, person_id=c.subject_person_id, org_id=c.subject_org_id)
        row["hash"] = seal.content_hash if seal else None
        row["signature"] = seal.signature if seal else None
        row["key_id"] = seal.key_id if seal else None
        row["verify_url"] = verify_url(settings, c.public_id) if c.public_id else None
        out.append(row)
    return out


def report_out(*, session: Session, settings: Settings, items: list[CreditReport]) -> list[dict[str, Any]]:
    seals = _seals(session, [r.public_id for r in items])
    out = []
    for r in items:
        seal = seals[r.public_id]
        out.append({"id": r.id, "public_id": r.public_id, "subject_kind": r.subject_kind,
                    "subject_org_id": r.subject_org_id, "purpose": r.purpose, "issued_at": r.issued_at,
                    "verify_url": verify_url(settings, r.public_id), "hash": seal.content_hash,
                    "signature": seal.signature, "key_id": seal.key_id})
    return out
