package schakel.disclosure_test

import data.schakel.disclosure

statistics_office := {"party": "stuurgroep-holland-rijnland", "domain": "region", "role": "regional-statistics"}

trajectory := ["trajectory.milestone", "trajectory.outcome", "trajectory.start"]

counting(requester, region, consents, objection) := {
	"requester": requester,
	"purpose": "regional-monitoring",
	"categories": trajectory,
	"subject": {"consents": consents, "director": null, "monitoring_objection": objection},
	"release": {"region": region},
	"now": "2026-11-24T10:00:00Z",
}

zeeland_office := {"party": "stuurgroep-zeeland", "domain": "region", "role": "regional-statistics"}

test_consent_region_counts_the_consented_categories_only if {
	d := disclosure.decision with input as counting(
		statistics_office, "holland-rijnland",
		[consent("region", "regional-monitoring", ["trajectory.start", "trajectory.outcome"])], false,
	)
	d.categories == ["trajectory.outcome", "trajectory.start"]
	{r.category: r.code | some r in d.reasons} == {
		"trajectory.milestone": "consent.missing",
		"trajectory.outcome": "consent.covered",
		"trajectory.start": "consent.covered",
	}
}

test_consent_region_counts_nobody_without_consent if {
	d := disclosure.decision with input as counting(statistics_office, "holland-rijnland", [], false)
	not d.allow
	codes(d) == {"consent.missing"}
}

test_a_consent_for_another_purpose_does_not_count if {
	d := disclosure.decision with input as counting(
		statistics_office, "holland-rijnland",
		[consent("region", "reintegration", trajectory)], false,
	)
	not d.allow
}

test_agreement_region_counts_everyone_who_did_not_object if {
	d := disclosure.decision with input as counting(zeeland_office, "zeeland", [], false)
	d.categories == trajectory
	codes(d) == {"monitoring.agreement"}
}

test_an_objection_excludes_whatever_the_basis_and_the_consent if {
	agreement := disclosure.decision with input as counting(zeeland_office, "zeeland", [], true)
	not agreement.allow
	codes(agreement) == {"monitoring.objected"}
	consented := disclosure.decision with input as counting(
		statistics_office, "holland-rijnland",
		[consent("region", "regional-monitoring", trajectory)], true,
	)
	not consented.allow
	codes(consented) == {"monitoring.objected"}
}

test_one_persons_facts_are_never_disclosed_outside_a_release if {
	d := disclosure.decision with input as object.remove(
		counting(statistics_office, "holland-rijnland", [consent("region", "regional-monitoring", trajectory)], false),
		["release"],
	)
	not d.allow
	codes(d) == {"release.missing", "request.refused"}
}

test_only_the_regions_named_recipients_may_ask if {
	d := disclosure.decision with input as counting(zeeland_office, "holland-rijnland", [], false)
	not d.allow
	codes(d) == {"release.not_recipient", "request.refused"}
}

test_a_region_without_monitoring_is_refused if {
	d := disclosure.decision with input as counting(statistics_office, "atlantis", [], false)
	not d.allow
	codes(d) == {"release.region_unknown", "request.refused"}
}

test_no_other_domain_may_ask_for_the_statistics if {
	d := disclosure.decision with input as counting(uwv_advisor, "holland-rijnland", [], false)
	not d.allow
	"requester.not_allowed_for_purpose" in codes(d)
}

test_the_statistics_office_never_reaches_case_data if {
	d := disclosure.decision with input as request(
		statistics_office, "reintegration", ["care.involvement", "income.benefit"],
		[consent("region", "reintegration", ["care.involvement", "income.benefit"])],
	)
	not d.allow
}

test_statistics_rules_do_not_touch_other_purposes if {
	d := disclosure.decision with input as object.union(
		request(uwv_advisor, "reintegration", ["income.benefit"], [consent("uwv", "reintegration", ["income.benefit"])]),
		{"subject": {"consents": [consent("uwv", "reintegration", ["income.benefit"])], "monitoring_objection": true}},
	)
	d.categories == ["income.benefit"]
}
