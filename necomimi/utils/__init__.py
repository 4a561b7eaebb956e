"""Small shared helpers: atomic file writes and seeded random streams."""
