"""Signed, server-checked session cookies (HMAC-SHA256, RFC 2104): who, what kind, until when.

The cookie holds a small JSON document and its MAC; nothing else is stored. The key is derived
from the gateway's token-signing key, so no new secret has to be provisioned. The CSRF token of
the session lives in the same document (a session-bound synchroniser token).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from joserfc.jwk import OKPKey

COOKIE = "schakel_web"
LIFETIME = timedelta(hours=1)
KEY_LABEL = b"schakel web session v1"

Kind = Literal["anonymous", "participant", "officer", "chair", "steering"]
TokenSource = Callable[[], str]


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class WebSession:
    """``subject`` is a participant id (never a BSN), or the party id of an officer or a chair."""

    kind: Kind
    subject: str
    expires: int
    csrf: str


def session_key(token_key: OKPKey) -> bytes:
    """A key of its own for cookies, derived from the token-signing key (HMAC as a KDF)."""
    private = str(token_key.as_dict(private=True)["d"]).encode("ascii")
    return hmac.new(private, KEY_LABEL, hashlib.sha256).digest()


class SessionCodec:
    """Issues and checks session cookies against a clock and a token source."""

    def __init__(
        self, key: bytes, clock: Callable[[], datetime], tokens: TokenSource = new_token
    ) -> None:
        self.key = key
        self.clock = clock
        self.tokens = tokens

    def issue(self, kind: Kind, subject: str) -> WebSession:
        expires = int((self.clock() + LIFETIME).timestamp())
        return WebSession(kind=kind, subject=subject, expires=expires, csrf=self.tokens())

    def encode(self, session: WebSession) -> str:
        body = json.dumps(
            {"k": session.kind, "s": session.subject, "e": session.expires, "c": session.csrf},
            separators=(",", ":"),
        ).encode("utf-8")
        payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode("ascii")
        return f"{payload}.{self._mac(payload)}"

    def decode(self, cookie: str | None) -> WebSession | None:
        """The session if the MAC is right and it has not expired; otherwise none."""
        if not cookie or cookie.count(".") != 1 or not cookie.isascii():
            return None
        payload, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
            document = json.loads(raw)
            session = WebSession(
                kind=document["k"], subject=document["s"], expires=document["e"], csrf=document["c"]
            )
        except (ValueError, KeyError, TypeError):
            return None
        valid_kind = session.kind in ("anonymous", "participant", "officer", "chair", "steering")
        if not valid_kind or session.expires <= self.clock().timestamp():
            return None
        return session

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self.key, payload.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
