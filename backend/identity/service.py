"""People, real-name verification, organisations, memberships and enterprise claims."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.actor import Actor
from backend.config import Settings
from backend.db import insert_ignore, new_id, rowcount, utcnow
from backend.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized, register_messages
from backend.identity import ids, pii
from backend.identity.models import (
    KINDS_REQUIRING_CREDIT_CODE,
    ORG_KINDS,
    ROLES_BY_KIND,
    Account,
    EnterpriseClaim,
    Membership,
    Organisation,
    Person,
    RealNameClaim,
)
from backend.pagination import Page, paginate
from backend.text import has_bidi_controls

register_messages(
    {
        "invalid_id_number": ("身份证号码无效", "Invalid ID number", "公民身份号码校验失败或出生日期无效。", "The citizen ID number fails its checksum or has an impossible birth date."),
        "invalid_credit_code": ("统一社会信用代码无效", "Invalid credit code", "统一社会信用代码的格式、登记机关行政区划码或校验码有误。", "The unified social credit code is malformed, names no real division, or fails its checksum."),
        "credit_code_required": ("缺少统一社会信用代码", "Credit code required", "该类机构必须提供统一社会信用代码。", "This kind of organisation needs a unified social credit code."),
        "credit_code_taken": ("统一社会信用代码已登记", "Credit code taken", "已有机构使用该统一社会信用代码。", "An organisation with this credit code already exists."),
        "identity_already_bound": ("该身份已绑定其他账号", "Identity already bound", "一个身份只能绑定一个账号。", "This person is already bound to another account."),
        "already_verified": ("已完成实名认证", "Already verified", "该账号已经完成实名认证。", "This account is already verified."),
        "name_required": ("缺少名称", "Name required", "请填写姓名或机构名称（不能只有空白）。", "Give a name (not only blanks)."),
        "claim_pending": ("申请审核中", "Claim pending", "已有一份相同的申请正在审核。", "The same claim is already under review."),
        "claim_not_found": ("申请不存在", "Claim not found", "找不到该申请。", "No such claim."),
        "claim_decided": ("申请已处理", "Claim already decided", "该申请已经处理过。", "This claim has already been decided."),
        "org_not_found": ("机构不存在", "Organisation not found", "找不到该机构。", "No such organisation."),
        "invalid_org_kind": ("机构类型无效", "Invalid organisation kind", "机构类型必须是 {kinds} 之一。", "Kind must be one of {kinds}."),
        "invalid_role": ("角色无效", "Invalid role", "{kind} 类机构的角色只能是 {roles}。", "Roles of a {kind} are {roles}."),
        "invalid_region_code": ("行政区划代码无效", "Invalid region code", "行政区划代码应为 6、9 或 12 位数字。", "Region code must be 6, 9 or 12 digits."),
        "account_not_found": ("账号不存在", "Account not found", "找不到该手机号对应的账号。", "No account has this phone number."),
        "member_not_found": ("成员不存在", "Member not found", "该账号不是本机构成员。", "This account is not a member of the organisation."),
        "last_admin": ("不能移除最后一位管理员", "Last admin", "机构至少需要一位管理员。", "An organisation needs at least one admin."),
    }
)

_REGION = re.compile(r"^[0-9]{6}([0-9]{3}){0,2}\Z")

# Called with (session, person_id) in the verifying transaction, so the credit
# score can count the real-name dimension at once. Registered by backend.credit.
verification_hooks: list[Callable[[Session, str], None]] = []


# --------------------------------------------------------------------------- persons


def blind_index(*, settings: Settings, id_number: str) -> str:
    return pii.blind_index(settings.pii_key_bytes, id_number, "id_number")


def get_or_create_person(*, session: Session, settings: Settings, id_number: str) -> Person:
    """The person with this (valid, normalised) ID number, created on first sight; safe under races."""
    blind = blind_index(settings=settings, id_number=id_number)
    person = session.scalars(select(Person).where(Person.id_blind == blind)).one_or_none()
    if person is not None:
        return person
    insert_ignore(
        session,
        Person.__table__,
        {
            "id": new_id("per"),
            "id_blind": blind,
            "id_cipher": pii.encrypt(settings.pii_key_bytes, id_number, "id_number"),
            "id_masked": ids.mask_id_number(id_number),
            "created_at": utcnow(),
        },
        ["id_blind"],
    )
    return session.scalars(select(Person).where(Person.id_blind == blind)).one()


# --------------------------------------------------------------------------- real-name verification


def _check_name(name: str) -> None:
    """A person's or an organisation's name shows letters (blanks or invisible characters would bind
    an identity to no name, for good) and reads as stored (no bidirectional controls, which would
    show an officer at the counter another name than the one kept)."""
    if not ids.has_letters(name):
        raise Invalid("name_required")
    if has_bidi_controls(name):
        raise Invalid("bidi_control", field="name")


def submit_real_name(*, session: Session, settings: Settings, actor: Actor, name: str, id_number: str) -> RealNameClaim:
    """Claim to be a person; the checksum verifier approves at once, the counter verifier leaves it pending."""
    number = ids.normalize_id_number(id_number)
    if number is None:
        raise Invalid("invalid_id_number")
    _check_name(name)
    account = session.get(Account, actor.account_id, with_for_update=True)
    assert account is not None
    if account.person_id is not None:
        raise Conflict("already_verified")
    pending = session.scalars(
        select(RealNameClaim).where(RealNameClaim.account_id == account.id, RealNameClaim.status == "pending")
    ).first()
    if pending is not None:
        raise Conflict("claim_pending")
    person = get_or_create_person(session=session, settings=settings, id_number=number)
    _ensure_unbound(session, person.id)
    claim = RealNameClaim(account_id=account.id, person_id=person.id, name=name.strip(),
                          status="pending", verifier=settings.real_name_verifier)
    session.add(claim)
    session.flush()
    if settings.real_name_verifier == "checksum":
        _approve_claim(session, claim, decided_by=None)
    session.commit()
    return claim


def _ensure_unbound(session: Session, person_id: str) -> None:
    bound = session.scalar(select(Account.id).where(Account.person_id == person_id))
    if bound is not None:
        raise Conflict("identity_already_bound")


def _approve_claim(session: Session, claim: RealNameClaim, *, decided_by: str | None) -> None:
    _ensure_unbound(session, claim.person_id)
    try:
        with session.begin_nested():
            bound = rowcount(session,
                update(Account)
                .where(Account.id == claim.account_id, Account.person_id.is_(None))
                .values(person_id=claim.person_id)
            )
    except IntegrityError as exc:  # another account bound the same person a moment ago
        raise Conflict("identity_already_bound") from exc
    if not bound:
        raise Conflict("already_verified")
    person = session.get(Person, claim.person_id)
    assert person is not None
    person.name = claim.name
    person.verified_at = utcnow()
    claim.status = "approved"
    claim.decided_by = decided_by
    claim.decided_at = utcnow()
    session.flush()
    for hook in verification_hooks:
        hook(session, person.id)


def list_real_name_claims(*, session: Session, status: str | None, limit: int, cursor: str | None) -> Page:
    """Claims for a service counter, newest first, each with the masked ID to check against the card.

    Only the claims a counter decides (verifier ``counter``: a checksum-verified one never comes to a
    counter), and the full name only while a claim waits for the card check; once decided, the
    name is masked like everywhere else.
    """
    stmt = select(RealNameClaim).where(RealNameClaim.verifier == "counter")
    if status:
        stmt = stmt.where(RealNameClaim.status == status)
    page = paginate(session, stmt, RealNameClaim.id, limit=limit, cursor=cursor)
    persons = {p.id: p for p in session.scalars(select(Person).where(
        Person.id.in_([c.person_id for c in page.items])))}
    page.items = [
        {"id": c.id, "status": c.status, "verifier": c.verifier, "created_at": c.created_at,
         "decided_at": c.decided_at, "note": c.note, "account_id": c.account_id, "person_id": c.person_id,
         "name": c.name if c.status == "pending" else ids.mask_name(c.name),
         "id_number_masked": persons[c.person_id].id_masked}
        for c in page.items
    ]
    return page


def decide_real_name_claim(*, session: Session, actor: Actor, claim_id: str, outcome: str, note: str | None) -> RealNameClaim:
    """A service-counter officer confirms (or rejects) a claim after seeing the person in person."""
    claim = session.get(RealNameClaim, claim_id, with_for_update=True)
    if claim is None:
        raise NotFound("claim_not_found")
    if claim.status != "pending":
        raise Conflict("claim_decided")
    check_not_a_party(session=session, actor=actor, subject_id=claim.person_id, applicant_account_id=claim.account_id)
    if session.scalar(select(RealNameClaim.id).where(RealNameClaim.account_id == actor.account_id,
                                                     RealNameClaim.person_id == claim.person_id,
                                                     RealNameClaim.status == "pending")):
        raise Conflict("conflict_of_interest")  # the officer claims this identity too: a rival's claim is theirs to lose
    claim.note = note
    if outcome == "approved":
        try:
            with session.begin_nested():
                _approve_claim(session, claim, decided_by=actor.account_id)
        except Conflict as exc:
            if exc.code != "identity_already_bound":
                raise
            # Another account holds the identity: this claim can never be approved. It is closed
            # (rejected, with the reason) so that its account may claim again, and the officer is told.
            claim_id = claim.id
            exc.keep(lambda s: _reject_pending(s, claim_id, actor, note or "identity_already_bound"))
            raise
    else:
        _reject_pending(session, claim.id, actor, note)
    session.commit()
    session.refresh(claim)
    return claim


def _reject_pending(session: Session, claim_id: str, actor: Actor, note: str | None) -> None:
    session.execute(update(RealNameClaim).where(RealNameClaim.id == claim_id, RealNameClaim.status == "pending")
                    .values(status="rejected", note=note, decided_by=actor.account_id, decided_at=utcnow())
                    .execution_options(synchronize_session=False))


def latest_claim(*, session: Session, account_id: str) -> RealNameClaim | None:
    return session.scalars(
        select(RealNameClaim).where(RealNameClaim.account_id == account_id).order_by(RealNameClaim.id.desc())
    ).first()


# --------------------------------------------------------------------------- organisations


def find_org(*, session: Session, org_id: str) -> Organisation | None:
    return session.get(Organisation, org_id) if org_id else None


_ORG_ROLES_QUERY = (
    select(Organisation.kind, Membership.role)
    .outerjoin(Membership, (Membership.org_id == Organisation.id) & (Membership.account_id == bindparam("account_id")))
    .where(Organisation.id == bindparam("org_id"))
)


def org_kind_and_roles(*, session: Session, actor: Actor, org_id: str) -> tuple[str | None, frozenset[str]]:
    """The organisation's kind (None if it does not exist) and the actor's roles in it, in one query
    (none when authentication already loaded them with the account)."""
    if org_id in actor.org_kinds:
        return actor.org_kinds[org_id], actor.roles.get(org_id, frozenset())
    rows = session.connection().execute(_ORG_ROLES_QUERY, {"account_id": actor.account_id, "org_id": org_id}).all()
    kind = rows[0][0] if rows else None
    roles = frozenset(role for _kind, role in rows if role is not None)
    actor.org_kinds[org_id], actor.roles[org_id] = kind, roles
    return kind, roles


def check_not_a_party(*, session: Session, actor: Actor, subject_id: str, applicant_account_id: str) -> None:
    """Refuse (409 ``conflict_of_interest``) a decision by someone it concerns: the applicant, the
    person it is about, or a member of the enterprise it is about (four eyes, as for points awards)."""
    if actor.account_id == applicant_account_id or subject_id == actor.person_id or load_roles(
            session=session, actor=actor, org_id=subject_id):  # no roles for a person's id
        raise Conflict("conflict_of_interest")


def load_roles(*, session: Session, actor: Actor, org_id: str) -> frozenset[str]:
    """The actor's roles in one organisation (cached on the actor for the request)."""
    return org_kind_and_roles(session=session, actor=actor, org_id=org_id)[1]


def _check_credit_code(kind: str, credit_code: str | None) -> str | None:
    if credit_code in (None, ""):
        if kind in KINDS_REQUIRING_CREDIT_CODE:
            raise Invalid("credit_code_required")
        return None
    assert credit_code is not None
    code = ids.normalize_credit_code(credit_code)
    if code is None:
        raise Invalid("invalid_credit_code")
    return code


def create_org(*, session: Session, kind: str, name: str, region_code: str, credit_code: str | None = None) -> Organisation:
    """Register an organisation (platform admin only; the API checks the role)."""
    if kind not in ORG_KINDS:
        raise Invalid("invalid_org_kind", kinds=", ".join(ORG_KINDS))
    if not _REGION.match(region_code or ""):
        raise Invalid("invalid_region_code")
    _check_name(name)
    code = _check_credit_code(kind, credit_code)
    if code and session.scalar(select(Organisation.id).where(Organisation.credit_code == code)):
        raise Conflict("credit_code_taken")
    org = Organisation(kind=kind, name=name.strip(), credit_code=code, region_code=region_code)
    session.add(org)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("credit_code_taken") from exc
    session.commit()
    return org


def get_org(*, session: Session, org_id: str) -> Organisation:
    org = find_org(session=session, org_id=org_id)
    if org is None:
        raise NotFound("org_not_found")
    return org


def list_orgs(*, session: Session, kind: str | None, limit: int, cursor: str | None) -> Page:
    stmt = select(Organisation)
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    return paginate(session, stmt, Organisation.id, limit=limit, cursor=cursor)


@dataclass
class Member:
    account_id: str
    phone: str
    roles: list[str]


def _validate_roles(kind: str, roles: Iterable[str]) -> set[str]:
    wanted = set(roles)
    allowed = ROLES_BY_KIND[kind]
    if not wanted or not wanted <= allowed:
        raise Invalid("invalid_role", kind=kind, roles=", ".join(sorted(allowed)))
    return wanted


def add_member(*, session: Session, org_id: str, phone: str, roles: Iterable[str]) -> Member:
    """Give the account with this phone the roles in the organisation (adding to any it has)."""
    org = get_org(session=session, org_id=org_id)
    wanted = _validate_roles(org.kind, roles)
    account = session.scalars(select(Account).where(Account.phone == phone)).one_or_none()
    if account is None:
        raise NotFound("account_not_found")
    for role in sorted(wanted):
        insert_ignore(session, Membership.__table__,
                      {"account_id": account.id, "org_id": org.id, "role": role, "created_at": utcnow()},
                      ["account_id", "org_id", "role"])
    session.commit()
    return _member(session, org.id, account)


def _member(session: Session, org_id: str, account: Account) -> Member:
    roles = sorted(session.scalars(
        select(Membership.role).where(Membership.org_id == org_id, Membership.account_id == account.id)
    ))
    return Member(account_id=account.id, phone=account.phone, roles=roles)


def list_members(*, session: Session, org_id: str) -> list[Member]:
    rows = session.execute(
        select(Account, Membership.role).join(Membership, Membership.account_id == Account.id)
        .where(Membership.org_id == org_id).order_by(Account.id, Membership.role)
    ).all()
    members: dict[str, Member] = {}
    for account, role in rows:
        members.setdefault(account.id, Member(account.id, account.phone, [])).roles.append(role)
    return list(members.values())


def remove_member(*, session: Session, org_id: str, account_id: str) -> None:
    """Remove every role of an account in the organisation; the last admin cannot leave."""
    roles = set(session.scalars(
        select(Membership.role).where(Membership.org_id == org_id, Membership.account_id == account_id)
    ))
    if not roles:
        raise NotFound("member_not_found")
    if "admin" in roles:
        admins = session.scalar(select(func.count()).select_from(Membership).where(
            Membership.org_id == org_id, Membership.role == "admin"))
        if admins == 1:
            raise Conflict("last_admin")
    session.execute(delete(Membership).where(Membership.org_id == org_id, Membership.account_id == account_id))
    session.commit()


def memberships(*, session: Session, account_id: str) -> list[tuple[Organisation, list[str]]]:
    rows = session.execute(
        select(Organisation, Membership.role).join(Membership, Membership.org_id == Organisation.id)
        .where(Membership.account_id == account_id).order_by(Organisation.id, Membership.role)
    ).all()
    grouped: dict[str, tuple[Organisation, list[str]]] = {}
    for org, role in rows:
        grouped.setdefault(org.id, (org, []))[1].append(role)
    return list(grouped.values())


# --------------------------------------------------------------------------- enterprise claims


def claim_enterprise(*, session: Session, actor: Actor, credit_code: str, name: str,
                     region_code: str) -> EnterpriseClaim:
    """Ask to act for an enterprise as its admin (legal representative); a platform admin decides."""
    code = ids.normalize_credit_code(credit_code)
    if code is None:
        raise Invalid("invalid_credit_code")
    if not _REGION.match(region_code or ""):
        raise Invalid("invalid_region_code")
    _check_name(name)
    holder = session.scalar(select(Organisation.kind).where(Organisation.credit_code == code))
    if holder is not None and holder != "enterprise":  # a village's or merchant's code is no enterprise to claim
        raise Conflict("credit_code_taken")
    existing = session.scalars(select(EnterpriseClaim).where(
        EnterpriseClaim.account_id == actor.account_id, EnterpriseClaim.credit_code == code,
        EnterpriseClaim.status == "pending")).first()
    if existing is not None:
        raise Conflict("claim_pending")
    claim = EnterpriseClaim(account_id=actor.account_id, credit_code=code, name=name.strip(),
                            region_code=region_code, status="pending")
    session.add(claim)
    session.commit()
    return claim


def list_enterprise_claims(*, session: Session, actor: Actor, status: str | None, limit: int,
                           cursor: str | None) -> Page:
    """All claims for a platform admin; one's own for anyone else."""
    stmt = select(EnterpriseClaim)
    if not actor.is_admin:
        stmt = stmt.where(EnterpriseClaim.account_id == actor.account_id)
    if status:
        stmt = stmt.where(EnterpriseClaim.status == status)
    return paginate(session, stmt, EnterpriseClaim.id, limit=limit, cursor=cursor)


def decide_enterprise_claim(*, session: Session, actor: Actor, claim_id: str, outcome: str,
                            note: str | None) -> EnterpriseClaim:
    if not actor.is_admin:
        raise Forbidden("admin_required")
    claim = session.get(EnterpriseClaim, claim_id, with_for_update=True)
    if claim is None:
        raise NotFound("claim_not_found")
    if claim.status != "pending":
        raise Conflict("claim_decided")
    claim.status = outcome
    claim.note = note
    claim.decided_by = actor.account_id
    claim.decided_at = utcnow()
    if outcome == "approved":
        org = session.scalars(select(Organisation).where(Organisation.credit_code == claim.credit_code)).one_or_none()
        if org is None:
            org = Organisation(kind="enterprise", name=claim.name, credit_code=claim.credit_code,
                               region_code=claim.region_code)
            session.add(org)
            session.flush()
        elif org.kind != "enterprise":
            raise Conflict("credit_code_taken")
        elif org.name == ids.stub_enterprise_name(org.credit_code or ""):  # a stub from records: now named
            org.name = claim.name
        claim.org_id = org.id
        insert_ignore(session, Membership.__table__,
                      {"account_id": claim.account_id, "org_id": org.id, "role": "admin", "created_at": utcnow()},
                      ["account_id", "org_id", "role"])
    session.commit()
    return claim


# --------------------------------------------------------------------------- profile


@dataclass
class Profile:
    id: str
    phone: str
    is_admin: bool
    verified: bool
    real_name_status: str  # none | pending | approved | rejected
    name_masked: str | None
    id_number_masked: str | None
    verified_at: object | None
    memberships: list[dict[str, object]]


# Built once: GET /me is the most read endpoint, and building a select costs more than running it.
_PROFILE_QUERY = (
    select(Account.id, Account.phone, Account.is_admin, Account.disabled_at, Person.id.label("person_id"), Person.name,
           Person.id_masked, Person.verified_at, Organisation.id.label("org_id"), Organisation.kind,
           Organisation.name.label("org_name"), Membership.role)
    .outerjoin(Person, Person.id == Account.person_id)
    .outerjoin(Membership, Membership.account_id == Account.id)
    .outerjoin(Organisation, Organisation.id == Membership.org_id)
    .where(Account.id == bindparam("account_id"))
    .order_by(Organisation.id, Membership.role)
)


def profile(*, session: Session, account_id: str) -> Profile:
    """The caller's account, masked identity and memberships (GET /me), in one query.

    This query is also the request's authentication read (``token_required``):
    a missing or disabled account is 401, as anywhere else. Plain columns rather
    than ORM entities: this is the most read endpoint of all.
    """
    rows = session.connection().execute(_PROFILE_QUERY, {"account_id": account_id}).all()
    if not rows or rows[0].disabled_at is not None:
        raise Unauthorized("unauthorized")
    first = rows[0]
    grouped: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.org_id is not None:
            grouped.setdefault(row.org_id, {"org_id": row.org_id, "org_kind": row.kind, "org_name": row.org_name,
                                            "roles": []})["roles"].append(row.role)
    verified = first.person_id is not None
    if verified:
        status = "approved"
    else:
        claim = latest_claim(session=session, account_id=first.id)
        status = claim.status if claim is not None else "none"
    return Profile(
        id=first.id,
        phone=first.phone,
        is_admin=first.is_admin,
        verified=verified,
        real_name_status=status,
        name_masked=ids.mask_name(first.name) if verified else None,
        id_number_masked=first.id_masked if verified else None,
        verified_at=first.verified_at if verified else None,
        memberships=list(grouped.values()),
    )
