"""The Geolocator interface and every geolocation system."""
