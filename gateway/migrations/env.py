"""Alembic environment: runs on the connection ``gateway.migrations.runner`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from gateway.migrations.runner import target_metadata

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `schakel migrate`")
context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
