"""privacy.detect: the checksum validators against numbers built here with their checksums, field names, the draft
declaration on the demo's journey shapes, and identifiers in free text. Pure: no database."""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privacy import kinds
from privacy.detect import (
    MAX_DEPTH,
    MAX_LEAVES,
    Suggestion,
    draft,
    find_in_text,
    is_birth_date,
    is_cpr,
    is_email,
    is_fodselsnummer,
    is_hetu,
    is_iban,
    is_personnummer,
    is_phone,
    kind_of_key,
    kind_of_value,
    luhn_valid,
)

HETU_CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
# The properties run with deadline=None: their bodies take milliseconds, but a loaded shared runner once pushed one
# past Hypothesis' 200 ms deadline, which says nothing about the code.


# --- generators that compute the checksums -------------------------------------------------------------------------


def make_fnr(born: date, individual: int, *, d_number: bool = False) -> str | None:
    """A fødselsnummer for ``born``; None when a control digit would be 10 (no such number exists)."""
    day = born.day + (40 if d_number else 0)
    base = f"{day:02d}{born.month:02d}{born.year % 100:02d}{individual:03d}"
    for weights in ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)):
        control = 11 - sum(int(digit) * weight for digit, weight in zip(base, weights, strict=True)) % 11
        if control == 10:
            return None
        base += str(control % 11)
    return base


def luhn_digit(digits: str) -> str:
    return next(str(check) for check in range(10) if luhn_valid(digits + str(check)))


def make_personnummer(born: date, serial: int, *, form: str, coordination: bool = False) -> str:
    day = born.day + (60 if coordination else 0)
    short = f"{born.year % 100:02d}{born.month:02d}{day:02d}{serial:03d}"
    short += luhn_digit(short)
    if form == "short":
        return f"{short[:6]}-{short[6:]}"
    if form == "long":
        return f"{born.year // 100}{short[:6]}-{short[6:]}"
    if form == "plain12":
        return f"{born.year // 100}{short}"
    return short


def make_hetu(born: date, individual: int, *, sign: str | None = None) -> str:
    sign = sign or {1800: "+", 1900: "-", 2000: "A"}[born.year // 100 * 100]
    digits = f"{born.day:02d}{born.month:02d}{born.year % 100:02d}{individual:03d}"
    return f"{digits[:6]}{sign}{digits[6:]}{HETU_CHECK[int(digits) % 31]}"


def make_iban(country: str, bban: str, *, spaced: bool = False) -> str:
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return " ".join(iban[index:index + 4] for index in range(0, len(iban), 4)) if spaced else iban


def change_one_digit(value: str, position: int, shift: int) -> str:
    digit_positions = [index for index, char in enumerate(value) if char.isdigit()]
    index = digit_positions[position % len(digit_positions)]
    return value[:index] + str((int(value[index]) + shift) % 10) + value[index + 1:]


@st.composite
def fodselsnumre(draw: st.DrawFn) -> str:
    born = draw(st.dates(date(1900, 1, 1), date(2039, 12, 31)))
    low, high = (0, 499) if born.year < 2000 else (500, 999)
    first, d_number = draw(st.integers(low, high)), draw(st.booleans())
    # About one individual number in six has no valid control digit (no such number exists): take the next one.
    candidates = (make_fnr(born, low + (first - low + step) % (high - low + 1), d_number=d_number)
                  for step in range(high - low + 1))
    return next(number for number in candidates if number)


@st.composite
def personnumre(draw: st.DrawFn, *, forms: tuple[str, ...] = ("short", "long", "plain10", "plain12")) -> str:
    born = draw(st.dates(date(1900, 1, 1), date.today()))
    return make_personnummer(born, draw(st.integers(0, 999)), form=draw(st.sampled_from(forms)),
                             coordination=draw(st.booleans()))


@st.composite
def hetus(draw: st.DrawFn) -> str:
    born = draw(st.dates(date(1800, 1, 1), date(2099, 12, 31)))
    sign = None
    if born.year // 100 == 19:
        sign = draw(st.sampled_from("-YXWVU"))
    elif born.year // 100 == 20:
        sign = draw(st.sampled_from("ABCDEF"))
    return make_hetu(born, draw(st.integers(2, 899)), sign=sign)


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(["NO", "SE", "DK", "FI", "DE", "GB", "FR"]))
    bban = draw(st.text(alphabet="0123456789", min_size=11, max_size=30))
    return make_iban(country, bban, spaced=draw(st.booleans()))


def fnr(born: date, individual: int) -> str:
    number = make_fnr(born, individual)
    assert number is not None, "pick another individual number"
    return number


KARI_FNR = fnr(date(1985, 3, 14), 123)
# Starts with a zero, which a JSON number drops.
JANUARY_FNR = fnr(date(2001, 1, 5), 512)


# --- validators -----------------------------------------------------------------------------------------------------


@settings(deadline=None)
@given(fodselsnumre())
def test_every_generated_fodselsnummer_is_accepted(number: str) -> None:
    assert is_fodselsnummer(number)
    assert kind_of_value(number) == kinds.NATIONAL_ID


@settings(deadline=None)
@given(fodselsnumre(), st.integers(0, 10), st.integers(1, 9))
def test_a_fodselsnummer_with_one_digit_changed_is_rejected(number: str, position: int, shift: int) -> None:
    assert not is_fodselsnummer(change_one_digit(number, position, shift))


def test_fodselsnummer_examples() -> None:
    assert is_fodselsnummer(KARI_FNR)
    assert not is_fodselsnummer("12345678901")
    assert not is_fodselsnummer(KARI_FNR[:10])
    # A good checksum on a day that does not exist: 30 February.
    impossible = next(number for individual in range(500) if (number := _fnr_raw("3002851", individual)))
    assert not is_fodselsnummer(impossible)


def _fnr_raw(prefix: str, individual: int) -> str | None:
    """Controls computed over any 6 leading digits, real date or not."""
    base = prefix[:6] + f"{individual:03d}"
    for weights in ((3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)):
        control = 11 - sum(int(digit) * weight for digit, weight in zip(base, weights, strict=True)) % 11
        if control == 10:
            return None
        base += str(control % 11)
    return base


def test_a_d_number_is_a_fodselsnummer_with_forty_added_to_the_day() -> None:
    d_number = make_fnr(date(1985, 3, 14), 123, d_number=True)
    assert d_number is not None and d_number.startswith("54")
    assert is_fodselsnummer(d_number)


def test_cpr_needs_a_real_date_and_free_text_needs_the_dash() -> None:
    assert is_cpr("140385-1234")
    assert is_cpr("1403851234")
    assert not is_cpr("1403851234", dash_required=True)
    assert not is_cpr("310285-1234")
    assert not is_cpr("14038512345")
    assert kind_of_value("140385-1234") == kinds.NATIONAL_ID


@settings(deadline=None)
@given(personnumre())
def test_every_generated_personnummer_is_accepted(number: str) -> None:
    assert is_personnummer(number)
    assert kind_of_value(number) == kinds.NATIONAL_ID


@settings(deadline=None)
@given(personnumre(forms=("short", "plain10")), st.integers(0, 9), st.integers(1, 9))
def test_a_personnummer_with_one_digit_changed_is_rejected(number: str, position: int, shift: int) -> None:
    assert not is_personnummer(change_one_digit(number, position, shift))


def test_personnummer_examples() -> None:
    assert is_personnummer("811228-9874")
    assert is_personnummer("19811228-9874")
    assert is_personnummer("811228+9874")
    assert not is_personnummer("811228-9875")
    assert not is_personnummer("8112289874", separator_required=True)
    assert is_personnummer(make_personnummer(date(1981, 12, 28), 987, form="short", coordination=True))


@settings(deadline=None)
@given(hetus())
def test_every_generated_hetu_is_accepted(number: str) -> None:
    assert is_hetu(number)
    assert kind_of_value(number) == kinds.NATIONAL_ID


@settings(deadline=None)
@given(hetus(), st.integers(0, 8), st.integers(1, 9))
def test_a_hetu_with_one_digit_changed_is_rejected(number: str, position: int, shift: int) -> None:
    assert not is_hetu(change_one_digit(number, position, shift))


def test_hetu_examples() -> None:
    assert is_hetu("131052-308T")
    assert is_hetu("131052Y308T")
    assert not is_hetu("131052-308U")
    assert not is_hetu("131052G308T")
    assert not is_hetu("310252-308T")


@settings(deadline=None)
@given(ibans())
def test_every_generated_iban_is_accepted(iban: str) -> None:
    assert is_iban(iban)
    assert kind_of_value(iban) == kinds.BANK_ACCOUNT


@settings(deadline=None)
@given(ibans(), st.integers(0, 40), st.integers(1, 9))
def test_an_iban_with_one_digit_changed_is_rejected(iban: str, position: int, shift: int) -> None:
    assert not is_iban(change_one_digit(iban, position, shift))


def test_iban_examples() -> None:
    assert is_iban("NO93 8601 1117 947")
    assert is_iban("GB82WEST12345698765432")
    assert not is_iban("NO93 8601 1117 948")
    assert not is_iban("NO93 8601 111")
    assert not is_iban("NO" + "1" * 40)


def test_email_phone_and_birth_date_formats() -> None:
    assert is_email("erik.hansen@example.com")
    assert not is_email("erik.hansen@example")
    assert not is_email("@example.com")
    assert is_phone("+47 91234567")
    assert is_phone("0047-912-34-567")
    assert is_phone("91234567")
    assert not is_phone("1234567")
    assert not is_phone("+47 9123 4567 8901 2345")
    assert not is_phone("1985-03-14")
    assert is_birth_date("1985-03-14")
    assert not is_birth_date("1899-12-31")
    assert not is_birth_date("1985-02-30")
    assert not is_birth_date(f"{date.today().year + 1}-01-01")


@pytest.mark.parametrize(("value", "kind"), [
    ("erik.hansen@example.com", kinds.EMAIL),
    ("+47 91234567", kinds.PHONE),
    ("NO93 8601 1117 947", kinds.BANK_ACCOUNT),
    ("131052-308T", kinds.NATIONAL_ID),
    # A fødselsnummer sent as a JSON number loses its leading zero.
    (int(JANUARY_FNR), kinds.NATIONAL_ID),
    ("C-100508", None),
    ("Nurse", None),
    ("Kari Nordmann", None),
    ("1985-03-14", None),
    (False, None),
    (12345678, None),
    (None, None),
    ({"a": 1}, None),
])
def test_kind_of_value(value: object, kind: str | None) -> None:
    assert kind_of_value(value) == kind


# --- field names ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "kind"), [
    *[(key, kinds.NATIONAL_ID) for key in ("nationalId", "national_id", "National-ID", "ssn", "fnr", "fodselsnummer",
                                            "fødselsnummer", "personnummer", "hetu", "CPR", "personalIdentityNumber",
                                            "customerNationalId")],
    *[(key, kinds.NAME) for key in ("name", "fullName", "first_name", "lastName", "surname", "givenName",
                                     "familyName", "customerName", "signatory", "holderName", "applicantName")],
    *[(key, kinds.BIRTH_DATE) for key in ("birthDate", "date_of_birth", "dob", "fødselsdato")],
    *[(key, kinds.EMAIL) for key in ("email", "mail", "eMail", "E-Mail", "emailAddress", "contactEmail", "emails")],
    *[(key, kinds.PHONE) for key in ("phone", "mobile", "msisdn", "tlf", "telephone", "phoneNumber", "phone-number")],
    *[(key, kinds.ADDRESS) for key in ("address", "street", "streetAddress", "newAddress", "postalAddress",
                                        "homeAddress", "addresses")],
    *[(key, kinds.DOCUMENT_NUMBER) for key in ("passport", "passportNumber", "documentNumber", "idCardNumber",
                                                "driversLicence")],
    *[(key, kinds.BANK_ACCOUNT) for key in ("iban", "IBAN", "accountNumber", "bank_account")],
    *[(key, None) for key in ("workflowName", "stepName", "fileName", "productName", "companyName", "displayName",
                               "userName", "hostName", "stepNames", "ipAddress", "macAddress", "customerNumber",
                               "country", "occupation", "pep", "status", "emailVerified", "", "__")],
])
def test_kind_of_key(key: str, kind: str | None) -> None:
    assert kind_of_key(key) == kind


# --- draft ----------------------------------------------------------------------------------------------------------


def demo_sample(*, national_id: str = KARI_FNR, email: str = "erik.hansen@example.com") -> dict[str, Any]:
    return {
        "input": {"customerNumber": "C-100508", "customerName": "Erik Hansen", "newAddress": "Storgata 1, 0155 Oslo",
                  "email": email},
        "steps": {
            "login": {"name": "Kari Nordmann", "birthDate": "1985-03-14", "nationalId": national_id, "country": "NO"},
            "details": {"email": email, "phone": "+47 91234567", "address": "Storgata 1, 0155 Oslo",
                        "occupation": "Nurse", "pep": False},
        },
    }


def test_the_draft_of_the_demo_onboarding_suggests_its_personal_fields_only() -> None:
    suggested = {item.path: item.kind for item in draft([demo_sample()])}

    assert suggested == {
        "input.customerName": kinds.NAME,
        "input.email": kinds.EMAIL,
        "input.newAddress": kinds.ADDRESS,
        "steps.details.address": kinds.ADDRESS,
        "steps.details.email": kinds.EMAIL,
        "steps.details.phone": kinds.PHONE,
        "steps.login.birthDate": kinds.BIRTH_DATE,
        "steps.login.name": kinds.NAME,
        "steps.login.nationalId": kinds.NATIONAL_ID,
    }


def test_the_draft_is_sorted_by_path_and_gives_readable_reasons() -> None:
    suggestions = draft([demo_sample(), demo_sample()])

    assert [item.path for item in suggestions] == sorted(item.path for item in suggestions)
    assert Suggestion("steps.login.name", kinds.NAME, "name suggests Name") in suggestions


def test_a_field_with_no_telling_name_is_suggested_by_its_values() -> None:
    other = fnr(date(1990, 7, 1), 42)
    samples = [{"steps": {"check": {"reference": value}}} for value in (KARI_FNR, other, "R-1", "")]

    assert draft(samples) == [Suggestion("steps.check.reference", kinds.NATIONAL_ID,
                                         "2 of 3 values look like National identity number")]


def test_fewer_than_half_matching_values_suggest_nothing() -> None:
    samples = [{"input": {"reference": value}} for value in (KARI_FNR, "R-1", "R-2")]

    assert draft(samples) == []


def test_an_identifier_format_wins_over_the_name() -> None:
    samples = [{"input": {"accountNumber": KARI_FNR}}]

    assert draft(samples) == [Suggestion("input.accountNumber", kinds.NATIONAL_ID,
                                         "1 of 1 values look like National identity number")]


def test_a_phone_field_of_plain_digits_stays_a_phone() -> None:
    # Ten plain digits with a date up front also fit a CPR number; the name settles it.
    assert draft([{"input": {"phone": "0701234567"}}]) == [
        Suggestion("input.phone", kinds.PHONE, "name suggests Phone number")]


def test_nested_objects_lists_and_flags() -> None:
    sample = {
        "input": {"customers": [{"name": "Kari Nordmann"}, {"name": "Ola Nordmann"}], "sendEmail": True},
        "steps": {
            "details": {"address": {"street": "Storgata 1", "city": "Oslo"}},
            # A step named like a kind says nothing about its data.
            "address": {"template": "welcome", "confirmedBy": "system"},
        },
    }

    assert {item.path: item.kind for item in draft([sample])} == {
        "input.customers.name": kinds.NAME,
        "steps.details.address.city": kinds.ADDRESS,
        "steps.details.address.street": kinds.ADDRESS,
    }


def test_keys_that_are_identifiers_do_not_appear_in_paths() -> None:
    sample = {"input": {"people": {KARI_FNR: {"name": "Kari Nordmann"}}}}

    assert [item.path for item in draft([sample])] == ["input.people.*.name"]


def test_a_birth_date_needs_a_name_that_speaks_of_birth() -> None:
    samples = [{"input": {"applicantBirth": "1985-03-14", "signedOn": "1985-03-14"}}]

    assert draft(samples) == [Suggestion("input.applicantBirth", kinds.BIRTH_DATE,
                                         "1 of 1 values look like Birth date")]


def test_the_draft_walks_at_most_max_depth_levels() -> None:
    def nested(levels: int) -> dict[str, Any]:
        node: dict[str, Any] = {"email": "erik.hansen@example.com"}
        for _ in range(levels - 1):
            node = {"more": node}
        return node

    # The leaf "email" sits at depth ``levels``.
    assert len(draft([nested(MAX_DEPTH)])) == 1
    assert draft([nested(MAX_DEPTH + 1)]) == []


def test_the_draft_reads_at_most_max_leaves_leaves() -> None:
    filler = {"input": {"items": [{"count": index} for index in range(MAX_LEAVES)]}}
    late = {"input": {"email": "erik.hansen@example.com"}}

    assert draft([filler, late]) == []
    assert len(draft([late, filler])) == 1


names = st.sampled_from(["Kari Nordmann", "Erik Hansen", "Sven Svensson", "Mette Hansen", "Aino Virtanen"])
personal_values = st.one_of(
    fodselsnumre(), personnumre(), hetus(), ibans(), names,
    st.from_regex(r"[a-z]{2,8}\.[a-z]{2,8}@example\.(com|no)", fullmatch=True),
    st.from_regex(r"\+47 9\d{7}", fullmatch=True),
    st.from_regex(r"[A-Za-z]{1,6}[0-9]{1,6}", fullmatch=True),
)
REASON = re.compile(r"name suggests (.+)|\d+ of \d+ values look like (.+)")


@settings(deadline=None)
@given(st.lists(st.dictionaries(
    st.sampled_from(["nationalId", "name", "email", "phone", "reference", "note", "iban", "address"]),
    personal_values, max_size=6,
), min_size=1, max_size=5))
def test_no_reason_holds_a_sample_value(steps: list[dict[str, Any]]) -> None:
    samples = [{"input": data, "steps": {"login": data}} for data in steps]
    values = [value for data in steps for value in data.values()]

    for suggestion in draft(samples):
        match = REASON.fullmatch(suggestion.reason)
        assert match is not None
        assert (match.group(1) or match.group(2)) == kinds.KINDS[suggestion.kind]
        assert not [value for value in values if value in suggestion.reason]


# --- free text ------------------------------------------------------------------------------------------------------


def test_only_valid_identifiers_are_found_in_a_log_message() -> None:
    amount = "12345678901"
    assert not is_fodselsnummer(amount)
    message = f"Payout of NOK {amount} for {KARI_FNR} confirmed; receipt sent to erik.hansen@example.com."

    spans = find_in_text(message)

    assert [(message[start:end], kind) for start, end, kind in spans] == [
        (KARI_FNR, kinds.NATIONAL_ID), ("erik.hansen@example.com", kinds.EMAIL)]


def test_every_identifier_kind_is_found_in_text() -> None:
    iban = make_iban("NO", "86011117947", spaced=True)
    message = (f"fnr {KARI_FNR}, cpr 140385-1234, pnr 19811228-9874, hetu 131052-308T, iban {iban} NOK, "
               f"mail kari@example.no, phone +47 912 34 567 or 0046701234567, plain 1403851234 and 91234567.")

    found = [message[start:end] for start, end, _ in find_in_text(message)]

    assert found == [KARI_FNR, "140385-1234", "19811228-9874", "131052-308T", iban, "kari@example.no",
                     "+47 912 34 567", "0046701234567"]


@settings(deadline=None)
@given(fodselsnumre(), st.text(alphabet="abc ,.;", max_size=20), st.text(alphabet="abc ,.;", max_size=20))
def test_a_fodselsnummer_is_found_wherever_it_stands(number: str, before: str, after: str) -> None:
    text = f"{before} {number} {after}"

    assert (len(before) + 1, len(before) + 12, kinds.NATIONAL_ID) in find_in_text(text)


@settings(deadline=None)
@given(st.text(alphabet="0123456789 -+@.abcXYNO", max_size=300))
def test_spans_never_overlap(text: str) -> None:
    spans = find_in_text(text)

    assert spans == sorted(spans)
    assert all(end <= next_start for (_, end, _), (next_start, _, _) in pairwise(spans))


def test_an_overlap_goes_to_the_longest() -> None:
    text = f"id.{KARI_FNR}@example.com"

    assert find_in_text(text) == [(0, len(text), kinds.EMAIL)]


@pytest.mark.parametrize(("text", "count"), [
    ("1" * 100_000, 0),
    ("a" * 100_000, 0),
    ("a@" * 50_000, 0),
    ("a." * 50_000 + "@", 0),
    ("x@" + "a." * 50_000, 0),
    ("x@" + "a-" * 50_000, 0),
    ("+1 " * 33_334, 0),
    ("00" * 50_000, 0),
    ("0" * 50_000 + "-" + "0" * 50_000, 0),
    ("NO00 " * 20_000, 0),
    ("A" * 100_000, 0),
    ("140385-1234 " * 8_334, 8_334),
    ("x@example.com " * 7_143, 7_143),
])
def test_find_in_text_scans_adversarial_text(text: str, count: int) -> None:
    # pytest-timeout stops a scan that backtracks catastrophically; the count shows it read the whole text.
    assert len(find_in_text(text)) == count
