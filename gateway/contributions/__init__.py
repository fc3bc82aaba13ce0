"""Partner payloads in, through the adapters, as encrypted contributions (``POST /v1/adapters``)."""
