"""Deletion notices: recipients told to delete after a withdrawal, expiry or erasure."""
