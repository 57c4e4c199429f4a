"""Forms for the journeys list and a journey's actions, mirroring the limits in Mint's API reference."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, cast

from django import forms

from journeys.datafilter import (
    MAX_COLUMNS,
    MAX_FILTERS,
    MAX_PATH,
    DataCondition,
    DataFilterError,
    DataPath,
    parse_columns,
    parse_conditions,
)
from journeys.models import JourneyStatus
from journeys.selectors import DEFAULT_SORT, SORT_FIELDS, JourneyFilters
from mintportal.lifetimes import DAY, LifetimeField
from privacy.selectors import personal_paths
from workflows.stepforms import CHOICE, DATE, NUMBER, YES_NO, FormField

PER_PAGE_CHOICES: Final = (25, 50, 100)
MAX_URL_TTL: Final = 2_592_000
NOTE_MAX: Final = 1000

RESUME_MINT_FIELDS: Final = {"input": "input", "stepId": "step_id"}
URL_MINT_FIELDS: Final = {"timeToLive": "time_to_live"}
NOTE_MINT_FIELDS: Final = {"content": "content", "stepId": "step_id"}

_SORT_CHOICES: Final = [(key, key) for key in SORT_FIELDS] + [(f"-{key}", f"-{key}") for key in SORT_FIELDS]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class RepeatedInput(forms.Widget):
    """Reads every value of a repeated query parameter (``?data=…&data=…``); list.html draws the inputs."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[str]:
        values = data.getlist(name) if hasattr(data, "getlist") else data.get(name) or []
        return [values] if isinstance(values, str) else [str(value) for value in values]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data


class DataFilterField(forms.Field):
    """The business-data filters, one ``<path> <op> [value]`` per ``data`` parameter (journeys.datafilter); on a
    path declared personal, ``=`` matches by keyed hash and partial matches are refused."""

    widget = RepeatedInput

    def to_python(self, value: Any) -> tuple[DataCondition, ...]:
        lines = [line for line in (value or []) if isinstance(line, str) and line.strip()]
        if not lines:
            return ()
        conditions, problems = parse_conditions(lines, personal=personal_paths())
        if problems:
            raise forms.ValidationError(problems)
        return conditions


class JourneyFilterForm(forms.Form):
    """The journeys list's filters, sort and paging, all read from the URL's query string."""

    q = forms.CharField(label="Search", max_length=100, required=False,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": "Journey name or id"}))
    status = forms.ChoiceField(label="Status", required=False,
                               choices=[("", "Any status"), *JourneyStatus.choices])
    workflow = forms.ChoiceField(label="Workflow", required=False)
    after = forms.DateTimeField(label="Last activity after", required=False, widget=DateTimeLocalInput())
    before = forms.DateTimeField(label="Last activity before", required=False, widget=DateTimeLocalInput())
    step = forms.CharField(label="At step", max_length=100, required=False,
                           help_text="Waiting at this step; with status “faulted”, faulted at it.")
    cols = forms.CharField(label="Data columns", required=False, max_length=MAX_COLUMNS * (MAX_PATH + 1),
                           widget=forms.TextInput(attrs={"placeholder": "customerNumber, risk.score"}),
                           help_text=f"Comma-separated fields shown as columns, at most {MAX_COLUMNS}.")
    sort = forms.ChoiceField(required=False, choices=_SORT_CHOICES, widget=forms.HiddenInput)
    # django-stubs types empty_value as a string; Django hands back whatever it is given, here the default count.
    per_page = forms.TypedChoiceField(label="Rows", required=False, coerce=int,
                                      empty_value=PER_PAGE_CHOICES[0],  # type: ignore[arg-type]
                                      choices=[(n, str(n)) for n in PER_PAGE_CHOICES])
    page = forms.IntegerField(required=False, min_value=1, max_value=10_000_000, widget=forms.HiddenInput)

    def __init__(
        self, *args: Any, workflow_choices: list[tuple[str, str]], workflow_known: Callable[[str], bool], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        # Declared here rather than on the class: the query parameter is ``data``, a name Form itself uses.
        self.fields["data"] = DataFilterField(
            label="Data filters", required=False,
            help_text=f"Input field or step.key, an operator (= ~ > < exists) and a value, e.g. "
                      f"“customerNumber = C-100508”, “risk.score > 80”; at most {MAX_FILTERS}.")
        choices = [("", "Any workflow"), *workflow_choices]
        chosen = self.data.get("workflow") if self.is_bound else None
        # The offered workflows are cached for a few minutes; a workflow whose journeys arrived since
        # is still accepted when the user may see journeys of it.
        if chosen and chosen not in dict(workflow_choices) and len(chosen) <= 100 and workflow_known(chosen):
            choices.append((chosen, chosen))
        cast(forms.ChoiceField, self.fields["workflow"]).choices = choices

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        after, before = cleaned.get("after"), cleaned.get("before")
        if after and before and after >= before:
            self.add_error("before", "Must be later than “last activity after”.")
        return cleaned

    def clean_cols(self) -> tuple[DataPath, ...]:
        try:
            return parse_columns(self.cleaned_data.get("cols") or "")
        except DataFilterError as exc:
            raise forms.ValidationError(str(exc)) from None

    @property
    def data_lines(self) -> list[str]:
        """The data filters as typed (valid or not) and one empty line to add another, for the page's inputs."""
        typed = [line for line in self["data"].value() or [] if line.strip()] if self.is_bound else []
        return typed[:MAX_FILTERS * 2] + ([""] if len(typed) < MAX_FILTERS else [])

    def _valid(self, name: str, default: Any = None) -> Any:
        # Fields that failed validation are left out, so one bad value never hides the whole list.
        data = getattr(self, "cleaned_data", {})
        return default if name in self.errors else data.get(name) or default

    @property
    def data_invalid(self) -> bool:
        """Whether a data filter line was refused (call after ``is_valid()``): the list then shows nothing rather
        than every journey, since a dropped condition would widen the list the user meant to narrow (and any act
        on "all matching" with it)."""
        return "data" in self.errors

    def filters(self) -> JourneyFilters:
        """The valid filters (call after ``is_valid()``); other invalid fields do not restrict the list, and an
        invalid data filter is not among them either (see ``data_invalid``)."""
        return JourneyFilters(
            status=self._valid("status", ""),
            workflow_id=self._valid("workflow", ""),
            after=self._valid("after"),
            before=self._valid("before"),
            search=(self._valid("q", "") or "").strip(),
            sort=self._valid("sort", DEFAULT_SORT),
            step=(self._valid("step", "") or "").strip(),
            data=self._valid("data", ()),
            columns=self._valid("cols", ()),
        )

    @property
    def page_number(self) -> int:
        return self._valid("page", 1)

    @property
    def rows_per_page(self) -> int:
        return self._valid("per_page", PER_PAGE_CHOICES[0])


def _finite_number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is too large")
    return value


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not a number JSON allows")


# A field of a step's form is posted as ``f_<key>``, so that a key can never collide with the form's own inputs.
ANSWER_PREFIX: Final = "f_"


def _answer_field(item: FormField) -> forms.Field:
    """The input for one question, typed for the browser; the answer itself is checked by the continue service
    (``journeys.services.stepforms``), so every field here takes text and refuses nothing."""
    attrs: dict[str, Any] = {"aria-required": "true", "required": True} if item.required else {}
    initial: Any = item.default
    widget: forms.Widget
    if item.type == YES_NO:
        # A list rather than radio buttons: an unanswered question stays visibly unanswered, and it keeps the
        # 44 px touch target on a phone that the portal's own inputs have.
        widget = forms.Select(choices=[("", "— choose —"), ("yes", "Yes"), ("no", "No")], attrs=attrs)
        initial = None if item.default is None else ("yes" if item.default else "no")
    elif item.type == CHOICE:
        widget = forms.Select(choices=[("", "— choose —"), *[(choice, choice) for choice in item.choices]],
                              attrs=attrs)
    elif item.type == NUMBER:
        widget = forms.TextInput(attrs={**attrs, "inputmode": "decimal"})
    elif item.type == DATE:
        widget = forms.DateInput(attrs={**attrs, "type": "date"})
    else:
        widget = forms.TextInput(attrs=attrs)
    return forms.CharField(label=item.label, required=False, help_text=item.help_text, initial=initial,
                           widget=widget, strip=False)


def _placeholder(fields: Sequence[FormField]) -> str:
    examples = {YES_NO: True, NUMBER: 1, DATE: "2026-01-31"}
    sample = {item.key: examples.get(item.type, item.choices[0] if item.choices else "…") for item in fields[:3]}
    return json.dumps(sample, ensure_ascii=False) if sample else "{}"


class ResumeForm(forms.Form):
    """Continues a suspended step through its form: one typed input per field of the step's form
    (``fields``), and for people who manage the workflow (``raw``) a raw JSON object instead (``key=value``
    lines are read as an object too).

    The step id is only checked for shape here, the raw input for being an object; whether that step waits,
    is a step that may be continued, and whether the answers fit its form is decided by ``journey_resume``
    against the journey as Mint describes it now.
    """

    step_id = forms.CharField(label="Step", max_length=50, widget=forms.HiddenInput)
    input = forms.CharField(
        label="Raw JSON", required=False, max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "code", "spellcheck": "false"}),
        help_text="A JSON object sent as the step's output instead of the form; the keys the form asks for are "
                  "still checked. Leave empty to use the form.",
    )

    def __init__(self, *args: Any, fields: Sequence[FormField] = (), raw: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.step_fields = tuple(fields)
        self.raw = raw
        for item in self.step_fields:
            self.fields[ANSWER_PREFIX + item.key] = _answer_field(item)
        self.fields["input"].widget.attrs["placeholder"] = _placeholder(self.step_fields)

    @property
    def questions(self) -> list[tuple[FormField, forms.BoundField]]:
        """Each question of the step's form with its input, in the form's order."""
        return [(item, self[ANSWER_PREFIX + item.key]) for item in self.step_fields]

    def answers(self) -> dict[str, Any]:
        """Everything posted as an answer (``f_<key>``), whether or not the step's form asks for it: the service
        refuses what it does not ask for."""
        return {name.removeprefix(ANSWER_PREFIX): value for name, value in self.data.items()
                if name.startswith(ANSWER_PREFIX)}

    def raw_input(self) -> dict[str, Any] | None:
        """The raw JSON object when one was typed (call after ``is_valid()``), else None."""
        if not (self.data.get("input") or "").strip():
            return None
        return self.cleaned_data.get("input")

    def clean_input(self) -> dict[str, Any]:
        text = (self.cleaned_data.get("input") or "").strip()
        if not text:
            return {}
        if text.startswith("{"):
            try:
                # NaN, Infinity and numbers beyond a double are not JSON Mint can take: refuse them here.
                value = json.loads(text, parse_float=_finite_number, parse_constant=_no_constant)
            except json.JSONDecodeError as exc:
                raise forms.ValidationError(f"This is not valid JSON: {exc.msg} (line {exc.lineno}).") from None
            except (ValueError, RecursionError) as exc:
                raise forms.ValidationError(f"This JSON cannot be sent: {exc}.") from None
            if not isinstance(value, dict):
                raise forms.ValidationError("Enter a JSON object ({…}).")
            return value
        pairs: dict[str, Any] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            key, separator, value = line.partition("=")
            if not separator or not key.strip():
                raise forms.ValidationError(f"Line {number} is not key=value: “{line[:60]}”.")
            pairs[key.strip()] = value.strip()
        return pairs

    def show_errors(self, errors: Mapping[str, str], unknown: Sequence[str] = ()) -> None:
        """Puts the continue service's refusals beside the fields they name (unknown keys above the form). A form
        posted without the step's fields keeps them (``step_errors``) for the form drawn again with them."""
        self.step_errors = {**getattr(self, "step_errors", {}), **errors}
        self.unknown = tuple(unknown)
        for key, message in errors.items():
            name = ANSWER_PREFIX + key
            if name in self.fields:
                self.add_error(name, message)
        if unknown:
            names = ", ".join(f"“{key}”" for key in unknown)
            self.add_error(None, f"This step's form does not ask for {names}.")


class JourneyUrlForm(forms.Form):
    # Mint's bound for a new journey URL is 30 days; 0 would be a link nobody can use.
    time_to_live = LifetimeField(label="Link lifetime", minimum=1, maximum=MAX_URL_TTL, initial=DAY)


class NoteForm(forms.Form):
    content = forms.CharField(
        label="Note", max_length=NOTE_MAX, strip=False,
        widget=forms.Textarea(attrs={"rows": 3, "data-counter": str(NOTE_MAX)}),
    )
    # The step the note is about (Mint's stepId), chosen from the journey's workflow on the page; optional.
    step_id = forms.CharField(label="About step", max_length=100, required=False)

    def clean_content(self) -> str:
        content = self.cleaned_data["content"]
        if not content.strip():
            raise forms.ValidationError("Write something first.")
        return content


class NoteSearchForm(forms.Form):
    note_q = forms.CharField(label="Search notes", max_length=100, required=False,
                             widget=forms.TextInput(attrs={"type": "search", "placeholder": "Search notes"}))
    note_step = forms.CharField(label="Notes about step", max_length=100, required=False)
