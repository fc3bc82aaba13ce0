package schakel.disclosure

# METADATA
# title: Care data barred
# description: >-
#   Care data (a category marked care_data, such as care.involvement or the parties involved)
#   never goes to a domain whose catalogue entry says care_data "never" (an employer), whatever a
#   consent says and whatever the domain's reach lists: no rule after this one can allow it.
# scope: document
care_data_barred(category) if {
	data.schakel.catalogue.domains[input.requester.domain].care_data == "never"
	data.schakel.catalogue.categories[category].care_data == true
}

# METADATA
# title: Beyond reach
# description: >-
#   A domain with a reach in the catalogue may ever receive only the categories it lists, for
#   any purpose and on any consent; a domain without one is bounded by its purposes alone.
# scope: document
beyond_reach(category) if {
	is_array(data.schakel.catalogue.domains[input.requester.domain].reach)
	not within_reach(category)
}

# METADATA
# title: Within reach
# description: The category is listed in the reach of the requester's domain.
within_reach(category) if category in data.schakel.catalogue.domains[input.requester.domain].reach
