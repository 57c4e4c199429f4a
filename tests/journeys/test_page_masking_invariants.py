"""Whatever a person's values are, the journey page's live parts hold none of them until the user reveals them: a
property of the masking the page applies to Mint's journey and log (no sandbox needed)."""

from __future__ import annotations

import json

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from journeys import page
from mintportal.mint import models
from privacy import kinds
from privacy.masking import PersonalField
from privacy.models import RevealGrant

FIELDS = (PersonalField("steps.login.name", kinds.NAME), PersonalField("steps.login.nationalId", kinds.NATIONAL_ID),
          PersonalField("steps.details.email", kinds.EMAIL), PersonalField("input.customer", kinds.NAME))
STATIC = {"Case", "Check", "Could", "Step", "Faulted", "StepFaulted"}
WORD = st.from_regex(r"[A-ZÆØÅ][a-zæøå]{2,9}", fullmatch=True)


def privacy(*, revealed: bool) -> page.PrivacyPart:
    # An unsaved grant: only its presence counts here.
    return page.PrivacyPart(fields=FIELDS, may_reveal=True, grant=RevealGrant(reason="test") if revealed else None)


def journey(first: str, last: str, national_id: int, email: str) -> tuple[models.JourneyDetail, models.JourneyLog]:
    name = f"{first} {last}"
    detail = models.JourneyDetail.model_validate({
        "id": "j1", "workflowId": "wf", "version": 1, "status": "faulted", "name": f"Case – {name}",
        "input": {"customer": name},
        "stepData": {"login": {"name": name, "nationalId": national_id}, "details": {"email": email}},
        "loops": {"each": [{"index": 0, "stepData": {"login": {"name": name}}}]},
        "alerts": [{"stepId": "flag", "severity": "warning", "message": f"Check {last}, {first}"}],
        "files": [{"id": "f1", "filename": f"letter-{last}.txt", "contentType": "text/plain"}],
    })
    log = models.JourneyLog.model_validate({"steps": [{"stepId": "stop", "stepType": "fault", "events": [
        {"id": "e1", "eventName": "StepFaulted", "message": f"Could not verify {name} ({national_id}) at {email}"}]}],
        "stepsFinished": 1, "stepsFaulted": 1})
    return detail, log


def shown(detail: models.JourneyDetail, log: models.JourneyLog, *, revealed: bool) -> tuple[str, str]:
    """The journey and its log as the page's live region gets them, as JSON."""
    part = privacy(revealed=revealed)
    masker = page.journey_masker(privacy=part, row=None, journey=detail)
    return (page._masked_journey(detail, masker, part.fields).model_dump_json(),
            (page._masked_log(log, masker) or log).model_dump_json())


@settings(max_examples=60, deadline=None)
@given(first=WORD, last=WORD, national_id=st.integers(10**9, 10**11 - 1),
       user=st.from_regex(r"[a-z]{3,10}", fullmatch=True))
def test_no_value_of_the_person_survives_the_masking(first: str, last: str, national_id: int, user: str) -> None:
    # A generated word that is also one of the page's own words would be found there, masked or not.
    assume(not {first, last} & STATIC)
    email = f"{user}@example.org"
    detail, log = journey(first, last, national_id, email)
    masked_journey, masked_log = shown(detail, log, revealed=False)
    for value in (first, last, str(national_id), email):
        assert value not in masked_journey + masked_log
    # Revealed, the same parts show every value as Mint gave it.
    clear = "".join(shown(detail, log, revealed=True))
    assert all(value in clear for value in (first, last, str(national_id), email))
    # The words around the values stay: the page is masked, not blanked.
    assert json.loads(masked_journey)["name"].startswith("Case – ")
