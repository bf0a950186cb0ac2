"""Test factories: build accounts, residents and organisations through the services."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session
from stdnum.cn import ric, uscc

from backend.actor import Actor
from backend.auth import service as auth_service
from backend.config import Settings
from backend.db import insert_ignore, utcnow
from backend.identity import service as identity_service
from backend.identity.models import Account, Membership, Organisation

PASSWORD = "Test#Passw0rd-2026"
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_phones = itertools.count(1)
_rng = random.Random()


_id_numbers = itertools.count(_rng.randrange(10**6))


def valid_id_number(birth: str | None = None, region: str = "430104") -> str:
    """A checksum-valid citizen ID number. Without a birth date, every call of the test run gets a
    different one (birth date in 1950-2004 and sequence from a counter), so tests that make many
    residents never collide."""
    if birth is None:
        n = next(_id_numbers)
        day = dt.date(1950, 1, 1) + dt.timedelta(days=(n // 1000) % 20_000)
        birth, sequence = f"{day:%Y%m%d}", n % 1000
    else:
        sequence = _rng.randrange(1000)
    base = f"{region}{birth}{sequence:03d}"
    return base + ric.calc_check_digit(base + "0")


def invalid_id_number() -> str:
    good = valid_id_number()
    wrong = next(c for c in "0123456789X" if c != good[-1])
    return good[:-1] + wrong


def valid_credit_code() -> str:
    base = "91430100" + "".join(_rng.choice(_USCC_CHARS) for _ in range(9))
    return base + uscc.calc_check_digit(base)


def new_phone() -> str:
    return f"139{_rng.randrange(10**4):04d}{next(_phones) % 10**4:04d}"


@dataclass
class User:
    account: Account
    token: str
    refresh_token: str
    person_id: str | None = None
    id_number: str | None = None
    name: str | None = None
    phone: str = ""
    password: str = PASSWORD
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.account.id

    @property
    def actor(self) -> Actor:
        return Actor(account_id=self.account.id, person_id=self.person_id, is_admin=self.account.is_admin)


@dataclass
class Factory:
    session: Session
    settings: Settings

    def org(self, kind: str = "village", name: str | None = None, **kwargs: Any) -> Organisation:
        needs_code = kind in {"merchant", "hospital", "enterprise", "department"}
        return identity_service.create_org(
            session=self.session, kind=kind, name=name or f"测试{kind}{_rng.randrange(10**6)}",
            credit_code=kwargs.pop("credit_code", valid_credit_code() if needs_code else None),
            region_code=kwargs.pop("region_code", "430104"), **kwargs,
        )

    def account(self, phone: str | None = None, password: str = PASSWORD, is_admin: bool = False) -> Account:
        account = auth_service.register(session=self.session, settings=self.settings,
                                        phone=phone or new_phone(), password=password)
        if is_admin:
            account.is_admin = True
            self.session.commit()
        return account

    def verify(self, account: Account, name: str = "张三", id_number: str | None = None) -> str:
        number = id_number or valid_id_number()
        identity_service.submit_real_name(
            session=self.session, settings=self.settings.with_overrides(real_name_verifier="checksum"),
            actor=Actor(account_id=account.id), name=name, id_number=number,
        )
        self.session.refresh(account)
        self.session.commit()  # end the read: on SQLite an open transaction would block requests
        assert account.person_id is not None
        return number

    def grant(self, account: Account, org: Organisation, *roles: str) -> None:
        for role in roles:
            insert_ignore(self.session, Membership.__table__,
                          {"account_id": account.id, "org_id": org.id, "role": role, "created_at": utcnow()},
                          ["account_id", "org_id", "role"])
        self.session.commit()

    def user(self, role: str = "resident", org: Organisation | None = None, *, verified: bool | None = None,
             name: str = "张三", id_number: str | None = None, phone: str | None = None) -> User:
        """A logged-in account: ``resident`` (verified), ``account`` (unverified), ``admin`` (platform
        admin when no org is given), or a role in ``org``."""
        platform_admin = role == "admin" and org is None
        account = self.account(phone=phone, is_admin=platform_admin)
        number = None
        if verified or (verified is None and role == "resident"):
            number = self.verify(account, name=name, id_number=id_number)
        if role not in {"resident", "account"} and not platform_admin:
            assert org is not None, f"role {role!r} needs an org"
            self.grant(account, org, role)
        pair = auth_service.issue_tokens(session=self.session, settings=self.settings, account_id=account.id)
        return User(account=account, token=pair.access_token, refresh_token=pair.refresh_token,
                    person_id=account.person_id, id_number=number, name=name if number else None,
                    phone=account.phone, headers={"Authorization": f"Bearer {pair.access_token}"})
