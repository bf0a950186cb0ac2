"""Demo data for `make run`: one login per role of DOMAIN.md, idempotent.

Every demo account shares one password. ID numbers and credit codes are made
with valid check characters, but belong to nobody.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from redis import Redis
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from backend.auth import service as auth_service
from backend.config import Settings
from backend.db import insert_ignore, utcnow
from backend.identity import service as identity_service
from backend.identity.models import Account, Membership, Organisation

DEMO_PASSWORD = "Credit@Demo2026"


def id_number(base17: str) -> str:
    return base17 + ric.calc_check_digit(base17 + "0")  # stdnum expects a placeholder check digit


def credit_code(base17: str) -> str:
    return base17 + uscc.calc_check_digit(base17)


# key -> (kind, name, credit code or None, region code)
ORGS = {
    "village": ("village", "岳麓区湘江村", credit_code("54430104MF0000101"), "430104001001"),
    "community": ("community", "岳麓区桃花社区", credit_code("55430104MF0000202"), "430104002001"),
    "merchant": ("merchant", "星城共享单车服务点", credit_code("91430100MA4L00003"), "430100"),
    "hospital": ("hospital", "长沙市第一医院（演示）", credit_code("12430100MB0000004"), "430100"),
    "department": ("department", "长沙市发展和改革委员会（演示）", credit_code("11430100MB0000005"), "430100"),
    "enterprise": ("enterprise", "湖南诚信科技有限公司（演示）", credit_code("91430100MA4L00006"), "430104"),
}

# phone -> (label, is_admin, [(org key, role)], resident (name, id base) or None)
ACCOUNTS: dict[str, tuple[str, bool, list[tuple[str, str]], tuple[str, str] | None]] = {
    "13800000000": ("platform admin", True, [], None),
    "13800000001": ("resident 张三 (verified)", False, [], ("张三", "43010419900307001")),
    "13800000002": ("resident 李四 (verified)", False, [], ("李四", "43010419851122002")),
    "13800000003": ("resident 王五 (verified)", False, [], ("王五", "43010419780815003")),
    "13800000009": ("new account, not verified", False, [], None),
    "13800000010": ("village admin", False, [("village", "admin")], None),
    "13800000011": ("village clerk", False, [("village", "clerk")], None),
    "13800000012": ("village approver", False, [("village", "approver")], None),
    "13800000013": ("village cashier", False, [("village", "cashier")], None),
    "13800000020": ("community admin", False, [("community", "admin")], None),
    "13800000021": ("community clerk", False, [("community", "clerk")], None),
    "13800000022": ("community approver", False, [("community", "approver")], None),
    "13800000023": ("community cashier", False, [("community", "cashier")], None),
    "13800000030": ("merchant admin", False, [("merchant", "admin")], None),
    "13800000031": ("merchant cashier", False, [("merchant", "cashier")], None),
    "13800000040": ("hospital admin", False, [("hospital", "admin")], None),
    "13800000041": ("hospital clinician", False, [("hospital", "clinician")], None),
    "13800000042": ("hospital billing", False, [("hospital", "billing")], None),
    "13800000050": ("department admin", False, [("department", "admin")], None),
    "13800000051": ("department officer", False, [("department", "officer")], None),
    "13800000052": ("department officer (a second: 双随机 sends two)", False, [("department", "officer")], None),
    "13800000060": ("enterprise admin (legal representative)", False, [("enterprise", "admin")], None),
    "13800000061": ("enterprise signer", False, [("enterprise", "signer")], None),
}


@dataclass
class DemoWorld:
    """What the core seed made, for the domain seeders to build on."""

    orgs: dict[str, Organisation] = field(default_factory=dict)
    accounts: dict[str, Account] = field(default_factory=dict)  # by phone
    residents: dict[str, str] = field(default_factory=dict)  # phone -> person id
    lines: list[str] = field(default_factory=list)


def seed(*, session: Session, settings: Settings, redis: Redis | None = None) -> DemoWorld:
    """Create the demo organisations, accounts, roles and verified residents if missing."""
    world = DemoWorld()
    for key, (kind, name, code, region) in ORGS.items():
        org = session.scalars(select(Organisation).where(Organisation.credit_code == code)).one_or_none()
        if org is None:
            org = identity_service.create_org(session=session, kind=kind, name=name, credit_code=code,
                                              region_code=region)
        world.orgs[key] = org
    checksum = settings.with_overrides(real_name_verifier="checksum")
    for phone, (_label, is_admin, roles, resident) in ACCOUNTS.items():
        account = session.scalars(select(Account).where(Account.phone == phone)).one_or_none()
        if account is None:
            account = auth_service.register(session=session, settings=settings, phone=phone, password=DEMO_PASSWORD)
        if is_admin and not account.is_admin:
            account.is_admin = True
        for org_key, role in roles:
            insert_ignore(session, Membership.__table__,
                          {"account_id": account.id, "org_id": world.orgs[org_key].id, "role": role,
                           "created_at": utcnow()}, ["account_id", "org_id", "role"])
        session.commit()
        if resident is not None and account.person_id is None:
            from backend.actor import Actor

            name, base = resident
            identity_service.submit_real_name(session=session, settings=checksum, actor=Actor(account_id=account.id),
                                              name=name, id_number=id_number(base))
            session.refresh(account)
        if account.person_id:
            world.residents[phone] = account.person_id
        world.accounts[phone] = account
    session.commit()
    return world


def format_logins(world: DemoWorld) -> str:
    lines = [f"Demo logins (password for all: {DEMO_PASSWORD}):"]
    for phone, (label, *_rest) in ACCOUNTS.items():
        lines.append(f"  {phone}  {label}")
    lines.append("Organisations:")
    for key, org in world.orgs.items():
        lines.append(f"  {key:<11} {org.id}  {org.name}")
    lines.extend(world.lines)
    return "\n".join(lines)
