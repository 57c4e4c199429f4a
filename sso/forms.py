"""The 4xx decisions of the sign-in views: where to go afterwards, and whether the provider's answer is whole."""

from __future__ import annotations

from django import forms
from django.http import QueryDict
from django.utils.http import url_has_allowed_host_and_scheme


class StartForm(forms.Form):
    """``next``: the page to open after signing in; anything pointing off this portal is dropped, not obeyed."""

    next = forms.CharField(required=False, max_length=2000)

    def __init__(self, data: QueryDict, *, host: str, secure: bool) -> None:
        super().__init__(data)
        self.host = host
        self.secure = secure

    def clean_next(self) -> str:
        target = self.cleaned_data["next"]
        if target and url_has_allowed_host_and_scheme(target, allowed_hosts={self.host}, require_https=self.secure):
            return target
        return ""


class CallbackForm(forms.Form):
    """The provider's answer: ``state`` with either a ``code`` or an ``error`` (RFC 6749 section 4.1.2)."""

    state = forms.CharField(max_length=500)
    code = forms.CharField(required=False, max_length=2000)
    error = forms.CharField(required=False, max_length=200)

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if not cleaned.get("code") and not cleaned.get("error"):
            raise forms.ValidationError("The identity provider's answer has neither a code nor an error.")
        return cleaned
