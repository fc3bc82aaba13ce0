"""The witness as a web service of its own (C2SP tlog-witness): ``schakel witness serve`` runs
it, apart from any gateway; the gateway's checkpoint task posts to it (audit_log/witnesses.py).

    POST /add-checkpoint           old size, consistency proof, checkpoint -> cosignature line
    GET  /<sha256(origin)>/checkpoint   the last checkpoint cosigned for that log (monitoring)
"""

from __future__ import annotations

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

from audit.witness import Refused, Witness

MAX_REQUEST_BYTES = 64 * 1024


def create_witness_app(witness: Witness) -> FastAPI:
    """The witness's two endpoints around one Witness (its key, the logs it knows, its state)."""
    app = FastAPI(title=f"Schakel witness {witness.name}", docs_url=None, redoc_url=None)

    @app.post("/add-checkpoint", response_class=PlainTextResponse)
    async def add_checkpoint(request: Request) -> PlainTextResponse:
        body = await request.body()
        if len(body) > MAX_REQUEST_BYTES:
            return PlainTextResponse("request too large\n", status_code=413)
        try:
            text = body.decode("utf-8")
            line = await anyio.to_thread.run_sync(witness.add_checkpoint, text)
        except UnicodeDecodeError:
            return PlainTextResponse("the request is not UTF-8\n", status_code=400)
        except Refused as refused:
            return PlainTextResponse(
                refused.body, status_code=refused.status, media_type=refused.media_type
            )
        return PlainTextResponse(line)

    @app.get("/{hashed_origin}/checkpoint", response_class=PlainTextResponse)
    def latest(hashed_origin: str) -> PlainTextResponse:
        note = witness.latest(hashed_origin.lower())
        if note is None:
            return PlainTextResponse("no checkpoint cosigned for this log\n", status_code=404)
        return PlainTextResponse(note)

    return app
