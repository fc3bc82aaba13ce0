"""Partner registry: the parties that may call the gateway, their keys and purposes."""
