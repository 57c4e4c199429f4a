"""Forms of the erasure pages: every 4xx decision about what was typed is made here."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Any, Final

from django import forms

from compliance.models import REFERENCE_MAX_LENGTH
from privacy import detect, kinds

VALUE_MAX_LENGTH: Final = 200
ANY_KIND: Final = ""


class _Unechoed(forms.TextInput):
    """A text input that never writes what was typed back into the page: the value is a person's."""

    def format_value(self, value: Any) -> str | None:
        return None


def _has_control(text: str) -> bool:
    return any(unicodedata.category(char) in ("Cc", "Cf") for char in text)


# The kinds whose values have a format to check, with what the message calls it: a mistyped national id (a wrong
# checksum) would otherwise find nothing and look like "this person is not here".
_FORMATS: dict[str, tuple[Callable[[str], bool], str]] = {
    kinds.NATIONAL_ID: (detect.is_national_id,
                        "national identity number (Norwegian, Danish, Swedish or Finnish, with its checksum)"),
    kinds.EMAIL: (detect.is_email, "e-mail address"),
    kinds.PHONE: (detect.is_phone, "phone number"),
    kinds.BANK_ACCOUNT: (detect.is_iban, "IBAN"),
    kinds.BIRTH_DATE: (detect.is_birth_date, "birth date (YYYY-MM-DD)"),
}


class ErasureFindForm(forms.Form):
    value = forms.CharField(
        label="Value to forget", max_length=VALUE_MAX_LENGTH, strip=False,
        widget=_Unechoed(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="The exact value, e.g. a national identity number or a full name. It is never stored.",
        error_messages={"max_length": f"At most {VALUE_MAX_LENGTH} characters.",
                        "required": "Enter the value to forget."},
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
        check = _FORMATS.get(cleaned.get("kind") or ANY_KIND)
        if value and check is not None and not check[0](value):
            self.add_error("value", f"This is not a valid {check[1]}. Check it, or choose “Any kind” to look it "
                                    "up exactly as typed.")
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
