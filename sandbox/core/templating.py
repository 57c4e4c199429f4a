"""The template syntax of step properties: ``{{ path }}`` placeholders over the journey's data.

Paths are dotted: ``input.<key>``, ``steps.<stepId>.<key>``, ``variables.<key>`` and, inside a for-each
iteration, ``loop.item`` / ``loop.index``. List elements are addressed by number (``input.people.0.name``).
A template that is exactly one placeholder yields the value itself (so ``{{ input.items }}`` can be a list);
otherwise each placeholder is replaced by its value as text. A path that leads nowhere yields None, or
empty text inside a longer template.
"""

from __future__ import annotations

import json
import re
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}")


def lookup(path: str, scope: dict[str, Any]) -> Any:
    """The value at the dotted ``path`` in ``scope``, or None."""
    value: Any = scope
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def render(template: Any, scope: dict[str, Any]) -> Any:
    """``template`` with its placeholders resolved; non-string templates are returned unchanged."""
    if not isinstance(template, str):
        return template
    whole = PLACEHOLDER.fullmatch(template.strip())
    if whole:
        return lookup(whole.group(1), scope)
    return PLACEHOLDER.sub(lambda match: _as_text(lookup(match.group(1), scope)), template)


def render_text(template: Any, scope: dict[str, Any]) -> str:
    """``template`` rendered and always returned as text."""
    return _as_text(render(template, scope))
