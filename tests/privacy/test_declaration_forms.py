"""The editor's rows refuse exactly what ``privacy.services.declaration_save`` would refuse, and what they accept
is what the service stores (checked over generated declarations, with no database)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from privacy import kinds
from privacy.forms import PREFIX, PersonalFieldFormSet, posted_rows
from privacy.models import MAX_PATH
from privacy.services import declaration_problems

KEY = st.text(alphabet=st.sampled_from("abcXYZ09_-. é=\""), min_size=0, max_size=12)
PATHS = st.one_of(
    st.builds(lambda keys: "input." + ".".join(keys), st.lists(KEY, min_size=1, max_size=3)),
    st.builds(lambda step, keys: f"steps.{step}." + ".".join(keys), KEY, st.lists(KEY, min_size=1, max_size=3)),
    KEY,
    st.integers(min_value=MAX_PATH - 2, max_value=MAX_PATH + 2).map(lambda size: "input." + "a" * (size - 6)),
)
KINDS = st.one_of(st.sampled_from(sorted(kinds.KINDS)), st.sampled_from(["", "shoe_size"]))


def post(rows: list[tuple[str, str]]) -> dict[str, str]:
    data = {f"{PREFIX}-TOTAL_FORMS": str(len(rows)), f"{PREFIX}-INITIAL_FORMS": "0"}
    for index, (path, kind) in enumerate(rows):
        data[f"{PREFIX}-{index}-path"] = path
        data[f"{PREFIX}-{index}-kind"] = kind
    return data


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(PATHS, KINDS), max_size=6))
def test_the_editor_accepts_exactly_what_the_service_would_save(rows: list[tuple[str, str]]) -> None:
    # A row left entirely blank is an unused new row, not a field.
    fields = [{"path": path.strip(), "kind": kind} for path, kind in rows if path.strip() or kind]
    formset = PersonalFieldFormSet(post(rows), prefix=PREFIX)
    assert formset.is_valid() is (declaration_problems(fields) == [])
    if formset.is_valid():
        assert formset.declared() == fields
    kept, blank = posted_rows(post(rows))
    assert len(kept) + blank == len(rows)
