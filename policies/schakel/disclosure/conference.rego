package schakel.disclosure

# METADATA
# title: Conference purpose
# description: >-
#   The purpose asked is a case conference's (its catalogue entry says conference: true): the
#   request must come inside a conference (input.conference) from one of its parties, within its
#   window, and only a consent for that very conference counts.
# scope: document
conference_purpose if data.schakel.catalogue.purposes[input.purpose].conference == true

# METADATA
# title: Conference refusals
# description: >-
#   Reasons that refuse a conference read as a whole (request_denial holds them for a conference
#   purpose): no conference given, a requester that is neither its chair nor invited, and a
#   decision outside the conference's time window. The window is decided here, on input.now, so
#   a conference view closes by itself.
# custom:
#   reason_codes:
#     - conference.missing
#     - conference.not_invited
#     - conference.not_open
#     - conference.closed
# scope: document
conference_denial contains "conference.missing" if not conference_given

conference_denial contains "conference.not_invited" if {
	conference_given
	not party_in_conference
}

conference_denial contains "conference.not_open" if {
	conference_given
	not conference_started
}

conference_denial contains "conference.closed" if {
	conference_given
	not conference_running
}

# METADATA
# title: Conference given
# description: The input names a conference (an object); a rule about it needs it.
conference_given if is_object(input.conference)

# METADATA
# title: Party in conference
# description: The requesting party chairs the conference or is invited to it.
party_in_conference if input.requester.party == input.conference.chair

party_in_conference if input.requester.party in input.conference.invited

# METADATA
# title: Conference started
# description: >-
#   Now is at or after the window's start. A time that does not parse leaves this undefined,
#   which refuses the request (fail closed).
conference_started if time.parse_rfc3339_ns(input.conference.starts_at) <= time.parse_rfc3339_ns(input.now)

# METADATA
# title: Conference running
# description: Now is before the window's end; undefined (so refused) when a time does not parse.
conference_running if time.parse_rfc3339_ns(input.now) < time.parse_rfc3339_ns(input.conference.ends_at)

# METADATA
# title: Conference verdict
# description: >-
#   The verdict on a category in a case conference: disclosed only on a consent for this
#   conference that names the requester (with the ids of those consents); otherwise the
#   participant is discussed anonymously.
conference_verdict(category) := {"code": "conference.consented", "consent_ids": conference_consent_ids(category)} if {
	category in conference_consented_categories
} else := {"code": "conference.consent_missing", "consent_ids": []}

# METADATA
# title: Conference consent applies
# description: >-
#   A participant's consent for a conference counts only for that conference and only for the
#   parties it names: a consent given for another conference, however similar, does not.
conference_consent_applies(consent) if {
	consent.conference == input.conference.id
	input.requester.party in consent.parties
}

# METADATA
# title: Conference grants
# description: One grant per category of every applying consent for this conference.
conference_grant contains {"category": category, "id": consent.id} if {
	some consent in input.subject.conference_consents
	conference_consent_applies(consent)
	some category in consent.categories
}

# METADATA
# title: Conference-consented categories
# description: The categories a consent for this conference, naming the requester, covers.
conference_consented_categories contains grant.category if some grant in conference_grant

# METADATA
# title: Conference consent ids
# description: The sorted ids of the consents for this conference that cover the category.
conference_consent_ids(category) := sort({grant.id |
	some grant in conference_grant
	grant.category == category
})
