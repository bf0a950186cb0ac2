"""Idempotency-Key: a stored first response plus a Redis in-flight lock.

The record is added to the request's own session before the use case runs,
so it commits in the same transaction as the points or money it guards: a
crash after that commit can never let a retry post twice. The response is
written onto the record right after.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re

from redis import Redis
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from backend.db import rowcount, utcnow
from backend.errors import Conflict, Invalid
from backend.idempotency.models import IdempotencyRecord

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")
# Errors that are not the request's answer but a momentary state: never replayed.
TRANSIENT_CODES = frozenset({"request_in_progress", "rate_limited", "dependency_unavailable", "unauthorized",
                             "token_expired", "idempotency_key_reused", "conflict"})


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Hash of the request; JSON bodies are canonicalised so key order and spacing do not matter."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def check_key(key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise Invalid("invalid_idempotency_key")


def find(*, session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    """The record for this key, live or past its TTL."""
    return session.scalars(
        select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    ).one_or_none()


def is_live(record: IdempotencyRecord, ttl_s: int) -> bool:
    return record.created_at >= utcnow() - dt.timedelta(seconds=ttl_s)


def check_replay(record: IdempotencyRecord, fp: str) -> None:
    """Raise unless the stored record can answer this request."""
    if record.fingerprint != fp:
        raise Invalid("idempotency_key_reused")
    if record.status is None:
        raise Conflict("request_in_progress")


def acquire_lock(redis: Redis, scope: str, key: str, ttl_s: int) -> str | None:
    """Take the in-flight lock; returns the lock name or None when another request holds it."""
    name = f"idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
    return name if redis.set(name, "1", nx=True, ex=ttl_s) else None


def release_lock(redis: Redis, name: str) -> None:
    redis.delete(name)


def begin(*, session: Session, scope: str, key: str, fp: str,
          replacing: IdempotencyRecord | None = None) -> IdempotencyRecord:
    """Add the in-flight record to the caller's session (commits with the use case).

    ``replacing`` is a record of the same key past its TTL: it gives way to the new one.
    """
    if replacing is not None:
        session.delete(replacing)
        session.flush()
    record = IdempotencyRecord(scope=scope, key=key, fingerprint=fp)
    session.add(record)
    return record


def finish(*, session: Session, record: IdempotencyRecord, status: int, body: str, content_type: str) -> None:
    """Store the response on the record and commit."""
    record.status = status
    record.body = body
    record.content_type = content_type
    session.merge(record)
    session.commit()


def should_store(status: int, code: str | None) -> bool:
    """2xx answers and definite 4xx answers are replayed; momentary failures are not."""
    if 200 <= status < 300:
        return True
    return status in (404, 409, 410, 422, 403) and code not in TRANSIENT_CODES


def purge_expired(*, session: Session, ttl_s: int) -> int:
    """Delete records past their TTL; returns how many."""
    deleted = rowcount(session,
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - dt.timedelta(seconds=ttl_s))
    )
    session.commit()
    return deleted
