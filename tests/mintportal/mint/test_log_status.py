"""A log step's ``status`` is an open object in Mint's reference: any JSON there reads, never fails the log."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mintportal.mint.models import JourneyLog, JourneyLogStepStatus

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=10,
)
STATUS = JSON | st.fixed_dictionaries({}, optional={"name": JSON, "outcome": JSON, "reason": JSON})


def _log(status: object) -> dict:
    return {"steps": [{"stepId": "a", "stepType": "suspend", "status": status, "events": []}],
            "stepsFinished": 1, "stepsFaulted": 0}


@given(STATUS)
def test_any_status_mint_may_send_reads_as_a_word_and_an_outcome_or_nothing(status: object) -> None:
    step = JourneyLog.model_validate(_log(status)).steps[0]
    assert step.status is None or isinstance(step.status, str | JourneyLogStepStatus)
    if isinstance(step.status, JourneyLogStepStatus):
        assert step.status.name is None or isinstance(step.status.name, str)
        assert step.status.outcome is None or isinstance(step.status.outcome, str)


def test_the_documented_shapes_keep_their_meaning() -> None:
    read = JourneyLog.model_validate(_log({"name": "finished", "outcome": "Done", "extra": [1]})).steps[0].status
    assert read == JourneyLogStepStatus(name="finished", outcome="Done")
    assert JourneyLog.model_validate(_log("faulted")).steps[0].status == "faulted"
    assert JourneyLog.model_validate(_log({"name": 3})).steps[0].status == JourneyLogStepStatus(name="3")
