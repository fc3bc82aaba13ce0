"""Remembered signature checks stay bound to the key that made them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from joserfc.jwk import OKPKey

from gateway.auth.access_tokens import _verified_claims, issue_access_token
from gateway.errors import AuthenticationFailed


def _key(kid: str) -> OKPKey:
    return OKPKey.generate_key("Ed25519", parameters={"kid": kid})


def _token(key: OKPKey) -> str:
    party = SimpleNamespace(id="uwv-leiden", domain="uwv", roles=["reintegration-advisor"])
    return issue_access_token(
        key=key, issuer="https://gateway.test", party=party,  # type: ignore[arg-type]
        purposes=["reintegration"], now=datetime.now(UTC), ttl=timedelta(minutes=5),
    )  # fmt: skip


def test_a_token_verified_once_verifies_again_with_the_same_claims() -> None:
    key = _key("one")
    token = _token(key)
    first = _verified_claims(key, token)
    first["sub"] = "changed by a caller"
    assert _verified_claims(key, token)["sub"] == "uwv-leiden"


def test_a_token_remembered_under_one_key_does_not_verify_under_another() -> None:
    key, other = _key("one"), _key("two")
    token = _token(key)
    _verified_claims(key, token)
    with pytest.raises(AuthenticationFailed, match="signature does not verify"):
        _verified_claims(other, token)


def test_an_altered_token_is_checked_afresh() -> None:
    key = _key("one")
    token = _token(key)
    _verified_claims(key, token)
    header, payload, signature = token.split(".")
    altered = f"{header}.{payload}.{signature[:-4]}AAAA"
    with pytest.raises(AuthenticationFailed):
        _verified_claims(key, altered)
