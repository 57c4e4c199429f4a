"""Forms of the launch pages: one journey from the workflow's input parameters, or a CSV of many."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from launches.validation import (
    JOURNEY_URL_TTL_DEFAULT,
    JOURNEY_URL_TTL_MAX,
    JOURNEY_URL_TTL_MIN,
    MAX_VALUE_LENGTH,
    clean_input,
    value_errors,
)
from mintportal.lifetimes import LifetimeField

# A CSV of 10,000 rows of a few short fields is about 1 MB; this leaves ample room without inviting abuse.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


def _ttl_field() -> LifetimeField:
    # Mint's start answer carries a journey URL that lives 1 second to 7 days.
    return LifetimeField(label="Journey URL lifetime", minimum=JOURNEY_URL_TTL_MIN, maximum=JOURNEY_URL_TTL_MAX,
                         initial=JOURNEY_URL_TTL_DEFAULT)


def _value_validator(value: str) -> None:
    problems = value_errors(value)
    if problems:
        raise ValidationError(problems)


class LaunchForm(forms.Form):
    """One field per input parameter (named ``p0``, ``p1``… so any parameter name is safe), the URL
    lifetime, and a hidden idempotency key that makes a double submit launch once."""

    key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, parameters: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parameters = list(parameters)
        self.fields["key"].initial = uuid.uuid4().hex
        for index, name in enumerate(self.parameters):
            self.fields[f"p{index}"] = forms.CharField(
                label=name, max_length=MAX_VALUE_LENGTH, strip=False, validators=[_value_validator]
            )
        self.fields["journey_url_ttl"] = _ttl_field()

    def parameter_fields(self) -> list[forms.BoundField]:
        return [self[f"p{index}"] for index in range(len(self.parameters))]

    def journey_input(self) -> dict[str, str]:
        values = {name: self.cleaned_data.get(f"p{index}") for index, name in enumerate(self.parameters)}
        return clean_input(parameters=self.parameters, values=values)


class BulkUploadForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="UTF-8 CSV; the first row names the columns.")
    journey_url_ttl = _ttl_field()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Shown beside the one-journey form, whose lifetime field has the same name: ids must differ.
        kwargs.setdefault("auto_id", "id_bulk_%s")
        super().__init__(*args, **kwargs)

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it.")
        # A NUL byte means a binary file or a UTF-16 export, never text CSV; PostgreSQL cannot store it either.
        if any(b"\x00" in chunk for chunk in upload.chunks()):
            raise ValidationError("The file contains NUL bytes, so it is not a text CSV. Save it as “CSV UTF-8”.")
        upload.seek(0)
        return upload


class BulkPageForm(forms.Form):
    """``?page=N`` of a bulk launch's rows with errors: the largest upload (50,000 rows, 100 a page) has 500."""

    page = forms.IntegerField(min_value=1, max_value=1_000, required=False)

    def page_number(self) -> int:
        return self.cleaned_data.get("page") or 1
