"""The case-file PDF (compliance/casefile.py), read back as an auditor would: its text through pypdf, its first page
as a picture through pypdfium2. Pure rendering: no database, no sandbox.
"""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from compliance.casefile import (
    CaseAudit,
    CaseDecision,
    CaseFile,
    CaseFileEntry,
    CaseNote,
    CaseStep,
    TimelineEntry,
    content_digest,
    render,
    verify,
)

ROOT = Path(__file__).resolve().parent.parent.parent
ARTIFACTS = ROOT / "test-artifacts"
HEADINGS = (
    "Case file", "Masking", "Summary", "Input", "Steps", "Timeline", "Alerts", "Files", "Notes", "Decisions",
    "Portal audit events",
)
# The clear values behind the masks: the assembler never hands them over, so they must not be in the PDF.
CLEAR_NATIONAL_ID = "01019912345"
CLEAR_NAME = "Kari Nordmann"
FOOTER_DIGEST = re.compile(r"SHA-256 ([0-9a-f]{64})")


def onboarding_case(**changes: Any) -> CaseFile:
    """The demo's onboarding journey as a reader without the reveal right gets it: personal values masked."""
    case = CaseFile(
        journey_id="j-7f3c2a91-0b4e-4d5c-9a1e-2f6b8c0d1e23",
        journey_name="Onboarding – Kari’s account at Fjord Sparebank",
        workflow_name="Customer onboarding (Norway)",
        workflow_id="wf-onboarding-no",
        version="7",
        status="Completed",
        created_at="2026-11-30 09:12:04 UTC",
        finished_at="2026-11-30 09:41:57 UTC",
        facts=[("Started by", "operator@fjordsparebank.no"), ("Channel", "Web – mobile"), ("Region", "Bodø, Nordland")],
        input=[("customer.reference", "CR-2026-00412"), ("customer.email", "k***@e***.no"), ("product", "Savings")],
        steps=[
            CaseStep(
                step_id="login",
                title="BankID login",
                status="Completed",
                rows=[
                    ("nationalId", "******2345"),
                    ("name", "K*** N***"),
                    ("birthDate", "****-**-**"),
                    ("method", "BankID on mobile"),
                ],
            ),
            CaseStep(
                step_id="details",
                title="Customer details",
                status="Completed",
                rows=[
                    ("address", "S***** 1*, 8006 B***"),
                    ("occupation", "Engineer"),
                    ("purpose", "“Saving for a house in Tromsø – long term, monthly deposits from salary account”"),
                ],
            ),
            CaseStep(step_id="approval", title="Compliance approval", status="Approved", rows=[]),
        ],
        timeline=[
            TimelineEntry(at="2026-11-30 09:12:04 UTC", level="info", step="login", message="Journey started"),
            TimelineEntry(
                at="2026-11-30 09:13:40 UTC", level="info", step="login", message="BankID verified for ******2345"
            ),
            TimelineEntry(
                at="2026-11-30 09:20:11 UTC", level="warning", step="details", message="Address lookup slow (4.2 s)"
            ),
        ],
        alerts=[
            TimelineEntry(
                at="2026-11-30 09:20:11 UTC", level="warning", step="details", message="PEP screening: no match"
            ),
        ],
        files=[
            CaseFileEntry(
                name="passport-scan.pdf", size_bytes=1_482_337, content_type="application/pdf",
                sha256="9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            ),
            CaseFileEntry(
                name="signed-terms.pdf", size_bytes=88_201, content_type="application/pdf",
                sha256="60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752",
            ),
        ],
        notes=[
            CaseNote(at="2026-11-30 09:25:00 UTC", author="case.handler", step="details",
                     text="Customer called to confirm the address; matches the register."),
            CaseNote(at="2026-11-30 09:38:12 UTC", author="approver", step="approval",
                     text="Source of funds plausible for stated occupation."),
        ],
        decisions=[
            CaseDecision(at="2026-11-30 09:41:50 UTC", approver="Åse Approver", verdict="Approved",
                         reason="Identity verified with BankID; screening clear.", step="approval"),
        ],
        audit=[
            CaseAudit(at="2026-11-30 09:12:04 UTC", actor="operator", action="journey.launch", outcome="ok",
                      summary="Launched from the portal"),
            CaseAudit(at="2026-11-30 09:41:50 UTC", actor="approver", action="approval.decide", outcome="ok",
                      summary="Approved step approval"),
            CaseAudit(at="2026-12-03 10:00:00 UTC", actor="auditor", action="casefile.generate", outcome="ok",
                      summary="Case file generated"),
        ],
        masking="Personal data masked: 6 fields (the reader has no reveal right)",
        retention_note="Input and step data will be removed by retention 90 days after the journey ended.",
        generated_at="2026-12-03T10:00:00+00:00",
        generated_by="auditor@fjordsparebank.no",
    )
    return dataclasses.replace(case, **changes)


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """The text without any whitespace, to find a value the layout may have wrapped."""
    return re.sub(r"\s+", "", text)


def running_text(pages: list[str]) -> str:
    """The pages' text as one run, without what a page break adds (footer, repeated table heading, continued mark),
    to find a value that continues from one page on the next.
    """
    text = "\n".join(pages)
    for furniture in (r"Generated [^\n]*· page \d+ of \d+", FOOTER_DIGEST.pattern, r"Field Value", r"\(continued\)"):
        text = re.sub(furniture, "", text)
    return flat(text)


def test_it_shows_every_section_the_masked_values_and_the_footer() -> None:
    case = onboarding_case()
    pages = pages_text(render(case))
    text = "\n".join(pages)

    for heading in HEADINGS:
        assert heading.lower() in text.lower(), heading
    for value in ("******2345", "K*** N***", "Åse Approver", "Tromsø", "Personal data masked: 6 fields",
                  "1,482,337 bytes", "1.5 MB", "Identity verified with BankID", "casefile.generate"):
        assert value in text, value
    # The file hashes are wrapped in their column: found once the line breaks are taken out.
    for entry in case.files:
        assert entry.sha256 in flat(text)
    assert CLEAR_NATIONAL_ID not in flat(text)
    assert CLEAR_NAME not in text
    assert "page 1 of" in pages[0]
    assert FOOTER_DIGEST.findall(pages[0]) == [content_digest(case)]


def test_an_empty_section_says_none_recorded() -> None:
    text = "\n".join(pages_text(render(onboarding_case(alerts=[], notes=[], files=[]))))

    assert text.count("None recorded.") == 4  # alerts, notes, files, and the approval step without data


def test_the_same_record_gives_the_same_bytes() -> None:
    assert render(onboarding_case()) == render(onboarding_case())


def test_the_metadata_names_the_journey_and_carries_the_digest() -> None:
    case = onboarding_case()
    metadata = PdfReader(io.BytesIO(render(case))).metadata

    assert metadata is not None
    assert metadata.author == "Mint Portal"
    assert case.journey_id in (metadata.title or "")
    assert content_digest(case) in (metadata.subject or "")
    assert metadata.creation_date is not None
    assert metadata.creation_date.isoformat().startswith("2026-12-03T10:00:00")


def text_paths(value: object, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where every string sits in a record: attribute names and list or tuple indices."""
    if isinstance(value, str):
        return [prefix]
    if dataclasses.is_dataclass(value):
        return [p for f in dataclasses.fields(value) for p in text_paths(getattr(value, f.name), (*prefix, f.name))]
    if isinstance(value, list | tuple):
        return [p for i, item in enumerate(value) for p in text_paths(item, (*prefix, i))]
    return []


def replaced(value: Any, path: tuple[Any, ...], new: object) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(value, **{head: replaced(getattr(value, head), rest, new)})
    items = list(value)
    items[head] = replaced(items[head], rest, new)
    return type(value)(items)


def lookup(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = getattr(value, step) if isinstance(step, str) else value[step]
    return value


TEXT_PATHS = text_paths(onboarding_case())


@given(path=st.sampled_from(TEXT_PATHS), new=st.text(max_size=40))
def test_the_digest_changes_when_any_text_changes(path: tuple[Any, ...], new: str) -> None:
    case = onboarding_case()
    assume(lookup(case, path) != new)
    changed = replaced(case, path, new)

    assert content_digest(changed) != content_digest(case)
    assert not verify(changed, content_digest(case))
    assert verify(case, content_digest(case))


def test_the_digest_covers_the_numbers_and_the_unfinished_state() -> None:
    case = onboarding_case()
    bigger = replaced(case, ("files", 0, "size_bytes"), case.files[0].size_bytes + 1)

    assert content_digest(bigger) != content_digest(case)
    assert content_digest(onboarding_case(finished_at=None)) != content_digest(case)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(max_size=300), value=st.text(max_size=600))
def test_any_text_renders_and_the_footer_carries_its_digest(name: str, value: str) -> None:
    case = onboarding_case(journey_name=name, facts=[("Free text", value)], masking=value or "Nothing to mask")
    pages = pages_text(render(case))

    assert all(FOOTER_DIGEST.findall(page) == [content_digest(case)] for page in pages)


def test_characters_the_fonts_lack_print_as_question_marks() -> None:
    case = onboarding_case(facts=[("Comment", "Kunden sa 中文 og 🦄 – greit 😀")], journey_name="Onboarding 中")
    text = "\n".join(pages_text(render(case)))

    assert "Kunden sa ?? og ? – greit" in text
    assert "中" not in text


def test_a_long_value_wraps_and_nothing_is_cut_off() -> None:
    words = " ".join(f"word{i:04d}" for i in range(600))  # about 5,000 characters
    unbroken = "".join(f"{i:04d}" for i in range(1250))  # 5,000 characters without a space
    case = onboarding_case(
        facts=[("Long words", words), ("Long token", unbroken)],
        input=[("a.very.long.path." * 20, "short")],
    )
    pages = pages_text(render(case))
    text = running_text(pages)

    assert flat(words) in text
    assert unbroken in text
    assert ("a.very.long.path." * 20) in text
    assert len(pages) > 2  # each long value fills more than a page and continues on the next


def test_a_long_timeline_runs_over_pages_with_the_footer_on_each() -> None:
    levels = ("info", "info", "debug", "warning", "error")
    timeline = [
        TimelineEntry(
            at=f"2026-11-30 09:{i // 60 % 60:02d}:{i % 60:02d} UTC", level=levels[i % 5], step=f"step-{i % 7}",
            message=f"Log line {i}: " + "processing the customer’s documents " * (1 + i % 4),
        )
        for i in range(500)
    ]
    case = onboarding_case(timeline=timeline)
    pages = pages_text(render(case))
    text = "\n".join(pages)

    assert len(pages) > 5
    for number, page in enumerate(pages, start=1):
        assert f"page {number} of {len(pages)}" in page
        assert FOOTER_DIGEST.findall(page) == [content_digest(case)]
    assert all(f"Log line {i}:" in text for i in range(500))


def test_page_one_looks_like_a_document() -> None:
    pdf = render(onboarding_case())
    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=2).to_pil().convert("L")
    finally:
        document.close()
    ARTIFACTS.mkdir(exist_ok=True)
    image.save(ARTIFACTS / "casefile-page1.png")

    width, height = image.size
    top_third = image.crop((0, 0, width, height // 3))
    dark = sum(top_third.histogram()[:100])
    assert dark > 2_000  # the title, the journey's facts and the masking statement
    # The margins stay white: nothing printed outside the 15 mm box (bar anti-aliasing).
    margin = round(width * 14 / 210)
    for box in ((0, 0, margin, height), (width - margin, 0, width, height), (0, 0, width, margin)):
        assert not any(image.crop(box).histogram()[:200]), box


@pytest.mark.parametrize(
    ("generated_at", "created"),
    [
        ("2026-12-03T10:00:00+01:00", "2026-12-03T10:00:00+01:00"),
        ("2026-12-03 10:00 UTC", "2026-12-03T10:00:00+00:00"),
        ("3 December 2026, 10:00", "1970-01-01T00:00:00+00:00"),
    ],
)
def test_the_creation_date_comes_from_the_record_never_the_clock(generated_at: str, created: str) -> None:
    metadata = PdfReader(io.BytesIO(render(onboarding_case(generated_at=generated_at)))).metadata

    assert metadata is not None
    assert metadata.creation_date is not None
    assert metadata.creation_date.isoformat() == created
