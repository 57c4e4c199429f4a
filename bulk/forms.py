"""The bulk action form: which action, its one set of parameters for every journey, and the idempotency key."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from accounts.models import Action
from accounts.policy import user_can
from approvals.services import REASON_MAX_LENGTH
from bulk.models import BulkAction
from journeys.forms import ANSWER_PREFIX, MAX_URL_TTL, NOTE_MAX, ResumeForm
from mintportal.lifetimes import DAY, LifetimeField
from workflows.stepforms import FormField, clean_answers

# The rights that make each action worth offering (the dry run still checks each journey's workflow).
OFFERED: dict[str, tuple[str, ...]] = {
    BulkAction.APPROVE: (Action.APPROVE,), BulkAction.REJECT: (Action.APPROVE,),
    BulkAction.CONTINUE: (Action.CONTINUE,), BulkAction.ASSIGN: (Action.APPROVE, Action.CONTINUE),
    BulkAction.URL: (Action.SHARE,), BulkAction.NOTE: (Action.ANNOTATE,),
}


class BulkActionForm(forms.Form):
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    action = forms.ChoiceField(label="Action", widget=forms.RadioSelect)
    reason = forms.CharField(label="Reason", required=False, max_length=REASON_MAX_LENGTH,
                             widget=forms.Textarea(attrs={"rows": 2, "maxlength": REASON_MAX_LENGTH}),
                             help_text="Required to reject; sent to Mint with each decision.")
    step_id = forms.ChoiceField(label="Manual step", required=False,
                                help_text="The suspend step to continue; journeys not waiting there are refused.")
    assignee = forms.CharField(label="Assign to (username)", required=False, max_length=150)
    time_to_live = LifetimeField(label="Link lifetime", minimum=1, maximum=MAX_URL_TTL, initial=DAY, required=False)
    content = forms.CharField(label="Note", required=False, max_length=NOTE_MAX, strip=False,
                              widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX}))

    def __init__(self, *args: Any, user: AbstractBaseUser, steps: Sequence[str] = (),
                 step_fields: Sequence[FormField] | None = None, workflow_ids: Sequence[str] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["key"].initial = uuid.uuid4().hex
        # Offered: the actions the user may take on at least one selected journey's workflow (without the
        # workflows, on any); the dry run still checks every journey.
        workflows: Sequence[str | None] = tuple(workflow_ids) if workflow_ids is not None else (None,)
        offered = [
            (value, label) for value, label in BulkAction.choices
            if any(user_can(user=user, action=right, workflow_id=workflow)
                   for right in OFFERED[value] for workflow in workflows)
        ]
        cast(forms.ChoiceField, self.fields["action"]).choices = offered
        self.offered = {value for value, _label in offered}
        if len(offered) == 1 and not self.initial.get("action"):
            # Only one action is possible: it is the one meant, and its fields are the ones to show.
            self.initial["action"] = offered[0][0]
        cast(forms.ChoiceField, self.fields["step_id"]).choices = [("", "Choose a step"), *((s, s) for s in steps)]
        self.step_fields = tuple(step_fields or ())
        # The chosen step's form, drawn from a journey waiting there; every journey's own form is checked again.
        self.answers_form = ResumeForm(self.data if self.is_bound else None, fields=self.step_fields,
                                       prefix=None, auto_id="id_answer_%s") if step_fields is not None else None

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        action = cleaned.get("action")
        if action == BulkAction.REJECT and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "A reason is required to reject.")
        if action == BulkAction.CONTINUE:
            self._clean_continue()
        if action == BulkAction.ASSIGN:
            self._clean_assignee()
        if action == BulkAction.URL and not cleaned.get("time_to_live") and "time_to_live" not in self.errors:
            self.add_error("time_to_live", "Choose how long the new links work.")
        if action == BulkAction.NOTE and not (cleaned.get("content") or "").strip():
            self.add_error("content", "Write the note to add.")
        return cleaned

    def _clean_continue(self) -> None:
        if not self.cleaned_data.get("step_id"):
            if "step_id" not in self.errors:
                self.add_error("step_id", "Choose the step to continue.")
            return
        if self.answers_form is None:
            self.add_error("step_id", "No selected journey waits at this step.")
            return
        checked = clean_answers(self.step_fields, self.answers(), allow_unknown=False)
        if not checked.valid:
            self.answers_form.is_valid()
            self.answers_form.show_errors(dict(checked.errors))
            self.add_error(None, "The answers do not fit the step's form: "
                           + " ".join([*checked.errors.values(), *(f"“{k}” is not asked." for k in checked.unknown)]))

    def _clean_assignee(self) -> None:
        username = (self.cleaned_data.get("assignee") or "").strip()
        if not username:
            self.add_error("assignee", "Name the person to assign the journeys to.")
            return
        person = get_user_model().objects.filter(username=username, is_active=True).first()
        if person is None:
            self.add_error("assignee", f"No active user is called “{username}”.")
            return
        self.cleaned_data["assignee_user"] = person

    def answers(self) -> dict[str, Any]:
        return {name.removeprefix(ANSWER_PREFIX): value for name, value in self.data.items()
                if name.startswith(ANSWER_PREFIX)}

    def params(self) -> dict[str, Any]:
        """The action's parameters as the job keeps them (call after ``is_valid()``)."""
        cleaned = self.cleaned_data
        action = cleaned["action"]
        if action in (BulkAction.APPROVE, BulkAction.REJECT):
            return {"reason": (cleaned.get("reason") or "").strip()}
        if action == BulkAction.CONTINUE:
            return {"step_id": cleaned["step_id"], "answers": self.answers()}
        if action == BulkAction.ASSIGN:
            person = cleaned["assignee_user"]
            return {"assignee_id": person.pk, "assignee": person.get_username()}
        if action == BulkAction.URL:
            return {"time_to_live": cleaned["time_to_live"]}
        return {"content": cleaned["content"]}


class JobPageForm(forms.Form):
    verdict = forms.ChoiceField(required=False, choices=[("", "All"), ("will_act", "Will act"),
                                                         ("refused", "Refused")])
    page = forms.IntegerField(required=False, min_value=1, max_value=1000)
