"""program package."""
