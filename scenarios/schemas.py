"""Schemas of scenarios (filled in by its issue)."""
