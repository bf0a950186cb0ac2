"""Idempotency-Key: a stored first response plus a Redis marker per key.

The response is stored in the same transaction as the points or money it
answers (the use case's commits are held until it is added): a crash can
never let a retry post twice, nor leave a write without its response.

The Redis marker ``idem:<scope>:<sha256(key)>`` says where a key stands: absent
(never seen, or forgotten), ``w`` (a request holds it: in flight) or ``a``
(answered: its response is stored). Taking it is one ``SET NX GET``, so a new
key costs no database read; only an answered key is looked up, to be replayed.
The marker is a shortcut, not the guarantee: the unique (scope, key) of the
stored response is. If Redis forgot an answered key, the repeated request runs,
finds the live answer when it stores its own, rolls its writes back and
replays the first response.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, cast

from redis import Redis
from sqlalchemy import Table, bindparam, delete, select
from sqlalchemy.orm import Session

from backend.db import new_id, per_dialect_insert, rowcount, utcnow
from backend.errors import Conflict, Invalid
from backend.idempotency.models import IdempotencyRecord

KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}\Z")
# Errors that are not the request's answer but a momentary state: never replayed.
TRANSIENT_CODES = frozenset({"request_in_progress", "rate_limited", "dependency_unavailable", "unauthorized",
                             "token_expired", "idempotency_key_reused", "conflict"})


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Hash of the request; JSON bodies are canonicalised so key order and spacing do not matter."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode()
    except (ValueError, RecursionError):  # not JSON (the input checks refuse it before a view runs)
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


def check_key(key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise Invalid("invalid_idempotency_key")


_RECORDS = cast(Table, IdempotencyRecord.__table__)
_FIND = select(_RECORDS.c.id, _RECORDS.c.fingerprint, _RECORDS.c.status, _RECORDS.c.body, _RECORDS.c.content_type,
               _RECORDS.c.created_at).where(_RECORDS.c.scope == bindparam("scope"), _RECORDS.c.key == bindparam("key"))


def _store_statement(insert: Any) -> Any:
    """INSERT the response; a record of the same key gives way only if it is past its TTL."""
    stmt = insert(_RECORDS)
    return stmt.on_conflict_do_update(
        index_elements=[_RECORDS.c.scope, _RECORDS.c.key],
        set_={name: stmt.excluded[name] for name in ("id", "fingerprint", "status", "body", "content_type",
                                                     "created_at")},
        where=_RECORDS.c.created_at < bindparam("live_since"),
    ).execution_options(preserve_rowcount=True)


_STORE = per_dialect_insert(_store_statement)

IN_FLIGHT, ANSWERED = "w", "a"


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


def marker_name(scope: str, key: str) -> str:
    return f"idem:{scope}:{hashlib.sha256(key.encode()).hexdigest()}"


def claim(redis: Redis, name: str, lock_ttl_s: int) -> str | None:
    """Mark the key in flight unless it is marked already; returns the marker found
    (``IN_FLIGHT``, ``ANSWERED``) or None when this request now holds the key."""
    found = redis.set(name, IN_FLIGHT, nx=True, ex=lock_ttl_s, get=True)
    if found is None:
        return None
    return found.decode() if isinstance(found, bytes) else str(found)


def take_over(redis: Redis, name: str, lock_ttl_s: int) -> None:
    """Hold a key whose marker said answered but whose answer is gone (past its TTL)."""
    redis.set(name, IN_FLIGHT, ex=lock_ttl_s)


def release(redis: Redis, name: str, *, answered: bool, ttl_s: int) -> None:
    """Mark the key answered for as long as its response lives, or forget it (nothing was stored)."""
    if answered:
        redis.set(name, ANSWERED, ex=ttl_s)
    else:
        redis.delete(name)


def store(*, session: Session, scope: str, key: str, fp: str, status: int, body: str, content_type: str,
          ttl_s: int) -> bool:
    """Add the response to the caller's transaction (which commits it with the write it answers).

    Returns False, storing nothing, when a live response of this key is there already (two
    requests with one key both got this far, or Redis forgot the key): the caller rolls its
    writes back and replays that one. A record past its TTL gives way.
    """
    now = utcnow()
    conn = session.connection()
    return bool(conn.execute(_STORE[conn.dialect.name], {
        "id": new_id("idk"), "scope": scope, "key": key, "fingerprint": fp, "status": status, "body": body,
        "content_type": content_type, "created_at": now, "live_since": now - dt.timedelta(seconds=ttl_s),
    }).rowcount)


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
