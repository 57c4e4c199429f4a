"""Telling personal data by its format and by its field's name: the first draft of a workflow's declaration, and
the identifiers in free text (log lines, notes) that must be masked even when nobody declared them. Pure: no
database, no Django.

A format alone is a weak signal (any 11 digits could be an amount), so national ids and IBANs count only when their
checksum holds, phones in free text only with a leading ``+`` or ``00``, and a birth date only where the field's
name says so. Nothing here ever puts a value in a message: what it returns is a path, a kind, a span or a count.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from privacy import kinds

# --- checksums and dates -------------------------------------------------------------------------------------------

_FNR_WEIGHTS_1: Final = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_FNR_WEIGHTS_2: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_HETU_CHECK: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# The HETU's century sign: "+" for the 1800s, "-" and (since 2023) "YXWVU" for the 1900s, "A" and "BCDEF" for 2000s.
_HETU_CENTURY: Final = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}
_SPACES: Final = re.compile(r"\s+")


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _mod11_control(digits: str, weights: tuple[int, ...]) -> int | None:
    """The fødselsnummer's control digit over ``digits``; None when the remainder gives 10 (no such number)."""
    control = 11 - sum(int(digit) * weight for digit, weight in zip(digits, weights, strict=True)) % 11
    if control == 11:
        return 0
    return None if control == 10 else control


def _fnr_century(year: int, individual: int) -> int | None:
    """The century a fødselsnummer's individual number gives its two-digit year (Skatteetaten's ranges); None for
    combinations never issued, so a random 11 digits with good controls is still less likely to pass."""
    if individual <= 499:
        return 1900
    if individual <= 749 and year >= 54:
        return 1800
    if year <= 39:
        return 2000
    if individual >= 900:
        return 1900
    return None


def is_fodselsnummer(value: str) -> bool:
    """A Norwegian fødselsnummer or D-number (day + 40): 11 digits, a real birth date, both mod-11 controls."""
    if len(value) != 11 or not value.isascii() or not value.isdigit():
        return False
    day, month, year, individual = int(value[0:2]), int(value[2:4]), int(value[4:6]), int(value[6:9])
    if day > 40:
        day -= 40
    century = _fnr_century(year, individual)
    if century is None or not _real_date(century + year, month, day):
        return False
    first = _mod11_control(value[:9], _FNR_WEIGHTS_1)
    if first is None or first != int(value[9]):
        return False
    second = _mod11_control(value[:10], _FNR_WEIGHTS_2)
    return second is not None and second == int(value[10])


def _cpr_century(year: int, seventh: int) -> int:
    """The century a CPR number's seventh digit gives its two-digit year (CPR-kontoret's table)."""
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if year <= 36 else 1900
    return 2000 if year <= 57 else 1800


def is_cpr(value: str, *, dash_required: bool = False) -> bool:
    """A Danish CPR number, ``DDMMYY-SSSS`` or (unless ``dash_required``) ten plain digits, with a real date.

    Denmark stopped issuing numbers that pass the old mod-11 check in 2007, so only the date is checked; that is
    weak, which is why free text needs the dash form (ten plain digits in a log are more often something else).
    """
    if len(value) == 11 and value[6] == "-":
        value = value[:6] + value[7:]
    elif dash_required:
        return False
    if len(value) != 10 or not value.isascii() or not value.isdigit():
        return False
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    return _real_date(_cpr_century(year, int(value[6])) + year, month, day)


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod-10) check: doubling every second digit from the right."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


_PERSONNUMMER: Final = re.compile(r"(\d{2})?(\d{6})([-+]?)(\d{4})")


def is_personnummer(value: str, *, separator_required: bool = False) -> bool:
    """A Swedish personnummer or samordningsnummer (day + 60): ``YYMMDD-NNNC`` or ``YYYYMMDD-NNNC``, ``+`` for
    people over 100, no separator allowed in a field; the Luhn check over the ten-digit form and a real date."""
    match = _PERSONNUMMER.fullmatch(value) if value.isascii() else None
    if match is None or (separator_required and not match.group(3)):
        return False
    short = match.group(2) + match.group(4)
    if not luhn_valid(short):
        return False
    month, day = int(short[2:4]), int(short[4:6])
    if day > 60:
        day -= 60
    if match.group(1):
        year = int(match.group(1) + short[:2])
        return 1800 <= year <= date.today().year and _real_date(year, month, day)
    # The ten-digit form leaves the century to the separator: "-" under 100 years old, "+" over.
    centuries = (1800, 1900) if match.group(3) == "+" else (1900, 2000)
    return any(_real_date(century + int(short[:2]), month, day) for century in centuries)


def is_hetu(value: str) -> bool:
    """A Finnish henkilötunnus ``DDMMYYCZZZQ``: a real date in the century sign's century and the mod-31 letter."""
    if len(value) != 11 or not value.isascii():
        return False
    value = value.upper()
    digits, sign, check = value[:6] + value[7:10], value[6], value[10]
    if not digits.isdigit() or sign not in _HETU_CENTURY:
        return False
    if not _real_date(_HETU_CENTURY[sign] + int(value[4:6]), int(value[2:4]), int(value[0:2])):
        return False
    return _HETU_CHECK[int(digits) % 31] == check


def is_national_id(value: str) -> bool:
    """Any of the four Nordic national ids, as a field holds one (separators optional where the format allows)."""
    compact = value.strip()
    return (is_fodselsnummer(_SPACES.sub("", compact)) or is_cpr(compact) or is_personnummer(compact)
            or is_hetu(compact))


_IBAN: Final = re.compile(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}")


def is_iban(value: str) -> bool:
    """An IBAN: country, two check digits and the account, 15–34 characters (spaces allowed), mod 97 equal to 1.
    Each country's exact length is not checked: the checksum already rejects a mistyped one in 97 of 98 cases."""
    compact = _SPACES.sub("", value).upper()
    if not compact.isascii() or not _IBAN.fullmatch(compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


_EMAIL: Final = re.compile(r"[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}")


def is_email(value: str) -> bool:
    """A plausible e-mail address; not RFC 5322 in full, which would accept much that no person uses."""
    return _EMAIL.fullmatch(value.strip()) is not None


_PHONE: Final = re.compile(r"(?:\+|00)?\d(?:[ -]?\d){7,14}")


# Dates written with dashes have 8 digits too; they are not phone numbers.
_DASHED_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}|\d{2}-\d{2}-\d{4}")


def is_phone(value: str) -> bool:
    """A phone number E.164-style: an optional ``+`` (or ``00``), 8 to 15 digits, spaces and dashes between."""
    text = value.strip()
    return _PHONE.fullmatch(text) is not None and _DASHED_DATE.fullmatch(text) is None


_ISO_DATE: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def is_birth_date(value: str) -> bool:
    """An ISO date a living person may be born on (1900 to today). Any ISO date fits this, so it is only a
    signal together with a field name that speaks of birth, never alone."""
    match = _ISO_DATE.fullmatch(value.strip())
    if match is None:
        return False
    year, month, day = (int(part) for part in match.groups())
    return _real_date(year, month, day) and date(1900, 1, 1) <= date(year, month, day) <= date.today()


# --- one value, one key ---------------------------------------------------------------------------------------------


def _value_kinds(value: object) -> list[str]:
    """Every kind ``value``'s format fits, most specific first. A number is only tried as a national id (a
    fødselsnummer may arrive as a JSON number, losing its leading zero); an amount or a count must not read as a
    phone number."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        text = str(value)
        ids = {text, text.zfill(10), text.zfill(11)} if value >= 0 else set()
        return [kinds.NATIONAL_ID] if any(is_national_id(candidate) for candidate in ids) else []
    # Longer than any identifier written out: free text, which find_in_text reads instead.
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        return []
    found = []
    if is_national_id(value):
        found.append(kinds.NATIONAL_ID)
    if is_iban(value):
        found.append(kinds.BANK_ACCOUNT)
    if is_email(value):
        found.append(kinds.EMAIL)
    if is_phone(value):
        found.append(kinds.PHONE)
    return found


def kind_of_value(value: object) -> str | None:
    """The kind a single field value's format shows (a national id by any of the four validators, an IBAN, an
    e-mail address, a phone number), or None. Names and addresses cannot be told by format."""
    found = _value_kinds(value)
    return found[0] if found else None


_EXACT_KEYS: Final = {
    kinds.NATIONAL_ID: (
        "nationalid", "nationalidentitynumber", "nationalidnumber", "ssn", "socialsecuritynumber", "fnr", "dnr",
        "fodselsnummer", "fødselsnummer", "foedselsnummer", "personnummer", "personnr", "personalnumber",
        "samordningsnummer", "hetu", "henkilotunnus", "henkilötunnus", "cpr", "cprnumber", "cprnr",
        "personalidentitynumber", "personalidentificationnumber", "personalid", "personalcode", "nin",
    ),
    kinds.NAME: (
        "name", "fullname", "firstname", "lastname", "middlename", "surname", "givenname", "givennames",
        "familyname", "maidenname", "nickname", "customername", "signatory", "signatoryname", "holdername",
        "accountholder", "cardholder", "cardholdername", "navn", "fornavn", "etternavn", "mellomnavn",
    ),
    kinds.BIRTH_DATE: (
        "birthdate", "dateofbirth", "dob", "birthday", "bornon", "fodselsdato", "fødselsdato", "foedselsdato",
        "syntymaaika", "fodelsedatum", "födelsedatum",
    ),
    kinds.EMAIL: ("email", "mail", "emailaddress", "mailaddress", "epost", "epostadresse"),
    kinds.PHONE: (
        "phone", "mobile", "mobil", "msisdn", "tlf", "tel", "telephone", "telefon", "phonenumber", "mobilenumber",
        "mobilephone", "cellphone", "telephonenumber", "mobilnummer", "telefonnummer",
    ),
    kinds.ADDRESS: (
        "address", "street", "streetaddress", "streetname", "newaddress", "postaladdress", "homeaddress",
        "addressline", "addressline1", "addressline2", "residentialaddress", "mailingaddress", "adresse",
        "gateadresse", "postadresse",
    ),
    kinds.DOCUMENT_NUMBER: (
        "passport", "passportnumber", "passportno", "documentnumber", "documentno", "idcardnumber", "idcardno",
        "idnumber", "driverslicence", "driverslicense", "driverlicence", "driverlicense", "licencenumber",
        "licensenumber",
    ),
    kinds.BANK_ACCOUNT: ("iban", "accountnumber", "bankaccount", "bankaccountnumber", "kontonummer"),
}
_BY_KEY: Final = {key: kind for kind, keys in _EXACT_KEYS.items() for key in keys}

# Suffixes that keep their meaning after a qualifier: "customerNationalId", "contactEmail", "payoutIban".
_SUFFIXES: Final = (
    ("nationalid", kinds.NATIONAL_ID), ("personnummer", kinds.NATIONAL_ID), ("fodselsnummer", kinds.NATIONAL_ID),
    ("fødselsnummer", kinds.NATIONAL_ID), ("birthdate", kinds.BIRTH_DATE), ("dateofbirth", kinds.BIRTH_DATE),
    ("emailaddress", kinds.EMAIL), ("email", kinds.EMAIL), ("phonenumber", kinds.PHONE), ("phone", kinds.PHONE),
    ("mobilenumber", kinds.PHONE), ("passportnumber", kinds.DOCUMENT_NUMBER),
    ("documentnumber", kinds.DOCUMENT_NUMBER), ("iban", kinds.BANK_ACCOUNT), ("bankaccount", kinds.BANK_ACCOUNT),
    ("accountnumber", kinds.BANK_ACCOUNT),
)

# "…Name" is a person's name unless the qualifier names a thing: a workflow, a file, a company. Listing the
# things (rather than the people) keeps "applicantName" or "beneficiaryName" personal without anyone adding them.
_TECHNICAL_NAMES: Final = frozenset({
    "workflow", "step", "file", "product", "company", "display", "user", "host", "domain", "class", "field",
    "key", "table", "column", "bank", "branch", "brand", "model", "device", "template", "queue", "task", "event",
    "service", "app", "application", "module", "package", "variable", "tag", "label", "group", "role", "org",
    "organisation", "organization", "business", "legal", "trade", "merchant", "vendor", "supplier", "city",
    "country", "region", "path", "dir", "folder", "document", "attachment", "form", "job", "process", "project",
    "team", "channel", "topic", "bucket", "cluster", "node", "server", "resource", "schema", "type", "kind",
    "status", "state", "plan", "property", "attribute", "parameter", "param", "method", "function", "operation",
    "action", "activity", "flow", "journey", "case", "base", "code", "short", "long", "internal",
    "external", "system", "tenant", "environment", "env", "network", "image", "container", "database", "db",
    "index", "report", "metric", "feature", "setting", "config", "option", "category", "section", "page",
    "screen", "button", "menu", "view", "provider", "issuer", "client", "partner", "employer", "institution",
    "store", "shop", "site", "location", "street", "offer", "campaign", "account", "entity", "object",
    "asset", "fund", "instrument", "currency", "language", "locale", "timezone", "zone", "sender",
    "signal", "stage", "phase", "version", "release", "build", "repo", "repository", "bot", "api",
    "endpoint", "route", "script", "command", "policy", "rule", "scope", "permission",
})
# "…Address" is postal unless it is a network's or an inbox's.
_TECHNICAL_ADDRESSES: Final = frozenset({
    "ip", "ipv4", "ipv6", "mac", "remote", "server", "host", "web", "wallet", "contract", "node", "network",
    "memory", "base", "url", "callback", "reply", "return", "sender", "from", "to", "bind", "listen", "proxy",
    "gateway", "socket", "peer", "broadcast", "multicast", "hardware", "bluetooth", "ethernet",
})
_KEY_SEPARATORS: Final = re.compile(r"[\W_]+", re.UNICODE)


def _key_token(key: str) -> str:
    """``nationalId``, ``national_id``, ``National-ID`` and ``national id`` all become ``nationalid``."""
    return _KEY_SEPARATORS.sub("", unicodedata.normalize("NFKC", key)).casefold()


def _kind_of_token(token: str) -> str | None:
    if token in _BY_KEY:
        return _BY_KEY[token]
    for suffix, kind in _SUFFIXES:
        if token.endswith(suffix):
            return kind
    if token.endswith("name") and token[:-4] not in _TECHNICAL_NAMES:
        return kinds.NAME
    if token.endswith("address") and token[:-7] not in _TECHNICAL_ADDRESSES:
        return kinds.ADDRESS
    return None


def kind_of_key(key: str) -> str | None:
    """The kind a field's name suggests, case- and separator-insensitive (``nationalId``, ``national_id``,
    ``national-id``), plurals included (``emails``); None for a name that says nothing personal, including the
    technical ``…Name`` keys (``workflowName``, ``fileName``, ``companyName``)."""
    token = _key_token(key)
    if not token:
        return None
    found = _kind_of_token(token)
    if found is None and token.endswith("es") and len(token) > 4:
        found = _kind_of_token(token[:-2])
    if found is None and token.endswith("s") and not token.endswith("ss") and len(token) > 3:
        found = _kind_of_token(token[:-1])
    return found


# --- a draft declaration from sample journeys -----------------------------------------------------------------------

MAX_LEAVES: Final = 10_000
MAX_DEPTH: Final = 10
# Kinds a whole object may carry ("address": {"street": …, "city": …}); their parts take the parent's kind.
_COMPOUND_KINDS: Final = frozenset({kinds.NAME, kinds.ADDRESS})
# Kinds whose value format wins over what the field's name says: an identifier's checksum is better evidence
# than a name ("reference" holding fødselsnumre).
_IDENTIFIER_KINDS: Final = frozenset({kinds.NATIONAL_ID, kinds.BANK_ACCOUNT})
_VALUE_KIND_ORDER: Final = (kinds.NATIONAL_ID, kinds.BANK_ACCOUNT, kinds.EMAIL, kinds.PHONE)


@dataclass(frozen=True)
class Suggestion:
    """One field the draft proposes to declare: its dotted ``path``, the ``kind`` and a ``reason`` an admin can
    read ("name suggests Phone number", "3 of 4 values look like E-mail address"), which never holds a value."""

    path: str
    kind: str
    reason: str


@dataclass
class _Leaf:
    key_kind: str | None
    values: list[object]


def _path_segment(key: object) -> str:
    """A key as a path segment. A key that is itself an identifier (an object keyed by national id or e-mail)
    becomes ``*``, so the path holds no personal value and all such keys share one path."""
    text = str(key)
    return "*" if _value_kinds(text) else text


def _walk(node: object, path: tuple[str, ...], kind: str | None, depth: int, budget: list[int],
          leaves: dict[str, _Leaf]) -> None:
    """Collect the leaves under ``node``. ``budget`` is the leaves left (shared by every sample); ``kind`` is the
    kind the nearest key on the path suggested."""
    if budget[0] <= 0 or depth > MAX_DEPTH:
        return
    if isinstance(node, Mapping):
        # Under "steps" the keys are step ids ("email", "address"), which name a step, not the data.
        step_ids = path == ("steps",)
        for key, child in node.items():
            own = None if step_ids else kind_of_key(str(key))
            inherited = own or (kind if kind in _COMPOUND_KINDS else None)
            _walk(child, (*path, _path_segment(key)), inherited, depth + 1, budget, leaves)
        return
    if isinstance(node, list | tuple):
        # Lists are walked into without an index: each element is another sample of the same field.
        for child in node:
            _walk(child, path, kind, depth + 1, budget, leaves)
        return
    if not path:
        return
    budget[0] -= 1
    leaf = leaves.setdefault(".".join(path), _Leaf(key_kind=kind, values=[]))
    if node is not None and not (isinstance(node, str) and not node.strip()):
        leaf.values.append(node)


def _suggest(path: str, leaf: _Leaf) -> Suggestion | None:
    """The suggestion for one path, if any. The name's kind stands when the values do not contradict it (a
    "phone" field of ten plain digits also fits a CPR number); a checksum-backed identifier format wins when most
    values have it; a birth date is believed only when the name speaks of birth."""
    values = leaf.values
    # A field that only ever holds true or false is a flag ("sendEmail"), whatever its name.
    if values and all(isinstance(value, bool) for value in values):
        return None
    counts = dict.fromkeys(_VALUE_KIND_ORDER, 0)
    for value in values:
        for kind in _value_kinds(value):
            counts[kind] += 1
    enough = [kind for kind in _VALUE_KIND_ORDER if counts[kind] and counts[kind] * 2 >= len(values)]
    by_value = max(enough, key=lambda kind: counts[kind]) if enough else None
    key_kind = leaf.key_kind
    if key_kind is not None and (by_value is None or counts.get(key_kind, 0) >= counts[by_value]
                                 or by_value not in _IDENTIFIER_KINDS):
        return Suggestion(path, key_kind, f"name suggests {kinds.KINDS[key_kind]}")
    if by_value is not None:
        return Suggestion(path, by_value, f"{counts[by_value]} of {len(values)} values look like "
                                          f"{kinds.KINDS[by_value]}")
    birth = sum(1 for value in values if isinstance(value, str) and is_birth_date(value))
    if birth and birth * 2 >= len(values) and "birth" in path.rsplit(".", 1)[-1].casefold():
        return Suggestion(path, kinds.BIRTH_DATE, f"{birth} of {len(values)} values look like "
                                                  f"{kinds.KINDS[kinds.BIRTH_DATE]}")
    return None


def draft(samples: Iterable[Mapping[str, Any]]) -> list[Suggestion]:
    """A first draft of a workflow's personal fields from sample journey data, for an admin to review.

    Each sample is ``{"input": {...}, "steps": {"<stepId>": {...}}}`` in clear. Paths are dotted from the root
    (``input.nationalId``, ``steps.details.address.street``); lists are walked into without an index
    (``input.customers.name``). A path is suggested when its key's name suggests a kind, or when at least half of
    its non-empty sample values (and at least one) fit a format; for identifiers the format wins over the name.
    Sorted by path.

    Bounded so that a huge or hostile sample cannot stall the page that calls it: at most ``MAX_LEAVES`` (10,000)
    leaves are read across all samples, and nothing deeper than ``MAX_DEPTH`` (10) levels.
    """
    leaves: dict[str, _Leaf] = {}
    budget = [MAX_LEAVES]
    for sample in samples:
        if budget[0] <= 0:
            break
        _walk(sample, (), None, 0, budget, leaves)
    suggestions = (_suggest(path, leaf) for path, leaf in leaves.items())
    return sorted((item for item in suggestions if item is not None), key=lambda item: item.path)


# --- identifiers in free text ---------------------------------------------------------------------------------------

# Every pattern is anchored at a boundary its own characters cannot cross (a look-behind) and has bounded
# repetitions, so each start position costs a constant and a text of any length is scanned in linear time.
_TEXT_FNR: Final = re.compile(r"(?<![\d])\d{6} ?\d{5}(?!\d)")
_TEXT_CPR: Final = re.compile(r"(?<![\d-])\d{6}-\d{4}(?![\d-])")
_TEXT_PERSONNUMMER: Final = re.compile(r"(?<![\d-])(?:\d{2})?\d{6}[-+]\d{4}(?![\d-])")
_TEXT_HETU: Final = re.compile(r"(?<![0-9A-Za-z])\d{6}[-+A-FU-Y]\d{3}[0-9A-Y](?![0-9A-Za-z])")
_TEXT_IBAN: Final = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])")
_TEXT_EMAIL: Final = re.compile(
    r"(?<![A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,8}"
    r"\.[A-Za-z]{2,24}(?![A-Za-z0-9-])"
)
_TEXT_PHONE: Final = re.compile(r"(?<![\w+])(?:\+|00)\d(?:[ -]?\d){7,14}(?!\d)")


def _iban_spans(text: str) -> Iterator[tuple[int, int]]:
    """IBANs in text. Printed in groups of four, an IBAN may run into the next word ("NO93 8601 1117 947 NOK"),
    so each match is also tried cut before each of its spaces, longest first."""
    for match in _TEXT_IBAN.finditer(text):
        candidate = match.group()
        ends = [len(candidate)] + [index for index in range(len(candidate) - 1, 0, -1) if candidate[index] == " "]
        for end in ends:
            if is_iban(candidate[:end]):
                yield match.start(), match.start() + end
                break


def _candidates(text: str) -> Iterator[tuple[int, int, str]]:
    for match in _TEXT_FNR.finditer(text):
        if is_fodselsnummer(match.group().replace(" ", "")):
            yield match.start(), match.end(), kinds.NATIONAL_ID
    for match in _TEXT_CPR.finditer(text):
        if is_cpr(match.group(), dash_required=True):
            yield match.start(), match.end(), kinds.NATIONAL_ID
    for match in _TEXT_PERSONNUMMER.finditer(text):
        if is_personnummer(match.group(), separator_required=True):
            yield match.start(), match.end(), kinds.NATIONAL_ID
    for match in _TEXT_HETU.finditer(text):
        if is_hetu(match.group()):
            yield match.start(), match.end(), kinds.NATIONAL_ID
    for start, end in _iban_spans(text):
        yield start, end, kinds.BANK_ACCOUNT
    for match in _TEXT_EMAIL.finditer(text):
        yield match.start(), match.end(), kinds.EMAIL
    for match in _TEXT_PHONE.finditer(text):
        yield match.start(), match.end(), kinds.PHONE


def find_in_text(text: str) -> list[tuple[int, int, str]]:
    """Spans ``(start, end, kind)`` of identifiers in free text, in order: fødselsnumre, CPR numbers (dash form
    only), personnumre (with a separator), HETUs and IBANs whose checksums hold, e-mail addresses, and phone numbers
    written with ``+`` or ``00`` (so an amount is not one). Where candidates overlap the longest wins, so an
    e-mail address that contains digits stays one span. Near-linear in the length of ``text``: no pattern
    backtracks more than a bounded amount."""
    chosen: list[tuple[int, int, str]] = []
    # The chosen spans never overlap, so sorted by start they are sorted by end too: a new span needs checking
    # only against its two neighbours.
    starts: list[int] = []
    ends: list[int] = []
    for start, end, kind in sorted(set(_candidates(text)), key=lambda span: (span[0] - span[1], span[0])):
        index = bisect.bisect_left(starts, start)
        if (index < len(starts) and starts[index] < end) or (index > 0 and ends[index - 1] > start):
            continue
        starts.insert(index, start)
        ends.insert(index, end)
        chosen.append((start, end, kind))
    return sorted(chosen)
