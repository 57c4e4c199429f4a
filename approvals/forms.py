"""Forms of the approvals app: the inbox filters and the approve/reject decision."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Action, WorkflowRecord
from accounts.policy import workflow_access
from approvals.selectors import Assignment, Kind
from approvals.services import REASON_MAX_LENGTH

# The inbox's tabs, in the order shown: URL value → label. "" (no value in the URL) is the default tab.
ASSIGNMENTS = (
    (Assignment.MINE, "Assigned to me"),
    (Assignment.UNASSIGNED, "Unassigned"),
    (Assignment.ALL, "Everything I may act on"),
    (Assignment.OTHERS, "Waiting on others"),
)


class InboxFilterForm(forms.Form):
    assignment = forms.ChoiceField(required=False, choices=ASSIGNMENTS)
    workflow = forms.ChoiceField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "Everything"), *Kind.CHOICES], label="Waiting for")
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        view = workflow_access(user=user, action=Action.VIEW)
        acting = [workflow_access(user=user, action=action) for action in Kind.ACTIONS.values()]
        workflows = WorkflowRecord.objects.filter(view.q("id")).order_by("name", "id").values_list("id", "name")
        cast(forms.ChoiceField, self.fields["workflow"]).choices = [("", "All workflows")] + [
            (workflow_id, name or workflow_id) for workflow_id, name in workflows
            if any(access.allows(workflow_id) for access in acting)
        ]


class DecisionForm(forms.Form):
    """Approve or reject one approval step; rejecting needs a reason (it reaches Mint as the message)."""

    APPROVE = "approve"
    REJECT = "reject"

    step_id = forms.CharField(max_length=50, widget=forms.HiddenInput)
    occurrence = forms.IntegerField(min_value=1, required=False, widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[(APPROVE, "Approve"), (REJECT, "Reject")])
    reason = forms.CharField(
        required=False, max_length=REASON_MAX_LENGTH, strip=True,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": REASON_MAX_LENGTH}),
        help_text="Required to reject; sent to Mint with the decision.",
    )

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("decision") == self.REJECT and not cleaned.get("reason"):
            self.add_error("reason", "A reason is required to reject.")
        return cleaned

    @property
    def approved(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE
