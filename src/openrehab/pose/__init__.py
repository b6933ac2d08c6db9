"""pose package."""
