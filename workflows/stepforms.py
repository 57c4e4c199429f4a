"""Forms for manual (suspend) steps: their fields, the first draft derived from a workflow definition, and the
checks of a form and of the answers given through it. Pure: no database, no Mint, no Django.

A suspend step's output is whatever the person continuing it sends, and later steps read it through templates
such as ``{{ steps.verify.verified }}``. A key the output lacks reads as nothing, which can fault the journey
(the demo's address change does), so the portal asks for exactly the keys the workflow reads, typed the way
they are used: compared with true/false → yes/no, compared with a number → number, anything else → text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

SUSPEND: Final = "suspend"

TEXT: Final = "text"
NUMBER: Final = "number"
YES_NO: Final = "yesno"
CHOICE: Final = "choice"
DATE: Final = "date"
FIELD_TYPES: Final = {TEXT: "Text", NUMBER: "Number", YES_NO: "Yes/no", CHOICE: "Choice", DATE: "Date"}

# Limits of a form, chosen so a form stays something a person fills in one sitting.
MAX_FIELDS: Final = 50
MAX_KEY: Final = 100
MAX_LABEL: Final = 200
MAX_HELP: Final = 500
MAX_CHOICES: Final = 50
MAX_CHOICE: Final = 100
# An answer (and a text default); Mint's resume input has no stated limit, the portal keeps answers readable.
MAX_TEXT: Final = 5000

# Mint's template syntax (``{{ steps.<stepId>.<key> }}``): a key is one path segment, letters, digits, "_" or "-".
PLACEHOLDER: Final = re.compile(r"\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}")
KEY_PATTERN: Final = re.compile(r"[\w-]+")
_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)", re.ASCII)
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?", re.ASCII)
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_YES = frozenset({"yes", "true"})
_NO = frozenset({"no", "false"})
# How strongly a use decides a key's type: a comparison with true/false beats one with a number beats text.
_TYPE_RANK: Final = {YES_NO: 2, NUMBER: 1, TEXT: 0}


@dataclass(frozen=True)
class FormField:
    """One question of a step's form; ``key`` is the output key later steps read."""

    key: str
    label: str
    type: str = TEXT
    required: bool = True
    help_text: str = ""
    default: Any = None
    choices: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "type": self.type, "required": self.required,
                "help_text": self.help_text, "default": self.default, "choices": list(self.choices)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FormField:
        return cls(key=str(data["key"]), label=str(data.get("label") or data["key"]),
                   type=str(data.get("type") or TEXT), required=bool(data.get("required", True)),
                   help_text=str(data.get("help_text") or ""), default=data.get("default"),
                   choices=tuple(str(choice) for choice in data.get("choices") or ()))


@dataclass(frozen=True)
class Reference:
    """What the workflow does with one key of a suspend step's output: the type its uses suggest, and the steps
    (by id) that read it."""

    type: str = TEXT
    readers: tuple[str, ...] = field(default=())


# --- reading a definition (a Mint wire model or its JSON) -----------------------------------------------------


def _get(item: Any, snake: str, camel: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(camel, item.get(snake))
    return getattr(item, snake, None)


def _steps(definition: Any) -> list[Any]:
    return list(_get(definition, "steps", "steps") or [])


def _connections(definition: Any) -> list[Any]:
    return list(_get(definition, "connections", "connections") or [])


def suspend_step_ids(definition: Any) -> list[str]:
    """The ids of the definition's suspend steps, in definition order."""
    return [str(_get(step, "id", "id")) for step in _steps(definition) if _get(step, "type", "type") == SUSPEND]


def _strings_and_comparisons(value: Any) -> Iterator[tuple[str, str]]:
    """Every string inside ``value`` with the type its use suggests: a side of a comparison (a mapping with
    ``left`` and ``right``, as an if-else step or a condition has) that is exactly one placeholder takes the type
    of the other side's constant; every other string is text."""
    if isinstance(value, str):
        yield value, TEXT
    elif isinstance(value, Mapping):
        compared = "left" in value and "right" in value
        for name, item in value.items():
            if compared and name in ("left", "right") and isinstance(item, str):
                other = value["right" if name == "left" else "left"]
                yield item, _constant_type(other, str(value.get("operator") or "eq"))
            else:
                yield from _strings_and_comparisons(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings_and_comparisons(item)


def _constant_type(constant: Any, operator: str) -> str:
    if operator == "contains":
        return TEXT
    if isinstance(constant, bool) or (isinstance(constant, str) and constant.strip().lower() in {"true", "false"}):
        return YES_NO
    if isinstance(constant, (int, float)) or (isinstance(constant, str) and _DECIMAL.fullmatch(constant.strip())):
        return NUMBER
    return TEXT


def _connection_values(connection: Any) -> Any:
    if isinstance(connection, Mapping):
        return dict(connection)
    dump = getattr(connection, "model_dump", None)
    return dump() if dump is not None else {}


def step_references(definition: Any) -> dict[str, dict[str, Reference]]:
    """For each suspend step: every ``steps.<stepId>.<key>`` the definition reads (in any string of any step's
    properties, or of a connection), in order of first appearance, with the type its uses suggest."""
    suspends = set(suspend_step_ids(definition))
    found: dict[str, dict[str, Reference]] = {step_id: {} for step_id in suspend_step_ids(definition)}
    sources: list[tuple[str, Any]] = [
        (str(_get(step, "id", "id")), _get(step, "properties", "properties")) for step in _steps(definition)
    ]
    sources += [("", _connection_values(connection)) for connection in _connections(definition)]
    for reader, value in sources:
        for text, hinted in _strings_and_comparisons(value):
            whole = PLACEHOLDER.fullmatch(text.strip())
            for match in PLACEHOLDER.finditer(text):
                parts = match.group(1).split(".")
                if len(parts) < 3 or parts[0] != "steps" or parts[1] not in suspends:
                    continue
                kind = hinted if whole else TEXT
                keys = found[parts[1]]
                seen = keys.get(parts[2], Reference(type=kind))
                better = kind if _TYPE_RANK[kind] > _TYPE_RANK[seen.type] else seen.type
                readers = seen.readers + ((reader,) if reader and reader not in seen.readers else ())
                keys[parts[2]] = Reference(type=better, readers=readers)
    return found


def humanize(key: str) -> str:
    """A label from a key: ``handledBy`` → "Handled by", ``proof_ok`` → "Proof ok"."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", key).replace("_", " ").replace("-", " ").split()
    text = " ".join(words).lower()
    return (text[:1].upper() + text[1:])[:MAX_LABEL] or key[:MAX_LABEL]


def _readers_help(readers: Sequence[str], labels: Mapping[str, str]) -> str:
    if not readers:
        return ""
    names = ", ".join(f"“{labels.get(reader) or reader}”" for reader in readers)
    return f"Read by {names}."[:MAX_HELP]


def derive_step_form(definition: Any, step_id: str) -> tuple[FormField, ...]:
    """The first draft of ``step_id``'s form: one required field per key that the workflow reads from its
    output, typed by use, labelled from the key, its help naming the steps that read it."""
    labels = {str(_get(step, "id", "id")): str(_get(step, "display_name", "displayName") or _get(step, "name", "name")
                                              or _get(step, "id", "id")) for step in _steps(definition)}
    references = step_references(definition).get(step_id, {})
    return tuple(FormField(key=key, label=humanize(key), type=reference.type, required=True,
                           help_text=_readers_help(reference.readers, labels))
                 for key, reference in references.items())


def merge_missing(fields: Sequence[FormField], draft: Iterable[FormField]) -> tuple[FormField, ...]:
    """``fields`` followed by the draft's fields whose keys ``fields`` lacks (a new version that reads more)."""
    keys = {item.key for item in fields}
    return (*fields, *(item for item in draft if item.key not in keys))


# --- checking a form ------------------------------------------------------------------------------------------


def key_problem(key: str) -> str | None:
    if not key:
        return "Give the key later steps read, e.g. “verified”."
    if len(key) > MAX_KEY:
        return f"At most {MAX_KEY} characters (this has {len(key)})."
    if not KEY_PATTERN.fullmatch(key):
        return "Use letters, digits, “_” and “-” only: templates read it as {{ steps.<step>.<key> }}."
    return None


def field_problems(item: FormField) -> dict[str, str]:
    """What is wrong with one field, by attribute (key, label, type, help_text, choices, default)."""
    problems: dict[str, str] = {}
    if (problem := key_problem(item.key)) is not None:
        problems["key"] = problem
    if len(item.label) > MAX_LABEL:
        problems["label"] = f"At most {MAX_LABEL} characters (this has {len(item.label)})."
    if item.type not in FIELD_TYPES:
        problems["type"] = f"Choose one of: {', '.join(FIELD_TYPES.values())}."
    if len(item.help_text) > MAX_HELP:
        problems["help_text"] = f"At most {MAX_HELP} characters (this has {len(item.help_text)})."
    if item.type == CHOICE:
        if not item.choices:
            problems["choices"] = "A choice field needs at least one choice."
        elif len(item.choices) > MAX_CHOICES:
            problems["choices"] = f"At most {MAX_CHOICES} choices (this has {len(item.choices)})."
        elif any(not choice or len(choice) > MAX_CHOICE for choice in item.choices):
            problems["choices"] = f"Each choice needs 1 to {MAX_CHOICE} characters."
        elif len(set(item.choices)) != len(item.choices):
            problems["choices"] = "Each choice may appear only once."
    elif item.choices:
        problems["choices"] = "Only a choice field has choices."
    if "type" not in problems and "choices" not in problems and not _blank(item.default):
        try:
            coerce(item, item.default)
        except ValueError as exc:
            problems["default"] = f"Not a valid default: {exc}"
    return problems


def form_problems(fields: Sequence[FormField]) -> list[str]:
    """Every problem of a whole form, as sentences naming the field (empty when it may be saved)."""
    problems: list[str] = []
    if len(fields) > MAX_FIELDS:
        problems.append(f"A form has at most {MAX_FIELDS} fields (this has {len(fields)}).")
    seen: set[str] = set()
    for number, item in enumerate(fields, start=1):
        for attribute, problem in field_problems(item).items():
            problems.append(f"Field {number} ({item.key or 'no key'}), {attribute.replace('_', ' ')}: {problem}")
        if item.key in seen:
            problems.append(f"Field {number}: the key “{item.key}” is used twice.")
        seen.add(item.key)
    return problems


# --- checking answers -----------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def coerce(item: FormField, value: Any) -> Any:
    """``value`` (typed text from a form, or a JSON value) as the field's type: text → str, number → int or
    float, yes/no → bool, choice → one of the choices, date → ``YYYY-MM-DD``. Raises ``ValueError`` saying why."""
    if item.type == NUMBER:
        return _number(value)
    if item.type == YES_NO:
        if isinstance(value, bool):
            return value
        word = value.strip().lower() if isinstance(value, str) else None
        if word in _YES or word in _NO:
            return word in _YES
        raise ValueError("answer yes or no.")
    if not isinstance(value, str):
        raise ValueError("expected text.")
    text = value.strip()
    if item.type == CHOICE:
        if text not in item.choices:
            raise ValueError(f"choose one of {', '.join(item.choices)}.")
        return text
    if item.type == DATE:
        try:
            if not _ISO_DATE.fullmatch(text):
                raise ValueError
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise ValueError("expected a date as YYYY-MM-DD.") from None
    if len(text) > MAX_TEXT:
        raise ValueError(f"at most {MAX_TEXT} characters (this has {len(text)}).")
    return text


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expected a number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("expected a finite number.")
        return value
    text = value.strip() if isinstance(value, str) else ""
    if _INTEGER.fullmatch(text) and len(text) <= 20:
        return int(text)
    if _DECIMAL.fullmatch(text):
        number = float(text)
        if math.isfinite(number):
            return number
    raise ValueError("expected a number such as 42 or 3.5.")


@dataclass(frozen=True)
class Answers:
    """The typed output to send (``values``), or why not: ``errors`` by field key, ``unknown`` keys refused."""

    values: dict[str, Any]
    errors: dict[str, str]
    unknown: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.errors and not self.unknown


def clean_answers(fields: Sequence[FormField], answers: Mapping[str, Any], *, allow_unknown: bool) -> Answers:
    """Checks ``answers`` against the form: each required field answered, each answer of its type. Keys the form
    does not ask for are refused unless ``allow_unknown`` (raw JSON from someone who manages the workflow),
    then passed on unchanged. Optional fields left empty are left out of the output."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in fields:
        raw = answers.get(item.key)
        if _blank(raw):
            if item.required:
                errors[item.key] = f"“{item.label}” is required."
            continue
        try:
            values[item.key] = coerce(item, raw)
        except ValueError as exc:
            errors[item.key] = f"“{item.label}”: {exc}"
    asked = {item.key for item in fields}
    extra = [key for key in answers if key not in asked]
    if allow_unknown:
        values.update({key: answers[key] for key in extra})
        extra = []
    return Answers(values=values, errors=errors, unknown=tuple(extra))
