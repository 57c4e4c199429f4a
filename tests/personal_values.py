"""The onboarding-like personal data the masking tests of approvals, bulk and notifications share: the demo's
declaration, a person's values drawn from letters no page or mail holds by chance, and a fixed person."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from privacy import kinds
from privacy.masking import PersonalField

DECLARED = [
    {"path": "input.customerName", "kind": kinds.NAME},
    {"path": "steps.login.nationalId", "kind": kinds.NATIONAL_ID},
    {"path": "steps.login.name", "kind": kinds.NAME},
    {"path": "steps.details.email", "kind": kinds.EMAIL},
    {"path": "steps.details.phone", "kind": kinds.PHONE},
]
FIELDS = [PersonalField(item["path"], item["kind"]) for item in DECLARED]
# Letters no page of the portal holds by chance, so a value found on a page can only have leaked.
_WORDS = st.text(alphabet="ÆØÅæøåqxzwkjv", min_size=5, max_size=9)
_NAMES = st.builds(lambda first, last: f"{first.capitalize()} {last.capitalize()}", _WORDS, _WORDS)
_LOCAL = st.text(alphabet="qxzwkjv", min_size=6, max_size=10)


@dataclass(frozen=True)
class Person:
    """One onboarding's personal values; its repr shows none of them (test output must not either)."""

    customer_name: str
    national_id: str
    name: str
    email: str
    phone: str

    def __repr__(self) -> str:
        return "Person(…)"

    def labelled(self) -> list[tuple[str, str]]:
        words = [(f"a word of {label}", word) for label, value in (("customerName", self.customer_name),
                                                                      ("name", self.name)) for word in value.split()]
        return [("customerName", self.customer_name), ("nationalId", self.national_id), ("name", self.name),
                ("email", self.email), ("phone", self.phone), ("phone digits", self.phone.lstrip("+")), *words]

    def data(self) -> dict[str, object]:
        return {"input": {"customerName": self.customer_name},
                "steps": {"login": {"nationalId": self.national_id, "name": self.name},
                          "details": {"email": self.email, "phone": self.phone, "product": "savings"}}}


PEOPLE = st.builds(
    Person, customer_name=_NAMES, national_id=st.from_regex(r"\A[0-9]{11}\Z"), name=_NAMES,
    email=st.builds(lambda local, domain: f"{local}@{domain}.test", _LOCAL, _LOCAL),
    phone=st.from_regex(r"\A\+47[49][0-9]{7}\Z"),
)
KARI = Person(customer_name="Kari Nordmann", national_id="12345678911", name="Kari Nordmann",
              email="kari.nordmann@example.test", phone="+4791234567")
