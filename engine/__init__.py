"""flowbt engine package."""
