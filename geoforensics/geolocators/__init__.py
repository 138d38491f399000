"""The Geolocator interface, the registry and every geolocation system."""

from .base import Geolocator
from .registry import create_geolocator, get_geolocator, list_geolocators, register_geolocator

__all__ = ["Geolocator", "create_geolocator", "get_geolocator", "list_geolocators", "register_geolocator"]
