"""Partner authentication: RFC 7523 client assertions at /oauth/token, bearer tokens on /v1."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OctKey, OKPKey
from sqlalchemy.orm import Session

from gateway.auth import access_tokens
from gateway.auth.access_tokens import VerifiedToken, caller_of
from gateway.auth.key_ring import rotate
from gateway.core.db import transaction
from gateway.errors import GatewayError
from gateway.registry.service import PartyStanding, disable_party
from gateway.runtime import Runtime
from gateway.settings import Settings
from tests.support import (
    Partner,
    SettableClock,
    new_partner,
    register,
    running_gateway,
    token_request,
)

AUDIENCE = "http://testserver/oauth/token"


@pytest.fixture
def clock() -> SettableClock:
    return SettableClock()


@pytest.fixture
def gateway(settings: Settings, clock: SettableClock) -> Iterator[tuple[Runtime, TestClient]]:
    with running_gateway(settings, clock) as running:
        yield running


@pytest.fixture
def uwv(gateway: tuple[Runtime, TestClient]) -> Partner:
    partner = new_partner(
        "uwv-leiden", "uwv", "ES256", purposes=("reintegration", "case-coordination")
    )
    register(gateway[0], partner)
    return partner


@pytest.fixture
def ggz(gateway: tuple[Runtime, TestClient]) -> Partner:
    partner = new_partner("ggz-leiden", "ggz", "EdDSA", roles=("care-coordinator",))
    register(gateway[0], partner)
    return partner


def assert_unauthorized(response: object, fragment: str) -> None:
    assert response.status_code == 401, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert "www-authenticate" in response.headers  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == 401
    assert body["error"] in {"invalid_client", "invalid_token"}
    assert fragment in body["detail"], body["detail"]


@pytest.mark.parametrize("party", ["uwv", "ggz"])
def test_signed_assertion_gets_a_token_that_opens_partner_endpoints(
    gateway: tuple[Runtime, TestClient],
    clock: SettableClock,
    party: str,
    request: pytest.FixtureRequest,
) -> None:
    _, client = gateway
    partner: Partner = request.getfixturevalue(party)
    response = token_request(client, partner.assertion(audience=AUDIENCE, now=clock()))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 300
    assert set(token["scope"].split()) == set(partner.purposes)
    me = client.get("/v1/whoami", headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200
    assert me.json()["party"] == partner.party_id
    assert me.json()["domain"] == partner.domain


def test_access_token_carries_party_domain_and_purposes(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    runtime, client = gateway
    response = token_request(
        client, uwv.assertion(audience=AUDIENCE, now=clock()), scope="reintegration"
    )
    claims = jwt.decode(
        response.json()["access_token"], runtime.token_key, algorithms=["EdDSA"]
    ).claims
    assert claims["sub"] == "uwv-leiden"
    assert claims["domain"] == "uwv"
    assert claims["scope"] == "reintegration"
    assert claims["exp"] - claims["iat"] == 300


def test_scope_beyond_registered_purposes_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, ggz: Partner
) -> None:
    _, client = gateway
    response = token_request(
        client,
        ggz.assertion(audience=AUDIENCE, now=clock()),
        scope="reintegration case-coordination",
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert "case-coordination" in response.json()["detail"]


def _unsigned(claims: dict[str, object], header: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


def _claims(partner: Partner, clock: SettableClock, **changes: object) -> dict[str, object]:
    now = int(clock().timestamp())
    claims: dict[str, object] = {
        "iss": partner.party_id, "sub": partner.party_id, "aud": AUDIENCE,
        "iat": now, "exp": now + 60, "jti": "fixed-jti",
    }  # fmt: skip
    claims.update(changes)
    return claims


def test_alg_none_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = _unsigned(_claims(uwv, clock), {"alg": "none", "kid": uwv.key.kid})
    assert_unauthorized(token_request(gateway[1], assertion), "not accepted")


def test_hmac_signed_with_public_key_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    # The classic key-confusion attack: HMAC keyed with the party's public key material.
    secret = OctKey.import_key(json.dumps(uwv.key.as_dict(private=False)).encode())
    assertion = jwt.encode(
        {"alg": "HS256", "kid": uwv.key.kid}, _claims(uwv, clock), secret, algorithms=["HS256"]
    )
    assert_unauthorized(token_request(gateway[1], assertion), "not accepted")


def test_unknown_kid_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = uwv.assertion(audience=AUDIENCE, now=clock(), header={"kid": "rotated-away"})
    assert_unauthorized(token_request(gateway[1], assertion), "no registered key")


def test_key_of_another_party_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    impostor = new_partner("uwv-leiden", "uwv", "ES256")
    assertion = impostor.assertion(audience=AUDIENCE, now=clock())
    assert_unauthorized(token_request(gateway[1], assertion), "signature does not verify")


def test_wrong_audience_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = uwv.assertion(audience="https://other.example/oauth/token", now=clock())
    assert_unauthorized(token_request(gateway[1], assertion), '"aud" must be the token endpoint')


def test_expired_assertion_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = uwv.assertion(audience=AUDIENCE, now=clock())
    clock.advance(61 + 30)
    assert_unauthorized(token_request(gateway[1], assertion), "expired")


def test_assertion_valid_for_more_than_five_minutes_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = uwv.assertion(audience=AUDIENCE, now=clock(), lifetime=3600)
    assert_unauthorized(token_request(gateway[1], assertion), "at most 300 seconds")


def test_assertion_from_the_future_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    later = int(clock().timestamp()) + 120
    assertion = uwv.assertion(audience=AUDIENCE, now=clock(), iat=later, lifetime=200)
    assert_unauthorized(token_request(gateway[1], assertion), '"iat" lies in the future')


def test_iss_and_sub_must_be_the_client_id(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = uwv.assertion(audience=AUDIENCE, now=clock(), sub="ggz-leiden")
    assert_unauthorized(token_request(gateway[1], assertion), '"iss" and "sub"')


def test_disabled_party_cannot_get_a_token_and_loses_its_tokens(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    runtime, client = gateway
    token = token_request(client, uwv.assertion(audience=AUDIENCE, now=clock())).json()[
        "access_token"
    ]
    with transaction(runtime.sessions) as session:
        disable_party(session=session, party_id=uwv.party_id, now=clock())
    assert_unauthorized(
        client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"}), "disabled"
    )
    assert_unauthorized(
        token_request(client, uwv.assertion(audience=AUDIENCE, now=clock())), "unknown or disabled"
    )


def test_replayed_assertion_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = uwv.assertion(audience=AUDIENCE, now=clock())
    assert token_request(gateway[1], assertion).status_code == 200
    assert_unauthorized(token_request(gateway[1], assertion), "used before")


def test_replay_after_restart_is_refused(settings: Settings, clock: SettableClock) -> None:
    partner = new_partner("uwv-leiden", "uwv")
    with running_gateway(settings, clock) as (runtime, client):
        register(runtime, partner)
        assertion = partner.assertion(audience=AUDIENCE, now=clock())
        assert token_request(client, assertion).status_code == 200
    with running_gateway(settings, clock) as (_, restarted):
        assert_unauthorized(token_request(restarted, assertion), "used before")


def test_failed_token_request_does_not_burn_the_jti(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, ggz: Partner
) -> None:
    assertion = ggz.assertion(audience=AUDIENCE, now=clock())
    assert token_request(gateway[1], assertion, scope="case-coordination").status_code == 400
    assert token_request(gateway[1], assertion).status_code == 200


def test_token_request_must_be_a_form(gateway: tuple[Runtime, TestClient]) -> None:
    response = gateway[1].post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_other_grant_types_are_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    response = token_request(
        gateway[1], uwv.assertion(audience=AUDIENCE, now=clock()), grant_type="password"
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unsupported_grant_type"


def test_garbage_assertion_is_refused(gateway: tuple[Runtime, TestClient]) -> None:
    assert_unauthorized(token_request(gateway[1], "not.a.jwt"), "not a compact JWS")


def test_partner_endpoint_without_token_gets_a_bearer_challenge(
    gateway: tuple[Runtime, TestClient],
) -> None:
    response = gateway[1].get("/v1/whoami")
    assert_unauthorized(response, "bearer access token")
    assert response.headers["www-authenticate"].startswith('Bearer realm="schakel"')


def test_expired_access_token_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    _, client = gateway
    token = token_request(client, uwv.assertion(audience=AUDIENCE, now=clock())).json()[
        "access_token"
    ]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/whoami", headers=headers).status_code == 200  # verified, remembered
    clock.advance(301)
    assert_unauthorized(
        client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"}), "expired"
    )


def test_access_token_signed_by_someone_else_is_refused(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    forged = jwt.encode(
        {"alg": "ES256", "typ": "at+jwt"},
        {
            "iss": "http://testserver",
            "aud": "http://testserver",
            "sub": "uwv-leiden",
            "exp": 4102444800,
        },
        uwv.key,
        algorithms=["ES256"],
    )
    response = gateway[1].get("/v1/whoami", headers={"Authorization": f"Bearer {forged}"})
    assert_unauthorized(response, "signature does not verify")


def test_a_party_is_read_once_per_transaction_and_again_in_the_next(
    gateway: tuple[Runtime, TestClient],
    clock: SettableClock,
    uwv: Partner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runtime = gateway[0]
    reads: list[str] = []
    real_standing = access_tokens.party_standing

    def counted(session: Session, party_id: str) -> PartyStanding | None:
        reads.append(party_id)
        return real_standing(session, party_id)

    monkeypatch.setattr(access_tokens, "party_standing", counted)
    token = VerifiedToken(party=uwv.party_id, scope=("reintegration",), token_id="t-1")
    with transaction(runtime.sessions) as session:
        callers = [caller_of(session, token) for _ in range(3)]  # one batch of disclosures
    assert [caller.party for caller in callers] == [uwv.party_id] * 3
    assert reads == [uwv.party_id]
    with transaction(runtime.sessions) as session:
        disable_party(session=session, party_id=uwv.party_id, now=clock())
    with (
        pytest.raises(GatewayError, match="unknown or disabled"),
        transaction(runtime.sessions) as session,
    ):
        caller_of(session, token)
    assert reads == [uwv.party_id] * 2


@pytest.mark.parametrize(("registered", "signed"), [("EdDSA", "Ed25519"), ("Ed25519", "EdDSA")])
def test_ed25519_and_eddsa_name_one_algorithm_whatever_the_registered_key_says(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, registered: str, signed: str
) -> None:
    key = OKPKey.generate_key(
        "Ed25519", parameters={"kid": "ggz-1", "alg": registered, "use": "sig"}, private=True
    )
    partner = Partner("ggz-leiden", "ggz", key, roles=("care-coordinator",))
    register(gateway[0], partner)
    # The partner's own library signs under the other name (joserfc needs a key without "alg").
    unnamed = {name: value for name, value in key.as_dict(private=True).items() if name != "alg"}
    signer = Partner("ggz-leiden", "ggz", OKPKey.import_key(unnamed))
    assertion = signer.assertion(audience=AUDIENCE, now=clock(), header={"alg": signed})
    response = token_request(gateway[1], assertion)
    assert response.status_code == 200, response.text


def test_an_audience_array_is_refused_even_when_it_names_the_token_endpoint(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = uwv.assertion(audience=[AUDIENCE], now=clock())
    assert_unauthorized(token_request(gateway[1], assertion), '"aud" must be a single string')


def test_the_issuer_as_a_single_audience_is_accepted(
    gateway: tuple[Runtime, TestClient], clock: SettableClock, uwv: Partner
) -> None:
    assertion = uwv.assertion(audience="http://testserver", now=clock())
    assert token_request(gateway[1], assertion).status_code == 200


# The names of the IANA "OAuth Authorization Server Metadata" registry (RFC 8414 §7.1) that a
# server with a token endpoint only could use.
REGISTERED_METADATA = {
    "issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "registration_endpoint",
    "scopes_supported", "response_types_supported", "response_modes_supported",
    "grant_types_supported", "token_endpoint_auth_methods_supported",
    "token_endpoint_auth_signing_alg_values_supported", "service_documentation",
    "ui_locales_supported", "op_policy_uri", "op_tos_uri", "revocation_endpoint",
    "introspection_endpoint", "code_challenge_methods_supported",
}  # fmt: skip


def test_metadata_is_complete_and_uses_registered_names_only(
    gateway: tuple[Runtime, TestClient],
) -> None:
    metadata = gateway[1].get("/.well-known/oauth-authorization-server").json()
    assert set(metadata) <= REGISTERED_METADATA, set(metadata) - REGISTERED_METADATA
    for required in ("issuer", "response_types_supported", "token_endpoint", "jwks_uri"):
        assert required in metadata
    assert {"EdDSA", "Ed25519"} <= set(metadata["token_endpoint_auth_signing_alg_values_supported"])


def test_the_cli_prints_no_deprecation_warning_for_an_eddsa_key(tmp_path: Path) -> None:
    environment = {**os.environ, "SCHAKEL_DATA_DIR": str(tmp_path)}
    schakel = str(Path(sys.executable).with_name("schakel"))
    subprocess.run(
        [schakel, "keys", "generate", "--out", str(tmp_path / "k"), "--kid", "k1", "--alg", "EdDSA"],
        check=True, capture_output=True, env=environment,
    )  # fmt: skip
    signed = subprocess.run(
        [schakel, "client-assertion", "ggz-leiden", "--key", str(tmp_path / "k/private.jwk.json")],
        check=True, capture_output=True, text=True, env=environment,
    )  # fmt: skip
    assert signed.stdout.count(".") == 2
    assert "deprecated" not in signed.stderr.lower(), signed.stderr


def test_a_rotated_token_key_is_published_and_accepted_until_its_tokens_expire(
    settings: Settings, clock: SettableClock
) -> None:
    uwv = new_partner("uwv-leiden", "uwv", purposes=("reintegration",))
    with running_gateway(settings, clock) as (runtime, client):
        register(runtime, uwv)
        old = token_request(client, uwv.assertion(audience=AUDIENCE, now=clock())).json()
    keys = settings.data_dir / "keys"
    rotate(keys / "token-signing.pem", keys / "token-retired.json", clock())
    with running_gateway(settings, clock) as (runtime, client):
        bearer = {"Authorization": f"Bearer {old['access_token']}"}
        assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 2
        assert client.get("/v1/whoami", headers=bearer).status_code == 200
        new = token_request(client, uwv.assertion(audience=AUDIENCE, now=clock())).json()
        clock.advance(runtime.settings.access_token_ttl_seconds + 31)
        assert len(client.get("/.well-known/jwks.json").json()["keys"]) == 1
        assert_unauthorized(client.get("/v1/whoami", headers=bearer), "no longer uses")
        fresh = token_request(client, uwv.assertion(audience=AUDIENCE, now=clock())).json()
        assert new["access_token"] != fresh["access_token"]
        fresh_bearer = {"Authorization": f"Bearer {fresh['access_token']}"}
        assert client.get("/v1/whoami", headers=fresh_bearer).status_code == 200
