"""Models of credit (filled in by its issue)."""
