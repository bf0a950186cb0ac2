"""Forcing an interleaving on PostgreSQL: wait until a request blocks on a row lock a test holds."""

from __future__ import annotations

import time

from sqlalchemy import text
from sqlalchemy.orm import Session


def wait_until_blocked_by(session: Session, pid: int, what: str, deadline_s: float = 15.0) -> None:
    """Until some backend waits for a lock that the backend ``pid`` holds; ``what`` names the
    waiter for the failure message."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        waiting = session.execute(text(
            "SELECT count(*) FROM pg_stat_activity WHERE :pid = ANY(pg_blocking_pids(pid))"), {"pid": pid}).scalar()
        session.commit()
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError(f"{what} never waited for the row lock")
