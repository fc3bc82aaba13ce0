package schakel.disclosure_test

import data.schakel.disclosure

conference := {
	"id": "conf-1",
	"chair": "dzb-leiden",
	"starts_at": "2026-11-24T09:00:00Z",
	"ends_at": "2026-11-24T12:00:00Z",
	"invited": ["uwv-leiden", "werkgever-zeeland", "ggz-rivierduinen"],
}

conference_consent(id, conference_id, parties, categories) := {
	"id": id,
	"conference": conference_id,
	"parties": parties,
	"categories": categories,
}

conference_request(requester, categories, consents, now) := {
	"requester": requester,
	"purpose": "case-conference",
	"categories": categories,
	"subject": {"consents": [], "conference_consents": consents, "director": null},
	"conference": conference,
	"now": now,
}

inside := "2026-11-24T10:00:00Z"

after := "2026-11-24T12:00:00Z"

yes := conference_consent("a1", "conf-1", ["uwv-leiden", "werkgever-zeeland"], ["care.involvement", "plan.actions", "work.reintegration"])

test_invited_party_reads_consented_categories_inside_the_window if {
	d := disclosure.decision with input as conference_request(uwv_advisor, ["care.involvement", "plan.actions", "income.benefit"], [yes], inside)
	d.categories == ["care.involvement", "plan.actions"]
	{r.category: r.code | some r in d.reasons} == {
		"care.involvement": "conference.consented",
		"plan.actions": "conference.consented",
		"income.benefit": "conference.consent_missing",
	}
	d.reasons[0].consent_ids == ["a1"]
}

test_the_same_read_after_the_window_is_refused if {
	d := disclosure.decision with input as conference_request(uwv_advisor, ["care.involvement", "plan.actions"], [yes], after)
	not d.allow
	codes(d) == {"conference.closed", "request.refused"}
}

test_a_read_before_the_window_is_refused if {
	d := disclosure.decision with input as conference_request(uwv_advisor, ["plan.actions"], [yes], "2026-11-24T08:59:59Z")
	not d.allow
	codes(d) == {"conference.not_open", "request.refused"}
}

test_the_window_is_compared_as_instants_not_as_text if {
	d := disclosure.decision with input as conference_request(uwv_advisor, ["plan.actions"], [yes], "2026-11-24T12:30:00+01:00")
	d.categories == ["plan.actions"]
}

test_a_window_that_does_not_parse_refuses if {
	broken := object.union(conference_request(uwv_advisor, ["plan.actions"], [yes], inside), {"conference": object.union(conference, {"ends_at": "soon"})})
	d := disclosure.decision with input as broken
	not d.allow
	codes(d) == {"conference.closed", "request.refused"}
}

test_an_uninvited_party_is_refused if {
	outsider := {"party": "mee-leiden", "domain": "client-support", "role": "client-supporter"}
	d := disclosure.decision with input as conference_request(outsider, ["plan.actions"], [conference_consent("a1", "conf-1", ["mee-leiden"], ["plan.actions"])], inside)
	not d.allow
	codes(d) == {"conference.not_invited", "request.refused"}
}

test_the_chair_is_a_party_of_its_conference if {
	chair := {"party": "dzb-leiden", "domain": "reintegration-provider", "role": "trajectory-coach"}
	d := disclosure.decision with input as conference_request(chair, ["plan.actions"], [conference_consent("a1", "conf-1", ["dzb-leiden"], ["plan.actions"])], inside)
	d.categories == ["plan.actions"]
}

test_a_case_conference_read_outside_a_conference_is_refused if {
	d := disclosure.decision with input as object.remove(conference_request(uwv_advisor, ["plan.actions"], [yes], inside), ["conference"])
	not d.allow
	codes(d) == {"conference.missing", "request.refused"}
}

test_a_consent_for_another_conference_does_not_count if {
	other := conference_consent("b1", "conf-2", ["uwv-leiden"], ["plan.actions"])
	d := disclosure.decision with input as conference_request(uwv_advisor, ["plan.actions"], [other], inside)
	not d.allow
	d.reasons[0].code == "conference.consent_missing"
}

test_a_consent_not_naming_the_party_does_not_count if {
	d := disclosure.decision with input as conference_request(ggz_coordinator, ["care.involvement"], [yes], inside)
	not d.allow
	d.reasons[0].code == "conference.consent_missing"
}

test_an_ordinary_consent_does_not_count_in_a_conference if {
	d := disclosure.decision with input as object.union(
		conference_request(uwv_advisor, ["plan.actions"], [], inside),
		{"subject": {"consents": [consent("uwv-leiden", "case-conference", ["plan.actions"])], "conference_consents": []}},
	)
	not d.allow
	d.reasons[0].code == "conference.consent_missing"
}

test_the_employer_gets_no_care_data_in_a_conference_either if {
	d := disclosure.decision with input as conference_request(employer, ["care.involvement", "plan.actions", "work.reintegration"], [yes], inside)
	d.categories == ["plan.actions", "work.reintegration"]
	d.reasons[0].code == "category.care_data_barred"
}

test_parties_involved_only_in_a_conference if {
	d := disclosure.decision with input as request(uwv_advisor, "reintegration", ["plan.involved"], [consent("uwv-leiden", "reintegration", ["plan.involved"])])
	not d.allow
	d.reasons[0].code == "category.not_for_purpose"
}

test_conference_rules_do_not_touch_other_purposes if {
	d := disclosure.decision with input as object.union(
		request(uwv_advisor, "reintegration", ["income.benefit"], [consent("uwv", "reintegration", ["income.benefit"])]),
		{"now": after, "conference": conference},
	)
	d.categories == ["income.benefit"]
}
