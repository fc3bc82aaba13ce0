"""GGZ systems speak HL7 FHIR R4 (parsed and rendered with the ``fhir.resources.R4B`` models)."""

from __future__ import annotations

import json

from adapters.ggz_parse import parse_bundle
from adapters.ggz_render import render_disclosure_bundle
from adapters.protocol import DisclosedView, ParsedPayload, RenderedPayload

FHIR_JSON = "application/fhir+json"

__all__ = ["GgzFhirAdapter", "render_disclosure_bundle"]


class GgzFhirAdapter:
    """``ggz-fhir``: an R4 Bundle in, an R4 ``collection`` Bundle out."""

    format = "ggz-fhir"
    media_types = frozenset({FHIR_JSON, "application/json"})

    def parse(self, body: bytes) -> ParsedPayload:
        """Map the Bundle's Patient, EpisodeOfCare, IPS Observation and CarePlan."""
        return parse_bundle(body)

    def render(self, view: DisclosedView) -> RenderedPayload:
        """The disclosed view as an R4 Bundle; the subject by pseudonym, never by BSN."""
        document = render_disclosure_bundle(view)
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return RenderedPayload(FHIR_JSON, body, document)
