"""Partner formats (GGZ FHIR R4, UWV, gemeente) mapped to and from the canonical categories."""
