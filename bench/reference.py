"""Reference apps for the foundation benchmark, outside the product.

- ``bare_app()``: a bare Flask JSON endpoint, ``GET /bare`` -> ``{"status": "ok"}``:
  the framework + gunicorn ceiling.
- ``reference_app()``: ``GET /reference`` verifies the product's access JWT (HS256
  pinned, same ``iss``/``aud``/secret from the same settings, ``exp``/``iat``/``sub``
  required) and reads the account row by primary key with SQLAlchemy 2, one session
  per request, on an engine built exactly as the product builds it
  (``backend.db.make_engine``): the framework + database ceiling.

- ``raw_transaction_app(name, transaction)``: ``POST /raw`` runs one raw SQL transaction
  (``transaction(conn, body) -> (json, status)``) on an engine built like the product's: the
  "raw transaction of the same shape" the points and 信易+ benchmarks compare against.

Serve them as the product is served, e.g.
``gunicorn -c backend/gunicorn.conf.py --workers 2 'bench.reference:reference_app()'``
(``bench.harness.gunicorn`` does that). Both answer ``/healthz`` for the harness.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import jwt
from flask import Flask, abort, request

if TYPE_CHECKING:
    from sqlalchemy import Connection

ALGORITHM = "HS256"


def bare_app() -> Flask:
    app = Flask("bench_bare")

    @app.get("/bare")
    def bare() -> Any:
        return {"status": "ok"}

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app


def reference_app() -> Flask:
    from backend.config import load_settings
    from backend.db import make_engine, make_session_factory
    from backend.identity.models import Account

    settings = load_settings()  # DATABASE_URL, JWT_SECRET... from the same environment as the product
    engine = make_engine(settings)
    session_factory = make_session_factory(engine)
    app = Flask("bench_reference")
    app.extensions["engine"] = engine

    @app.get("/reference")
    def reference() -> Any:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            abort(401)
        try:
            claims = jwt.decode(
                token.strip(), settings.jwt_secret, algorithms=[ALGORITHM], audience=settings.jwt_audience,
                issuer=settings.jwt_issuer, options={"require": ["exp", "iss", "aud", "sub", "iat"]},
            )
        except jwt.PyJWTError:
            abort(401)
        if claims.get("typ") != "access" or not isinstance(claims.get("sub"), str):
            abort(401)
        with session_factory() as session:
            account = session.get(Account, claims["sub"])
            if account is None or account.disabled_at is not None:
                abort(401)
            return {"id": account.id, "phone": account.phone, "is_admin": account.is_admin,
                    "verified": account.person_id is not None}

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app


def raw_transaction_app(name: str, transaction: Callable[[Connection, dict[str, Any]], tuple[dict[str, Any], int]],
                        ) -> Flask:
    """``POST /raw``: ``transaction`` in one database transaction (``engine.begin()``), nothing else."""
    from flask import request

    from backend.config import load_settings
    from backend.db import make_engine

    engine = make_engine(load_settings())
    app = Flask(name)

    @app.post("/raw")
    def raw() -> Any:
        with engine.begin() as conn:
            return transaction(conn, request.get_json())

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app
