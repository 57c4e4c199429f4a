"""Business-data filters for the journeys list: ``<path> <op> [value]``, parsed here and compiled to SQL.

What the mirror stores (``Journey.data``, written by ``journeys.services.mirror``)::

    {"input": {<the journey's input, when the portal knows it>},
     "steps": {<stepId>: <that step's output>, ...}}     # Mint's stepData, as the journey's detail gives it

How a path maps onto it:

- one key (``customerNumber``) is an input field: ``data.input.customerNumber``;
- two or more keys (``risk.score``, ``details.address.city``) are step data, the first key the step id:
  ``data.steps.risk.score``. Keys walk JSON objects only (never into lists), and may not contain whitespace,
  dots, quotes, backslashes or the operator characters ``= ~ < > !``.

Operators, with exactly the meaning both databases give them (tests/journeys/test_datafilter.py compares them with
a plain Python evaluation):

- ``=`` equals: a JSON string equal to the value; or, when the value is a number (JSON syntax), a JSON number of
  that value; ``true``/``false``/``null`` also match those JSON literals. A value in double quotes is only ever
  text (``= "80"`` does not match the number 80). Equality reads the GIN index (containment, ``@>``).
- ``~`` contains: a JSON string containing the value, ignoring case (of ASCII letters everywhere; PostgreSQL
  also folds other letters, SQLite does not).
- ``>`` ``<``: a number against JSON numbers; an ISO date or date-time (``2026-03-01``, ``2026-03-01T09:30``)
  against JSON strings that start with an ISO date, compared as text (so ``> 2026-03-01`` includes times on that
  day, and time zones are not converted). Any other value is refused: a number cannot be compared with text.
- ``exists``: the key is present (whatever its value, null included); takes no value.

Personal data (``privacy``): the mirror holds a declared value only as a marker (``privacy.masking``), so on a path
declared personal in any workflow (``privacy.selectors.personal_paths``, passed in by the list's form) ``=`` matches
the marker's keyed hash of the value (normalised by each kind the path is declared as) or, in workflows that do not
declare the path, the plain value; ``~``, ``>`` and ``<`` are refused there (a partial match would test a value the
portal does not hold), and ``exists`` works as anywhere. A path under a declared object is personal too.

Limits (each refused with a message, never an error page): a path of at most ``MAX_PATH`` characters, a value of
at most ``MAX_VALUE``, at most ``MAX_FILTERS`` filters and ``MAX_COLUMNS`` data columns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, F, Func
from django.db.models.sql.compiler import SQLCompiler

from privacy.masking import Masker, is_marker, search_hashes

MAX_PATH: Final = 200
MAX_VALUE: Final = 200
MAX_FILTERS: Final = 5
MAX_COLUMNS: Final = 5
# Path depth bound: an input field, or a step and up to nine nested keys.
MAX_KEYS: Final = 10

EQUALS: Final = "="
CONTAINS: Final = "~"
GREATER: Final = ">"
LESS: Final = "<"
EXISTS: Final = "exists"
OPERATORS: Final = (EQUALS, CONTAINS, GREATER, LESS, EXISTS)

INPUT: Final = "input"
STEPS: Final = "steps"

_FORBIDDEN_KEY: Final = re.compile(r"[\s.\"\\=~<>!\x00-\x1f]")
# Applied to a stripped line; each part's characters exclude the next part's, so matching is linear.
_SYNTAX: Final = re.compile(r"(?P<path>[^\s=~<>!]*)\s*(?P<op>[=~<>!]+|[A-Za-z_]+)?\s*(?P<value>.*)", re.S)
# A line longer than this is refused before it is parsed (far above a path and a value at their limits).
MAX_LINE: Final = 4096
# A JSON number; its exponent is bounded below so that PostgreSQL's numeric can hold it.
_NUMBER: Final = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d{1,3})?")
_ISO_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_MAX_EXPONENT: Final = 300
_JSON_LITERALS: Final = {"true": True, "false": False, "null": None}


class DataFilterError(ValueError):
    """A filter a person typed that cannot be applied; the message says why, for the page."""


@dataclass(frozen=True)
class DataPath:
    """Where a value lives in ``Journey.data``: ``keys`` from the root (``("input", "k")``, ``("steps", "s", "k")``)."""

    text: str
    keys: tuple[str, ...]

    @property
    def is_input(self) -> bool:
        return self.keys[0] == INPUT

    def value_in(self, data: Any) -> tuple[bool, Any]:
        """(found, value) of this path in a stored ``data`` object, walking objects only."""
        node = data
        for key in self.keys:
            if not isinstance(node, dict) or key not in node:
                return False, None
            node = node[key]
        return True, node


@dataclass(frozen=True)
class DataCondition:
    """One parsed filter. ``number`` is set for a numeric value, ``day`` (ISO text) for a date comparison,
    ``quoted`` when the value was written in double quotes (text only). ``hashes`` is set for ``=`` on a personal
    path: the keyed hashes a marker of the value may carry."""

    path: DataPath
    op: str
    value: str = ""
    number: Decimal | None = None
    day: str = ""
    quoted: bool = False
    hashes: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        if self.op == EXISTS:
            return f"{self.path.text} exists"
        return f"{self.path.text} {self.op} {json.dumps(self.value) if self.quoted else self.value}"


def parse_path(text: str) -> DataPath:
    """A data path (``customerNumber``, ``risk.score``) or DataFilterError."""
    text = text.strip()
    if not text:
        raise DataFilterError("Name a field: an input field (customerNumber) or step.key (risk.score).")
    if len(text) > MAX_PATH:
        raise DataFilterError(f"A field path may have at most {MAX_PATH} characters (this one has {len(text)}).")
    keys = tuple(text.split("."))
    if len(keys) > MAX_KEYS:
        raise DataFilterError(f"A field path may have at most {MAX_KEYS} keys.")
    for key in keys:
        if not key:
            raise DataFilterError(f"“{text}” has an empty key (two dots, or a dot at an end).")
        bad = _FORBIDDEN_KEY.search(key)
        if bad:
            raise DataFilterError(f"A key may not contain “{bad.group()}” (in “{text}”).")
    return DataPath(text=text, keys=(INPUT, *keys) if len(keys) == 1 else (STEPS, *keys))


def _number(text: str) -> Decimal | None:
    if not _NUMBER.fullmatch(text):
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if abs(value.adjusted()) <= _MAX_EXPONENT else None


def _iso_day(text: str) -> str:
    """The value as ISO text when it is a valid date or date-time, else ""."""
    if not _ISO_DATE.fullmatch(text):
        return ""
    try:
        if len(text) == 10:
            date.fromisoformat(text)
        else:
            datetime.fromisoformat(text.replace(" ", "T"))
    except ValueError:
        return ""
    return text.replace(" ", "T")


# A declared path (``input.nationalId``) → the kinds it is declared as (``privacy.selectors.personal_paths``).
PersonalPaths = Mapping[str, frozenset[str]]
_NO_PERSONAL: Final[PersonalPaths] = {}


def personal_kinds(path: DataPath, personal: PersonalPaths) -> frozenset[str]:
    """The kinds ``path`` is declared as anywhere: its own declaration's and those of any object above it (a
    declared object has every leaf under it marked); empty when it is not personal."""
    found: set[str] = set()
    for depth in range(2, len(path.keys) + 1):
        found |= personal.get(".".join(path.keys[:depth]), frozenset())
    return frozenset(found)


def _personal_search(path: DataPath, op: str, personal: PersonalPaths) -> frozenset[str]:
    """The kinds of a personal ``path`` (empty for others); DataFilterError for a partial match on one."""
    kinds = personal_kinds(path, personal)
    if kinds and op in (CONTAINS, GREATER, LESS):
        raise DataFilterError(f"“{path.text[:60]}” is personal data: search it with = (exact) or exists.")
    return kinds


def parse_condition(text: str, *, personal: PersonalPaths = _NO_PERSONAL) -> DataCondition:
    """One filter line (``risk.score > 80``) or DataFilterError with a message for the person who typed it.

    ``personal`` is where personal data is declared (``privacy.selectors.personal_paths()``): ``=`` on such a path
    matches by keyed hash, and partial matches there are refused."""
    text = text.strip()
    if len(text) > MAX_LINE:
        raise DataFilterError(f"A filter may have at most {MAX_LINE} characters (this one has {len(text)}).")
    match = _SYNTAX.fullmatch(text)
    if match is None or not match.group("path"):
        raise DataFilterError(f"Write a filter as “field operator value”, e.g. “customerNumber = C-100508” "
                              f"(got “{text[:60]}”).")
    op = match.group("op")
    raw_value = match.group("value")
    if op is None:
        raise DataFilterError(f"Add an operator after “{match.group('path')[:60]}”: = ~ > < or exists.")
    if op not in OPERATORS:
        raise DataFilterError(f"Unknown operator “{op[:20]}”: use = (equals), ~ (contains), > or < (numbers, "
                              f"dates) or exists.")
    path = parse_path(match.group("path"))
    kinds = _personal_search(path, op, personal)
    if op == EXISTS:
        if raw_value:
            raise DataFilterError(f"“exists” takes no value (remove “{raw_value[:40]}”).")
        return DataCondition(path=path, op=op)
    quoted = len(raw_value) >= 2 and raw_value.startswith('"') and raw_value.endswith('"')
    value = raw_value[1:-1] if quoted else raw_value
    if not value and not quoted:
        raise DataFilterError(f"“{path.text[:60]} {op}” needs a value.")
    if len(value) > MAX_VALUE:
        raise DataFilterError(f"A value may have at most {MAX_VALUE} characters (this one has {len(value)}).")
    if "\x00" in value:
        raise DataFilterError("A value may not contain a NUL character.")
    if op in (GREATER, LESS):
        number = None if quoted else _number(value)
        day = "" if number is not None else _iso_day(value)
        if number is None and not day and not quoted and _NUMBER.fullmatch(value):
            # It reads as a number, only one beyond what can be compared (1e999): say that, not "not a number".
            raise DataFilterError(f"“{value[:40]}” is a number too large to compare: its exponent "
                                  f"may be at most ±{_MAX_EXPONENT}.")
        if number is None and not day:
            raise DataFilterError(f"“{value[:40]}” is neither a number nor an ISO date (2026-03-01): "
                                  f"“{op}” compares numbers with numbers and dates with dates, not text.")
        return DataCondition(path=path, op=op, value=value, number=number, day=day, quoted=quoted)
    number = None if quoted or op == CONTAINS else _number(value)
    hashes = tuple(sorted(search_hashes(value, kinds))) if kinds else ()
    return DataCondition(path=path, op=op, value=value, number=number, quoted=quoted, hashes=hashes)


def parse_conditions(lines: Iterable[str], *, personal: PersonalPaths = _NO_PERSONAL
                     ) -> tuple[tuple[DataCondition, ...], list[str]]:
    """The filters of the non-empty ``lines`` and a message per refused line (valid ones are still returned);
    ``personal`` as for ``parse_condition``."""
    texts = [line for line in lines if line.strip()]
    conditions: list[DataCondition] = []
    problems: list[str] = []
    if len(texts) > MAX_FILTERS:
        problems.append(f"At most {MAX_FILTERS} data filters at once (got {len(texts)}).")
        return (), problems
    for text in texts:
        try:
            conditions.append(parse_condition(text, personal=personal))
        except DataFilterError as exc:
            problems.append(str(exc))
    return tuple(conditions), problems


def parse_columns(text: str) -> tuple[DataPath, ...]:
    """The comma-separated data columns (``cols``), or DataFilterError."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if len(names) > MAX_COLUMNS:
        raise DataFilterError(f"At most {MAX_COLUMNS} data columns (got {len(names)}).")
    paths: list[DataPath] = []
    for name in names:
        path = parse_path(name)
        if path not in paths:
            paths.append(path)
    return tuple(paths)


# --- SQL ---------------------------------------------------------------------------------------------------


def _like_pattern(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _nested(keys: Sequence[str], leaf: Any) -> Any:
    value = leaf
    for key in reversed(keys):
        value = {key: value}
    return value


def _equal_candidates(condition: DataCondition) -> list[str]:
    """The JSON texts a stored value may be for ``=`` to match it (each a containment document)."""
    candidates = [json.dumps(condition.value)]
    if not condition.quoted:
        if condition.number is not None:
            # The typed text is valid JSON for the number: PostgreSQL compares it as numeric (80 matches 80.0).
            candidates.append(condition.value)
        if condition.value in _JSON_LITERALS:
            candidates.append(condition.value)
    return candidates


def _postgresql(condition: DataCondition, column: str) -> tuple[str, list[Any]]:
    keys = list(condition.path.keys)
    if condition.op == EQUALS:
        # Containment reads the GIN index (jsonb_path_ops); one document per form the value may take.
        documents = []
        for candidate in _equal_candidates(condition):
            leaf = json.dumps(_nested(keys, "\x00"))
            documents.append(leaf.replace(json.dumps("\x00"), candidate))
        # A personal value is stored as a marker: its hash is matched, by containment like a plain value.
        documents += [json.dumps(_nested([*keys, "hash"], digest)) for digest in condition.hashes]
        sql = " OR ".join(f"{column} @> %s::jsonb" for _ in documents)
        return f"({sql})", documents
    # Keys walk objects only: each level above the value must be an object, or ``#>`` would index a list.
    parents = [f"jsonb_typeof({column} #> %s) = 'object'" for _ in range(1, len(keys))]
    params: list[Any] = [keys[:depth] for depth in range(1, len(keys))]
    value = f"({column} #> %s)"
    text = f"({column} #>> %s)"
    more: list[Any]
    if condition.op == EXISTS:
        test, more = f"{value} IS NOT NULL", [keys]
    elif condition.op == CONTAINS:
        test = f"jsonb_typeof({value}) = 'string' AND {text} ILIKE %s"
        more = [keys, keys, _like_pattern(condition.value)]
    elif condition.number is not None:
        # The CASE keeps the cast away from values that are not numbers (no cast errors, whatever is stored).
        test = (f"(CASE WHEN jsonb_typeof({value}) = 'number' THEN {value}::numeric END) "
                f"{condition.op} %s::numeric")
        more = [keys, keys, str(condition.number)]
    else:
        test = (f"jsonb_typeof({value}) = 'string' AND {text} ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}' "
                f"AND {text} COLLATE \"C\" {condition.op} %s COLLATE \"C\"")
        more = [keys, keys, keys, condition.day]
    return "(" + " AND ".join([*parents, test]) + ")", [*params, *more]


def _sqlite_path(keys: Sequence[str]) -> str:
    # Keys hold no quotes or backslashes (parse_path refuses them), so a quoted label is always well formed.
    return "$" + "".join(f'."{key}"' for key in keys)


def _sqlite(condition: DataCondition, column: str) -> tuple[str, list[Any]]:
    path = _sqlite_path(condition.path.keys)
    kind = f"json_type({column}, %s)"
    params: list[Any]
    value = f"json_extract({column}, %s)"
    if condition.op == EXISTS:
        return f"({kind} IS NOT NULL)", [path]
    if condition.op == CONTAINS:
        params = [path, path, _like_pattern(condition.value)]
        return f"({kind} = 'text' AND {value} LIKE %s ESCAPE '\\')", params
    if condition.op in (GREATER, LESS):
        if condition.number is not None:
            return (f"({kind} IN ('integer', 'real') AND {value} {condition.op} %s)",
                    [path, path, float(condition.number)])
        return (f"({kind} = 'text' AND {value} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*' "
                f"AND {value} {condition.op} %s)", [path, path, path, condition.day])
    tests = [f"({kind} = 'text' AND {value} = %s)"]
    params = [path, path, condition.value]
    if condition.hashes:
        marks = ", ".join("%s" for _ in condition.hashes)
        tests.append(f"(json_extract({column}, %s) IN ({marks}))")
        params += [_sqlite_path([*condition.path.keys, "hash"]), *condition.hashes]
    if not condition.quoted:
        if condition.number is not None:
            tests.append(f"({kind} IN ('integer', 'real') AND {value} = %s)")
            params += [path, path, float(condition.number)]
        if condition.value in ("true", "false", "null"):
            tests.append(f"({kind} = %s)")
            params += [path, condition.value]
    return "(" + " OR ".join(tests) + ")", params


class DataMatch(Func):
    """A WHERE condition on ``Journey.data`` for one filter: ``rows.filter(DataMatch(condition))``.

    The column comes through the compiler (never spelled out), so the condition stays right when the queryset
    is used as a subquery under another alias (saved views, bulk selections)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, condition: DataCondition) -> None:
        super().__init__(F("data"))
        self.condition = condition

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper,  # type: ignore[override]
               **extra_context: Any) -> tuple[str, list[Any]]:
        column, params = compiler.compile(self.source_expressions[0])
        if connection.vendor == "postgresql":
            sql, more = _postgresql(self.condition, column)
        else:
            sql, more = _sqlite(self.condition, column)
        return sql, [*params, *more]


def column_value(data: Any, path: DataPath, masker: Masker | None = None) -> str:
    """A stored value as a list cell shows it: text as is, anything else as compact JSON, missing as "".

    Personal values show as their masks (a marker never shows its hash); with the journey's ``masker``
    (``Masker.for_data(data)``) text is masked by the journey's personal words and identifiers too."""
    node = data if isinstance(data, Mapping) else {}
    for depth in range(1, len(path.keys)):
        _, above = DataPath(text=path.text, keys=path.keys[:depth]).value_in(node)
        if is_marker(above):
            # A path into a marker (``login.nid.hash``) shows the marker's mask, never its parts.
            return str(above["masked"])
    found, value = path.value_in(node)
    if not found:
        return ""
    value = (masker or Masker(revealed=True)).data(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
