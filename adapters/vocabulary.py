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

# Regional monitoring (the trajectory.* categories): the methods the regions compare, the
# milestones in the order a trajectory passes them, and how a trajectory ends.
TRAJECTORY_METHODS = ("ips", "social-development-company", "uwv-provider", "other")
TRAJECTORY_MILESTONES = ("intake", "assessment", "job-search", "placement", "follow-along")
TRAJECTORY_OUTCOMES = ("paid-work", "education", "volunteer-work", "day-activity", "no-result")
MUNICIPALITY_CODE = r"^GM[0-9]{4}$"  # a CBS municipality code, e.g. GM0546 (Leiden)
