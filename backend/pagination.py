"""Cursor pagination over time-ordered ids: ``{items, next_cursor}`` (no Flask here; services use it)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from backend.errors import Invalid


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise Invalid("invalid_cursor") from exc
    if not raw.startswith("v1:") or len(raw) > 100:
        raise Invalid("invalid_cursor")
    return raw[3:]


def paginate(session: Session, stmt: Select[Any], id_column: Any, *, limit: int, cursor: str | None,
             newest_first: bool = True) -> Page:
    """Keyset pagination over time-ordered ids (ULIDs sort by creation)."""
    if cursor:
        last = decode_cursor(cursor)
        stmt = stmt.where(id_column < last if newest_first else id_column > last)
    stmt = stmt.order_by(id_column.desc() if newest_first else id_column.asc()).limit(limit + 1)
    rows = list(session.scalars(stmt))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(rows[-1].id) if more and rows else None)
