"""A real OpenID provider for the sign-in tests: ORY Hydra (in memory) on 127.0.0.1, with a small
login-and-consent app of the kind every Hydra deployment has, whose form the browser fills in.

The login form asks for a BSN, an assurance level (DigiD's levels) and, for officers, the groups
the person is in; the app accepts the login with that ``acr`` and puts the BSN and groups in the
ID token (Hydra's login and consent API, ``/admin/oauth2/auth/requests/...``).
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

from gateway.settings import DIGID_ACR_LEVELS
from tests.support import free_port

LEVELS = dict(zip(("basis", "midden", "substantieel", "hoog"), DIGID_ACR_LEVELS, strict=True))
LOGIN_FORM = """<!doctype html><html lang="nl"><head><title>Inloggen</title></head><body>
<h1>Inloggen bij de testprovider</h1>
<form method="post" action="/login">
<input type="hidden" name="challenge" value="{challenge}">
<label for="bsn">BSN</label><input id="bsn" name="bsn">
<label for="user">Gebruiker</label><input id="user" name="user" value="">
<label for="level">Niveau</label><select id="level" name="level">{levels}</select>
<label for="groups">Groepen</label><input id="groups" name="groups" value="">
<button type="submit">Inloggen</button></form></body></html>"""


@dataclass
class Hydra:
    """A running Hydra: its issuer (public URL) and admin URL."""

    issuer: str
    admin: str

    def add_client(self, client_id: str, secret: str, redirect_uri: str) -> None:
        response = httpx.post(f"{self.admin}/admin/clients", json={
            "client_id": client_id, "client_secret": secret,
            "grant_types": ["authorization_code"], "response_types": ["code"],
            "redirect_uris": [redirect_uri], "scope": "openid",
            "token_endpoint_auth_method": "client_secret_basic",
        })  # fmt: skip
        assert response.status_code == 201, response.text

    def signing_kids(self) -> list[str]:
        keys = httpx.get(f"{self.admin}/admin/keys/hydra.openid.id-token").json()["keys"]
        return [str(key["kid"]) for key in keys]

    def roll_over_keys(self) -> tuple[list[str], str]:
        """A new ID-token signing key, the old ones deleted: only the new one verifies now."""
        old = self.signing_kids()
        new_kid = f"rolled-{int(time.time() * 1000)}"
        response = httpx.post(
            f"{self.admin}/admin/keys/hydra.openid.id-token",
            json={"alg": "RS256", "kid": new_kid, "use": "sig"},
        )
        assert response.status_code == 201, response.text
        for kid in old:
            httpx.delete(f"{self.admin}/admin/keys/hydra.openid.id-token/{kid}").raise_for_status()
        return old, new_kid


def hydra_binary() -> Path | None:
    given = os.environ.get("SCHAKEL_TEST_HYDRA_BIN")
    if given and Path(given).is_file():
        return Path(given)
    built = Path(__file__).resolve().parents[2] / ".tools" / "bin" / "hydra-v2.3.0"
    return built if built.is_file() else None


@contextmanager
def running_hydra(binary: Path, folder: Path) -> Iterator[Hydra]:
    """Hydra with its login app, both on free ports of 127.0.0.1; stopped on exit."""
    public, admin = free_port(), free_port()
    with login_app(f"http://127.0.0.1:{admin}") as app_url:
        config = folder / "hydra.json"
        config.write_text(json.dumps({
            "dsn": "memory",
            "serve": {"public": {"host": "127.0.0.1", "port": public},
                      "admin": {"host": "127.0.0.1", "port": admin}},
            "urls": {"self": {"issuer": f"http://127.0.0.1:{public}"},
                     "login": f"{app_url}/login", "consent": f"{app_url}/consent"},
            "secrets": {"system": ["a-system-secret-for-tests-only-0123456789"]},
            "ttl": {"id_token": "5m"},
            "log": {"level": "warn"},
        }))  # fmt: skip
        log = (folder / "hydra.log").open("wb")
        process = subprocess.Popen(
            [str(binary), "serve", "all", "--dev", "--sqa-opt-out", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            issuer = f"http://127.0.0.1:{public}"
            _wait_until_ready(f"{issuer}/.well-known/openid-configuration", process, folder)
            # Its signing keys are made at the first ask: before the first sign-in, not in it.
            _wait_until_ready(f"{issuer}/.well-known/jwks.json", process, folder)
            yield Hydra(issuer=issuer, admin=f"http://127.0.0.1:{admin}")
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()


def _wait_until_ready(url: str, process: subprocess.Popen[bytes], folder: Path) -> None:
    """Hydra makes its RSA signing keys at the first request; on a busy machine that is slow."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((folder / "hydra.log").read_text(errors="replace"))
        try:
            if httpx.get(url, timeout=30).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    log = (folder / "hydra.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"Hydra did not start within 120 s:\n{log}")


@contextmanager
def login_app(admin: str) -> Iterator[str]:
    """The login and consent endpoints Hydra sends the browser to."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = {
                name: values[0] for name, values in parse_qs(urlparse(self.path).query).items()
            }
            if self.path.startswith("/login"):
                options = "".join(
                    f'<option value="{name}"{" selected" if name == "substantieel" else ""}>'
                    f"{name}</option>"
                    for name in LEVELS
                )
                challenge = html.escape(query["login_challenge"])
                self._page(LOGIN_FORM.format(challenge=challenge, levels=options))
            elif self.path.startswith("/consent"):
                self._consent(query["consent_challenge"])
            else:
                self.send_error(404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            subject = form.get("user") or f"bsn-{form.get('bsn', '')}"
            context = {"bsn": form.get("bsn", ""), "groups": form.get("groups", "").split()}
            accepted = httpx.put(
                f"{admin}/admin/oauth2/auth/requests/login/accept",
                params={"login_challenge": form["challenge"]},
                json={"subject": subject, "acr": LEVELS[form["level"]], "context": context},
            )
            self._redirect(accepted.json()["redirect_to"])

        def _consent(self, challenge: str) -> None:
            asked = httpx.get(
                f"{admin}/admin/oauth2/auth/requests/consent",
                params={"consent_challenge": challenge},
            ).json()
            context: dict[str, Any] = asked.get("context") or {}
            id_token: dict[str, Any] = {"groups": context.get("groups", [])}
            if context.get("bsn"):
                id_token["bsn"] = context["bsn"]
            accepted = httpx.put(
                f"{admin}/admin/oauth2/auth/requests/consent/accept",
                params={"consent_challenge": challenge},
                json={"grant_scope": asked["requested_scope"], "session": {"id_token": id_token}},
            )
            self._redirect(accepted.json()["redirect_to"])

        def _page(self, body: str) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _redirect(self, location: str) -> None:
            self.send_response(302)
            self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
