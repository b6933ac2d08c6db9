"""motion package."""
