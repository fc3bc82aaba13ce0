"""The disclosed view as bytes: JSON by default, a FHIR R4 Bundle for ``application/fhir+json``."""

from __future__ import annotations

import json

from fastapi.responses import JSONResponse

from adapters.ggz import render_disclosure_bundle
from adapters.protocol import DisclosedView
from gateway.disclosures.schemas import DisclosureView

FHIR_JSON = "application/fhir+json"


class FhirJSONResponse(JSONResponse):
    """A FHIR resource as JSON, with FHIR's own media type (FHIR R4 §2.6.5 "http")."""

    media_type = FHIR_JSON


def render(view: DisclosureView, accept: str, *, domain: str) -> tuple[bytes, str]:
    """Exactly the bytes that will be sent; their digest goes into the audit entry.

    ``domain`` is the requester's, whose pseudonym names the subject.
    """
    if FHIR_JSON in accept:
        bundle = render_disclosure_bundle(
            DisclosedView(
                subject_pseudonym=view.subject,
                domain=domain,
                decision_id=view.decision_id,
                purpose=view.purpose,
                categories={item.category: item.fields for item in view.disclosed},
                withheld={item.category: item.code for item in view.withheld},
                decided_at=view.decided_at,
                policy_revision=view.policy_revision,
            )
        )
        return json.dumps(bundle, separators=(",", ":")).encode("utf-8"), FHIR_JSON
    return view.model_dump_json().encode("utf-8"), "application/json"
