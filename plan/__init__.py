"""The shared plan, the director and involvement signals around one participant."""
