package schakel.disclosure_test

import data.schakel.disclosure

uwv_advisor := {"party": "uwv-leiden", "domain": "uwv", "role": "reintegration-advisor"}

ggz_coordinator := {"party": "ggz-rivierduinen", "domain": "ggz", "role": "care-coordinator"}

gemeente_manager := {"party": "gemeente-leiden", "domain": "gemeente", "role": "case-manager"}

supporter := {"party": "mee-leiden", "domain": "client-support", "role": "client-supporter"}

consent(grantee, purpose, categories) := {
	"id": sprintf("c-%s-%s", [grantee, purpose]),
	"grantee": grantee,
	"purpose": purpose,
	"categories": categories,
	"in_force": true,
}

request(requester, purpose, categories, consents) := {
	"requester": requester,
	"purpose": purpose,
	"categories": categories,
	"subject": {"consents": consents, "director": "gemeente-leiden"},
	"now": "2026-11-24T10:00:00Z",
}

codes(decision) := {reason.code | some reason in decision.reasons}

test_domain_consent_allows_category_and_fields if {
	d := disclosure.decision with input as request(
		uwv_advisor, "reintegration", ["care.involvement", "work.capacity"],
		[consent("uwv", "reintegration", ["care.involvement"])],
	)
	d.allow
	d.categories == ["care.involvement"]
	d.fields == {"care.involvement": ["in_care", "since", "coordinator_contact"]}
	d.obligations == ["log-disclosure", "mark-special-category", "pseudonymise-subject"]
	[r.category | some r in d.reasons] == ["care.involvement", "work.capacity"]
	d.reasons[0].consent_ids == ["c-uwv-reintegration"]
	d.reasons[1].code == "consent.missing"
}

test_party_consent_allows if {
	d := disclosure.decision with input as request(
		uwv_advisor, "reintegration", ["work.capacity"],
		[consent("uwv-leiden", "reintegration", ["work.capacity"])],
	)
	d.categories == ["work.capacity"]
	d.reasons[0].code == "consent.covered"
}

test_no_consent_denies_with_empty_document if {
	d := disclosure.decision with input as request(uwv_advisor, "reintegration", ["income.benefit"], [])
	not d.allow
	d.categories == []
	d.fields == {}
	d.obligations == []
	d.reasons == [{
		"category": "income.benefit", "allowed": false, "code": "consent.missing",
		"reason": disclosure.reason_text["consent.missing"], "consent_ids": [],
	}]
}

test_consent_not_in_force_denies if {
	c := object.union(consent("uwv", "reintegration", ["income.benefit"]), {"in_force": false})
	d := disclosure.decision with input as request(uwv_advisor, "reintegration", ["income.benefit"], [c])
	not d.allow
}

test_consent_for_other_purpose_denies if {
	d := disclosure.decision with input as request(
		uwv_advisor, "reintegration", ["income.benefit"],
		[consent("uwv", "case-coordination", ["income.benefit"])],
	)
	not d.allow
}

test_consent_for_other_grantee_denies if {
	d := disclosure.decision with input as request(
		uwv_advisor, "reintegration", ["income.benefit"],
		[consent("gemeente", "reintegration", ["income.benefit"])],
	)
	not d.allow
}

test_unknown_purpose_refuses_request if {
	d := disclosure.decision with input as request(
		uwv_advisor, "marketing", ["income.benefit"],
		[consent("uwv", "marketing", ["income.benefit"])],
	)
	not d.allow
	d.reasons[0] == {
		"category": null, "allowed": false, "code": "purpose.unknown",
		"reason": disclosure.reason_text["purpose.unknown"],
	}
	d.reasons[1].code == "request.refused"
}

test_role_outside_domain_refuses_request if {
	requester := object.union(uwv_advisor, {"role": "care-coordinator"})
	d := disclosure.decision with input as request(
		requester, "reintegration", ["income.benefit"],
		[consent("uwv", "reintegration", ["income.benefit"])],
	)
	not d.allow
	codes(d) == {"requester.role_not_in_domain", "requester.not_allowed_for_purpose", "request.refused"}
}

test_role_not_allowed_for_purpose_refuses_request if {
	requester := object.union(uwv_advisor, {"role": "insurance-physician"})
	d := disclosure.decision with input as request(
		requester, "case-coordination", ["income.benefit"],
		[consent("uwv", "case-coordination", ["income.benefit"])],
	)
	not d.allow
	codes(d) == {"requester.not_allowed_for_purpose", "request.refused"}
}

test_operator_never_receives_case_data if {
	operator := object.union(gemeente_manager, {"role": "operator"})
	every purpose in ["reintegration", "case-coordination"] {
		d := disclosure.decision with input as request(
			operator, purpose, ["plan.goals", "income.benefit"],
			[consent("gemeente-leiden", purpose, ["plan.goals", "income.benefit"])],
		)
		not d.allow
		codes(d) == {"requester.not_allowed_for_purpose", "request.refused"}
	}
}

test_role_allowed_for_purpose_is_not_refused if {
	requester := object.union(uwv_advisor, {"role": "insurance-physician"})
	d := disclosure.decision with input as request(
		requester, "reintegration", ["work.capacity"],
		[consent("uwv", "reintegration", ["work.capacity"])],
	)
	d.allow
}

test_missing_party_refuses_request if {
	d := disclosure.decision with input as request(
		{"domain": "uwv", "role": "reintegration-advisor"}, "reintegration", ["income.benefit"],
		[consent("uwv", "reintegration", ["income.benefit"])],
	)
	not d.allow
	codes(d) == {"requester.party_missing", "request.refused"}
}

test_empty_input_is_refused if {
	d := disclosure.decision with input as {}
	not d.allow
	codes(d) == {"purpose.unknown", "requester.party_missing", "requester.role_not_in_domain"}
}

test_unknown_category_denied_known_allowed if {
	d := disclosure.decision with input as request(
		uwv_advisor, "reintegration", ["work.capacity", "health.dna"],
		[consent("uwv", "reintegration", ["work.capacity", "health.dna"])],
	)
	d.categories == ["work.capacity"]
	d.reasons[0] == {
		"category": "health.dna", "allowed": false, "code": "category.unknown",
		"reason": disclosure.reason_text["category.unknown"], "consent_ids": [],
	}
}

test_category_outside_purpose_denied if {
	d := disclosure.decision with input as request(
		uwv_advisor, "case-coordination", ["work.capacity", "income.benefit"],
		[consent("uwv", "case-coordination", ["work.capacity", "income.benefit"])],
	)
	d.categories == ["income.benefit"]
	d.reasons[1].code == "category.not_for_purpose"
}

test_duplicate_categories_give_one_reason if {
	d := disclosure.decision with input as request(
		uwv_advisor, "reintegration", ["income.benefit", "income.benefit"],
		[consent("uwv", "reintegration", ["income.benefit"])],
	)
	count(d.reasons) == 1
	d.obligations == ["log-disclosure", "pseudonymise-subject"]
}

test_diagnosis_never_leaves_ggz_whatever_the_consent if {
	d := disclosure.decision with input as request(
		uwv_advisor, "reintegration", ["care.diagnosis"],
		[consent("uwv-leiden", "reintegration", ["care.diagnosis"])],
	)
	not d.allow
	d.reasons[0].code == "category.medical_secrecy"
}

diagnosis_purposes := object.union(
	data.schakel.catalogue.purposes,
	{"reintegration": object.union(
		data.schakel.catalogue.purposes.reintegration,
		{"categories": ["care.diagnosis"]},
	)},
)

test_diagnosis_to_ggz_party_with_party_consent_when_purpose_lists_it if {
	d := disclosure.decision with input as request(
		ggz_coordinator, "reintegration", ["care.diagnosis"],
		[consent("ggz-rivierduinen", "reintegration", ["care.diagnosis"])],
	)
		with data.schakel.catalogue.purposes as diagnosis_purposes
	d.categories == ["care.diagnosis"]
}

test_diagnosis_to_ggz_needs_party_consent if {
	d := disclosure.decision with input as request(
		ggz_coordinator, "reintegration", ["care.diagnosis"],
		[consent("ggz", "reintegration", ["care.diagnosis"])],
	)
		with data.schakel.catalogue.purposes as diagnosis_purposes
	not d.allow
	d.reasons[0].code == "consent.party_required"
}

test_diagnosis_to_ggz_not_in_shipped_purposes if {
	d := disclosure.decision with input as request(
		ggz_coordinator, "reintegration", ["care.diagnosis"],
		[consent("ggz-rivierduinen", "reintegration", ["care.diagnosis"])],
	)
	not d.allow
	d.reasons[0].code == "category.not_for_purpose"
}

test_client_support_with_party_consent_allowed if {
	d := disclosure.decision with input as request(
		supporter, "reintegration", ["plan.goals"],
		[consent("mee-leiden", "reintegration", ["plan.goals"])],
	)
	d.categories == ["plan.goals"]
}

test_client_support_domain_consent_denied if {
	d := disclosure.decision with input as request(
		supporter, "reintegration", ["plan.goals"],
		[consent("client-support", "reintegration", ["plan.goals"])],
	)
	not d.allow
	d.reasons[0].code == "consent.party_required"
}

test_director_gets_plan_without_consent if {
	d := disclosure.decision with input as request(gemeente_manager, "case-coordination", ["plan.actions", "plan.goals"], [])
	d.categories == ["plan.actions", "plan.goals"]
	codes(d) == {"director.overview"}
	d.obligations == ["log-disclosure", "pseudonymise-subject"]
}

test_director_needs_consent_for_care_involvement if {
	d := disclosure.decision with input as request(gemeente_manager, "case-coordination", ["care.involvement"], [])
	not d.allow
	d.reasons[0].code == "consent.missing"
}

test_director_overview_only_for_case_coordination if {
	d := disclosure.decision with input as request(gemeente_manager, "reintegration", ["plan.goals"], [])
	not d.allow
}

test_non_director_needs_consent_for_plan if {
	requester := object.union(gemeente_manager, {"party": "gemeente-katwijk"})
	d := disclosure.decision with input as request(requester, "case-coordination", ["plan.goals"], [])
	not d.allow
}
