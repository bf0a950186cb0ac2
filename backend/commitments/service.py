"""Use cases of commitments (filled in by its issue)."""
