"""The reference endpoint: validate a disclosure-shaped body, INSERT ~1 KB in its own transaction.

Written the obvious way, as a FastAPI service usually is: a sync endpoint on the thread pool,
one SQLAlchemy session per request. SQLite gets the gateway's durability settings (WAL,
``synchronous=FULL``) and busy timeout, but no writer queue: its threads meet at SQLite's lock.
Run as its own process: ``python bench/reference_app.py DATABASE_URL PORT``.
"""

from __future__ import annotations

import json
import sys
import uuid
from typing import Any

import uvicorn
from fastapi import FastAPI
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import sessionmaker

from gateway.disclosures.schemas import DisclosureRequest


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_reference_app(database_url: str) -> FastAPI:
    if database_url.startswith("sqlite"):
        engine = create_engine(database_url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(database_url, pool_pre_ping=True)  # the gateway's pool
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE IF NOT EXISTS reference (id TEXT PRIMARY KEY, body TEXT)")
        )
    sessions = sessionmaker(engine)
    app = FastAPI()

    @app.post("/reference")
    def reference(request: DisclosureRequest) -> dict[str, str]:
        row_id = str(uuid.uuid4())
        body = json.dumps(request.model_dump(mode="json")).ljust(1024)
        with sessions() as session, session.begin():
            session.execute(text("INSERT INTO reference (id, body) VALUES (:id, :body)"),
                            {"id": row_id, "body": body})  # fmt: skip
        return {"id": row_id}

    return app


if __name__ == "__main__":
    url, port = sys.argv[1], int(sys.argv[2])
    uvicorn.run(create_reference_app(url), host="127.0.0.1", port=port, log_config=None,
                access_log=False)  # fmt: skip
