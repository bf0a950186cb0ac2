"""The whole schema: imports every model module so Base.metadata is complete (Alembic and tests)."""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from backend.db import Base

MODEL_MODULES = (
    "backend.identity.models",
    "backend.auth.models",
    "backend.idempotency.models",
    "backend.credit.models",
    "backend.commitments.models",
    "points.models",
    "scenarios.models",
)


def metadata() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
