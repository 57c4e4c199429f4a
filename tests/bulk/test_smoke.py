from __future__ import annotations

import pytest

from bulk.models import BulkItem, ItemStatus, JobStatus, Verdict
from tests.bulk.conftest import confirm_and_run, prepare

pytestmark = pytest.mark.django_db


def test_a_bulk_approve_acts_on_the_will_act_rows_only(sandbox, approval_workflow, start, approver, approver2):
    workflow = approval_workflow(tags=["onboarding"])
    mine = start(workflow, "A-1", launched_by=approver)
    other = start(workflow, "A-2")
    job = prepare(approver, "approve", [mine, other], reason="ok")
    verdicts = dict(BulkItem.objects.filter(job=job).values_list("journey_id", "verdict"))
    assert verdicts == {mine.id: Verdict.REFUSED, other.id: Verdict.WILL_ACT}
    sandbox.reset_counters()
    job = confirm_and_run(approver, job)
    assert job.status == JobStatus.FINISHED
    assert sandbox.count("approveJourney") == 1
    assert BulkItem.objects.get(job=job, journey_id=other.id).status == ItemStatus.DONE
