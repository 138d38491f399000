"""Errors a user can act on. The CLI prints them as one line; the app shows them as messages."""


class GeoforensicsError(Exception):
    """Base class: the message is meant for the user, no traceback needed."""


class InputError(GeoforensicsError, ValueError):
    """Bad input: an unreadable, empty, truncated, non-audio or too large file, or a bad CSV."""


class MissingWeightsError(GeoforensicsError, FileNotFoundError):
    """A model's weights are not on this machine; the message says the command that fetches them."""
