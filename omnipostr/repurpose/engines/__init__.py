"""Engines turn one source into one platform's variant, as an async stream of events."""
