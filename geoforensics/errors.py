"""Errors a user can act on. The CLI prints them as one line; the app shows them as messages."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class GeoforensicsError(Exception):
    """Base class: the message is meant for the user, no traceback needed."""


class InputError(GeoforensicsError, ValueError):
    """Bad input: an unreadable, empty, truncated, non-audio or too large file, or a bad CSV."""


class MissingWeightsError(GeoforensicsError, FileNotFoundError):
    """A model's weights are not on this machine; the message says the command that fetches them."""


_UNSET = object()


@contextmanager
def reading(what: str, document: object = _UNSET) -> Iterator[None]:
    """Turn what a malformed document raises while it is read (a missing key, a wrong type) into one
    :class:`InputError`: "not a {what}: missing 'point'". A ``document`` given is refused at once unless it is
    a JSON object (a dict)."""
    if document is not _UNSET and not isinstance(document, dict):
        raise InputError(f"not a {what}: expected a JSON object, got {type(document).__name__}")
    try:
        yield
    except InputError:
        raise
    except KeyError as e:
        raise InputError(f"not a {what}: missing {str(e)}") from None
    except (TypeError, ValueError, IndexError, AttributeError) as e:
        raise InputError(f"not a {what}: {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}") from None
