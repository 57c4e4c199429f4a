"""The portal's own refusals: business rules a person can understand, each with the HTTP status it means.

Mint's failures have their own tree (``mintportal.mint.errors``); these are the portal's decisions, made
before Mint is called. Services, selectors and the access policy raise them with a sentence the user can act
on; a view shows that sentence next to the form that caused it (``refusal_on_form``), and
``mintportal.middleware.ApplicationErrorMiddleware`` answers every one a view lets through, with ``status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.forms import BaseForm


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


def refusal_on_form(form: BaseForm, exc: ApplicationError) -> int:
    """For a view that shows a service's refusal above the form that asked for it: adds the sentence as a
    non-field error and returns the status to answer with. ``NotVisible`` is re-raised instead, so that what
    the user may not see answers the 404 page (``mintportal.middleware.ApplicationErrorMiddleware``)."""
    if isinstance(exc, NotVisible):
        raise exc
    form.add_error(None, exc.message)
    return exc.status


def invalid_parameters(form: BaseForm) -> Refused:
    """The refusal of a request whose query parameters ``form`` rejected, naming each parameter and why."""
    problems = "; ".join(f"{name}: {' '.join(str(error) for error in errors)}" for name, errors in form.errors.items())
    return Refused(f"Invalid parameter: {problems}")
