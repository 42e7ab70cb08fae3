"""The schema a deployment actually gets: the migrations applied to an empty database.

The models (``Base.metadata``) say what the code expects; the migrations say what
``flask db upgrade`` builds. A column added to a model without a migration, or left in a
migration after the model dropped it, makes the two differ, and the inventory must match
both. This builds a throw-away SQLite database in a temporary folder, upgrades it to the
head revision, and reflects what is there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy import MetaData, create_engine

from authdemo.database import alembic_config

#: Alembic's own bookkeeping table, which holds no data about anyone.
ALEMBIC_TABLE = "alembic_version"


def migrated(script_location: Path | None = None) -> MetaData:
    """The tables and columns after ``upgrade head`` on an empty SQLite database (the
    project's migrations, or those in ``script_location``)."""
    with tempfile.TemporaryDirectory(prefix="authdemo-schema-") as folder:
        engine = create_engine(f"sqlite:///{Path(folder) / 'schema.sqlite3'}")
        try:
            config = alembic_config()
            if script_location is not None:
                config.set_main_option("script_location", str(script_location))
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            reflected = MetaData()
            reflected.reflect(engine)
        finally:
            engine.dispose()
    reflected.remove(reflected.tables[ALEMBIC_TABLE])
    return reflected
