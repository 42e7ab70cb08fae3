"""Schema migrations with Alembic, against the app's own engine."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from flask import Flask

from authdemo.extensions import Database


def alembic_config() -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("authdemo").joinpath("migrations"))
    )
    return config


def upgrade(app: Flask, revision: str = "head") -> None:
    engine = Database.engine_for(app)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def revision(app: Flask, message: str) -> None:
    """Autogenerate a new migration from the models (developers only)."""
    engine = Database.engine_for(app)
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.revision(config, message=message, autogenerate=True)
