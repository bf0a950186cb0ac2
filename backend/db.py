"""Engine, sessions, the declarative base and the column types every model shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import CursorResult, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator
from ulid import ULID

from backend.config import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id(prefix: str) -> str:
    """An opaque, time-ordered id such as ``per_01JD...`` (ULID: sortable by creation)."""
    return f"{prefix}_{ULID()}"


def IdColumn(prefix: str) -> Any:  # noqa: N802 - reads like a type in model declarations
    from sqlalchemy.orm import mapped_column

    return mapped_column(String(40), primary_key=True, default=lambda: new_id(prefix))


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            echo=settings.db_echo,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        echo=settings.db_echo,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
    )


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE.

    pysqlite's deferred transactions take the write lock only at the first
    write; in WAL mode a transaction that read first then fails at once with
    SQLITE_BUSY when another writer got in between. BEGIN IMMEDIATE takes the
    lock at the start, so writers queue (busy timeout) instead of failing, and
    conditional updates stay correct with many threads.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class AppSession(Session):
    """The platform's Session. ``held_commits()`` turns the use case's commits into flushes, so
    a caller can add its own rows and commit everything as one transaction.

    Idempotency-Key requests use it: the stored response commits in the same transaction as
    the write it answers, so a crash leaves both or neither (never a write whose key looks
    forever in flight), and the request is one transaction instead of two.
    """

    _commits_held = False

    @contextmanager
    def held_commits(self) -> Iterator[None]:
        self._commits_held = True
        try:
            yield
        finally:
            self._commits_held = False

    def commit(self) -> None:
        if self._commits_held:
            self.flush()
            return
        super().commit()


def make_session_factory(engine: Engine) -> sessionmaker[AppSession]:
    return sessionmaker(bind=engine, class_=AppSession, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[AppSession]) -> Iterator[AppSession]:
    """A session for CLI commands and jobs; rolls back whatever was not committed."""
    session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


def rowcount(session: Session, statement: Any) -> int:
    """Execute an UPDATE/DELETE/INSERT and return how many rows it touched.

    Conditional updates (``... WHERE balance >= :n``) check this to know whether they won.
    """
    # psycopg reports -1 for INSERTs unless SQLAlchemy is asked to keep the real count.
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        statement.execution_options(preserve_rowcount=True))
    return result.rowcount or 0


def dialect_insert(session: Session) -> Any:
    """The INSERT construct of the session's dialect, for ON CONFLICT clauses (PostgreSQL or SQLite)."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def per_dialect_insert(build: Callable[[Any], Any]) -> dict[str, Any]:
    """A statement built once per dialect from its INSERT construct (``build(insert)``), for
    prebuilt ON CONFLICT statements on hot paths: pick with ``[conn.dialect.name]``."""
    return {"postgresql": build(pg_insert), "sqlite": build(sqlite_insert)}


def insert_ignore(session: Session, table: Any, values: dict[str, Any], index_elements: list[str]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING on PostgreSQL and SQLite; returns rows inserted."""
    stmt = dialect_insert(session)(table).values(**values).on_conflict_do_nothing(index_elements=index_elements)
    return rowcount(session, stmt)
