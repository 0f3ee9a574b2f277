"""flowbt strategies package."""
