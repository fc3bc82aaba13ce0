"""Canonical code values of the categories' coded fields, and the partner codes mapped to them."""

from __future__ import annotations

BENEFIT_TYPES = ("WW", "WIA", "Wajong", "Participatiewet")
# income.benefit and social.support status.
CASE_STATUSES = ("requested", "active", "suspended", "ended", "refused")
# work.reintegration status.
TRAJECTORY_STATUSES = ("planned", "active", "completed", "stopped")
SUPPORT_TYPES = ("wmo-support", "debt-assistance", "housing-support")

# Re-integration instruments as UWV and municipalities name them.
TRAJECTORY_TYPES = {
    "IPS": "ips",
    "Werkfit": "work-fit",
    "NaarWerk": "to-work",
    "Jobcoaching": "job-coaching",
    "Proefplaatsing": "trial-placement",
    "Participatieplek": "participation-placement",
}
PARTNER_TRAJECTORY_TYPES = {canonical: partner for partner, canonical in TRAJECTORY_TYPES.items()}
