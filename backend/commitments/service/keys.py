"""The platform seal keys: the active signing key, public keys by id, rotation, JWKS."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend.commitments import sealing
from backend.commitments.models import Seal, SealKey
from backend.config import Settings
from backend.db import insert_ignore, utcnow
from backend.errors import Unavailable
from backend.identity import pii

_PII_CONTEXT = "seal_private_key"

# kid -> key. A kid is the thumbprint of its public key, so a cached entry can never go stale.
_private_cache: dict[str, Ed25519PrivateKey] = {}
_public_cache: dict[str, Ed25519PublicKey] = {}


def _env_key(settings: Settings) -> Ed25519PrivateKey | None:
    if not settings.seal_private_key_pem:
        return None
    pem = settings.seal_private_key_pem.replace("\\n", "\n")
    return sealing.private_key_from_pem(pem)


def _private_key(settings: Settings, row: SealKey) -> Ed25519PrivateKey | None:
    cached = _private_cache.get(row.kid)
    if cached is not None:
        return cached
    key: Ed25519PrivateKey | None = None
    if row.private_cipher is not None:
        key = sealing.private_key_from_pem(pii.decrypt(settings.pii_key_bytes, row.private_cipher, _PII_CONTEXT))
    else:
        env = _env_key(settings)
        if env is not None and sealing.key_id(env.public_key()) == row.kid:
            key = env
    if key is not None:
        _private_cache[row.kid] = key
    return key


def _active_row(session: Session) -> SealKey | None:
    return session.scalars(select(SealKey).where(SealKey.active_slot == 1)).one_or_none()


def _store(session: Session, settings: Settings, key: Ed25519PrivateKey, *, source: str) -> None:
    """Insert ``key`` as the active key unless another one became active first."""
    public = key.public_key()
    kid = sealing.key_id(public)
    cipher = None
    if source == "generated":
        cipher = pii.encrypt(settings.pii_key_bytes, sealing.private_key_to_pem(key), _PII_CONTEXT)
    try:
        with session.begin_nested():
            if session.get(SealKey, kid) is not None:
                session.execute(update(SealKey).where(SealKey.kid == kid)
                                .values(active_slot=1, retired_at=None))
            else:
                insert_ignore(session, SealKey.__table__,
                              {"kid": kid, "x": sealing.b64url(sealing.public_key_raw(public)), "source": source,
                               "private_cipher": cipher, "active_slot": 1, "created_at": utcnow()},
                              ["active_slot"])
    except IntegrityError:
        pass  # a concurrent request made its key active first: use that one
    _private_cache[kid] = key


def _retire(session: Session, kid: str) -> None:
    session.execute(update(SealKey).where(SealKey.kid == kid, SealKey.active_slot == 1)
                    .values(active_slot=None, retired_at=utcnow()))


def signing_key(*, session: Session, settings: Settings) -> tuple[str, Ed25519PrivateKey]:
    """The active key (kid, private key), made on first use: SEAL_PRIVATE_KEY when set, else generated
    (development only; stored encrypted under the PII key). Runs in the caller's transaction."""
    for _ in range(3):
        row = _active_row(session)
        if row is not None:
            key = _private_key(settings, row)
            if key is not None and not (row.source == "env" and _env_changed(settings, row.kid)):
                return row.kid, key
            _retire(session, row.kid)  # SEAL_PRIVATE_KEY changed or vanished: its successor takes over
        env = _env_key(settings)
        if env is not None:
            _store(session, settings, env, source="env")
        elif settings.is_production:
            raise Unavailable("seal key")
        else:
            _store(session, settings, sealing.generate_private_key(), source="generated")
    raise Unavailable("seal key")


def _env_changed(settings: Settings, kid: str) -> bool:
    env = _env_key(settings)
    return env is None or sealing.key_id(env.public_key()) != kid


def rotate(*, session: Session, settings: Settings) -> str:
    """Make a new generated key active; earlier keys stay published for verification. Commits."""
    row = _active_row(session)
    if row is not None:
        _retire(session, row.kid)
    key = sealing.generate_private_key()
    _store(session, settings, key, source="generated")
    session.commit()
    return sealing.key_id(key.public_key())


def public_key(*, session: Session, kid: str) -> Ed25519PublicKey | None:
    cached = _public_cache.get(kid)
    if cached is not None:
        return cached
    row = session.get(SealKey, kid)
    if row is None:
        return None
    key = sealing.public_key_from_x(row.x)
    if sealing.key_id(key) != kid:
        return None  # a tampered key row must not vouch for anything
    _public_cache[kid] = key
    return key


def jwks(*, session: Session) -> dict[str, Any]:
    """All public keys, the active one first (RFC 7517 key set)."""
    rows = session.scalars(select(SealKey).order_by(SealKey.active_slot.is_(None), SealKey.created_at.desc()))
    keys = []
    for row in rows:
        key = sealing.public_key_from_x(row.x)
        jwk = sealing.public_jwk(key)
        if jwk["kid"] == row.kid:
            keys.append(jwk)
    return {"keys": keys}


def list_keys(*, session: Session) -> list[SealKey]:
    return list(session.scalars(select(SealKey).order_by(SealKey.created_at)))


def seal_document(*, session: Session, settings: Settings, kind: str, public_id: str,
                  document: dict[str, Any]) -> Seal:
    """Sign ``document`` with the active key and store the seal (caller commits)."""
    kid, key = signing_key(session=session, settings=settings)
    data, digest, signature = sealing.seal(key, document)
    row = Seal(public_id=public_id, kind=kind, content=data.decode("utf-8"), content_hash=digest,
               signature=signature, key_id=kid, sealed_at=utcnow())
    session.add(row)
    return row


def verify_stored(*, session: Session, seal: Seal) -> bool:
    """Re-verify a stored seal from its stored bytes: hash and signature by the key it names."""
    return sealing.verify_seal(public_key(session=session, kid=seal.key_id), seal.content.encode("utf-8"),
                               seal.content_hash, seal.signature)
