"""A small real OpenID Connect issuer on 127.0.0.1 for participant logins in tests."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey

AUDIENCE = "schakel"


@dataclass
class ParticipantIssuer:
    url: str
    key: ECKey

    def token(self, subject_bsn: str, *, lifetime: int = 600, **claims: Any) -> str:
        now = int(time.time())
        body = {
            "iss": self.url, "aud": AUDIENCE, "sub": f"p-{subject_bsn}", "bsn": subject_bsn,
            "iat": now, "exp": now + lifetime,
        }  # fmt: skip
        body.update(claims)
        return jwt.encode(
            {"alg": "ES256", "kid": self.key.kid}, body, self.key, algorithms=["ES256"]
        )

    def headers(self, bsn: str, **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(bsn, **claims)}"}


@contextmanager
def running_issuer() -> Iterator[ParticipantIssuer]:
    key = ECKey.generate_key(
        "P-256", parameters={"kid": "test-issuer-1", "alg": "ES256"}, private=True
    )
    jwks = json.dumps({"keys": [key.as_dict(private=False)]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/.well-known/jwks.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(jwks)))
            self.end_headers()
            self.wfile.write(jwks)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield ParticipantIssuer(url=f"http://127.0.0.1:{server.server_address[1]}", key=key)
    finally:
        server.shutdown()
        server.server_close()
