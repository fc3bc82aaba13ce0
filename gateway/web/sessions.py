"""Signed session cookies (HMAC-SHA256, RFC 2104) that point at a server-side session record.

The cookie holds a small JSON document and its MAC, under the session key (a key of its own,
``SCHAKEL_SESSION_KEY_FILE``). A signed-in cookie names a session id whose record
(``gateway.web.session_records``) must still be open at every request: logout, a time-out, a
disabled party or a withdrawn role end the record, and a copy of the cookie is then worthless.
An anonymous cookie carries the CSRF token of the login form. An OpenID Connect sign-in under
way keeps its ``state``, ``nonce`` and PKCE verifier in a second cookie, ``SameSite=Lax`` so the
provider's redirect back brings it along, for ten minutes and for that one callback.
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
from typing import Any, Literal

from gateway.auth.oidc import PendingSignIn

COOKIE = "schakel_web"
SIGN_IN_COOKIE = "schakel_sign_in"
ANONYMOUS_LIFETIME = timedelta(hours=1)
SIGN_IN_LIFETIME = timedelta(minutes=10)

Kind = Literal["anonymous", "participant", "officer", "chair", "steering"]
KINDS = ("anonymous", "participant", "officer", "chair", "steering")
TokenSource = Callable[[], str]


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class WebSession:
    """``subject`` is a participant id (never a BSN), or the party id of an officer, a
    conference chair or a steering group; ``sid`` names the server-side record of a signed-in
    session."""

    kind: Kind
    subject: str
    expires: int
    csrf: str
    sid: str | None = None


def record_id(sid: str) -> str:
    """The key of a session's record: a digest, so the table alone opens no session."""
    return hashlib.sha256(sid.encode("ascii")).hexdigest()


class SessionCodec:
    """Issues and checks session cookies against a clock and a token source."""

    def __init__(
        self,
        key: bytes,
        clock: Callable[[], datetime],
        tokens: TokenSource = new_token,
        lifetime: timedelta = ANONYMOUS_LIFETIME,
    ) -> None:
        self.key = key
        self.clock = clock
        self.tokens = tokens
        self.lifetime = lifetime

    def anonymous(self) -> WebSession:
        expires = int((self.clock() + ANONYMOUS_LIFETIME).timestamp())
        return WebSession("anonymous", "-", expires, self.tokens())

    def signed_in(self, kind: Kind, subject: str) -> WebSession:
        """A new session id and CSRF token; its record is written by the caller."""
        expires = int((self.clock() + self.lifetime).timestamp())
        return WebSession(kind, subject, expires, self.tokens(), sid=self.tokens())

    def encode(self, session: WebSession) -> str:
        document: dict[str, Any] = {
            "k": session.kind, "s": session.subject, "e": session.expires, "c": session.csrf,
        }  # fmt: skip
        if session.sid is not None:
            document["i"] = session.sid
        return self._signed(document)

    def encode_pending(self, pending: PendingSignIn) -> str:
        expires = int((self.clock() + SIGN_IN_LIFETIME).timestamp())
        flow = [pending.provider, pending.state, pending.nonce, pending.code_verifier]
        return self._signed({"k": "sign-in", "e": expires, "f": flow})

    def decode_pending(self, cookie: str | None) -> PendingSignIn | None:
        """The sign-in under way, if the cookie is ours and not older than ten minutes."""
        document = self._verified(cookie)
        try:
            if document is None or document["k"] != "sign-in":
                return None
            if document["e"] <= self.clock().timestamp():
                return None
            return PendingSignIn(*document["f"])
        except (KeyError, TypeError):
            return None

    def _signed(self, document: dict[str, Any]) -> str:
        body = json.dumps(document, separators=(",", ":")).encode("utf-8")
        payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode("ascii")
        return f"{payload}.{self._mac(payload)}"

    def _verified(self, cookie: str | None) -> dict[str, Any] | None:
        if not cookie or cookie.count(".") != 1 or not cookie.isascii():
            return None
        payload, mac = cookie.split(".")
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        return document if isinstance(document, dict) else None

    def decode(self, cookie: str | None) -> WebSession | None:
        """The session if the MAC is right and it has not expired; otherwise none."""
        document = self._verified(cookie)
        if document is None:
            return None
        try:
            session = WebSession(
                kind=document["k"], subject=document["s"], expires=document["e"],
                csrf=document["c"], sid=document.get("i"),
            )  # fmt: skip
        except (KeyError, TypeError):
            return None
        signed_in = session.kind != "anonymous"
        if session.kind not in KINDS or signed_in != (session.sid is not None):
            return None
        if session.expires <= self.clock().timestamp():
            return None
        return session

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self.key, payload.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
