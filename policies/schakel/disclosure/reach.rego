package schakel.disclosure

# METADATA
# title: Care data barred
# description: >-
#   The care data asked (categories marked care_data, such as care.involvement or the parties
#   involved) when the requester's domain says care_data "never" (an employer): it never goes
#   there, whatever a consent says and whatever the domain's reach lists; no rule after this one
#   can allow it.
# scope: document
care_data_barred contains category if {
	data.schakel.catalogue.domains[input.requester.domain].care_data == "never"
	some category in input.categories
	data.schakel.catalogue.categories[category].care_data == true
}

# METADATA
# title: Beyond reach
# description: >-
#   The categories asked that the requester's domain may never receive: a domain with a reach in
#   the catalogue may ever receive only the categories it lists, for any purpose and on any
#   consent; a domain without one is bounded by its purposes alone.
# scope: document
beyond_reach contains category if {
	is_array(data.schakel.catalogue.domains[input.requester.domain].reach)
	some category in input.categories
	not category in data.schakel.catalogue.domains[input.requester.domain].reach
}
