"""Form pieces shared by the portal's apps: Mint's validation errors mapped onto fields, and a JSON field."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from django import forms

from mintportal.mint import errors
from mintportal.outage import mint_error_message

# How the JSON field names the kind of value it expects, in its error.
_KINDS: dict[type, str] = {dict: "an object ({…})", list: "a list ([…])"}
_ROOT = re.compile(r"^\$?\.?([A-Za-z_][A-Za-z0-9_]*)")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _param_pairs(exc: errors.MintError) -> list[tuple[str, str]]:
    pairs = []
    for item in getattr(exc, "invalid_params", None) or []:
        if isinstance(item, tuple | list):
            name, reason = item[0], item[1]
        else:
            name, reason = getattr(item, "name", ""), getattr(item, "reason", "")
        pairs.append((str(name or ""), str(reason or "")))
    return pairs


def add_mint_errors(form: forms.Form, exc: errors.MintError, *, fields: Mapping[str, str] | None = None) -> None:
    """Puts each of Mint's ``invalidParams`` next to the form field it names; the rest above the form.

    A parameter such as ``steps[2].type`` belongs to the field for its root (``steps``), found through
    ``fields`` (Mint name → form field) or by its snake_case spelling; the message keeps the full path
    so the user knows which item is wrong. Without ``invalidParams`` the error's kind is explained.
    """
    mapping = dict(fields or {})
    pairs = _param_pairs(exc)
    if not pairs:
        form.add_error(None, mint_error_message(exc))
        return
    for name, reason in pairs:
        match = _ROOT.match(name)
        root = match.group(1) if match else ""
        field = mapping.get(root) or (_snake(root) if _snake(root) in form.fields else None)
        if field not in form.fields:
            field = None
        reason = reason or "is not valid"
        # Next to its own field the root name is implied; elsewhere the user needs the whole path.
        text = reason if field is not None and name == root else f"{name}: {reason}" if name else reason
        form.add_error(field, f"Mint: {text}")


class PrettyJSONField(forms.JSONField):
    """A JSON field shown indented, so edited definitions stay readable; invalid text is kept as typed."""

    def __init__(self, *, expect: type | None = None, **kwargs: Any) -> None:
        self.expect = expect
        super().__init__(**kwargs)

    def bound_data(self, data: Any, initial: Any) -> Any:
        # Submitted text is shown back exactly as typed (not re-indented), valid or not.
        if isinstance(data, str) and not self.disabled:
            return forms.fields.InvalidJSONInput(data)
        return super().bound_data(data, initial)

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)

    def clean(self, value: Any) -> Any:
        cleaned = super().clean(value)
        if cleaned is not None and self.expect is not None and not isinstance(cleaned, self.expect):
            kind = _KINDS.get(self.expect, self.expect.__name__)
            raise forms.ValidationError(f"Enter {kind}.", code="invalid")
        return cleaned
