"""Forms of a workflow's "Personal data" page: the version shown, the declared fields (one row each) and the
workflow's retention. Each check is the service's own (``privacy.services``), so the page refuses exactly what a
save would, beside the field it concerns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from django import forms
from django.core.exceptions import ValidationError

from privacy import kinds
from privacy.masking import PersonalField
from privacy.models import MAX_FIELDS, MAX_PATH
from privacy.services import MAX_RETENTION_DAYS, path_problem

PREFIX: Final = "fields"
RETENTION_PREFIX: Final = "retention"


class VersionForm(forms.Form):
    """The query of the page: which version's declaration to show, and whether to draft suggestions."""

    version = forms.IntegerField(min_value=1, required=False)
    suggest = forms.BooleanField(required=False)


class PersonalFieldForm(forms.Form):
    """One declared field: where it sits in a journey's data and what kind of personal data it holds."""

    path = forms.CharField(label="Path", strip=True, widget=forms.TextInput(attrs={
        "maxlength": MAX_PATH, "list": "known-paths", "spellcheck": "false", "autocomplete": "off",
        "placeholder": "input.nationalId or steps.login.name"}))
    kind = forms.ChoiceField(label="Kind", choices=[("", "Choose a kind"), *kinds.KINDS.items()])

    def clean_path(self) -> str:
        path: str = self.cleaned_data["path"]
        problem = path_problem(path)
        if problem:
            raise ValidationError(problem)
        return path

    @staticmethod
    def initial_from(item: PersonalField) -> dict[str, str]:
        return {"path": item.path, "kind": item.kind}


class BasePersonalFieldFormSet(forms.BaseFormSet):
    """The declaration as rows: removed rows and blank new rows are left out; a path may be declared once."""

    def _kept(self) -> list[forms.Form]:
        return [form for form in self.forms
                if not form.errors and not form.cleaned_data.get("DELETE") and form.cleaned_data.get("path")]

    def clean(self) -> None:
        super().clean()
        kept = self._kept()
        if len(kept) > MAX_FIELDS:
            raise ValidationError(f"A workflow may declare at most {MAX_FIELDS} personal fields "
                                  f"({len(kept)} given).", code="too_many_fields")
        seen: set[str] = set()
        for form in kept:
            path = form.cleaned_data["path"]
            if path in seen:
                form.add_error("path", f"“{path}” is declared twice.")
            seen.add(path)

    def declared(self) -> list[dict[str, str]]:
        """The kept rows as the service takes them, in the order shown; call after ``is_valid()``."""
        return [{"path": form.cleaned_data["path"], "kind": form.cleaned_data["kind"]} for form in self._kept()]


PersonalFieldFormSet = forms.formset_factory(
    PersonalFieldForm, formset=BasePersonalFieldFormSet, extra=1, can_delete=True, max_num=MAX_FIELDS,
    # A submission may carry blank and removed rows besides the fields; more than this many rows is refused whole.
    absolute_max=MAX_FIELDS + 50,
)


def field_formset(rows: Iterable[Mapping[str, str]], *, extra: int = 1) -> BasePersonalFieldFormSet:
    """An unbound editor over ``rows`` with ``extra`` blank rows to fill in."""
    formset = PersonalFieldFormSet(initial=[dict(row) for row in rows], prefix=PREFIX)
    formset.extra = extra
    assert isinstance(formset, BasePersonalFieldFormSet)
    return formset


def posted_rows(data: Mapping[str, Any]) -> tuple[list[dict[str, str]], int]:
    """The rows of a submitted editor that are neither removed nor blank, and how many blank rows it had: "Add a
    row" shows them again with one blank row more, before anything is checked."""
    try:
        total = int(data.get(f"{PREFIX}-TOTAL_FORMS", 0))
    except (TypeError, ValueError):
        total = 0
    rows: list[dict[str, str]] = []
    blank = 0
    for index in range(min(max(total, 0), MAX_FIELDS + 50)):
        path = str(data.get(f"{PREFIX}-{index}-path", "")).strip()[:MAX_PATH + 1]
        kind = str(data.get(f"{PREFIX}-{index}-kind", ""))
        if data.get(f"{PREFIX}-{index}-DELETE"):
            continue
        if not path and not kind:
            blank += 1
            continue
        rows.append({"path": path, "kind": kind if kind in kinds.KINDS else ""})
    return rows, blank


class RetentionForm(forms.Form):
    """The workflow's own retention; blank returns it to the portal's default."""

    days = forms.IntegerField(label="Keep journey data for (days after the journey ends)", required=False,
                              min_value=0, max_value=MAX_RETENTION_DAYS)
