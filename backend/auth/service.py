"""Accounts, passwords, access tokens (JWT) and rotating refresh tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from redis import Redis
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from zxcvbn import zxcvbn

from backend.actor import Actor
from backend.auth.models import RefreshToken
from backend.config import Settings
from backend.db import new_id, rowcount, utcnow
from backend.errors import Conflict, Invalid, NotFound, Unauthorized, register_messages
from backend.identity import ids
from backend.identity.models import Account, Membership, Organisation
from backend.qr import service as qr_service

register_messages(
    {
        "invalid_phone": ("手机号无效", "Invalid phone number", "请输入 11 位中国大陆手机号。", "Use an 11-digit mainland China mobile number."),
        "weak_password": ("密码强度不足", "Weak password", "密码至少 {min_length} 位，且不能是常见或易猜的密码。", "Use at least {min_length} characters that are not common or easy to guess."),
        "phone_taken": ("手机号已注册", "Phone already registered", "该手机号已经注册。", "An account with this phone number exists."),
        "invalid_credentials": ("手机号或密码错误", "Wrong phone or password", "手机号或密码错误。", "The phone number or password is wrong."),
        "invalid_refresh_token": ("刷新令牌无效", "Invalid refresh token", "请重新登录。", "Log in again."),
        "refresh_token_expired": ("刷新令牌已过期", "Refresh token expired", "请重新登录。", "Log in again."),
        "refresh_token_reused": ("刷新令牌被重复使用", "Refresh token reused", "为保护账号安全，该登录已全部失效，请重新登录。", "For your safety every session of this login was revoked; log in again."),
        "refresh_token_revoked": ("登录已退出", "Refresh token revoked", "请重新登录。", "Log in again."),
        "account_disabled": ("账号已停用", "Account disabled", "该账号已停用。", "This account is disabled."),
        "account_not_found": ("账号不存在", "Account not found", "没有使用该手机号的账号。", "No account has this phone number."),
    }
)

_ALGORITHM = "HS256"

# Every authenticated request runs one of these: plain columns rather than an ORM entity, and
# statements built once rather than per request. A request addressed to an organisation loads
# the caller's roles in it (and its kind; NULL when it does not exist) in the same round trip.
_ACTOR_COLUMNS = (Account.id, Account.person_id, Account.is_admin, Account.disabled_at)
_ACTOR_QUERY = select(*_ACTOR_COLUMNS).where(Account.id == bindparam("account_id"))
_ACTOR_IN_ORG_QUERY = (
    select(*_ACTOR_COLUMNS, Organisation.kind, Membership.role)
    .select_from(Account)
    .outerjoin(Organisation, Organisation.id == bindparam("org_id"))
    .outerjoin(Membership, (Membership.org_id == Organisation.id) & (Membership.account_id == Account.id))
    .where(Account.id == bindparam("account_id"))
)


@dataclass
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    token_type: str = "Bearer"


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)


def hash_password(settings: Settings, password: str) -> str:
    return _hasher(settings.argon2_time_cost, settings.argon2_memory_cost_kib).hash(password)


def _verify_password(settings: Settings, password_hash: str, password: str) -> bool:
    try:
        return _hasher(settings.argon2_time_cost, settings.argon2_memory_cost_kib).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=4)
def _dummy_hash(time_cost: int, memory_cost: int) -> str:
    return _hasher(time_cost, memory_cost).hash(secrets.token_hex(16))


def check_password_strength(settings: Settings, password: str, phone: str = "") -> None:
    """Refuse short, common or guessable passwords (zxcvbn), and ones built from the phone number."""
    too_weak = (
        len(password) < settings.password_min_length
        or len(password) > 128
        or _holds_phone_digits(password, phone)
        or zxcvbn(password[:64], user_inputs=[phone] if phone else [])["score"] < settings.password_min_strength
    )
    if too_weak:
        raise Invalid("weak_password", min_length=settings.password_min_length)


_PHONE_RUN = 7  # digits in a row taken from the phone: its last 8, or a run inside it, guessed first


def _holds_phone_digits(password: str, phone: str) -> bool:
    """Whether the password contains any run of ``_PHONE_RUN`` consecutive digits of the phone number
    (zxcvbn scores ``a13500000010!`` or ``00000020Abcd`` as strong, though an attacker who knows the
    number tries them first)."""
    return any(phone[i:i + _PHONE_RUN] in password for i in range(len(phone) - _PHONE_RUN + 1))


def register(*, session: Session, settings: Settings, phone: str, password: str) -> Account:
    """Open an account; the phone number is the login."""
    if not ids.is_mobile_number(phone):
        raise Invalid("invalid_phone")
    check_password_strength(settings, password, phone)
    if session.scalar(select(Account.id).where(Account.phone == phone)):
        raise Conflict("phone_taken")
    account = Account(phone=phone, password_hash=hash_password(settings, password))
    session.add(account)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent registration of the same phone won
        raise Conflict("phone_taken") from exc
    session.commit()
    return account


def authenticate(*, session: Session, settings: Settings, phone: str, password: str) -> Account:
    """The account for these credentials, or 401; the same work is done for unknown phones."""
    account = session.scalars(select(Account).where(Account.phone == phone)).one_or_none()
    if account is None:
        _verify_password(settings, _dummy_hash(settings.argon2_time_cost, settings.argon2_memory_cost_kib), password)
        raise Unauthorized("invalid_credentials")
    if not _verify_password(settings, account.password_hash, password):
        raise Unauthorized("invalid_credentials")
    if account.disabled_at is not None:
        raise Unauthorized("account_disabled")
    return account


def login(*, session: Session, settings: Settings, phone: str, password: str) -> TokenPair:
    """Check the password and start a new refresh-token family."""
    account = authenticate(session=session, settings=settings, phone=phone, password=password)
    pair = _issue(session, settings, account.id, family_id=new_id("fam"))
    session.commit()
    return pair


def issue_tokens(*, session: Session, settings: Settings, account_id: str) -> TokenPair:
    """A fresh token pair for an account (used by login, demo tooling and tests)."""
    pair = _issue(session, settings, account_id, family_id=new_id("fam"))
    session.commit()
    return pair


def _issue(session: Session, settings: Settings, account_id: str, *, family_id: str) -> TokenPair:
    now = utcnow()
    refresh = secrets.token_urlsafe(32)
    session.add(RefreshToken(
        family_id=family_id, account_id=account_id, token_hash=_digest(refresh), created_at=now,
        expires_at=now + dt.timedelta(seconds=settings.refresh_token_ttl_s),
    ))
    session.flush()
    return TokenPair(access_token=make_access_token(settings, account_id, now),
                     refresh_token=refresh, expires_in=settings.access_token_ttl_s)


def make_access_token(settings: Settings, account_id: str, now: dt.datetime | None = None) -> str:
    now = now or utcnow()
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": account_id,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + settings.access_token_ttl_s,
        "typ": "access",
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=_ALGORITHM)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def refresh(*, session: Session, settings: Settings, refresh_token: str) -> TokenPair:
    """Rotate: the presented token dies, a new one of the same family is issued.

    Presenting a token that was already used means it leaked (or the client
    raced itself): the whole family is revoked, the newest token included.
    """
    row = session.scalars(select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token))).one_or_none()
    if row is None:
        raise Unauthorized("invalid_refresh_token")
    if row.revoked_at is not None and row.used_at is None:
        raise Unauthorized("refresh_token_revoked")
    if row.used_at is not None:
        _revoke_family(session, row.family_id)
        session.commit()
        raise Unauthorized("refresh_token_reused")
    if row.expires_at <= utcnow():
        raise Unauthorized("refresh_token_expired")
    claimed = rowcount(session,
        update(RefreshToken)
        .where(RefreshToken.id == row.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=utcnow())
    )
    if not claimed:  # used concurrently by someone else
        _revoke_family(session, row.family_id)
        session.commit()
        raise Unauthorized("refresh_token_reused")
    account = session.get(Account, row.account_id)
    if account is None or account.disabled_at is not None:
        session.rollback()
        raise Unauthorized("account_disabled")
    pair = _issue(session, settings, row.account_id, family_id=row.family_id)
    session.commit()
    return pair


def _revoke_family(session: Session, family_id: str) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def logout(*, session: Session, actor: Actor, refresh_token: str) -> None:
    """Revoke the refresh family this token belongs to (only the caller's own)."""
    row = session.scalars(select(RefreshToken).where(RefreshToken.token_hash == _digest(refresh_token))).one_or_none()
    if row is not None and row.account_id == actor.account_id:
        _revoke_family(session, row.family_id)
        session.commit()


def verify_access_token(*, settings: Settings, token: str) -> str:
    """Check an access token's signature (algorithm pinned) and claims (iss, aud, exp); its account id.

    A token already verified by this process is not verified again: the signature and the
    claims of the same bytes under the same secret cannot have changed, only the clock has, so
    a cache hit re-checks the expiry alone.
    """
    try:
        account_id, expires = _verified_access_token(token, settings.jwt_secret, settings.jwt_audience,
                                                     settings.jwt_issuer)
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("token_expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("unauthorized") from exc
    if expires <= dt.datetime.now(dt.UTC).timestamp():
        raise Unauthorized("token_expired")
    return account_id


@lru_cache(maxsize=4096)  # ~one token per active client; a refused token raises and is never cached
def _verified_access_token(token: str, secret: str, audience: str, issuer: str) -> tuple[str, int]:
    claims = jwt.decode(token, secret, algorithms=[_ALGORITHM], audience=audience, issuer=issuer,
                        options={"require": ["exp", "iss", "aud", "sub", "iat"]})
    if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
        raise jwt.InvalidTokenError("not an access token")
    return claims["sub"], claims["exp"]


def actor_from_access_token(*, session: Session, settings: Settings, token: str, ip: str | None = None,
                            user_agent: str | None = None, org_id: str | None = None) -> Actor:
    """Verify an access token and load its account, which must exist and not be disabled.

    With ``org_id`` (the organisation the request addresses) the same statement
    loads the organisation's kind and the caller's roles in it onto the actor.
    """
    account_id = verify_access_token(settings=settings, token=token)
    conn = session.connection()
    rows: Sequence[Any] = (
        conn.execute(_ACTOR_QUERY, {"account_id": account_id}).all() if org_id is None
        else conn.execute(_ACTOR_IN_ORG_QUERY, {"account_id": account_id, "org_id": org_id}).all())
    if not rows or rows[0].disabled_at is not None:
        raise Unauthorized("unauthorized")
    first = rows[0]
    actor = Actor(account_id=first.id, person_id=first.person_id, is_admin=first.is_admin, ip=ip,
                  user_agent=user_agent)
    if org_id is not None:
        actor.org_kinds[org_id] = first.kind
        actor.roles[org_id] = frozenset(row.role for row in rows if row.role is not None)
    return actor


def reauthenticate(*, session: Session, settings: Settings, actor: Actor, password: str) -> None:
    """Re-authentication for sensitive actions (signing): 401 unless the password is right."""
    account = session.get(Account, actor.account_id)
    if account is None or not _verify_password(settings, account.password_hash, password):
        raise Unauthorized("invalid_credentials")


def set_disabled(*, session: Session, redis: Redis, phone: str, disabled: bool) -> Account:
    """Disable an account (every request with its tokens is 401 from now on, its refresh tokens are
    revoked, and the resident codes it showed stop working: a merchant or a hospital can no longer
    redeem or open a visit with them) or enable it again (it logs in afresh)."""
    account = session.scalars(select(Account).where(Account.phone == phone)).one_or_none()
    if account is None:
        raise NotFound("account_not_found")
    account.disabled_at = utcnow() if disabled else None
    if disabled:
        session.execute(update(RefreshToken).where(RefreshToken.account_id == account.id,
                                                   RefreshToken.revoked_at.is_(None)).values(revoked_at=utcnow()))
    session.commit()
    if disabled and account.person_id:
        # After the commit, so a code request from now on is 401; one already past its token check
        # at this instant could still add a code, which lives at most QR_TTL_S.
        qr_service.revoke_all(redis=redis, person_id=account.person_id)
    return account


def create_admin(*, session: Session, settings: Settings, phone: str, password: str) -> Account:
    """Create a platform admin, or promote the existing account with this phone (password unchanged)."""
    existing = session.scalars(select(Account).where(Account.phone == phone)).one_or_none()
    if existing is not None:
        existing.is_admin = True
        session.commit()
        return existing
    account = register(session=session, settings=settings, phone=phone, password=password)
    account.is_admin = True
    session.commit()
    return account
