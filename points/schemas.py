"""Schemas of points (filled in by its issue)."""
