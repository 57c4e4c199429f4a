"""Forms of the erasure pages: every 4xx decision about what was typed is made here."""

from __future__ import annotations

import unicodedata
from typing import Any, Final

from django import forms

from compliance.models import REFERENCE_MAX_LENGTH
from privacy import kinds

VALUE_MAX_LENGTH: Final = 200
ANY_KIND: Final = ""


class _Unechoed(forms.TextInput):
    """A text input that never writes what was typed back into the page: the value is a person's."""

    def format_value(self, value: Any) -> str | None:
        return None


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


class ErasureFindForm(forms.Form):
    value = forms.CharField(
        label="Value to forget", max_length=VALUE_MAX_LENGTH, strip=False,
        widget=_Unechoed(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="The exact value, e.g. a national identity number or a full name. It is never stored.",
        error_messages={"max_length": f"At most {VALUE_MAX_LENGTH} characters."},
    )
    kind = forms.ChoiceField(label="Kind", required=False,
                             choices=[(ANY_KIND, "Any kind"), *kinds.KINDS.items()])
    reference = forms.CharField(
        label="Request reference", max_length=REFERENCE_MAX_LENGTH,
        help_text="The request's reference, e.g. the ticket number. Recorded in the audit trail.",
    )

    def clean_value(self) -> str:
        value: str = self.cleaned_data["value"]
        if not value.strip():
            raise forms.ValidationError("Enter the value to forget.")
        if _has_control(value):
            raise forms.ValidationError("The value contains control characters; type it as plain text.")
        return value.strip()

    def clean_reference(self) -> str:
        reference: str = self.cleaned_data["reference"]
        if _has_control(reference):
            raise forms.ValidationError("The reference contains control characters.")
        return reference

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        value, reference = cleaned.get("value"), cleaned.get("reference")
        # The reference goes into the audit trail, which must never hold the person's value.
        if value and reference and any(
                kinds.normalise(kind, value) and kinds.normalise(kind, value) in kinds.normalise(kind, reference)
                for kind in kinds.KINDS):
            self.add_error("reference", "The reference must not contain the value itself.")
            # Nor may the page that says so show it again.
            self.fields["reference"].widget = _Unechoed()
        return cleaned

    @property
    def kind_list(self) -> list[str]:
        kind = self.cleaned_data.get("kind") or ANY_KIND
        return [] if kind == ANY_KIND else [kind]


class ErasureConfirmForm(forms.Form):
    request = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
