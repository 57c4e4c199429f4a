"""The forms of the saved-view pages: a view's name, query and sharing; a pin; a deletion's confirmation."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db.models import QuerySet

from mintportal.errors import Refused
from savedviews.models import NAME_MAX_LENGTH, QUERY_MAX_LENGTH
from savedviews.selectors import list_query, list_query_problems, shareable_teams

RAW_QUERY_MAX_LENGTH = 5 * QUERY_MAX_LENGTH


class SavedViewForm(forms.Form):
    """A view's name, its journeys-list query (checked as the list would read it for this person) and the teams it
    is shared with; ``pin`` only when creating."""

    name = forms.CharField(label="Name", max_length=NAME_MAX_LENGTH,
                           error_messages={"required": "Give the view a name."})
    # The list's form sends its empty inputs too, so what is typed or linked may be longer than what is kept; the
    # kept query's own limit (QUERY_MAX_LENGTH) is checked after those are left out.
    query = forms.CharField(
        label="Journeys list query", required=False, max_length=RAW_QUERY_MAX_LENGTH,
        help_text="The filters, sort and columns of the journeys list, as in its address after the “?”. "
                  "Empty: every journey you may see.",
        widget=forms.Textarea(attrs={"rows": 3, "class": "code", "spellcheck": "false"}),
    )
    teams = forms.ModelMultipleChoiceField(
        label="Share with teams", required=False, queryset=Group.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Members of these teams may open and pin the view, each seeing only the journeys they may see. "
                  "None: only you.",
    )
    pin = forms.BooleanField(label="Pin to my navigation", required=False)

    def __init__(self, *args: Any, user: AbstractBaseUser, creating: bool,
                 shared_with: QuerySet[Group] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        teams = shareable_teams(user=user)
        if shared_with is not None:
            # The owner may keep a team they have since left (or remove it), but add none they are not in.
            teams = (teams | shared_with).distinct().order_by("name")
        cast(forms.ModelMultipleChoiceField, self.fields["teams"]).queryset = teams
        if not creating:
            del self.fields["pin"]

    def clean_name(self) -> str:
        name = str(self.cleaned_data["name"]).strip()
        if not name:
            raise forms.ValidationError("Give the view a name.")
        return name

    def clean_query(self) -> str:
        """The query as it will be kept (``list_query``), if the list would accept it from this person."""
        try:
            query = list_query(str(self.cleaned_data.get("query") or ""))
        except Refused as exc:
            raise forms.ValidationError(exc.message) from None
        problems = list_query_problems(user=self.user, query=query)
        if problems:
            raise forms.ValidationError(["Not a journeys list you could open:", *problems])
        kept = query.urlencode()
        if len(kept) > QUERY_MAX_LENGTH:
            raise forms.ValidationError(f"A view's query has at most {QUERY_MAX_LENGTH:,} characters (this one has "
                                        f"{len(kept):,} without its empty inputs).")
        return kept


class PinForm(forms.Form):
    """Pin (``pin=1``) or unpin (``pin=0``); without a value the pin is toggled."""

    pin = forms.TypedChoiceField(required=False, choices=[("1", "Pin"), ("0", "Unpin")],
                                 coerce=lambda value: value == "1", empty_value=None)


class DeleteForm(forms.Form):
    confirm = forms.BooleanField(label="Yes, delete this view", error_messages={
        "required": "Confirm that the view should be deleted."})
