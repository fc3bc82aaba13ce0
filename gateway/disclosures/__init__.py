"""The disclosure flow: one transaction from request to audited minimal view (DESIGN.md)."""
