"""How an organisation's provider's claims become roles and an audit user id: whatever shape a
claim has, a sign-in is refused or granted, never an error."""

from __future__ import annotations

from typing import Any, cast

import pytest

from gateway.auth.flow import audit_user_id
from gateway.auth.oidc import RelyingParty
from gateway.auth.sign_in_providers import OfficerProvider

PROVIDER = OfficerProvider(
    party="ggz-leiden",
    relying_party=cast(RelyingParty, None),  # the claims alone are read here
    user_claim="sub",
    roles_claim="groups",
    roles={"privacy-officer": "fg-schakel", "operator": "beheer"},
)


@pytest.mark.parametrize(
    ("given", "roles"),
    [
        (["fg-schakel", "medewerkers"], ["privacy-officer"]),
        ("beheer", ["operator"]),
        ({"fg-schakel": True}, []),
        ([{"name": "fg-schakel"}, "beheer"], ["operator"]),
        (None, []),
        (42, []),
    ],
)
def test_a_roles_claim_of_any_shape_grants_only_the_groups_it_names(
    given: Any, roles: list[str]
) -> None:
    assert PROVIDER.roles_of({"groups": given}) == roles


def test_a_user_id_that_fits_the_entry_is_kept_and_any_other_is_digested() -> None:
    assert audit_user_id("fg-anna") == "fg-anna"
    long, with_bsn = "u" * 200, "anna/999900006"
    for given in (long, with_bsn):
        digested = audit_user_id(given)
        assert digested.startswith("sha256:") and len(digested) == 64
        assert digested == audit_user_id(given) and "999900006" not in digested
