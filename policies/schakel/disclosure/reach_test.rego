package schakel.disclosure_test

import data.schakel.disclosure

employer := {"party": "werkgever-zeeland", "domain": "employer", "role": "employer-representative"}

peer := {"party": "ervaring-leiden", "domain": "peer-support", "role": "peer-supporter"}

# The employer with a reach that lists every category: only the care-data rule stands between
# it and care data, so this test fails when that rule is gone.
employer_reaching_everything := object.union(
	data.schakel.catalogue.domains,
	{"employer": object.union(
		data.schakel.catalogue.domains.employer,
		{"reach": object.keys(data.schakel.catalogue.categories)},
	)},
)

test_employer_never_receives_care_data_whatever_the_consent_and_reach if {
	d := disclosure.decision with input as request(
		employer, "reintegration", ["care.involvement", "care.work_readiness", "work.reintegration"],
		[consent("werkgever-zeeland", "reintegration", ["care.involvement", "care.work_readiness", "work.reintegration"])],
	)
		with data.schakel.catalogue.domains as employer_reaching_everything
	d.categories == ["work.reintegration"]
	d.reasons[0].code == "category.care_data_barred"
	d.reasons[1].code == "category.care_data_barred"
}

test_employer_care_data_barred_before_anything_else if {
	d := disclosure.decision with input as request(
		employer, "reintegration", ["care.diagnosis", "care.involvement"],
		[consent("werkgever-zeeland", "reintegration", ["care.diagnosis", "care.involvement"])],
	)
	codes(d) == {"category.care_data_barred"}
}

test_care_data_barred_only_for_a_domain_that_says_never if {
	asked := ["care.involvement", "work.reintegration"]
	disclosure.care_data_barred == {"care.involvement"} with input as {"requester": employer, "categories": asked}
	count(disclosure.care_data_barred) == 0 with input as {"requester": peer, "categories": asked}
	count(disclosure.care_data_barred) == 0 with input as {"requester": uwv_advisor, "categories": asked}
}

test_employer_reach_is_the_narrowest if {
	d := disclosure.decision with input as request(
		employer, "reintegration", ["income.benefit", "work.capacity", "plan.goals", "plan.actions", "work.reintegration"],
		[consent("werkgever-zeeland", "reintegration", ["income.benefit", "work.capacity", "plan.goals", "plan.actions", "work.reintegration"])],
	)
	d.categories == ["plan.actions", "work.reintegration"]
	{r.category: r.code | some r in d.reasons} == {
		"income.benefit": "category.beyond_reach",
		"plan.actions": "consent.covered",
		"plan.goals": "category.beyond_reach",
		"work.capacity": "category.beyond_reach",
		"work.reintegration": "consent.covered",
	}
}

test_employer_needs_a_consent_naming_itself if {
	d := disclosure.decision with input as request(
		employer, "reintegration", ["work.reintegration"],
		[consent("employer", "reintegration", ["work.reintegration"])],
	)
	not d.allow
	d.reasons[0].code == "consent.party_required"
}

test_peer_supporter_sees_care_involvement_but_not_benefits if {
	d := disclosure.decision with input as request(
		peer, "reintegration", ["care.involvement", "income.benefit"],
		[consent("ervaring-leiden", "reintegration", ["care.involvement", "income.benefit"])],
	)
	d.categories == ["care.involvement"]
	d.reasons[1].code == "category.beyond_reach"
}

test_a_domain_without_reach_is_bounded_by_its_purposes_only if {
	count(disclosure.beyond_reach) == 0 with input as {"requester": uwv_advisor, "categories": ["work.capacity"]}
	disclosure.beyond_reach == {"work.capacity"} with input as {"requester": peer, "categories": ["work.capacity"]}
}

test_life_coach_can_direct if {
	coach := {"party": "dzb-leiden", "domain": "reintegration-provider", "role": "life-coach"}
	d := disclosure.decision with input as object.union(
		request(coach, "case-coordination", ["plan.actions", "plan.goals"], []),
		{"subject": {"consents": [], "director": "dzb-leiden"}},
	)
	d.categories == ["plan.actions", "plan.goals"]
	codes(d) == {"director.overview"}
}
