"""The answers to a suspend step's form, checked before a continue reaches Mint.

The journey page draws the step's form (``workflows.selectors.step_form_get``) and the continue service checks
what comes back against the same form, whatever the browser sent: a forged POST gets the refusals a person
filling in the form would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mintportal.errors import Refused
from mintportal.mint import models as mint
from workflows.selectors import step_form_get, workflow_get
from workflows.stepforms import clean_answers


class StepInputInvalid(Refused):
    """Answers the form refuses: ``errors`` by field key (shown beside each field), ``unknown`` keys that the
    form does not ask for."""

    def __init__(self, *, errors: Mapping[str, str], unknown: tuple[str, ...] = ()) -> None:
        parts = list(errors.values())
        if unknown:
            names = ", ".join(f"“{key}”" for key in unknown)
            parts.append(f"This step's form does not ask for {names}.")
        super().__init__("The step was not continued: " + " ".join(parts))
        self.errors = dict(errors)
        self.unknown = unknown


def step_input_clean(*, journey: mint.JourneyDetail, step_id: str, answers: Mapping[str, Any],
                     allow_unknown: bool) -> dict[str, Any]:
    """The typed output for ``step_id`` of ``journey`` from ``answers`` (text from the form's inputs, or a raw
    JSON object), checked against the step's form for the journey's workflow version: every required field
    answered, every answer of its field's type, and no key the form does not ask for unless ``allow_unknown``.
    Raises ``StepInputInvalid`` naming each field at fault. Reads the definition through the workflow cache.
    """
    workflow = workflow_get(workflow_id=journey.workflow_id, version=journey.version)
    form = step_form_get(workflow=workflow, step_id=step_id)
    checked = clean_answers(form.fields, answers, allow_unknown=allow_unknown)
    if not checked.valid:
        raise StepInputInvalid(errors=checked.errors, unknown=checked.unknown)
    return checked.values
