"""Participant identity: BSNs kept encrypted, found by a blind index, shown only as pseudonyms."""
