"""Upgrade the schema and tell whether it is current, without an ``alembic.ini``."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData

MIGRATIONS_DIR = Path(__file__).resolve().parent


def target_metadata() -> list[MetaData]:
    """Every package's tables, so ``alembic revision --autogenerate`` sees them all."""
    from audit.models import AuditBase
    from conference.models import ConferenceBase
    from consent.models import ConsentBase
    from gateway.contributions import models as _ingest  # noqa: F401 - registers the tables
    from gateway.core import models as _core  # noqa: F401 - registers the tables
    from gateway.core.db import Base
    from gateway.identity import models as _identity  # noqa: F401 - registers the tables
    from gateway.registry import models as _registry  # noqa: F401 - registers the tables
    from gateway.storage import models as _storage  # noqa: F401 - registers the tables
    from gateway.web import models as _web  # noqa: F401 - registers the tables
    from monitoring.models import MonitoringBase
    from notice.models import NoticeBase
    from plan.models import PlanBase

    return [
        Base.metadata,
        ConsentBase.metadata,
        AuditBase.metadata,
        PlanBase.metadata,
        ConferenceBase.metadata,
        NoticeBase.metadata,
        MonitoringBase.metadata,
    ]


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Upgrade every branch: the gateway and each domain package own a branch of their own."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "heads")


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


def pending_migrations(connection: Connection) -> bool:
    return current_revisions(connection) != head_revisions()
