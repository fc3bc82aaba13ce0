"""Schakel gateway: the composition root (app, settings, auth, disclosure flow, CLI)."""
