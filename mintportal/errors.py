"""The portal's own refusals: business rules a person can understand, each with the HTTP status it means.

Mint's failures have their own tree (``mintportal.mint.errors``); these are the portal's decisions, made
before Mint is called. Services raise them with a sentence the user can act on; views show that sentence
next to what caused it, with ``status``.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """A request the portal will not carry out; ``message`` says why in the user's words."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotVisible(ApplicationError):
    """The object is outside the user's view scope, or does not exist: the two are not told apart."""

    status = 404


class NotAllowed(ApplicationError):
    """The user may see the object but their role does not allow this action on it."""

    status = 403


class Refused(ApplicationError):
    """The request names something the action may not touch (a step of the wrong kind, a bad value)."""

    status = 400


class Conflict(ApplicationError):
    """The object is not in a state that allows the action any more (the step no longer waits)."""

    status = 409
