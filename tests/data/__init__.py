"""Tests of geoforensics.data."""
