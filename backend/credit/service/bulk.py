"""Bulk statements for the ingestion hot path.

On PostgreSQL a batch of rows goes as ONE statement with ONE JSON parameter
(``INSERT ... SELECT ... FROM json_to_recordset(...)``, ``UPDATE ... FROM json_to_recordset(...)``):
no per-row SQL text to build or parse and no per-value escaping, whatever the batch size. On SQLite the same calls are an
executemany.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, LargeBinary, Table, bindparam, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from backend.db import UTCDateTime


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


def _json_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _recordset(table: Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> tuple[str, dict[str, str]]:
    """``json_to_recordset(:rows) AS t(...)``: the whole batch as one JSON parameter (one C-speed
    json.dumps, no per-element array escaping)."""
    types = {c: _pg_type(table.c[c]) for c in columns}
    definition = ", ".join(f'"{c}" {"text" if types[c] == "bytea" else types[c]}' for c in columns)
    payload = json.dumps([{c: _json_value(row[c]) for c in columns} for row in rows], ensure_ascii=False)
    return f"json_to_recordset(CAST(:rows AS json)) AS t({definition})", {"rows": payload}


def _value(table: Table, column: str) -> str:
    return f"decode(t.\"{column}\", 'hex')" if _pg_type(table.c[column]) == "bytea" else f't."{column}"'


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *,
                conflict: Sequence[str] | None = None, returning: str | None = None) -> list[Any]:
    """Insert rows (all with the same keys), skipping conflicts on ``conflict``; returns ``returning``
    of the rows actually inserted (or [])."""
    if not rows:
        return []
    columns = list(rows[0])
    if session.get_bind().dialect.name != "postgresql":
        stmt = sqlite_insert(table)
        if conflict:
            stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
        if returning:
            return list(session.execute(stmt.returning(table.c[returning]), list(rows)).scalars())
        session.execute(stmt, list(rows))
        return []
    source, params = _recordset(table, columns, rows)
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) SELECT {", ".join(_value(table, c) for c in columns)} FROM {source}'
    if conflict:
        targets = ", ".join(f'"{c}"' for c in conflict)
        sql += f" ON CONFLICT ({targets}) DO NOTHING"
    if returning:
        sql += f' RETURNING "{returning}"'
        return list(session.execute(text(sql), params).scalars())
    session.execute(text(sql), params)
    return []


def update_rows(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Update each row (matched on ``key``) with the other values it carries."""
    if not rows:
        return
    columns = list(rows[0])
    others = [c for c in columns if c != key]
    if session.get_bind().dialect.name != "postgresql":
        renamed = [{f"b_{c}": row[c] for c in columns} for row in rows]
        stmt = update(table).where(table.c[key] == bindparam(f"b_{key}")).values(
            {c: bindparam(f"b_{c}", type_=table.c[c].type) for c in others})
        session.execute(stmt, renamed)
        return
    source, params = _recordset(table, columns, rows)
    sets = ", ".join(f'"{c}" = {_value(table, c)}' for c in others)
    sql = f'UPDATE "{table.name}" AS s SET {sets} FROM {source} WHERE s."{key}" = t."{key}"'
    session.execute(text(sql), params)
