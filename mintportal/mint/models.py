"""Pydantic models of Mint's wire format (seed/mint-api-reference.txt), snake_case in Python.

Every model is frozen, ignores fields Mint adds later, and accepts both its camelCase wire names and
its snake_case attribute names. Models are strict, so a wrong type (a string where Mint promises a
number) is an error rather than a silent coercion; only date-times are parsed from their ISO 8601
text, and those without a time zone are read as UTC so that the portal only sees aware date-times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic.alias_generators import to_camel

JourneyStatusValue = Literal["idle", "running", "active", "finished", "faulted", "cancelled"]
FINAL_JOURNEY_STATUSES: frozenset[str] = frozenset({"finished", "faulted", "cancelled"})
ALERT_SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")


def _as_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _none_as_empty_dict(value: Any) -> Any:
    return {} if value is None else value


Item = TypeVar("Item")

# Lax on purpose: strict mode would refuse the ISO 8601 text that date-times arrive as.
Timestamp = Annotated[datetime, Strict(False), AfterValidator(_as_utc)]
# Mint documents these as arrays/objects but may send null; callers always get an empty one instead.
ListOrEmpty = Annotated[list[Item], BeforeValidator(_none_as_empty_list)]
JsonObject = Annotated[dict[str, Any], BeforeValidator(_none_as_empty_dict)]


class MintModel(BaseModel):
    """Base of every wire model: frozen, strict, camelCase aliases, unknown fields ignored."""

    model_config = ConfigDict(
        frozen=True,
        strict=True,
        extra="ignore",
        alias_generator=to_camel,
        populate_by_name=True,
        serialize_by_alias=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON-ready body Mint expects (camelCase keys)."""
        return self.model_dump(mode="json", by_alias=True)


class Page[T](MintModel):
    """One page of a listing; ``total_count`` counts every match, not just this page."""

    data: list[T]
    offset: int
    limit: int
    total_count: int

    @property
    def has_next(self) -> bool:
        return self.offset + len(self.data) < self.total_count


# --- workflows -------------------------------------------------------------------------------


class WorkflowStep(MintModel):
    id: str
    type: str
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    properties: dict[str, Any] | None = None


class WorkflowStepConnection(MintModel):
    source_step_id: str | None = None
    target_step_id: str | None = None
    outcome: str | None = None


class WorkflowInputParameter(MintModel):
    name: str


class WorkflowFile(MintModel):
    id: str
    filename: str
    content_type: str
    size: int | None = None


class WorkflowSummary(MintModel):
    """A row of ``GET /workflows``."""

    id: str
    name: str | None = None
    description: str | None = None
    version: int
    is_latest: bool
    is_published: bool
    created_at: Timestamp | None = None


class WorkflowDefinition(WorkflowSummary):
    """One version of a workflow with its steps, connections and files."""

    steps: ListOrEmpty[WorkflowStep] = Field(default_factory=list)
    connections: ListOrEmpty[WorkflowStepConnection] = Field(default_factory=list)
    variables: dict[str, Any] | None = None
    tags: ListOrEmpty[str] = Field(default_factory=list)
    domain: str | None = None
    workflow_url: str | None = None
    input_parameters: ListOrEmpty[WorkflowInputParameter] = Field(default_factory=list)
    files: ListOrEmpty[WorkflowFile] = Field(default_factory=list)


class WorkflowInput(MintModel):
    """The body of creating or updating a workflow.

    Limits (name up to 255 characters, up to 250 steps, ...) are Mint's to enforce: its 400 answer names
    each bad field, which the portal shows next to the field.
    """

    name: str
    description: str | None = None
    steps: list[WorkflowStep]
    connections: list[WorkflowStepConnection] | None = None
    variables: dict[str, Any] | None = None
    tags: list[str] | None = None
    input_parameters: list[WorkflowInputParameter] | None = None

    @classmethod
    def from_workflow(cls, workflow: WorkflowDefinition) -> WorkflowInput:
        """The input that saves ``workflow`` unchanged, a starting point for an edit."""
        return cls(
            name=workflow.name or "",
            description=workflow.description,
            steps=workflow.steps,
            connections=workflow.connections,
            variables=workflow.variables,
            tags=workflow.tags,
            input_parameters=workflow.input_parameters,
        )


class WorkflowVersion(MintModel):
    id: str
    workflow_id: str
    version: int
    is_latest: bool
    is_published: bool
    created_at: Timestamp | None = None


# --- journeys --------------------------------------------------------------------------------


class StartedJourney(MintModel):
    journey_id: str
    step_id: str | None = None
    journey_url: str
    # Not in the body: Mint's trace id of the start call, from its ``X-Trace-Id`` header, for the audit trail.
    trace_id: str | None = None


class Alert(MintModel):
    step_id: str
    severity: str
    message: str
    timestamp: Timestamp | None = None


class JourneySummary(MintModel):
    """A row of ``GET /journeys``."""

    id: str
    workflow_id: str
    version: int
    status: JourneyStatusValue
    name: str | None = None
    workflow_name: str | None = None
    created_at: Timestamp | None = None
    last_executed_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    faulted_at: Timestamp | None = None
    cancelled_at: Timestamp | None = None
    pending_steps: bool
    alerts: ListOrEmpty[Alert] = Field(default_factory=list)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_JOURNEY_STATUSES


class LoopIteration(MintModel):
    index: int
    step_data: JsonObject = Field(default_factory=dict)


class ActiveStep(MintModel):
    step_id: str
    step_type: str


class JourneyFile(MintModel):
    step_id: str | None = None
    id: str
    filename: str
    content_type: str
    size: int | None = None


class JourneyDetail(MintModel):
    """One journey with its step data, loops, the steps it waits on, alerts and files."""

    id: str
    workflow_id: str
    version: int
    status: JourneyStatusValue
    name: str | None = None
    created_at: Timestamp | None = None
    last_executed_at: Timestamp | None = None
    finished_at: Timestamp | None = None
    faulted_at: Timestamp | None = None
    cancelled_at: Timestamp | None = None
    step_data: JsonObject = Field(default_factory=dict)
    loops: Annotated[dict[str, list[LoopIteration]], BeforeValidator(_none_as_empty_dict)] = Field(
        default_factory=dict
    )
    active_steps: ListOrEmpty[ActiveStep] = Field(default_factory=list)
    alerts: ListOrEmpty[Alert] = Field(default_factory=list)
    files: ListOrEmpty[JourneyFile] = Field(default_factory=list)
    # Not in Mint's API (its detail never says what a journey started with): the sandbox sends it as an extension.
    # Readers tell "sent" from "absent" by ``"input" in model_fields_set``, so an absent input never wipes one the
    # portal recorded at launch.
    input: JsonObject = Field(default_factory=dict)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_JOURNEY_STATUSES


class JourneyUrl(MintModel):
    journey_url: str


class JourneyLogEvent(MintModel):
    id: str
    timestamp: Timestamp | None = None
    event_name: str | None = None
    message: str | None = None
    outcomes: list[str] | None = None


class JourneyLogStepStatus(MintModel):
    """Where a step's execution stands (e.g. name ``finished``) and the outcome it took, if any."""

    name: str | None = None
    outcome: str | None = None


def _status_text(value: Any) -> str | None:
    # A number or a flag reads as its word; a nested object or list says nothing a page could show.
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    return None


def _open_step_status(value: Any) -> Any:
    """The reference documents a log step's ``status`` as an object with no named fields: whatever shape Mint
    sends, keep what reads as a ``name`` and an ``outcome``, so an unexpected shape never fails the whole log."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return {key: _status_text(value.get(key)) for key in ("name", "outcome")}
    return _status_text(value)


class JourneyLogStep(MintModel):
    step_id: str
    step_type: str
    started_at: Timestamp | None = None
    ended_at: Timestamp | None = None
    # The reference documents an object without naming its fields; a bare word is accepted as well.
    status: Annotated[JourneyLogStepStatus | str | None, BeforeValidator(_open_step_status)] = None
    events: ListOrEmpty[JourneyLogEvent] = Field(default_factory=list)


class JourneyLog(MintModel):
    steps: ListOrEmpty[JourneyLogStep] = Field(default_factory=list)
    steps_finished: int
    steps_faulted: int


class JourneyNote(MintModel):
    id: str
    step_id: str | None = None
    content: str
    created_at: Timestamp | None = None
    created_by: str
    updated_at: Timestamp | None = None


# --- step types, secrets, files --------------------------------------------------------------


class StepType(MintModel):
    type: str
    display_name: str
    description: str | None = None
    category: str
    outcomes: ListOrEmpty[str] = Field(default_factory=list)
    required_permissions: ListOrEmpty[str] = Field(default_factory=list)
    deprecated: bool
    interactive: bool


class Secret(MintModel):
    """A workflow secret as Mint describes it: never its value, which Mint does not return."""

    id: str
    name: str
    description: str | None = None
    created_at: Timestamp | None = None
    updated_at: Timestamp | None = None


class TokenResponse(BaseModel):
    """The token endpoint's answer (snake_case on the wire, as OAuth 2.0 has it)."""

    model_config = ConfigDict(frozen=True, extra="ignore", hide_input_in_errors=True)

    access_token: str = Field(repr=False)
    token_type: str
    expires_in: int = Field(ge=1)


@dataclass(frozen=True)
class FileDownload:
    """A downloaded workflow or journey file."""

    filename: str
    content_type: str
    content: bytes = b""

    @property
    def size(self) -> int:
        return len(self.content)

    def __repr__(self) -> str:
        return f"FileDownload(filename={self.filename!r}, content_type={self.content_type!r}, size={self.size})"
