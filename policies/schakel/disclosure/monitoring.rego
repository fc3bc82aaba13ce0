package schakel.disclosure

# METADATA
# title: Statistics purpose
# description: >-
#   The purpose asked is counted only as protected statistics (its catalogue entry says
#   statistics: true, as regional-monitoring does): the gateway asks, per participant, which of
#   their facts a release of one region may count. Nothing of it is ever disclosed to anyone.
# scope: document
statistics_purpose if data.schakel.catalogue.purposes[input.purpose].statistics == true

# METADATA
# title: Release refusals
# description: >-
#   Reasons that refuse a statistics purpose as a whole (request_denial holds them for a
#   statistics purpose): asked outside a release (an ordinary disclosure of one person's facts),
#   for a region the catalogue does not know or that keeps no monitoring, or by a party the
#   region does not name as a recipient of its releases.
# custom:
#   reason_codes:
#     - release.missing
#     - release.region_unknown
#     - release.not_recipient
release_denial contains "release.missing" if not release_given

release_denial contains "release.region_unknown" if {
	release_given
	not region_monitoring
}

release_denial contains "release.not_recipient" if {
	region_monitoring
	not input.requester.party in region_monitoring.recipients
}

# METADATA
# title: Release given
# description: The input names a release, an object that only the gateway's release path adds.
release_given if is_object(input.release)

# METADATA
# title: Region monitoring
# description: >-
#   The monitoring the release's region chose in the catalogue (basis, recipients, budget);
#   undefined for an unknown region or one without monitoring.
region_monitoring := data.schakel.catalogue.regions[input.release.region].monitoring

# METADATA
# title: Objected
# description: >-
#   The participant objected to being counted (GDPR Art. 21): never counted again, whatever the
#   region's basis and whatever consent is in force.
objected if input.subject.monitoring_objection == true

# METADATA
# title: Counted under the region's agreement
# description: >-
#   The region counts everyone under an agreement of its own (GDPR Art. 89 with safeguards)
#   rather than on consent; a participant who objected is not counted.
counted_under_agreement if region_monitoring.basis == "agreement"

# METADATA
# title: Monitoring verdict
# description: >-
#   The verdict on every category of a participant in a release, when the region's choice and
#   the participant's objection decide it: an objection excludes, an agreement counts. Undefined
#   when neither decides, so that consent does.
monitoring_verdict := "monitoring.objected" if {
	objected
} else := "monitoring.agreement" if {
	counted_under_agreement
}
