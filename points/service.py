"""Use cases of points (filled in by its issue)."""
