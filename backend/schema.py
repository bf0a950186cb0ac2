"""The whole schema: imports every model module so Base.metadata is complete (Alembic and tests)."""

from __future__ import annotations

import importlib
from typing import Any

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


def alembic_config(database_url: str) -> Any:
    """Alembic's config for the project's migrations, pointed at ``database_url`` (tests, benchmarks)."""
    from alembic.config import Config

    from backend.config import PROJECT_ROOT

    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def metadata() -> MetaData:
    for module in MODEL_MODULES:
        importlib.import_module(module)
    return Base.metadata
