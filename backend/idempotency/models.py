from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from backend.db import Base, IdColumn, UTCDateTime, utcnow


class IdempotencyRecord(Base):
    """The first response to a request sent with an Idempotency-Key, replayed for 24 h."""

    __tablename__ = "idempotency_records"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[str] = IdColumn("idk")
    scope: Mapped[str] = mapped_column(String(64))  # the calling account: keys are per client
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of method, path and canonical body
    status: Mapped[int | None] = mapped_column(Integer)  # null while the first request is in flight
    body: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
