# METADATA
# title: Schakel disclosure decisions
# description: >-
#   Decides which canonical data categories one requester may receive about one participant for one
#   purpose (docs/architecture.md, "The policy decision contract"). The result holds sorted arrays only, so the
#   embedded engine and an OPA server give byte-identical JSON.
# scope: package
package schakel.disclosure

# METADATA
# title: Purpose asked
# description: The catalogue entry of the purpose asked; undefined for an unknown purpose.
purpose := data.schakel.catalogue.purposes[input.purpose]

# METADATA
# title: Categories asked
# description: The distinct categories of the request.
asked contains category if some category in input.categories

# METADATA
# title: Request-level refusals
# description: >-
#   Reasons that refuse the whole request before any category is looked at: purpose binding
#   (the purpose must exist) and the requester's party, domain and role; for a case conference
#   its conference_denial, for a statistics purpose its release_denial.
# custom:
#   reason_codes:
#     - purpose.unknown
#     - requester.party_missing
#     - requester.role_not_in_domain
#     - requester.not_allowed_for_purpose
request_denial contains "purpose.unknown" if not purpose

request_denial contains "requester.party_missing" if not party_named

request_denial contains "requester.role_not_in_domain" if not role_held_in_domain

request_denial contains "requester.not_allowed_for_purpose" if {
	purpose
	not requester_allowed_for_purpose
}

request_denial contains code if {
	conference_purpose
	some code in conference_denial
}

request_denial contains code if {
	statistics_purpose
	some code in release_denial
}

# METADATA
# title: Party named
# description: The requester names its party (a string), which party-level consents and directorship need.
party_named if is_string(input.requester.party)

# METADATA
# title: Role held in domain
# description: The requester's role exists and may be held in the requester's domain.
role_held_in_domain if input.requester.domain in data.schakel.catalogue.roles[input.requester.role].domains

# METADATA
# title: Requester allowed for purpose
# description: The purpose lists the requester's role for the requester's domain.
requester_allowed_for_purpose if input.requester.role in purpose.requesters[input.requester.domain]

# METADATA
# title: Request refused
# description: At least one request-level refusal applies; every category is then denied.
request_refused if count(request_denial) > 0

# METADATA
# title: Confined to source domain
# description: >-
#   The clinical categories asked (care.diagnosis) outside their source domain: they never leave
#   it (medical secrecy, WGBO art. 7:457 BW), whatever a consent says. Within the source domain
#   they still need purpose binding and a consent naming the requesting party itself (see
#   party_consent_required).
confined_outside_source contains category if {
	some category in asked
	data.schakel.catalogue.categories[category].sensitivity == "clinical"
	not input.requester.domain in data.schakel.catalogue.categories[category].sources
}

# METADATA
# title: Director overview
# description: >-
#   The categories the director named for the participant (input.subject.director equals the
#   requester's party) receives without a category consent: the purpose's director_categories
#   (for case-coordination: plan.goals and plan.actions), the shared plan being the director's to
#   coordinate; none for any other requester. Everything else,
#   care.involvement included (health data, GDPR Art. 9), still needs a consent like any requester.
director_overview contains category if {
	requester_is_director
	some category in purpose.director_categories
}

# METADATA
# title: Requester is director
# description: The participant has a director and it is the requesting party.
requester_is_director if {
	is_string(input.subject.director)
	input.subject.director == input.requester.party
}

# METADATA
# title: Category verdict
# description: >-
#   One verdict per category asked, first matching rule wins: its code (allowing codes are in
#   allow_codes) and the sorted ids of the consents a disclosure rests on (none for a denial, the
#   director's overview or a region's agreement).
#   What may never be disclosed (care data to an employer, clinical data outside its source,
#   anything beyond a domain's reach) is decided before any consent is looked at; in a case
#   conference only a consent for that conference counts; in a release an objection excludes
#   the participant, and a region counting on its own agreement needs no consent.
# custom:
#   reason_codes:
#     - request.refused
#     - category.unknown
#     - category.care_data_barred
#     - category.medical_secrecy
#     - category.beyond_reach
#     - category.not_for_purpose
#     - conference.consented
#     - conference.consent_missing
#     - monitoring.objected
#     - monitoring.agreement
#     - director.overview
#     - consent.covered
#     - consent.party_required
#     - consent.missing
verdict(category) := {"code": "request.refused", "consent_ids": []} if {
	request_refused
} else := {"code": "category.unknown", "consent_ids": []} if {
	not data.schakel.catalogue.categories[category]
} else := {"code": "category.care_data_barred", "consent_ids": []} if {
	category in care_data_barred
} else := {"code": "category.medical_secrecy", "consent_ids": []} if {
	category in confined_outside_source
} else := {"code": "category.beyond_reach", "consent_ids": []} if {
	category in beyond_reach
} else := {"code": "category.not_for_purpose", "consent_ids": []} if {
	not category in purpose.categories
} else := conference_verdict(category) if {
	conference_purpose
} else := {"code": monitoring_verdict, "consent_ids": []} if {
	statistics_purpose
	monitoring_verdict
} else := {"code": "director.overview", "consent_ids": []} if {
	category in director_overview
} else := {"code": "consent.covered", "consent_ids": covering_consent_ids(category)} if {
	category in consented_categories
} else := {"code": "consent.party_required", "consent_ids": []} if {
	category in domain_consented_categories
} else := {"code": "consent.missing", "consent_ids": []}

# METADATA
# title: Verdicts
# description: The verdict of every category asked, evaluated once.
verdicts[category] := verdict(category) if some category in asked

# METADATA
# title: Allowing codes
# description: The verdict codes that disclose a category.
allow_codes := {"director.overview", "consent.covered", "conference.consented", "monitoring.agreement"}

# METADATA
# title: Allowed categories
# description: Categories asked whose verdict allows disclosure.
allowed contains category if {
	some category, outcome in verdicts
	outcome.code in allow_codes
}

# METADATA
# title: Allow
# description: True iff at least one category asked is allowed.
default allow := false

allow if count(allowed) > 0

# METADATA
# title: Allowed fields
# description: The catalogue's fields of each allowed category; nothing else may be disclosed.
allowed_fields[category] := data.schakel.catalogue.categories[category].fields if some category in allowed

# METADATA
# title: Obligations
# description: >-
#   What the gateway must do when it discloses: log the disclosure, pseudonymise the participant
#   for the requester's domain, and mark special-category data (GDPR Art. 9) as such.
obligation contains "log-disclosure" if allow

obligation contains "pseudonymise-subject" if allow

obligation contains "mark-special-category" if {
	some category in allowed
	data.schakel.catalogue.categories[category].sensitivity in {"special", "clinical"}
}

# METADATA
# title: Reason texts
# description: The human-readable text of every reason code.
reason_text := {
	"purpose.unknown": "the purpose is not in the catalogue",
	"requester.party_missing": "the requester names no party",
	"requester.role_not_in_domain": "the requester's role is unknown or not held in the requester's domain",
	"requester.not_allowed_for_purpose": "the requester's domain and role may not ask for this purpose",
	"request.refused": "the request as a whole is refused",
	"category.unknown": "the category is not in the catalogue",
	"category.care_data_barred": "care data never goes to this kind of party, whatever a consent says",
	"category.medical_secrecy": "clinical data never leaves its source domain (medical secrecy)",
	"category.beyond_reach": "this kind of party may never receive this category",
	"category.not_for_purpose": "the category is not part of this purpose",
	"conference.missing": "a case-conference read names no conference",
	"conference.not_invited": "the requester neither chairs nor is invited to this conference",
	"conference.not_open": "the conference's time window has not begun",
	"conference.closed": "the conference's time window has ended: its views are closed",
	"conference.consented": "the participant's consent for this conference names this party and covers this category",
	"conference.consent_missing": "no consent for this conference names this party and covers this category: the participant is discussed anonymously",
	"release.missing": "this purpose is only ever counted in a protected release, never disclosed about one person",
	"release.region_unknown": "the release names a region that keeps no monitoring",
	"release.not_recipient": "the region does not name this party as a recipient of its releases",
	"monitoring.objected": "the participant objected to being counted: not counted in any release",
	"monitoring.agreement": "the region counts this category under its own agreement (GDPR Art. 89); the participant did not object",
	"director.overview": "the requester is the participant's director and this category is part of the director's overview",
	"consent.covered": "a consent in force covers this category for this requester and purpose",
	"consent.party_required": "only a consent naming the requesting party itself counts here, not a domain-wide consent",
	"consent.missing": "no consent in force covers this category for this requester and purpose",
}

# METADATA
# title: Request-level reasons
# description: One reason per request-level refusal, sorted by code, with a null category.
request_reasons := [reason |
	some code in sort(request_denial)
	reason := {"category": null, "allowed": false, "code": code, "reason": reason_text[code]}
]

# METADATA
# title: Category reasons
# description: >-
#   One reason per distinct category asked, sorted by category, with the ids of the consents
#   that allowed it (none when it is denied or disclosed to the director).
category_reasons := [reason |
	some category in sort(asked)
	outcome := verdicts[category]
	reason := {
		"category": category,
		"allowed": outcome.code in allow_codes,
		"code": outcome.code,
		"reason": reason_text[outcome.code],
		"consent_ids": outcome.consent_ids,
	}
]

# METADATA
# title: Decision
# description: The decision document (docs/architecture.md contract); sorted arrays only, never sets.
decision := {
	"allow": allow,
	"categories": sort(allowed),
	"fields": allowed_fields,
	"obligations": sort(obligation),
	"reasons": array.concat(request_reasons, category_reasons),
}
