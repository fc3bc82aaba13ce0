"""Disclosures: the one flow every reader of case data goes through (docs/architecture.md)."""
