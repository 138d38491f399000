"""Audio front end: decoding (never tags), windows, and the one mel pipeline."""
