"""Forms of the accounts app: editing a scope and an approval policy in the admin, and filtering the audit trail."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django import forms
from django.utils import timezone

from accounts.models import Action, ApprovalPolicy, AuditEvent, Scope, Theme, TimeDisplay
from accounts.preferences import TIME_ZONE_MAX_LENGTH, time_zone_names, valid_time_zone


def _split_list(value: str) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``, keeping the first occurrence of each item."""
    items = [item.strip() for item in value.replace("\n", ",").split(",")]
    return list(dict.fromkeys(item for item in items if item))


class CommaListField(forms.CharField):
    """A list of short strings typed as comma-separated text (workflow ids, tags)."""

    def __init__(self, *, item_max_length: int = 100, **kwargs: Any) -> None:
        self.item_max_length = item_max_length
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", forms.TextInput(attrs={"size": 80}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        if isinstance(value, list | tuple):
            return [str(item) for item in value]
        return _split_list(super().to_python(value) or "")

    def validate(self, value: list[str]) -> None:
        if self.required and not value:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        too_long = [item for item in value if len(item) > self.item_max_length]
        if too_long:
            raise forms.ValidationError(
                "Each item may have at most %(limit)d characters: %(items)s",
                params={"limit": self.item_max_length, "items": ", ".join(too_long)},
                code="item_too_long",
            )


class ScopeForm(forms.ModelForm):
    """A scope with its actions as checkboxes and its workflow ids and tags as comma-separated text."""

    actions = forms.MultipleChoiceField(choices=Action.choices, widget=forms.CheckboxSelectMultiple)
    workflow_ids = CommaListField(help_text="Workflow ids, separated by commas.")
    workflow_tags = CommaListField(help_text="Workflow tags, separated by commas; a workflow with any of them.")

    class Meta:
        model = Scope
        fields = [
            "team", "name", "all_workflows", "workflow_ids", "workflow_tags", "actions",
        ]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        if not (cleaned.get("all_workflows") or cleaned.get("workflow_ids") or cleaned.get("workflow_tags")):
            raise forms.ValidationError("A scope must cover all workflows, some workflow ids, or some tags.")
        return cleaned


class ApprovalPolicyForm(forms.ModelForm):
    """An approval policy: which workflows it matches (exactly one way), its rules, and who may approve."""

    class Meta:
        model = ApprovalPolicy
        fields = [
            "name", "all_workflows", "workflow_id", "workflow_tag", "required_approvals", "forbid_self_approval",
            "sla_hours", "approver_teams",
        ]
        widgets = {"approver_teams": forms.CheckboxSelectMultiple}

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for key in ("workflow_id", "workflow_tag"):
            if isinstance(cleaned.get(key), str):
                cleaned[key] = cleaned[key].strip()
        kinds = [key for key in ("all_workflows", "workflow_id", "workflow_tag") if cleaned.get(key)]
        if not kinds:
            self.add_error("workflow_id", "Match every workflow, one workflow id, or one tag.")
        elif len(kinds) > 1:
            self.add_error(kinds[1], "Match only one of: every workflow, one workflow id, or one tag.")
        return cleaned


class AuditFilterForm(forms.Form):
    """Filters of the audit page; every field is optional and an invalid one is reported in place."""

    actor = forms.CharField(required=False, max_length=150, label="Who")
    action = forms.CharField(required=False, max_length=64)
    workflow = forms.CharField(required=False, max_length=100)
    journey = forms.CharField(required=False, max_length=100)
    outcome = forms.ChoiceField(required=False, choices=[("", "Any outcome"), *AuditEvent.Outcome.choices])
    since = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    page = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end date is before the start date.")
        return cleaned

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """The date range as aware datetimes: from the start of ``since`` to the end of ``until``."""
        since, until = self.cleaned_data.get("since"), self.cleaned_data.get("until")
        zone = timezone.get_current_timezone()
        start = datetime.combine(since, time.min, tzinfo=zone) if since else None
        end = datetime.combine(until, time.max, tzinfo=zone) if until else None
        return start, end


class ThemeForm(forms.Form):
    """The colour theme chosen in the top bar, and the page to go back to."""

    theme = forms.ChoiceField(choices=Theme.choices)
    next = forms.CharField(required=False, max_length=2000)


class TimeZoneForm(forms.Form):
    """The zone a user reads times in: an IANA name the machine's zone database knows, or empty for the
    browser's own zone."""

    # A plain text field drawn as a list: a forged value reaches clean_time_zone and gets its message.
    time_zone = forms.CharField(
        required=False, label="Time zone", strip=True, widget=forms.Select,
        help_text="Times on every page are shown in this zone and labelled with it.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget = self.fields["time_zone"].widget
        assert isinstance(widget, forms.Select)
        widget.choices = [("", "Your browser's zone"), *((name, name) for name in time_zone_names())]

    def clean_time_zone(self) -> str:
        value = self.cleaned_data.get("time_zone", "")
        if value and (len(value) > TIME_ZONE_MAX_LENGTH or not valid_time_zone(value)):
            raise forms.ValidationError("Choose a time zone from the list, such as Europe/Oslo.", code="invalid")
        return value


class TimeDisplayForm(forms.Form):
    """Relative (``3 h ago``) or absolute times, chosen with the toggle in the top bar, and the page to go back
    to."""

    time_display = forms.ChoiceField(choices=TimeDisplay.choices)
    next = forms.CharField(required=False, max_length=2000)
