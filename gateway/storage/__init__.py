"""Contributed case data, encrypted at rest with a data key per participant (crypto-shredding)."""
