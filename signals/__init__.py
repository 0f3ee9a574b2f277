"""flowbt signals package."""
