"""The credit platform core. ``flask --app backend`` finds ``create_app`` here."""

from typing import Any


def create_app(config: Any = None) -> Any:
    from backend.app import create_app as _create_app

    return _create_app(config)
