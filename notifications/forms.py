"""The notification preference form."""

from __future__ import annotations

from django import forms

from notifications.models import Mode


class PreferenceForm(forms.Form):
    mode = forms.ChoiceField(choices=Mode.choices, widget=forms.RadioSelect, label="E-mail me about new work")
