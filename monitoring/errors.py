"""Monitoring errors; the gateway maps each to an HTTP problem."""

from __future__ import annotations


class MonitoringError(Exception):
    """Base of the monitoring package's errors."""


class BudgetExceeded(MonitoringError):
    """The release would spend more of the region's privacy budget for the year than is left."""

    def __init__(self, *, region: str, year: int, total: float, spent: float, asked: float) -> None:
        left = max(total - spent, 0.0)
        super().__init__(
            f"the privacy budget of {region} for {year} is {total:g}; {spent:g} is spent, "
            f"{left:g} is left, and this release asks {asked:g}"
        )
        self.region, self.year = region, year
        self.total, self.spent, self.asked = total, spent, asked


class ReleaseNotFound(MonitoringError):
    """No such release, or not one the caller may read."""
