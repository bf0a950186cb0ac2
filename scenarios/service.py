"""Use cases of scenarios (filled in by its issue)."""
