"""The migrations are the schema: they build it from nothing, and they match the models."""

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from backend.schema import alembic_config, metadata


def _diff(url):
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        diff = compare_metadata(context, metadata())
    engine.dispose()
    return diff


def test_upgrade_on_an_empty_database_matches_the_models(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    command.upgrade(alembic_config(url), "heads")
    assert _diff(url) == [], "models and migrations disagree: write a migration"


def test_the_test_database_built_by_migrations_matches_the_models(base_settings):
    # On the second pass this is PostgreSQL.
    assert _diff(base_settings.database_url) == []


def test_downgrade_to_base_and_back_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    command.upgrade(config, "heads")
    command.downgrade(config, "base")
    engine = sa.create_engine(url)
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    command.upgrade(config, "heads")
    assert _diff(url) == []


def test_there_is_one_head():
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    assert len(heads) == 1, f"merge the migration heads: {heads}"
