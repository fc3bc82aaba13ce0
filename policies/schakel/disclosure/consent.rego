package schakel.disclosure

# METADATA
# title: Consent grants
# description: >-
#   Consent coverage. One grant per category of every consent in force for this purpose whose
#   grantee (a party id or a domain name) is the requesting party ("party") or the requester's
#   domain ("domain"). A domain-wide grant does not count where party consent is required.
# scope: document
consent_grant contains {"category": category, "id": consent.id, "level": "party"} if {
	some consent in input.subject.consents
	consent_applies(consent)
	consent.grantee == input.requester.party
	some category in consent.categories
}

consent_grant contains {"category": category, "id": consent.id, "level": "domain"} if {
	some consent in input.subject.consents
	consent_applies(consent)
	consent.grantee != input.requester.party
	consent.grantee == input.requester.domain
	some category in consent.categories
}

# METADATA
# title: Consent applies
# description: The consent is in force and given for the purpose asked (GDPR Art. 6(1)(a), 7).
consent_applies(consent) if {
	consent.in_force == true
	consent.purpose == input.purpose
}

# METADATA
# title: Party consent required
# description: >-
#   Client support acts only for the participant: its domain says consent_grantee "party", so
#   only a consent naming the requesting party counts. Clinical categories likewise need a
#   consent naming the party.
party_consent_required(_) if data.schakel.catalogue.domains[input.requester.domain].consent_grantee == "party"

party_consent_required(category) if data.schakel.catalogue.categories[category].sensitivity == "clinical"

# METADATA
# title: Grant counts
# description: A party grant always counts; a domain grant unless party consent is required.
grant_counts(grant) if grant.level == "party"

grant_counts(grant) if {
	grant.level == "domain"
	not party_consent_required(grant.category)
}

# METADATA
# title: Counting grants
# description: The grants that count, each checked once for the whole request.
counting_grant contains grant if {
	some grant in consent_grant
	grant_counts(grant)
}

# METADATA
# title: Consented categories
# description: The categories a counting grant covers.
consented_categories contains grant.category if some grant in counting_grant

# METADATA
# title: Domain-consented categories
# description: The categories a domain-wide grant covers (counting or not).
domain_consented_categories contains grant.category if {
	some grant in consent_grant
	grant.level == "domain"
}

# METADATA
# title: Covering consent ids
# description: The sorted ids of the consents that count for the category (for the audit entry).
covering_consent_ids(category) := sort({grant.id |
	some grant in counting_grant
	grant.category == category
})
