"""Credit test helpers: a department with an officer, record items for batches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest

from tests.factories import Factory


@dataclass
class Dept:
    """A department and one of its officers (ids copied: reading them never touches the session)."""

    id: str
    officer: Any

    @property
    def headers(self) -> dict[str, str]:
        return self.officer.headers  # type: ignore[no-any-return]

    def batch_url(self) -> str:
        return f"/api/v1/departments/{self.id}/records:batch"


@pytest.fixture
def dept(factory: Factory) -> Dept:
    org = factory.org("department")
    return Dept(id=org.id, officer=factory.user("officer", org))


def days_ago(days: int) -> str:
    """An ISO time ``days`` before now (tests stay valid whatever today is)."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat()


def item(ref: str, *, id_number: str | None = None, credit_code: str | None = None,
         category: str = "administrative_penalty", severity: str | None = "general", polarity: str | None = None,
         occurred_at: str | None = None, decision: str = "罚款 200 元") -> dict[str, Any]:
    """One batch item as a department's system would send it."""
    body: dict[str, Any] = {"category": category, "source_ref": ref, "occurred_at": occurred_at or days_ago(120),
                            "decision": decision}
    if id_number is not None:
        body["id_number"] = id_number
    if credit_code is not None:
        body["credit_code"] = credit_code
    if severity is not None:
        body["severity"] = severity
    if polarity is not None:
        body["polarity"] = polarity
    return body
