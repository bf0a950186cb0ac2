"""Models of commitments (filled in by its issue)."""
