"""Demo data of points (idempotent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from backend.config import Settings


def seed(*, session: Session, settings: Settings, world: Any) -> list[str]:
    """Add this domain's demo data to the demo world; returns lines to print."""
    return []
