"""Helpers for the web-page tests: the demo parties seeded, forms read and posted like a browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from gateway.auth.partner_keys import read_private_key
from gateway.core.db import transaction
from gateway.demo.seed import seed_demo
from gateway.runtime import Runtime
from tests.support import Partner

SAM = "999900006"
NOOR = "999900018"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def seed(runtime: Runtime, folder: Path) -> dict[str, Partner]:
    """The demo parties (gemeente-leiden is the privacy officer), with their private keys."""
    with transaction(runtime.sessions) as session:
        seed_demo(session=session, catalogue=runtime.catalogue, clock=runtime.clock, folder=folder)
    partners = {}
    for party, domain in (("uwv-leiden", "uwv"), ("gemeente-leiden", "gemeente")):
        key = read_private_key(folder / party / "private.jwk.json")
        partners[party] = Partner(party, domain, key)  # type: ignore[arg-type]
    return partners


def csrf_token(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def post_form(client: Any, url: str, page_url: str, **fields: Any) -> Any:
    """GET the page that holds the form, then post it with that page's CSRF token."""
    token = csrf_token(client.get(page_url).text)
    return client.post(url, data={"csrf_token": token, **fields}, follow_redirects=False)
