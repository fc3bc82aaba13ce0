"""Append-only, tamper-evident audit log of every disclosure and denial."""
