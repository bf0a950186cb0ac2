"""The test harness itself: reference data changed by one test is back for the next."""

import sqlalchemy as sa

from backend.schema import metadata
from tests.conftest import _clean_tables


def test_reference_rows_changed_by_a_test_are_restored(app, reference_rows):
    engine = app.extensions["engine"]
    [table] = [t for t in metadata().sorted_tables if t.name == "scenarios"]
    with engine.begin() as conn:
        conn.execute(table.update().values(description=""))
    _clean_tables(engine, reference_rows)
    with engine.connect() as conn:
        assert all(row.description for row in conn.execute(sa.select(table)))
        assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == len(
            reference_rows["scenarios"])
