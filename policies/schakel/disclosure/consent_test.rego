package schakel.disclosure_test

import data.schakel.disclosure

test_consent_grant_levels if {
	grants := disclosure.consent_grant with input as {
		"requester": {"party": "uwv-leiden", "domain": "uwv"},
		"purpose": "reintegration",
		"subject": {"consents": [
			{"id": "p", "grantee": "uwv-leiden", "purpose": "reintegration", "categories": ["a"], "in_force": true},
			{"id": "d", "grantee": "uwv", "purpose": "reintegration", "categories": ["b"], "in_force": true},
			{"id": "x", "grantee": "ggz", "purpose": "reintegration", "categories": ["c"], "in_force": true},
		]},
	}
	grants == {
		{"category": "a", "id": "p", "level": "party"},
		{"category": "b", "id": "d", "level": "domain"},
	}
}

test_consent_applies_only_in_force_for_purpose if {
	with_input := {"purpose": "reintegration"}
	disclosure.consent_applies({"in_force": true, "purpose": "reintegration"}) with input as with_input
	not disclosure.consent_applies({"in_force": false, "purpose": "reintegration"}) with input as with_input
	not disclosure.consent_applies({"in_force": "yes", "purpose": "reintegration"}) with input as with_input
	not disclosure.consent_applies({"in_force": true, "purpose": "case-coordination"}) with input as with_input
}

test_party_consent_required_for_client_support_and_clinical if {
	disclosure.party_consent_required("plan.goals") with input as {"requester": {"domain": "client-support"}}
	disclosure.party_consent_required("care.diagnosis") with input as {"requester": {"domain": "ggz"}}
	not disclosure.party_consent_required("plan.goals") with input as {"requester": {"domain": "uwv"}}
}

test_grant_counts if {
	disclosure.grant_counts({"level": "party", "category": "care.diagnosis"})
	disclosure.grant_counts({"level": "domain", "category": "plan.goals"}) with input as {"requester": {"domain": "uwv"}}
	not disclosure.grant_counts({"level": "domain", "category": "care.diagnosis"}) with input as {"requester": {"domain": "ggz"}}
}

test_covering_consent_ids_sorted_and_counting_only if {
	ids := disclosure.covering_consent_ids("plan.goals") with input as {
		"requester": {"party": "mee-leiden", "domain": "client-support"},
		"purpose": "reintegration",
		"subject": {"consents": [
			{"id": "z", "grantee": "mee-leiden", "purpose": "reintegration", "categories": ["plan.goals"], "in_force": true},
			{"id": "a", "grantee": "mee-leiden", "purpose": "reintegration", "categories": ["plan.goals"], "in_force": true},
			{"id": "m", "grantee": "client-support", "purpose": "reintegration", "categories": ["plan.goals"], "in_force": true},
		]},
	}
	ids == ["a", "z"]
}
