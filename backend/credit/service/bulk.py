"""Bulk statements for the ingestion hot path.

On PostgreSQL a batch of rows goes as ONE statement with ONE JSON parameter
(``INSERT ... SELECT ... FROM json_to_recordset(...)``, ``UPDATE ... FROM json_to_recordset(...)``,
or both from one payload), and a set of keys as ONE array parameter (``= ANY(:keys)``,
``unnest(:keys)``): no per-row SQL text to build or parse and no per-value escaping, whatever
the batch size. On SQLite the same calls are an executemany and an IN list.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Integer,
    LargeBinary,
    Table,
    any_,
    bindparam,
    func,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend.db import UTCDateTime


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def any_of(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN (values)``; on PostgreSQL ``column = ANY(:array)``, one parameter however many
    values (an expanded IN list of 1,000 placeholders costs more to render and parse than to run)."""
    if is_postgresql(session):
        return column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))  # type: ignore[no-any-return]
    return column.in_(list(values))  # type: ignore[no-any-return]


def _pg_type(column: Any) -> str:
    typ = column.type
    if isinstance(typ, JSON):
        return "json"
    if isinstance(typ, Boolean):
        return "boolean"
    if isinstance(typ, Integer):
        return "integer"
    if isinstance(typ, UTCDateTime):
        return "timestamptz"
    if isinstance(typ, LargeBinary):
        return "bytea"
    return "text"


def _json_default(value: Any) -> Any:
    """The values json.dumps does not know: called by the C encoder for those only."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(f"{type(value).__name__} is not a column value")


def _recordset(columns: dict[str, Any], rows: Sequence[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    """``json_to_recordset(:rows) AS t(...)`` typed as ``columns`` (field -> table column): the
    whole batch as one JSON parameter, the rows dumped as they are (one C-speed json.dumps, no
    per-value Python)."""
    definition = ", ".join(f'"{f}" {"text" if _pg_type(c) == "bytea" else _pg_type(c)}' for f, c in columns.items())
    payload = json.dumps(rows, ensure_ascii=False, default=_json_default)
    return f"json_to_recordset(CAST(:rows AS json)) AS t({definition})", {"rows": payload}


def _value(column: Any, field: str) -> str:
    return f"decode(t.\"{field}\", 'hex')" if _pg_type(column) == "bytea" else f't."{field}"'


def _names(names: Sequence[str]) -> str:
    return ", ".join(f'"{n}"' for n in names)


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *,
                conflict: Sequence[str] | None = None, returning: str | None = None) -> list[Any]:
    """Insert rows (all with the same keys, no others), skipping conflicts on ``conflict``; returns
    ``returning`` of the rows actually inserted (or [])."""
    if not rows:
        return []
    columns = list(rows[0])
    if not is_postgresql(session):
        stmt = sqlite_insert(table)
        if conflict:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        if returning:
            return list(session.execute(stmt.returning(table.c[returning]), list(rows)).scalars())
        session.execute(stmt, list(rows))
        return []
    source, params = _recordset({c: table.c[c] for c in columns}, rows)
    values = ", ".join(_value(table.c[c], c) for c in columns)
    sql = f'INSERT INTO "{table.name}" ({_names(columns)}) SELECT {values} FROM {source}'
    if conflict:
        sql += f" ON CONFLICT ({_names(conflict)}) DO NOTHING"
    if returning:
        sql += f' RETURNING "{returning}"'
        return list(session.execute(text(sql), params).scalars())
    session.execute(text(sql), params)
    return []


def insert_keys(session: Session, table: Table, key: str, keys: Sequence[Any], values: dict[str, Any]) -> None:
    """Insert a row for each of ``keys`` that the table lacks, in the order given, its other columns
    set to ``values``; on PostgreSQL the keys go as one array (``INSERT ... SELECT FROM unnest(:keys)``)."""
    if not keys:
        return
    if not is_postgresql(session):
        stmt = sqlite_insert(table).on_conflict_do_nothing(index_elements=[key])
        session.execute(stmt, [{key: k, **values} for k in keys])
        return
    new = func.unnest(bindparam(None, list(keys), type_=ARRAY(table.c[key].type))).column_valued()
    rows = select(new, *(literal(v, type_=table.c[c].type) for c, v in values.items()))
    session.execute(pg_insert(table).from_select([key, *values], rows).on_conflict_do_nothing(index_elements=[key]))


def update_rows(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Update each row (matched on ``key``) with the other values it carries (all rows the same keys)."""
    if not rows:
        return
    columns = list(rows[0])
    others = [c for c in columns if c != key]
    if not is_postgresql(session):
        renamed = [{f"b_{c}": row[c] for c in columns} for row in rows]
        stmt = update(table).where(table.c[key] == bindparam(f"b_{key}")).values(
            {c: bindparam(f"b_{c}", type_=table.c[c].type) for c in others})
        session.execute(stmt, renamed)
        return
    source, params = _recordset({c: table.c[c] for c in columns}, rows)
    sets = ", ".join(f'"{c}" = {_value(table.c[c], c)}' for c in others)
    session.execute(text(f'UPDATE "{table.name}" AS s SET {sets} FROM {source} WHERE s."{key}" = t."{key}"'), params)


def insert_and_update(session: Session, rows: Sequence[dict[str, Any]], *, insert_into: Table, update_table: Table,
                      key: str, set_from: dict[str, str]) -> None:
    """Insert each row into ``insert_into`` (its fields that are columns there) and update the row of
    ``update_table`` matched on ``key`` with ``set_from`` (column -> field of the row).

    On PostgreSQL one statement (the INSERT in a WITH clause) reads one JSON payload for both,
    so what they share (a score's dimensions and reasons) is encoded and parsed once.
    """
    if not rows:
        return
    inserted = [f for f in rows[0] if f in insert_into.c]
    if not is_postgresql(session):
        insert_rows(session, insert_into, [{f: row[f] for f in inserted} for row in rows])
        update_rows(session, update_table, key,
                    [{key: row[key], **{c: row[f] for c, f in set_from.items()}} for row in rows])
        return
    column_of = {f: update_table.c[c] for c, f in set_from.items()} | {f: insert_into.c[f] for f in inserted}
    source, params = _recordset({f: column_of[f] for f in rows[0]}, rows)
    values = ", ".join(_value(column_of[f], f) for f in inserted)
    sets = ", ".join(f'"{c}" = {_value(column_of[f], f)}' for c, f in set_from.items())
    session.execute(text(
        f"WITH t AS MATERIALIZED (SELECT * FROM {source}), "
        f'stored AS (INSERT INTO "{insert_into.name}" ({_names(inserted)}) SELECT {values} FROM t) '
        f'UPDATE "{update_table.name}" AS s SET {sets} FROM t WHERE s."{key}" = t."{key}"'), params)
