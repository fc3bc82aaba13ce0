"""Small-count suppression for published tables of counts (statistical disclosure control).

A shared leaf: it imports nothing of the project, so the obstacle register and any later
statistics publish counts under the same rule (``suppression.table``).
"""

from __future__ import annotations

from suppression.table import COMPLEMENTARY, PRIMARY, Count, Table, suppress

__all__ = ["COMPLEMENTARY", "PRIMARY", "Count", "Table", "suppress"]
