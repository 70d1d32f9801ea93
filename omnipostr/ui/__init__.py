"""Shared UI: layout, navigation, theme and components."""
