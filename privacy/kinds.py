"""The kinds of personal data a workflow may declare, how each is normalised before it is hashed, and how each
is masked. Pure: no database, no Django.

A mask keeps at most two fifths of a value's characters (and never more than four), so no mask is the value and
no mask contains it: ``******1234`` for a national id, ``K*** N***`` for a name.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

NATIONAL_ID: Final = "national_id"
NAME: Final = "name"
BIRTH_DATE: Final = "birth_date"
EMAIL: Final = "email"
PHONE: Final = "phone"
ADDRESS: Final = "address"
DOCUMENT_NUMBER: Final = "document_number"
BANK_ACCOUNT: Final = "bank_account"
FREE_TEXT: Final = "free_text"

KINDS: Final = {
    NATIONAL_ID: "National identity number",
    NAME: "Name",
    BIRTH_DATE: "Birth date",
    EMAIL: "E-mail address",
    PHONE: "Phone number",
    ADDRESS: "Address",
    DOCUMENT_NUMBER: "Document number",
    BANK_ACCOUNT: "Bank account (IBAN)",
    FREE_TEXT: "Free text",
}

# Kinds whose words are personal one by one: a log message that says "Nordmann signed" gives the surname away
# even without the first name, so these kinds are matched (and masked) word by word in free text as well. Free
# text is not among them: its words are mostly ordinary ones ("requested", "customer"), which would then be
# masked in every text of the journey; it is masked whole where it is stored and matched whole in text.
WORDWISE: Final = frozenset({NAME, ADDRESS})

STARS: Final = "***"
_DIGITS = re.compile(r"\d")
_WORD = re.compile(r"\w+", re.UNICODE)
_SPACE = re.compile(r"\s+")


def _fold(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def normalise(kind: str, value: str) -> str:
    """The form of ``value`` that is hashed: two ways of writing the same value hash alike (spaces and dashes in
    numbers, case in names and addresses, a leading ``+`` or ``00`` in phone numbers)."""
    text = _fold(value)
    if kind in (NATIONAL_ID, DOCUMENT_NUMBER, BANK_ACCOUNT):
        return re.sub(r"[\s\-./]", "", text)
    if kind == PHONE:
        digits = re.sub(r"\D", "", text)
        return digits[2:] if text.startswith("00") else digits
    return text


def value_text(value: object) -> str:
    """A JSON leaf as the text it is shown as (numbers and booleans too: a national id may arrive as a number)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _kept(text: str, most: int = 4) -> int:
    """How many characters of ``text`` a mask may show: two fifths at most, and never more than ``most``."""
    return min(most, len(text) * 2 // 5)


def _tail(text: str, most: int = 4) -> str:
    keep = _kept(text, most)
    return "******" + (text[-keep:] if keep else "")


def _words(text: str) -> str:
    """Each word as its first letter and stars: ``Kari Nordmann`` → ``K*** N***``; digits become stars."""
    masked = []
    for word in text.split():
        first = word[0] if word[0].isalpha() and len(word) >= 3 else "*"
        masked.append(first + STARS)
    return " ".join(masked) or STARS


def _mask_number(text: str) -> str:
    return _tail("".join(_DIGITS.findall(text)) or text)


def _mask_document(text: str) -> str:
    return _tail(re.sub(r"\s", "", text), most=3)


def _mask_account(text: str) -> str:
    compact = re.sub(r"\s", "", text).upper()
    country = compact[:2] if len(compact) >= 12 and compact[:2].isalpha() else ""
    return country + _tail(compact[len(country):])


def _mask_email(text: str) -> str:
    local, _, domain = text.partition("@")
    if not domain:
        return _words(text)
    top = domain.rsplit(".", 1)[-1] if "." in domain else ""
    first = local[0] if len(local) >= 3 else "*"
    return f"{first}{STARS}@{domain[0] if len(domain) >= 6 else '*'}{STARS}" + (f".{top}" if top else "")


_MASKS: Final = {
    NATIONAL_ID: _mask_number,
    PHONE: _mask_number,
    DOCUMENT_NUMBER: _mask_document,
    BANK_ACCOUNT: _mask_account,
    BIRTH_DATE: lambda text: "****-**-**",
    EMAIL: _mask_email,
    FREE_TEXT: lambda text: "[personal data removed]",
}


def mask(kind: str, value: str) -> str:
    """``value`` (a personal value of ``kind``) masked for display; names and addresses word by word."""
    text = value.strip()
    if not text:
        return ""
    return _MASKS.get(kind, _words)(text)


def word_mask(word: str) -> str:
    """One word of a name or address masked on its own (in free text)."""
    return _words(word)


def words(kind: str, value: str) -> list[str]:
    """The words of a value of a word-wise kind, normalised, that are worth matching on their own: three
    characters or more (so "of" or "12" in an address do not mask every "of" and "12" in a log)."""
    if kind not in WORDWISE:
        return []
    return [word for word in (_fold(match) for match in _WORD.findall(value)) if len(word) >= 3]


def fold_word(word: str) -> str:
    return _fold(word)
