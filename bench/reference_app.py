"""The reference endpoint: validate a disclosure-shaped body, INSERT ~1 KB in its own transaction."""

from __future__ import annotations

import json
import uuid

from fastapi import FastAPI
from sqlalchemy import text

from gateway.db import make_engine, make_sessionmaker, transaction
from gateway.disclosure.schemas import DisclosureRequest


def create_reference_app(database_url: str) -> FastAPI:
    engine = make_engine(database_url)  # same SQLite pragmas and BEGIN IMMEDIATE as the gateway
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE IF NOT EXISTS reference (id TEXT PRIMARY KEY, body TEXT)")
        )
    sessions = make_sessionmaker(engine)
    app = FastAPI()

    @app.post("/reference")
    def reference(request: DisclosureRequest) -> dict[str, str]:
        row_id = str(uuid.uuid4())
        body = json.dumps(request.model_dump(mode="json")).ljust(1024)
        with transaction(sessions) as session:
            session.execute(text("INSERT INTO reference (id, body) VALUES (:id, :body)"),
                            {"id": row_id, "body": body})  # fmt: skip
        return {"id": row_id}

    return app
