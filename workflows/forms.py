"""Forms for workflows, versions, step types and secrets; each mirrors the limits in Mint's API reference,
so most mistakes are caught before a call, and Mint's remaining refusals land on the same fields."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Final

from django import forms
from django.urls import reverse
from django.utils.html import format_html
from pydantic import ValidationError as PydanticValidationError

from accounts.forms import CommaListField
from mintportal.forms import PrettyJSONField
from mintportal.mint import models
from workflows import stepforms
from workflows.models import SecretRecord
from workflows.selectors import VERSION_FILTERS, WORKFLOW_SORTS

MAX_STEPS: Final = 250
PAGE_SIZE: Final = 20

# Mint's field names (roots of invalidParams such as "steps[2].type") → this form's fields.
WORKFLOW_MINT_FIELDS: Final = {
    "name": "name",
    "description": "description",
    "steps": "steps",
    "connections": "connections",
    "variables": "variables",
    "tags": "tags",
    "inputParameters": "input_parameters",
}
SECRET_MINT_FIELDS: Final = {"name": "name", "description": "description", "value": "value"}
# Mint takes 1 to 50 characters; workflows name a secret in their step properties, so the portal keeps to names
# that read the same everywhere: letters, digits, "_", "-" and ".", starting with a letter or digit.
SECRET_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,49}")
# Characters of the offending line shown on each side of a JSON error.
EXCERPT_CHARS: Final = 60


@dataclass(frozen=True)
class JsonProblem:
    """Where a definition field's JSON breaks: 1-based line and column, the message, and the offending line cut
    into the text before the error, the character at it and the text after (for the page to highlight)."""

    line: int
    column: int
    message: str
    before: str
    at: str
    after: str


def _json_problem(text: str, error: json.JSONDecodeError) -> JsonProblem:
    # json counts lines by "\n" alone, so the text is split the same way (an error may sit on a last, empty line).
    line = text.split("\n")[error.lineno - 1].rstrip("\r")
    index = error.colno - 1
    return JsonProblem(
        line=error.lineno, column=error.colno, message=error.msg,
        before=line[max(0, index - EXCERPT_CHARS):index], at=line[index:index + 1] or " ",
        after=line[index + 1:index + 1 + EXCERPT_CHARS],
    )


class DefinitionJSONField(PrettyJSONField):
    """A definition's JSON; broken text is refused with its line and column, and the error carries the spot."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and not self.disabled and value.strip() == "":
            return None
        if self.disabled or not isinstance(value, str):
            return super().to_python(value)
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            problem = _json_problem(value, exc)
            raise forms.ValidationError(
                "Not valid JSON at line %(line)s, column %(column)s: %(message)s.", code="invalid_json",
                params={"line": problem.line, "column": problem.column, "message": problem.message,
                        "problem": problem},
            ) from None


def _without_nulls(item: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in item.items() if value is not None}


class WorkflowFilterForm(forms.Form):
    q = forms.CharField(label="Search", max_length=100, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Name or description"}))
    version = forms.ChoiceField(label="Version", choices=list(VERSION_FILTERS.items()), required=False)
    sort = forms.ChoiceField(label="Sort", choices=list(WORKFLOW_SORTS.items()), required=False)
    page = forms.IntegerField(min_value=1, max_value=100_000, required=False, widget=forms.HiddenInput)

    def values(self) -> dict[str, Any]:
        """The valid filters with defaults for the rest (an invalid field falls back to its default)."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        page = data.get("page") or 1
        return {
            "search": data.get("q") or "",
            "version": data.get("version") or "latest",
            "sort": data.get("sort") or "name",
            "offset": (page - 1) * PAGE_SIZE,
            "limit": PAGE_SIZE,
        }


class WorkflowForm(forms.Form):
    """A workflow's definition; ``to_input()`` gives the body Mint expects."""

    name = forms.CharField(max_length=255)
    description = forms.CharField(max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tags = CommaListField(widget=forms.TextInput, help_text="Separated by commas.")
    input_parameters = CommaListField(
        label="Input parameters", widget=forms.TextInput,
        help_text="Names of the inputs a journey accepts, separated by commas.",
    )
    steps = DefinitionJSONField(
        expect=list,
        widget=forms.Textarea(attrs={"rows": 18, "class": "code", "spellcheck": "false"}),
        help_text=(f"A list of steps, at most {MAX_STEPS}: "
                   '{"id": …, "type": …, "displayName": …, "properties": {…}}.'),
    )
    connections = DefinitionJSONField(
        expect=list, required=False,
        widget=forms.Textarea(attrs={"rows": 10, "class": "code", "spellcheck": "false"}),
        help_text='A list of {"sourceStepId": …, "targetStepId": …, "outcome": …}.',
    )
    variables = DefinitionJSONField(
        expect=dict, required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "code", "spellcheck": "false"}),
        help_text="An object of custom variables, or empty.",
    )

    @classmethod
    def initial_from(cls, workflow: models.WorkflowDefinition) -> dict[str, Any]:
        body = models.WorkflowInput.from_workflow(workflow).to_wire()
        return {
            "name": body["name"],
            "description": body.get("description") or "",
            "tags": body.get("tags") or [],
            "input_parameters": [param["name"] for param in body.get("inputParameters") or []],
            # Unset (null) attributes are left out so the definition reads as a person would write it.
            "steps": [_without_nulls(item) for item in body["steps"]],
            "connections": [_without_nulls(item) for item in body.get("connections") or []],
            "variables": body.get("variables"),
        }

    def clean_steps(self) -> list[dict[str, Any]]:
        steps = self.cleaned_data["steps"]
        if not steps:
            raise forms.ValidationError("A workflow needs at least one step.")
        if len(steps) > MAX_STEPS:
            raise forms.ValidationError(f"At most {MAX_STEPS} steps; this has {len(steps)}.")
        seen: set[str] = set()
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                raise forms.ValidationError(f"steps[{index}] must be an object.")
            for key in ("id", "type"):
                if not isinstance(step.get(key), str) or not step[key].strip():
                    raise forms.ValidationError(f"steps[{index}].{key} is required (text).")
            if step["id"] in seen:
                raise forms.ValidationError(f"steps[{index}].id “{step['id']}” is used twice.")
            seen.add(step["id"])
        return steps

    def clean_connections(self) -> list[dict[str, Any]]:
        connections = self.cleaned_data["connections"] or []
        for index, connection in enumerate(connections):
            if not isinstance(connection, dict):
                raise forms.ValidationError(f"connections[{index}] must be an object.")
        return connections

    @property
    def json_problems(self) -> dict[str, JsonProblem]:
        """Per definition field whose text is not JSON: where it breaks (empty when the form is unbound or valid)."""
        found = {}
        for name, field_errors in self.errors.as_data().items():
            for error in field_errors:
                if error.code == "invalid_json" and error.params:
                    found[name] = error.params["problem"]
        return found

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        steps, connections = cleaned.get("steps"), cleaned.get("connections")
        if steps and connections is not None:
            ids = {step["id"] for step in steps}
            for index, connection in enumerate(connections):
                for key in ("sourceStepId", "targetStepId"):
                    if connection.get(key) not in ids:
                        self.add_error("connections", f"connections[{index}].{key} names no step: "
                                                      f"{str(connection.get(key))[:50]!r}.")
                        return cleaned
        if not self.errors:
            try:
                self._input = self._build_input(cleaned)
            except PydanticValidationError as exc:
                for error in exc.errors()[:5]:
                    location = ".".join(str(part) for part in error["loc"])
                    root = str(error["loc"][0]) if error["loc"] else ""
                    field = WORKFLOW_MINT_FIELDS.get(root)
                    self.add_error(field, f"{location}: {error['msg']}")
        return cleaned

    @staticmethod
    def _build_input(cleaned: dict[str, Any]) -> models.WorkflowInput:
        return models.WorkflowInput.model_validate({
            "name": cleaned["name"],
            "description": cleaned.get("description") or None,
            "steps": cleaned["steps"],
            "connections": cleaned.get("connections") or None,
            "variables": cleaned.get("variables") or None,
            "tags": cleaned.get("tags") or None,
            "inputParameters": [{"name": name} for name in cleaned.get("input_parameters") or []] or None,
        })

    def to_input(self) -> models.WorkflowInput:
        """The validated definition as Mint's request body (call after ``is_valid()``)."""
        return self._input


class WorkflowVersionForm(forms.Form):
    """``?version=N`` on the workflow page: Mint numbers versions from 1 within its int32 range."""

    version = forms.IntegerField(label="Version", min_value=1, max_value=2_147_483_647, required=False)


class VersionDiffForm(forms.Form):
    left = forms.IntegerField(label="From version", min_value=1, max_value=2_147_483_647)
    right = forms.IntegerField(label="To version", min_value=1, max_value=2_147_483_647)


class StepTypeSearchForm(forms.Form):
    q = forms.CharField(label="Search", max_length=100, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Type, name or category"}))


class SecretForm(forms.Form):
    """Creates or updates a workflow secret. The value is write-only: the widget never renders it back."""

    name = forms.CharField(min_length=1, max_length=50)
    description = forms.CharField(max_length=100, required=False)
    value = forms.CharField(
        max_length=4000, strip=False, required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: it is sent to Mint and never shown again, so re-enter it if the form reports an error.",
    )

    def __init__(self, *args: Any, updating: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The id of the secret being updated, or None when a new one is created.
        self.updating = updating
        self.fields["name"].help_text = "Up to 50 letters, digits, “_”, “-” or “.”; no spaces."
        if updating:
            self.fields["value"].help_text = "Leave empty to keep the current value. " + self.fields["value"].help_text
        else:
            self.fields["value"].required = True

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if not SECRET_NAME.fullmatch(name):
            raise forms.ValidationError(
                "Use only letters, digits, “_”, “-” and “.” (no spaces), starting with a letter or digit: "
                "workflows refer to a secret by this name.", code="invalid_name",
            )
        # Mint would accept a second secret of the same name, told apart only by its id; the register refuses it.
        twin = SecretRecord.objects.filter(name__iexact=name).exclude(pk=self.updating or "").first()
        if twin is not None:
            raise forms.ValidationError(format_html(
                "A secret named “{}” is already in the register: <a href=\"{}\">update it</a> instead.",
                twin.name, reverse("workflows:secret_edit", args=[twin.pk]),
            ), code="duplicate_name")
        return name

    def new_value(self) -> str | None:
        """The value to send: None on an update whose value field was left empty (keep the current one)."""
        value = self.cleaned_data.get("value") or ""
        return None if self.updating and value == "" else value


class PublishForm(forms.Form):
    """The second step of publishing a version: the person has read what it changes and confirmed."""

    confirmed = forms.BooleanField(required=True)


# --- the form of a manual step ------------------------------------------------------------------------


class StepFieldForm(forms.Form):
    """One field of a suspend step's form in the editor; the checks are ``workflows.stepforms``'s own."""

    key = forms.CharField(label="Key", max_length=stepforms.MAX_KEY, strip=True,
                          help_text="What later steps read: {{ steps.<step>.<key> }}.")
    label = forms.CharField(label="Label", max_length=stepforms.MAX_LABEL, required=False,
                            help_text="Shown to the person continuing the step; the key when empty.")
    type = forms.ChoiceField(label="Type", choices=list(stepforms.FIELD_TYPES.items()), initial=stepforms.TEXT)
    required = forms.BooleanField(label="Required", required=False, initial=True)
    help_text = forms.CharField(label="Help", max_length=stepforms.MAX_HELP, required=False)
    default = forms.CharField(label="Default", max_length=stepforms.MAX_TEXT, required=False,
                              help_text="Yes/no: yes or no. Date: YYYY-MM-DD.")
    choices = forms.CharField(label="Choices", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="For a choice field: one per line.")

    @staticmethod
    def initial_from(item: stepforms.FormField) -> dict[str, Any]:
        default = item.default
        if isinstance(default, bool):
            default = "yes" if default else "no"
        return {"key": item.key, "label": item.label, "type": item.type, "required": item.required,
                "help_text": item.help_text, "default": "" if default is None else str(default),
                "choices": "\n".join(item.choices)}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        if self.errors:
            return cleaned
        item = self.to_field()
        for attribute, problem in stepforms.field_problems(item).items():
            self.add_error(attribute, problem)
        return cleaned

    def to_field(self) -> stepforms.FormField:
        data = self.cleaned_data
        key = data.get("key") or ""
        kind = data.get("type") or stepforms.TEXT
        choices = tuple(line.strip() for line in (data.get("choices") or "").splitlines() if line.strip())
        item = stepforms.FormField(key=key, label=(data.get("label") or "").strip() or stepforms.humanize(key),
                                   type=kind, required=bool(data.get("required")),
                                   help_text=(data.get("help_text") or "").strip(), choices=choices)
        default = (data.get("default") or "").strip()
        if not default:
            return item
        # Stored typed (a number, true/false), as it will be sent; an invalid one is kept as text to be refused.
        try:
            typed = stepforms.coerce(item, default)
        except ValueError:
            typed = default
        return stepforms.FormField(**{**item.__dict__, "default": typed})


class BaseStepFieldFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        seen: set[str] = set()
        for form in self.forms:
            # Removed rows and blank new rows (no cleaned data) take no key.
            if not getattr(form, "cleaned_data", None) or form.cleaned_data.get("DELETE"):
                continue
            key = form.cleaned_data["key"]
            if key in seen:
                form.add_error("key", f"The key “{key}” is already used by another field.")
            seen.add(key)

    def fields_in_order(self) -> list[stepforms.FormField]:
        """The kept rows (not removed, not a blank new row) in the order their order numbers give; call after
        ``is_valid()``."""
        return [form.to_field() for form in self.ordered_forms if form.cleaned_data]


StepFieldFormSet = forms.formset_factory(
    StepFieldForm, formset=BaseStepFieldFormSet, extra=1, can_order=True, can_delete=True,
    max_num=stepforms.MAX_FIELDS, validate_max=True, absolute_max=stepforms.MAX_FIELDS + 10,
)
