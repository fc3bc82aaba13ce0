"""The codes of Schakel's own FHIR code systems that the GGZ format checks (systems: ``fhirsystems``)."""

from __future__ import annotations

# Work readiness as the GGZ IPS job coach records it (Individual Placement and Support).
READINESS_CODES = frozenset({"not-ready", "preparing", "ready-for-work", "working"})
# The IPS trajectory stages (IPS fidelity scale: engagement to follow-along support).
IPS_STAGES = frozenset({"engagement", "assessment", "job-search", "job-support", "follow-along"})
