"""Masks, markers and the masker: no declared value survives pseudonymising, no mask holds its value, and text
is masked by what the journey's markers know."""

from __future__ import annotations

import json
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy import kinds
from privacy.masking import (
    MARKER,
    Masker,
    PersonalField,
    hashes_in,
    is_marker,
    marker,
    pseudonymise,
    search_hashes,
)

# Values long and distinctive enough that finding one in a page means it leaked (not a coincidence of letters).
value_text = st.text(alphabet=string.ascii_letters + string.digits, min_size=8, max_size=24)
kind = st.sampled_from(sorted(kinds.KINDS))
key = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=6)


@given(kind=kind, value=value_text)
def test_no_mask_is_or_holds_its_value(kind: str, value: str) -> None:
    masked = kinds.mask(kind, value)
    assert value not in masked
    assert value.casefold() not in masked.casefold()


def test_masks_look_like_the_issue_says() -> None:
    assert kinds.mask(kinds.NATIONAL_ID, "14038512345") == "******2345"
    assert kinds.mask(kinds.NAME, "Kari Nordmann") == "K*** N***"
    assert kinds.mask(kinds.BIRTH_DATE, "1985-03-14") == "****-**-**"
    assert kinds.mask(kinds.EMAIL, "kari.nordmann@example.com") == "k***@e***.com"
    assert kinds.mask(kinds.PHONE, "+47 912 34 567") == "******4567"
    assert kinds.mask(kinds.BANK_ACCOUNT, "NO93 8601 1117 947") == "NO******7947"
    # Short values show nothing of themselves.
    assert kinds.mask(kinds.NATIONAL_ID, "12") == "******"


def test_the_same_value_written_differently_hashes_alike() -> None:
    assert search_hashes("140385 12345", [kinds.NATIONAL_ID]) == search_hashes("14038512345", [kinds.NATIONAL_ID])
    assert search_hashes("KARI  Nordmann", [kinds.NAME]) == search_hashes("kari nordmann", [kinds.NAME])
    assert search_hashes("0047 91234567", [kinds.PHONE]) == search_hashes("+47 912 34 567", [kinds.PHONE])


@st.composite
def declared_data(draw: st.DrawFn) -> tuple[dict, list[PersonalField], list[str]]:
    """Journey data with some declared leaves (in input, in steps, inside lists) and the values declared."""
    values: list[str] = []
    fields: list[PersonalField] = []
    data: dict = {"input": {}, "steps": {}}
    for name in draw(st.lists(key, min_size=1, max_size=4, unique=True)):
        value = draw(value_text)
        data["input"][name] = value
        if draw(st.booleans()):
            fields.append(PersonalField(path=f"input.{name}", kind=draw(kind)))
            values.append(value)
        else:
            data["input"][name] = "plain"
    for step_id in draw(st.lists(key, max_size=3, unique=True)):
        step_values = draw(st.lists(value_text, min_size=1, max_size=3))
        data["steps"][step_id] = {"who": [{"id": value} for value in step_values], "note": "ok"}
        fields.append(PersonalField(path=f"steps.{step_id}.who.id", kind=draw(kind)))
        values += step_values
    return data, fields, values


@given(declared_data())
def test_pseudonymised_data_holds_no_declared_value_and_is_stable(case: tuple) -> None:
    data, fields, values = case
    stored = pseudonymise(data, fields)
    text = json.dumps(stored)
    for value in values:
        assert value not in text
    assert pseudonymise(stored, fields) == stored
    # Every declared value can be found again by its hash, under its declared kind.
    hashes = hashes_in(stored)
    for personal in fields:
        if personal.path.startswith("input."):
            found = data["input"][personal.path.split(".", 1)[1]]
            assert search_hashes(found, [personal.kind]) <= hashes


def test_undeclared_and_empty_leaves_stay() -> None:
    data = {"input": {"a": "", "b": None, "c": "kept"}, "steps": {}}
    fields = [PersonalField("input.a", kinds.NAME), PersonalField("input.b", kinds.NAME),
              PersonalField("input.missing", kinds.NAME)]
    assert pseudonymise(data, fields) == data


def test_a_declared_object_has_every_leaf_marked() -> None:
    data = {"input": {}, "steps": {"login": {"address": {"street": "Storgata 12", "city": "Oslo"}}}}
    stored = pseudonymise(data, [PersonalField("steps.login.address", kinds.ADDRESS)])
    address = stored["steps"]["login"]["address"]
    assert is_marker(address["street"]) and is_marker(address["city"])
    assert address["street"][MARKER] == kinds.ADDRESS


def test_names_are_masked_in_text_from_markers_alone() -> None:
    stored = pseudonymise({"input": {}, "steps": {"login": {"name": "Kari Nordmann"}}},
                          [PersonalField("steps.login.name", kinds.NAME)])
    masker = Masker.for_data(stored)
    assert masker.text("Onboarding – Kari Nordmann") == "Onboarding – K*** N***"
    assert masker.text("Nordmann signed the form") == "N*** signed the form"
    assert masker.text("Nothing personal here") == "Nothing personal here"


def test_identifiers_are_masked_in_text_however_spaced() -> None:
    stored = pseudonymise({"input": {"phone": "+47 91234567", "id": "DOC-778899"}, "steps": {}},
                          [PersonalField("input.phone", kinds.PHONE), PersonalField("input.id", kinds.DOCUMENT_NUMBER)])
    masker = Masker.for_data(stored)
    masked = masker.text("Called 0047 91234567 about DOC-778899.")
    assert "91234567" not in masked and "778899" not in masked


def test_clear_values_are_masked_in_any_case() -> None:
    clear = {"input": {}, "steps": {"details": {"email": "Kari.Nordmann@Example.com"}}}
    fields = [PersonalField("steps.details.email", kinds.EMAIL)]
    masker = Masker.for_data(pseudonymise(clear, fields), fields=fields, clear=clear)
    assert "nordmann" not in masker.text("Mail sent to kari.nordmann@example.com").casefold()
    assert masker.data(clear)["steps"]["details"]["email"] == "K***@E***.com"


@settings(max_examples=50)
@given(declared_data(), st.text(max_size=40))
def test_the_masker_shows_no_declared_value(case: tuple, filler: str) -> None:
    data, fields, values = case
    masker = Masker.for_data(pseudonymise(data, fields), fields=fields, clear=data)
    shown = json.dumps(masker.data(data), ensure_ascii=False)
    text = masker.text(filler + " " + " ".join(values) + " " + filler)
    for value in values:
        assert value not in shown
        assert value not in text


def test_revealed_shows_text_as_it_is() -> None:
    clear = {"input": {"name": "Kari Nordmann"}, "steps": {}}
    fields = [PersonalField("input.name", kinds.NAME)]
    masker = Masker.for_data(pseudonymise(clear, fields), fields=fields, clear=clear, revealed=True)
    assert masker.text("Kari Nordmann") == "Kari Nordmann"
    assert masker.data(clear) == clear


def test_markers_know_their_kind_and_mask() -> None:
    made = marker(kinds.NATIONAL_ID, 14038512345)
    assert made[MARKER] == kinds.NATIONAL_ID and made["masked"] == "******2345"
    assert "words" not in made


def test_a_partly_marked_tree_gives_no_kind_names_as_values() -> None:
    clear = {"input": {}, "steps": {"login": {"name": "Kari Nordmann", "phone": "+47 91234567"}}}
    fields = [PersonalField("steps.login.name", kinds.NAME), PersonalField("steps.login.phone", kinds.PHONE)]
    marked = pseudonymise(clear, fields)
    masker = Masker.for_data(marked, fields=fields, clear=marked)
    assert masker.text("Onboarding – Kari Nordmann") == "Onboarding – K*** N***"


def test_a_value_matches_only_markers_of_its_own_kind() -> None:
    stored = pseudonymise({"input": {"id": "12048510092", "who": "Kari Nordmann"}, "steps": {}},
                          [PersonalField("input.id", kinds.NATIONAL_ID), PersonalField("input.who", kinds.NAME)])
    masked = Masker.for_data(stored).text("Kari Nordmann, fnr 12048510092, called.")
    assert masked == "K*** N***, fnr ******0092, called."


def test_identifiers_are_found_by_format_only_for_journeys_with_personal_data() -> None:
    text = "Write to kari.nordmann@example.com"
    assert Masker.for_data({"input": {}, "steps": {}}).text(text) == text
    declared = Masker.for_data({"input": {}, "steps": {}}, fields=[PersonalField("input.x", kinds.NAME)])
    assert "kari.nordmann" not in declared.text(text)
