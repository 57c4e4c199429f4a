"""Link lifetimes in human units: a form field offering 1 hour, 1 day, 7 days and 30 days (those within the
operation's bounds) or another length with its unit, and the words for a number of seconds.

Each operation keeps Mint's own bounds and says them in words: the journey URL in a start answer lives 1 second to
7 days, a new journey URL at most 30 days. A lifetime of 0 is a link nobody can use, so it is refused everywhere.
"""

from __future__ import annotations

from typing import Any, Final

from django import forms
from django.utils.html import format_html
from django.utils.safestring import SafeString

MINUTE: Final = 60
HOUR: Final = 3_600
DAY: Final = 86_400
PRESETS: Final = (HOUR, DAY, 7 * DAY, 30 * DAY)
UNITS: Final = (("seconds", "seconds", 1), ("minutes", "minutes", MINUTE), ("hours", "hours", HOUR),
                ("days", "days", DAY))
CUSTOM: Final = "custom"


def lifetime_words(seconds: int) -> str:
    """``3600`` → ``1 hour``; ``5400`` → ``1 hour 30 minutes``; ``604800`` → ``7 days``; ``45`` → ``45 seconds``."""
    seconds = int(seconds)
    parts = []
    for name, size in (("day", DAY), ("hour", HOUR), ("minute", MINUTE), ("second", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count:,} {name}{'' if count == 1 else 's'}")
    return " ".join(parts[:2]) if parts else "0 seconds"


class LifetimeWidget(forms.MultiWidget):
    """A choice of common lifetimes, and a number with its unit for any other (shown by the page when chosen)."""

    def __init__(self, *, presets: list[tuple[str, str]]) -> None:
        super().__init__(widgets=[
            forms.Select(choices=[*presets, (CUSTOM, "Another length…")], attrs={"data-lifetime-choice": ""}),
            forms.NumberInput(attrs={"min": 1, "step": 1, "inputmode": "numeric", "class": "lifetime-amount"}),
            forms.Select(choices=[(value, label) for value, label, _ in UNITS], attrs={"class": "lifetime-unit"}),
        ])

    def decompress(self, value: Any) -> list[Any]:
        if value in (None, ""):
            return [None, None, "hours"]
        seconds = int(value)
        if seconds in PRESETS:
            return [str(seconds), None, "hours"]
        for unit, _, size in reversed(UNITS):
            if seconds % size == 0:
                return [CUSTOM, seconds // size, unit]
        return [CUSTOM, seconds, "seconds"]

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> SafeString:
        """The choice, then the length and its unit, each with a label; the choice is named by the fieldset's
        legend (``<id>_legend``, see templates/components/_lifetime_field.html)."""
        base = (attrs or {}).get("id") or f"id_{name}"
        values = value if isinstance(value, list) else self.decompress(value)
        choice, amount, unit = (self.widgets[index].render(
            f"{name}_{index}", values[index], {"id": f"{base}_{index}"} | (
                {"aria-labelledby": f"{base}_legend"} if index == 0 else {}), renderer) for index in range(3))
        return format_html(
            '{}<div class="lifetime-custom" data-lifetime-custom><label for="{}_1">Length</label>{}'
            '<label class="visually-hidden" for="{}_2">Unit</label>{}</div>',
            choice, base, amount, base, unit,
        )

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[Any]:
        if name in data and f"{name}_0" not in data:
            # A plain number of seconds under the field's own name (how scripts and the API-minded post it).
            return [CUSTOM, data.get(name), "seconds"]
        return super().value_from_datadict(data, files, name)

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return name not in data and super().value_omitted_from_data(data, files, name)


class LifetimeField(forms.MultiValueField):
    """A lifetime in seconds between ``minimum`` and ``maximum``, entered as a preset or an amount and a unit."""

    def __init__(self, *, minimum: int, maximum: int, initial: int, **kwargs: Any) -> None:
        self.minimum, self.maximum = minimum, maximum
        presets = [(str(seconds), lifetime_words(seconds)) for seconds in PRESETS if minimum <= seconds <= maximum]
        fields = (
            forms.ChoiceField(choices=[*presets, (CUSTOM, "Another length")]),
            forms.IntegerField(required=False),
            forms.ChoiceField(choices=[(value, label) for value, label, _ in UNITS], required=False),
        )
        kwargs.setdefault("help_text", f"From {lifetime_words(minimum)} to {lifetime_words(maximum)}.")
        super().__init__(fields=fields, require_all_fields=False, initial=initial,
                         widget=LifetimeWidget(presets=presets), **kwargs)

    def compress(self, data_list: list[Any]) -> int | None:
        if not data_list:
            return None
        choice, amount, unit = [*data_list, None, None, None][:3]
        if choice != CUSTOM:
            return int(choice)
        if amount is None:
            raise forms.ValidationError("Enter the length of the link's life, and its unit.", code="required")
        size = {value: size for value, _, size in UNITS}.get(unit or "", 0)
        if not size:
            raise forms.ValidationError("Choose seconds, minutes, hours or days.", code="invalid")
        return int(amount) * size

    def clean(self, value: Any) -> int | None:
        seconds = super().clean(value)
        if seconds is None:
            return None
        bounds = f"from {lifetime_words(self.minimum)} to {lifetime_words(self.maximum)}"
        if seconds <= 0:
            raise forms.ValidationError(f"A link that lasts no time could not be used: choose {bounds}.",
                                        code="min_value")
        if seconds < self.minimum or seconds > self.maximum:
            raise forms.ValidationError(f"{lifetime_words(seconds)} is outside what Mint allows here: {bounds}.",
                                        code="max_value")
        return seconds
