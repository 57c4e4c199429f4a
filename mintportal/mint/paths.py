"""The one table of Mint operations: HTTP method, path template, and whether a repeat is harmless.

The reference (seed/mint-api-reference.txt) lists operations but not their paths; these follow
DESIGN.md until the official OpenAPI document can be compared, and this table is the only place
to correct them. Operation names are the operation ids the sandbox counts (``sandbox.count(...)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class Operation:
    """One Mint operation.

    ``idempotent``: sending the request twice leaves Mint as sending it once, so it may be retried after
    a read timeout or a 502/503/504. Other calls are retried only when the request certainly never
    reached Mint, and otherwise end in ``MintOutcomeUnknownError``.
    """

    name: str
    method: str
    path: str
    idempotent: bool

    def url(self, base_url: str, **path_params: str | int) -> str:
        """The full URL with each ``{param}`` filled in and percent-encoded (ids cannot add path segments)."""
        encoded = {key: quote(str(value), safe="") for key, value in path_params.items()}
        return base_url.rstrip("/") + self.path.format(**encoded)


def _op(name: str, method: str, path: str, *, idempotent: bool) -> Operation:
    return Operation(name=name, method=method, path=path, idempotent=idempotent)


LIST_WORKFLOWS = _op("listWorkflows", "GET", "/workflows", idempotent=True)
CREATE_WORKFLOW = _op("createWorkflow", "POST", "/workflows", idempotent=False)
GET_WORKFLOW = _op("getWorkflow", "GET", "/workflows/{workflow_id}", idempotent=True)
UPDATE_WORKFLOW = _op("updateWorkflow", "PUT", "/workflows/{workflow_id}", idempotent=True)
START_JOURNEY = _op("startJourney", "POST", "/workflows/{workflow_id}/journeys", idempotent=False)
LIST_WORKFLOW_VERSIONS = _op("listWorkflowVersions", "GET", "/workflows/{workflow_id}/versions", idempotent=True)
# Sandbox extension. Publishing an already published version changes nothing, so a repeat is harmless.
PUBLISH_WORKFLOW_VERSION = _op(
    "publishWorkflowVersion", "POST", "/workflows/{workflow_id}/versions/{version}/publish", idempotent=True
)
# Sandbox extension (multipart upload); each call stores another file, so it is not repeated blindly.
UPLOAD_WORKFLOW_FILE = _op("uploadWorkflowFile", "POST", "/workflows/{workflow_id}/files", idempotent=False)
DOWNLOAD_WORKFLOW_FILE = _op(
    "downloadWorkflowFile", "GET", "/workflows/{workflow_id}/files/{file_id}", idempotent=True
)
LIST_JOURNEYS = _op("listJourneys", "GET", "/journeys", idempotent=True)
GET_JOURNEY = _op("getJourney", "GET", "/journeys/{journey_id}", idempotent=True)
RESUME_JOURNEY = _op("resumeJourney", "POST", "/journeys/{journey_id}/resume", idempotent=False)
APPROVE_JOURNEY = _op("approveJourney", "POST", "/journeys/{journey_id}/approve", idempotent=False)
# Each call mints a fresh link; a repeat only adds another valid link, so it may be retried.
CREATE_JOURNEY_URL = _op("createJourneyUrl", "POST", "/journeys/{journey_id}/url", idempotent=True)
GET_JOURNEY_LOG = _op("getJourneyLog", "GET", "/journeys/{journey_id}/log", idempotent=True)
CREATE_JOURNEY_NOTE = _op("createJourneyNote", "POST", "/journeys/{journey_id}/notes", idempotent=False)
LIST_JOURNEY_NOTES = _op("listJourneyNotes", "GET", "/journeys/{journey_id}/notes", idempotent=True)
UPDATE_JOURNEY_NOTE = _op("updateJourneyNote", "PUT", "/journeys/{journey_id}/notes/{note_id}", idempotent=True)
DOWNLOAD_JOURNEY_FILE = _op("downloadJourneyFile", "GET", "/journeys/{journey_id}/files/{file_id}", idempotent=True)
LIST_STEP_TYPES = _op("listStepTypes", "GET", "/step-types", idempotent=True)
CREATE_SECRET = _op("createSecret", "POST", "/secrets", idempotent=False)
# A PATCH that sets fields to given values ends in the same state however often it is sent.
UPDATE_SECRET = _op("updateSecret", "PATCH", "/secrets/{secret_id}", idempotent=True)
