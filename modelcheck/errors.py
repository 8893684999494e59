"""Errors that are the user's to fix (a broken spec, a bad parameter).

The command line prints them as a message and exits with status 2; nothing
in them is a bug of the checker itself.
"""

from __future__ import annotations


class SpecError(Exception):
    """A spec, its parameters or its behaviour is wrong; the text says how."""
