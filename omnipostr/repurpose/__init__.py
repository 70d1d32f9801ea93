"""Repurposing: platform rules, engines, the composer and its service."""
