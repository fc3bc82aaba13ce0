"""Consent registry: participants grant, narrow and revoke consent per purpose, recipient, category."""
