"""Personal values turned into markers, and anything shown masked from those markers.

The portal's database never keeps a declared personal value in clear. Where the mirror stores journey data, each
declared leaf is replaced by a *marker*::

    {"$personal": "national_id", "masked": "******2345", "hash": "<keyed hash of the value>",
     "words": ["<keyed hash of one word>", ...]}            # words: names, addresses and free text only

``hash`` is an HMAC-SHA256 under ``settings.PERSONAL_DATA_KEY`` of the normalised value
(``privacy.kinds.normalise``), so an exact search or an erasure request can find a value without the portal
holding it, and nobody without the key can test guesses against a copy of the database. ``masked`` is what every
page shows; ``words`` lets free text (a journey named "Onboarding – Kari Nordmann", a log line) be masked word by
word without the words themselves.

A ``Masker`` masks what a page or an export is about to show: the markers by their masks, and every string by
the journey's known personal values (their words, and identifiers whose format says they are personal, such as a
checksum-valid national id, found by ``privacy.detect.find_in_text``).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Final

from django.conf import settings

from privacy import detect, kinds

MARKER: Final = "$personal"
# A word hash is only compared within one journey's text, so 64 bits are plenty and keep markers small.
_WORD_HASH_LENGTH: Final = 16
# How many adjacent words of a text together may form one identifier ("+47 912 34 567" is four).
_MAX_WINDOW: Final = 4
_TOKEN: Final = re.compile(r"[^\s,;:()\[\]{}<>\"'“”‘’]+")
_WORD: Final = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class PersonalField:
    """One declared field: ``path`` dotted from the data's root (``input.nationalId``, ``steps.login.name``)."""

    path: str
    kind: str

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.path.split("."))


@cache
def _key() -> bytes:
    return str(settings.PERSONAL_DATA_KEY).encode()


# Lists and exports mask thousands of rows whose texts repeat ("Onboarding", "–", masks already applied): the same
# pieces are hashed again and again, so the hashes are memoised (the key never changes within a process).
@lru_cache(maxsize=65536)
def value_hash(text: str) -> str:
    """The keyed hash of an already normalised value."""
    return hmac.new(_key(), b"v:" + text.encode(), hashlib.sha256).hexdigest()


@lru_cache(maxsize=65536)
def word_hash(word: str) -> str:
    return hmac.new(_key(), b"w:" + kinds.fold_word(word).encode(), hashlib.sha256).hexdigest()[:_WORD_HASH_LENGTH]


def search_hashes(value: str, kind_list: Iterable[str] | None = None) -> set[str]:
    """The hashes ``value`` has under each of ``kind_list`` (every kind when None): what an exact search or an
    erasure request looks for, since the same value is normalised by its kind."""
    return {value_hash(kinds.normalise(kind, value)) for kind in (kind_list or kinds.KINDS)
            if kinds.normalise(kind, value)}


def is_marker(node: object) -> bool:
    return isinstance(node, dict) and MARKER in node


def marker(kind: str, value: object) -> dict[str, Any]:
    text = kinds.value_text(value)
    made: dict[str, Any] = {MARKER: kind, "masked": kinds.mask(kind, text),
                            "hash": value_hash(kinds.normalise(kind, text))}
    words = sorted({word_hash(word) for word in kinds.words(kind, text)})
    if words:
        made["words"] = words
    return made


def _replace_at(node: Any, keys: Sequence[str], kind: str) -> Any:
    """``node`` with the leaves at ``keys`` turned into markers (lists are walked into; objects at the end of the
    path have every leaf under them marked)."""
    if isinstance(node, list):
        return [_replace_at(item, keys, kind) for item in node]
    if not keys:
        if is_marker(node):
            return node
        if isinstance(node, dict):
            return {key: _replace_at(value, (), kind) for key, value in node.items()}
        if node is None or node == "":
            return node
        return marker(kind, node)
    if not isinstance(node, dict) or keys[0] not in node:
        return node
    return {**node, keys[0]: _replace_at(node[keys[0]], keys[1:], kind)}


def pseudonymise(data: Any, fields: Iterable[PersonalField]) -> Any:
    """``data`` with every declared personal leaf replaced by its marker; idempotent (markers stay as they are)."""
    for personal in fields:
        data = _replace_at(data, personal.keys, personal.kind)
    return data


def markers_in(node: Any) -> Iterator[dict[str, Any]]:
    if is_marker(node):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from markers_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from markers_in(value)


def hashes_in(node: Any) -> set[str]:
    """The value hashes of every marker in ``node``: what an erasure request is matched against."""
    return {found["hash"] for found in markers_in(node)}


def clear_values(data: Any, fields: Iterable[PersonalField]) -> list[tuple[str, str]]:
    """(kind, value) of each declared leaf of clear ``data`` (a live read from Mint), for masking its texts."""
    found: list[tuple[str, str]] = []

    def walk(node: Any, keys: Sequence[str], kind: str) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, keys, kind)
        elif is_marker(node):
            # Already a marker (a tree partly marked): its value is not known here, and its own keys are not values.
            return
        elif keys:
            if isinstance(node, dict) and keys[0] in node:
                walk(node[keys[0]], keys[1:], kind)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value, (), kind)
        elif node is not None and node != "":
            found.append((kind, kinds.value_text(node)))

    for personal in fields:
        walk(data, personal.keys, personal.kind)
    return found


@dataclass
class Masker:
    """Masks what is shown of one journey (or, with ``revealed``, shows it as it is).

    Built from the journey's markers (the mirror's data, or a live read passed through ``pseudonymise``) and,
    when the page has them, the clear values themselves: with those, a value is found in text however it is
    cased or spaced; without them, by the keyed hashes of its words and of runs of up to four words.
    """

    markers: list[dict[str, Any]] = field(default_factory=list)
    values: list[tuple[str, str]] = field(default_factory=list)
    revealed: bool = False
    # Whether identifiers are also found by their format (a checksum-valid national id, an e-mail address). Only
    # for journeys whose workflow declares personal data: those can be revealed, so masking more is safe; a
    # workflow that declares nothing is shown as it always was.
    by_format: bool = True

    def __post_init__(self) -> None:
        self._by_hash = {found["hash"]: found for found in self.markers}
        self._kinds = {found[MARKER] for found in self.markers}
        self._words = {word for found in self.markers for word in found.get("words", ())}
        # Longest first, so "Kari Nordmann" is masked whole before "Kari" could be.
        self._values = sorted({(kind, value) for kind, value in self.values if len(value.strip()) >= 3},
                              key=lambda pair: -len(pair[1]))

    @classmethod
    def for_data(cls, data: Any, *, fields: Sequence[PersonalField] = (), clear: Any = None,
                 revealed: bool = False) -> Masker:
        """A masker for a journey whose stored ``data`` holds markers, and, when given, its ``clear`` live data
        with the declared ``fields`` (so its values are known too)."""
        markers = list(markers_in(data))
        values: list[tuple[str, str]] = []
        if clear is not None:
            values = clear_values(clear, fields)
            markers += [marker(kind, value) for kind, value in values]
        return cls(markers=markers, values=values, revealed=revealed, by_format=bool(markers or fields))

    def text(self, text: str) -> str:
        """``text`` with every personal value of this journey, and every identifier its format gives away,
        masked."""
        if self.revealed or not text:
            return text
        spans: list[tuple[int, int, str]] = []
        lowered = text.casefold()
        if len(lowered) == len(text):
            for kind, value in self._values:
                needle = value.casefold()
                start = lowered.find(needle)
                while start >= 0:
                    spans.append((start, start + len(needle), kinds.mask(kind, value)))
                    start = lowered.find(needle, start + 1)
        spans += self._hashed_spans(text)
        if self.by_format:
            spans += [(start, end, kinds.mask(kind, text[start:end]))
                      for start, end, kind in detect.find_in_text(text)]
        return _apply(text, spans)

    def _hashed_spans(self, text: str) -> list[tuple[int, int, str]]:
        spans: list[tuple[int, int, str]] = []
        if self._words:
            for match in _WORD.finditer(text):
                if len(match.group()) >= 3 and word_hash(match.group()) in self._words:
                    spans.append((match.start(), match.end(), kinds.word_mask(match.group())))
        if self._by_hash:
            tokens = [(match.start(), match.end()) for match in _TOKEN.finditer(text)]
            for index in range(len(tokens)):
                for width in range(1, _MAX_WINDOW + 1):
                    if index + width > len(tokens):
                        break
                    start, end = tokens[index][0], tokens[index + width - 1][1]
                    piece = text[start:end].rstrip(".")
                    for kind in self._kinds:
                        found = self._by_hash.get(value_hash(kinds.normalise(kind, piece)))
                        # Only under its own kind: a phone's digits-only form would otherwise match a national
                        # id's marker inside "Kari, fnr 12048510092" and mask the words around it.
                        if found is not None and found[MARKER] == kind:
                            spans.append((start, start + len(piece), found["masked"]))
                            break
        return spans

    def data(self, node: Any) -> Any:
        """A data tree as shown: markers by their masks, strings masked as text; revealed, markers still show
        masked (the clear value is not in them) and strings as they are."""
        if is_marker(node):
            return node["masked"]
        if isinstance(node, dict):
            return {key: self.data(value) for key, value in node.items()}
        if isinstance(node, list):
            return [self.data(value) for value in node]
        if isinstance(node, str):
            return self.text(node)
        return node


def _apply(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` with the given spans replaced; where spans overlap the one starting first (then the longest)
    wins, and the others are dropped whole, never partly applied."""
    if not spans:
        return text
    spans.sort(key=lambda span: (span[0], -(span[1] - span[0])))
    out: list[str] = []
    cursor = 0
    for start, end, replacement in spans:
        if start < cursor:
            # Overlapping a wider span already applied: extend that replacement's reach instead.
            cursor = max(cursor, end)
            continue
        out.append(text[cursor:start])
        out.append(replacement)
        cursor = end
    out.append(text[cursor:])
    return "".join(out)


def masked_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """A row of data-column values with markers shown as their masks."""
    return {key: value["masked"] if is_marker(value) else value for key, value in values.items()}
