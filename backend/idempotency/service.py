"""Idempotency-Key: a stored first response plus a Redis in-flight lock.

The response is stored in the same transaction as the points or money it
answers (the use case's commits are held until it is added): a crash can
never let a retry post twice, nor leave a write without its response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import cast

from redis import Redis
from sqlalchemy import Table, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from backend.db import new_id, rowcount, utcnow
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


_RECORDS = cast(Table, IdempotencyRecord.__table__)
_FIND = select(_RECORDS.c.id, _RECORDS.c.fingerprint, _RECORDS.c.status, _RECORDS.c.body, _RECORDS.c.content_type,
               _RECORDS.c.created_at).where(_RECORDS.c.scope == bindparam("scope"), _RECORDS.c.key == bindparam("key"))
_STORE = insert(_RECORDS)
_DROP = delete(_RECORDS).where(_RECORDS.c.id == bindparam("record_id"))


@dataclass(frozen=True)
class StoredRecord:
    id: str
    fingerprint: str
    status: int | None
    body: str | None
    content_type: str | None
    created_at: dt.datetime


def find(*, session: Session, scope: str, key: str) -> StoredRecord | None:
    """The record for this key, live or past its TTL."""
    row = session.connection().execute(_FIND, {"scope": scope, "key": key}).one_or_none()
    return StoredRecord(*row) if row is not None else None


def is_live(record: StoredRecord, ttl_s: int) -> bool:
    return record.created_at >= utcnow() - dt.timedelta(seconds=ttl_s)


def check_replay(record: StoredRecord, fp: str) -> None:
    """Raise unless the stored record can answer this request."""
    if record.fingerprint != fp:
        raise Invalid("idempotency_key_reused")
    if record.status is None:  # written in flight by versions before the response joined the write
        raise Conflict("request_in_progress")


def acquire_lock(redis: Redis, scope: str, key: str, ttl_s: int) -> str | None:
    """Take the in-flight lock; returns the lock name or None when another request holds it."""
    name = f"idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
    return name if redis.set(name, "1", nx=True, ex=ttl_s) else None


def release_lock(redis: Redis, name: str) -> None:
    redis.delete(name)


def store(*, session: Session, scope: str, key: str, fp: str, status: int, body: str, content_type: str,
          replacing: StoredRecord | None = None) -> None:
    """Add the response to the caller's transaction (which commits it with the write it answers).

    ``replacing`` is this key's record past its TTL: it gives way. Two requests with one key
    that both got this far (the in-flight lock expired) collide on the unique (scope, key):
    the second fails with its writes rolled back.
    """
    conn = session.connection()
    if replacing is not None:
        conn.execute(_DROP, {"record_id": replacing.id})
    conn.execute(_STORE, {"id": new_id("idk"), "scope": scope, "key": key, "fingerprint": fp, "status": status,
                          "body": body, "content_type": content_type, "created_at": utcnow()})


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
