"""workflows/stepforms.py: the draft form derived from a definition, the checks of a form, and of its answers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mintportal.mint import models
from workflows.stepforms import (
    CHOICE,
    DATE,
    MAX_FIELDS,
    MAX_KEY,
    MAX_LABEL,
    NUMBER,
    TEXT,
    YES_NO,
    FormField,
    clean_answers,
    derive_step_form,
    field_problems,
    form_problems,
    humanize,
    merge_missing,
    suspend_step_ids,
)


def step(step_id: str, step_type: str, display_name: str = "", **properties: Any) -> dict[str, Any]:
    return {"id": step_id, "type": step_type, "displayName": display_name or step_id, "properties": properties or None}


def link(source: str, target: str, outcome: str | None = None) -> dict[str, Any]:
    return {"sourceStepId": source, "targetStepId": target, "outcome": outcome}


def address_change() -> dict[str, Any]:
    """The demo's address change (sandbox/demo.py, version 1), as Mint returns it."""
    return {"steps": [
        step("name", "set-name", "Name the journey", template="Address change – {{ input.customerName }}"),
        step("requested", "trigger-alert", "Note the request", severity="info",
             message="Address change requested for customer {{ input.customerNumber }}."),
        step("verify", "suspend", "Verify proof of address"),
        step("verified", "if-else", "Verified?", left="{{ steps.verify.verified }}", operator="eq", right=True),
        step("confirmation", "generate-document", "Confirmation", format="text",
             filename="address-confirmation-{{ input.customerNumber }}.txt",
             content="New address for {{ input.customerName }}: {{ input.newAddress }}.\n"
                     "Verified by {{ steps.verify.handledBy }}."),
        step("done", "finish", "Address updated"),
    ], "connections": [link("name", "requested"), link("requested", "verify"), link("verify", "verified"),
                       link("verified", "confirmation", "True"), link("confirmation", "done")]}


def test_the_address_change_draft_asks_whether_verified_and_who_handled_it() -> None:
    fields = derive_step_form(address_change(), "verify")
    assert [(f.key, f.type, f.required, f.label) for f in fields] == [
        ("verified", YES_NO, True, "Verified"), ("handledBy", TEXT, True, "Handled by")]
    assert fields[0].help_text == "Read by “Verified?”."


def test_the_draft_reads_the_wire_model_as_well_as_json() -> None:
    wire = models.WorkflowDefinition.model_validate({"id": "w", "version": 1, "isLatest": True, "isPublished": False,
                                                     **address_change()})
    assert derive_step_form(wire, "verify") == derive_step_form(address_change(), "verify")
    assert suspend_step_ids(wire) == ["verify"]


@pytest.mark.parametrize(("right", "operator", "expected"), [
    (True, "eq", YES_NO), ("false", "ne", YES_NO), (70, "gt", NUMBER), ("2.5", "lt", NUMBER),
    ("gold", "eq", TEXT), (70, "contains", TEXT),
])
def test_a_compared_key_takes_the_type_of_the_constant(right: Any, operator: str, expected: str) -> None:
    definition = {"steps": [step("s", "suspend"), step("c", "if-else", left="{{ steps.s.k }}", operator=operator,
                                                        right=right)]}
    assert [f.type for f in derive_step_form(definition, "s")] == [expected]


def test_a_key_only_inside_longer_text_is_text_and_the_stronger_use_wins() -> None:
    definition = {"steps": [
        step("s", "suspend"),
        step("a", "send-email", body="Score {{ steps.s.score }} from {{steps.s.by}}"),
        step("c", "if-else", left="{{ steps.s.score }}", operator="gt", right=5),
    ], "connections": [link("a", "c", "{{ steps.s.route }}")]}
    assert [(f.key, f.type) for f in derive_step_form(definition, "s")] == [
        ("score", NUMBER), ("by", TEXT), ("route", TEXT)]


def test_other_paths_and_other_steps_are_not_fields() -> None:
    definition = {"steps": [
        step("s", "suspend"), step("f", "form"),
        step("a", "set-name", template="{{ steps.f.email }} {{ input.x }} {{ steps.s }} {{ steps.s.list.0.name }}"),
    ]}
    assert [f.key for f in derive_step_form(definition, "s")] == ["list"]
    assert derive_step_form(definition, "f") == ()


def test_labels_are_read_from_keys() -> None:
    assert humanize("handledBy") == "Handled by"
    assert humanize("proof_ok") == "Proof ok"
    assert humanize("first-name") == "First name"


def test_a_later_version_keeps_its_fields_and_adds_the_keys_it_newly_reads() -> None:
    saved = (FormField(key="verified", label="Proof checked?", type=YES_NO),)
    draft = derive_step_form(address_change(), "verify")
    assert [(f.key, f.label) for f in merge_missing(saved, draft)] == [
        ("verified", "Proof checked?"), ("handledBy", "Handled by")]


# --- the Hypothesis invariant: the draft asks for exactly the keys the definition reads --------------------

KEYS = st.builds(lambda head, tail: head + tail, st.sampled_from("aZ_"), st.text(alphabet="bY9_-", max_size=6))
SUSPENDS = ["review", "verify", "check"]


@st.composite
def definitions(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, set[str]]]:
    """A definition whose properties and connections hold placeholders in text, nested lists and comparisons,
    and the keys of each suspend step they read."""
    referenced: dict[str, set[str]] = {step_id: set() for step_id in SUSPENDS}

    def text() -> str:
        parts = []
        for _ in range(draw(st.integers(0, 2))):
            kind = draw(st.sampled_from(["suspend", "input", "other", "plain"]))
            key = draw(KEYS)
            if kind == "suspend":
                target = draw(st.sampled_from(SUSPENDS))
                referenced[target].add(key)
                tail = draw(st.sampled_from(["", ".0", ".name"]))
                parts.append(f"{{{{{draw(st.sampled_from(['', ' ']))}steps.{target}.{key}{tail} }}}}")
            elif kind == "input":
                parts.append(f"{{{{ input.{key} }}}}")
            elif kind == "other":
                parts.append(f"{{{{ steps.form.{key} }}}}")
            else:
                parts.append(draw(st.sampled_from(["a", "{{", "}}", "{{ steps. }}", "b.c"])))
        return " ".join(parts)

    def value(depth: int = 0) -> Any:
        choice = draw(st.integers(0, 3 if depth < 1 else 0))
        if choice == 0:
            return text()
        if choice == 1:
            return [value(depth + 1) for _ in range(draw(st.integers(0, 2)))]
        if choice == 2:
            return {"left": text(), "operator": draw(st.sampled_from(["eq", "gt", "contains"])),
                    "right": draw(st.one_of(st.booleans(), st.integers(), st.just("x")))}
        return {f"p{index}": value(depth + 1) for index in range(draw(st.integers(0, 2)))}

    steps = [step(step_id, "suspend") for step_id in SUSPENDS] + [step("form", "form")]
    steps += [step(f"s{index}", "send-email", body=value()) for index in range(draw(st.integers(0, 3)))]
    connections = [link("s0", "review", text()) for _ in range(draw(st.integers(0, 2)))]
    return {"steps": steps, "connections": connections}, referenced


@given(definitions())
def test_the_derived_keys_are_exactly_the_keys_referenced(case: tuple[dict[str, Any], dict[str, set[str]]]) -> None:
    definition, referenced = case
    for step_id in SUSPENDS:
        keys = [item.key for item in derive_step_form(definition, step_id)]
        assert len(keys) == len(set(keys))
        assert set(keys) == referenced[step_id]
        assert all(field_problems(item) == {} for item in derive_step_form(definition, step_id))


# --- limits of a form, just inside and just outside ---------------------------------------------------------


def test_a_form_holds_at_most_fifty_fields() -> None:
    fields = [FormField(key=f"k{index}", label="L") for index in range(MAX_FIELDS)]
    assert form_problems(fields) == []
    assert form_problems([*fields, FormField(key="one_more", label="L")]) == [
        "A form has at most 50 fields (this has 51)."]


def test_keys_and_labels_have_length_limits() -> None:
    assert field_problems(FormField(key="k" * MAX_KEY, label="l" * MAX_LABEL)) == {}
    problems = field_problems(FormField(key="k" * (MAX_KEY + 1), label="l" * (MAX_LABEL + 1)))
    assert problems == {"key": "At most 100 characters (this has 101).",
                        "label": "At most 200 characters (this has 201)."}


@pytest.mark.parametrize("key", ["", "has space", "dotted.key", "{{x}}"])
def test_a_key_must_be_one_template_segment(key: str) -> None:
    assert "key" in field_problems(FormField(key=key, label="L"))


def test_keys_are_unique_and_choices_need_a_choice() -> None:
    problems = form_problems([FormField(key="a", label="A"), FormField(key="a", label="B", type=CHOICE)])
    assert problems == ["Field 2 (a), choices: A choice field needs at least one choice.",
                        "Field 2: the key “a” is used twice."]


@pytest.mark.parametrize(("kind", "default", "valid"), [
    (NUMBER, 3, True), (NUMBER, "x", False), (YES_NO, True, True), (YES_NO, "maybe", False),
    (DATE, "2026-02-28", True), (DATE, "2026-02-30", False), (TEXT, "hi", True), (TEXT, 5, False),
])
def test_a_default_must_be_valid_for_its_type(kind: str, default: Any, valid: bool) -> None:
    assert ("default" not in field_problems(FormField(key="k", label="K", type=kind, default=default))) is valid


def test_a_choice_default_must_be_a_choice() -> None:
    assert field_problems(FormField(key="k", label="K", type=CHOICE, choices=("a", "b"), default="a")) == {}
    assert "default" in field_problems(FormField(key="k", label="K", type=CHOICE, choices=("a", "b"), default="c"))


# --- answers ------------------------------------------------------------------------------------------------

FORM = (FormField(key="verified", label="Verified", type=YES_NO), FormField(key="handledBy", label="Handled by"),
        FormField(key="score", label="Score", type=NUMBER, required=False),
        FormField(key="on", label="On", type=DATE, required=False),
        FormField(key="level", label="Level", type=CHOICE, choices=("low", "high"), required=False))


def test_answers_are_typed() -> None:
    answers = clean_answers(FORM, {"verified": "yes", "handledBy": " Ann ", "score": "4.5", "on": "2026-03-01",
                                   "level": "high"}, allow_unknown=False)
    assert answers.valid
    assert answers.values == {"verified": True, "handledBy": "Ann", "score": 4.5, "on": "2026-03-01", "level": "high"}
    assert clean_answers(FORM, {"verified": False, "handledBy": "A", "score": 7}, allow_unknown=False).values == {
        "verified": False, "handledBy": "A", "score": 7}


def test_empty_answers_name_every_required_field() -> None:
    answers = clean_answers(FORM, {"verified": "", "score": ""}, allow_unknown=False)
    assert answers.errors == {"verified": "“Verified” is required.", "handledBy": "“Handled by” is required."}


def test_wrong_types_and_unknown_keys_are_refused() -> None:
    answers = clean_answers(FORM, {"verified": "maybe", "handledBy": 5, "score": "NaN", "level": "mid", "x": "1"},
                            allow_unknown=False)
    assert set(answers.errors) == {"verified", "handledBy", "score", "level"}
    assert answers.unknown == ("x",)


def test_unknown_keys_pass_through_only_when_allowed() -> None:
    answers = clean_answers(FORM, {"verified": True, "handledBy": "A", "extra": [1]}, allow_unknown=True)
    assert answers.valid and answers.values["extra"] == [1]
