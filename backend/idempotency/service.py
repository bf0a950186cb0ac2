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
from dataclasses import dataclass
from typing import cast

from redis import Redis
from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
_CLAIM = {  # INSERT ... ON CONFLICT (scope, key) DO NOTHING, one per dialect, built once
    name: dialect_insert(_RECORDS).values(
        id=bindparam("id"), scope=bindparam("scope"), key=bindparam("key"), fingerprint=bindparam("fingerprint"),
        created_at=bindparam("now")).on_conflict_do_nothing(index_elements=["scope", "key"])
    .execution_options(preserve_rowcount=True)  # psycopg reports -1 for an INSERT otherwise
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}
_DROP = delete(_RECORDS).where(_RECORDS.c.id == bindparam("record_id"))
_FINISH = update(_RECORDS).where(_RECORDS.c.id == bindparam("record_id")).values(
    status=bindparam("new_status"), body=bindparam("new_body"), content_type=bindparam("new_content_type"))


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
    if record.status is None:
        raise Conflict("request_in_progress")


def acquire_lock(redis: Redis, scope: str, key: str, ttl_s: int) -> str | None:
    """Take the in-flight lock; returns the lock name or None when another request holds it."""
    name = f"idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"
    return name if redis.set(name, "1", nx=True, ex=ttl_s) else None


def release_lock(redis: Redis, name: str) -> None:
    redis.delete(name)


def claim(*, session: Session, scope: str, key: str, fp: str, ttl_s: int) -> tuple[str | None, StoredRecord | None]:
    """Start the caller's transaction with the in-flight record of this key (it commits with the use case).

    Returns ``(record id, None)`` when the key is new or its old record was past
    its TTL (the old one gives way), and ``(None, live record)`` when a live
    record already answers this key. The common case, a new key, is one statement.
    """
    conn = session.connection()
    record_id = new_id("idk")
    values = {"id": record_id, "scope": scope, "key": key, "fingerprint": fp, "now": utcnow()}
    claim_stmt = _CLAIM[conn.dialect.name]
    if conn.execute(claim_stmt, values).rowcount:
        return record_id, None
    existing = find(session=session, scope=scope, key=key)
    if existing is not None and is_live(existing, ttl_s):
        return None, existing
    if existing is not None:
        conn.execute(_DROP, {"record_id": existing.id})
    conn.execute(claim_stmt, values)
    return record_id, None


def finish(*, session: Session, record_id: str, status: int, body: str, content_type: str) -> None:
    """Store the response on the record and commit."""
    session.connection().execute(_FINISH, {"record_id": record_id, "new_status": status, "new_body": body,
                                           "new_content_type": content_type})
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
