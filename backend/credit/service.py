"""Use cases of credit (filled in by its issue)."""
