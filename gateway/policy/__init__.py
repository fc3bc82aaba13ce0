"""Policy-engine clients: one interface, an embedded Rego interpreter and an OPA server."""
