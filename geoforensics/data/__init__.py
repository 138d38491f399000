"""Dataset readers yielding recordings with their true locations."""
