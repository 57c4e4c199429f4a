"""The Mint client: one typed method per operation, with tokens, timeouts, retries and error mapping.

Every method sends through ``MintClient._call``, which
- runs within the caller's time budget (budget.py): inside a web request one attempt and at most the time the
  request has left, never a sleep; in workers the timeouts and retries below;
- asks the operation group's circuit breaker first (breaker.py), failing fast while Mint is known to be down,
  and inside a web request takes one of the process's ``MINT_WEB_CONCURRENCY`` slots (a bulkhead);
- adds a bearer token (``TokenProvider``) and, on a 401, drops it and retries once with a new one;
- retries connection failures, 429 and 502/503/504 within ``MINT_MAX_RETRIES`` with jittered
  exponential backoff, honouring ``Retry-After`` up to ``MINT_MAX_RETRY_WAIT``;
- repeats a call that is not idempotent (e.g. starting a journey) only when Mint certainly did not
  act on it, and otherwise raises ``MintOutcomeUnknownError``;
- logs one line per failed call (method, operation, status, code, trace id; never bodies or tokens), and
  counts every call by operation and outcome for the Prometheus metrics (``mintportal_mint_calls_total``).
One client is safe to share between threads.
"""

from __future__ import annotations

import email.message
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError

from mintportal.mint import errors, models, paths
from mintportal.mint.auth import TOKEN_OPERATION, TokenProvider
from mintportal.mint.breaker import CircuitBreakers, Ticket
from mintportal.mint.budget import CallBudget, budget_deadline
from mintportal.mint.config import MintConfig
from mintportal.mint.paths import Operation
from mintportal.mint.retry import RetryPolicy
from mintportal.mint.transport import Transport, error_from_response

logger = logging.getLogger("mintportal.mint")

# The largest page Mint serves; iterators use it so that walking a listing takes the fewest calls.
PAGE_LIMIT = 100
# A web request with less time than this left does not start another Mint read: it could only time out.
MIN_ATTEMPT_SECONDS = 0.1

MINT_CALLS = Counter(
    "mintportal_mint_calls", "Calls of the Mint client by operation and outcome (ok, or the error's kind), "
    "each counted once whatever its retries", ["operation", "outcome"],
)


def outcome_label(error: errors.MintError | None) -> str:
    """``ok``, or the error's class in snake case without the Mint prefix (``server``, ``circuit_open``, ...)."""
    if error is None:
        return "ok"
    name = type(error).__name__.removeprefix("Mint").removesuffix("Error") or "error"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# One validator per model type, built on first use (building one compiles its schema).
_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter[M](model_type: type[M]) -> TypeAdapter[M]:
    adapter = _ADAPTERS.get(model_type)
    if adapter is None:
        adapter = _ADAPTERS[model_type] = TypeAdapter(model_type)
    return adapter


def _query(**values: Any) -> dict[str, Any]:
    """Query parameters in Mint's names, without the unset ones; date-times as ISO 8601."""
    query: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        query[key] = value
    return query


def _body(**values: Any) -> dict[str, Any]:
    """A JSON body without the fields left unset (Mint then keeps or defaults them)."""
    return {key: value for key, value in values.items() if value is not None}


def _iterate[T](fetch: Callable[[int, int], models.Page[T]], page_limit: int) -> Iterator[T]:
    """Walks a listing page by page until ``totalCount`` items (or an empty page) have been seen."""
    offset = 0
    while True:
        page = fetch(offset, page_limit)
        yield from page.data
        offset += len(page.data)
        if not page.data or offset >= page.total_count:
            return


def _turned_away(error: errors.MintError) -> bool:
    """429, and 503 with Retry-After, say that Mint refused the request before acting on it."""
    return error.status == 429 or (error.status == 503 and error.retry_after is not None)


@dataclass(frozen=True)
class AccessCheck:
    """What ``check_access`` found: whether the token, a read and a write were allowed, and why not."""

    token_ok: bool
    viewer_ok: bool
    editor_ok: bool
    token_expires_in: float | None = None
    token_problem: str | None = None
    viewer_problem: str | None = None
    editor_problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.token_ok and self.viewer_ok and self.editor_ok


@dataclass
class _CallState:
    retries: int = 0
    reauthenticated: bool = False


class MintClient:
    """A typed client for Signicat's Mint API (or the sandbox). Build one with ``get_client()``."""

    def __init__(self, config: MintConfig, *, cache_alias: str = "default", page_limit: int = PAGE_LIMIT) -> None:
        """``page_limit`` is the page size the ``iter_*`` methods ask for (1..100)."""
        if not 1 <= page_limit <= PAGE_LIMIT:
            raise ValueError(f"page_limit must be between 1 and {PAGE_LIMIT}")
        self.config = config
        self.page_limit = page_limit
        self.retry_policy = RetryPolicy(max_retries=config.max_retries, max_wait=config.max_retry_wait)
        self.tokens = TokenProvider(config, cache_alias=cache_alias)
        self.breakers = CircuitBreakers(config, cache_alias=cache_alias)
        self._web_slots = threading.BoundedSemaphore(config.web_concurrency) if config.web_concurrency else None
        self._transport = Transport(config)

    def __repr__(self) -> str:
        return f"MintClient(base_url={self.config.base_url!r}, client_id={self.config.client_id!r})"

    def close(self) -> None:
        """Closes the pooled connections of every thread's session."""
        self._transport.close()

    # --- workflows ------------------------------------------------------------------------------

    def list_workflows(
        self,
        *,
        search: str | None = None,
        sort: str | None = None,
        version: str | None = None,
        ids: list[str] | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> models.Page[models.WorkflowSummary]:
        """One page of workflows; ``version`` is ``"latest"`` or ``"published"``, ``ids`` filters by id."""
        params = _query(search=search, sort=sort, version=version, id=list(ids) if ids else None,
                        offset=offset, limit=limit)
        return self._json(paths.LIST_WORKFLOWS, models.Page[models.WorkflowSummary], params=params)

    def iter_workflows(
        self,
        *,
        search: str | None = None,
        sort: str | None = None,
        version: str | None = None,
        ids: list[str] | None = None,
    ) -> Iterator[models.WorkflowSummary]:
        return _iterate(lambda offset, limit: self.list_workflows(
            search=search, sort=sort, version=version, ids=ids, offset=offset, limit=limit), self.page_limit)

    def create_workflow(self, workflow: models.WorkflowInput) -> models.WorkflowDefinition:
        return self._json(paths.CREATE_WORKFLOW, models.WorkflowDefinition, json=workflow.to_wire())

    def get_workflow(self, workflow_id: str, *, version: int | None = None) -> models.WorkflowDefinition:
        """The workflow's latest version, or ``version`` when given."""
        return self._json(paths.GET_WORKFLOW, models.WorkflowDefinition, path_params={"workflow_id": workflow_id},
                          params=_query(version=version))

    def update_workflow(self, workflow_id: str, workflow: models.WorkflowInput) -> models.WorkflowDefinition:
        """Saves ``workflow`` as the workflow's new latest version."""
        return self._json(paths.UPDATE_WORKFLOW, models.WorkflowDefinition, path_params={"workflow_id": workflow_id},
                          json=workflow.to_wire())

    def list_workflow_versions(
        self, workflow_id: str, *, offset: int = 0, limit: int = 10
    ) -> models.Page[models.WorkflowVersion]:
        return self._json(paths.LIST_WORKFLOW_VERSIONS, models.Page[models.WorkflowVersion],
                          path_params={"workflow_id": workflow_id}, params=_query(offset=offset, limit=limit))

    def iter_workflow_versions(self, workflow_id: str) -> Iterator[models.WorkflowVersion]:
        return _iterate(lambda offset, limit: self.list_workflow_versions(workflow_id, offset=offset, limit=limit),
                        self.page_limit)

    def publish_workflow_version(self, workflow_id: str, version: int) -> models.WorkflowVersion:
        """Publishes a version, so new journeys start from it (a sandbox extension).

        The sandbox answers with the published workflow, which lacks the version's own id; the version
        row is then read from the versions listing.
        """
        answer = self._json(paths.PUBLISH_WORKFLOW_VERSION, models.WorkflowDefinition,
                            path_params={"workflow_id": workflow_id, "version": version})
        for row in self.iter_workflow_versions(workflow_id):
            if row.version == answer.version:
                return row
        raise errors.MintResponseError(
            f"{paths.PUBLISH_WORKFLOW_VERSION.name}: version {answer.version} is missing from the versions listing",
            operation=paths.PUBLISH_WORKFLOW_VERSION.name,
        )

    def upload_workflow_file(
        self, workflow_id: str, *, filename: str, content: bytes, content_type: str = "application/octet-stream"
    ) -> models.WorkflowFile:
        """Adds a file to the workflow's latest version (a sandbox extension)."""
        return self._json(paths.UPLOAD_WORKFLOW_FILE, models.WorkflowFile, path_params={"workflow_id": workflow_id},
                          files={"file": (filename, content, content_type)})

    def download_workflow_file(self, workflow_id: str, file_id: str) -> models.FileDownload:
        return self._download(paths.DOWNLOAD_WORKFLOW_FILE, {"workflow_id": workflow_id, "file_id": file_id})

    # --- journeys -------------------------------------------------------------------------------

    def start_journey(
        self, workflow_id: str, *, input: dict[str, Any] | None = None, journey_url_ttl: int | None = None
    ) -> models.StartedJourney:
        """Starts a journey. Never repeated blindly: an answer that may hide a created journey (a read
        timeout, a 5xx) raises ``MintOutcomeUnknownError``."""
        response = self._call(paths.START_JOURNEY, path_params={"workflow_id": workflow_id},
                              json=_body(input=input, journeyUrlTtl=journey_url_ttl))
        started = self._parse(paths.START_JOURNEY, models.StartedJourney, response)
        return started.model_copy(update={"trace_id": response.headers.get("X-Trace-Id") or None})

    def list_journeys(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        last_executed_after: datetime | None = None,
        last_executed_before: datetime | None = None,
        search: str | None = None,
        sort: str | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> models.Page[models.JourneySummary]:
        params = _query(status=status, workflowId=workflow_id, lastExecutedAfter=last_executed_after,
                        lastExecutedBefore=last_executed_before, search=search, sort=sort,
                        offset=offset, limit=limit)
        return self._json(paths.LIST_JOURNEYS, models.Page[models.JourneySummary], params=params)

    def iter_journeys(
        self,
        *,
        status: str | None = None,
        workflow_id: str | None = None,
        last_executed_after: datetime | None = None,
        last_executed_before: datetime | None = None,
        search: str | None = None,
        sort: str | None = None,
    ) -> Iterator[models.JourneySummary]:
        return _iterate(lambda offset, limit: self.list_journeys(
            status=status, workflow_id=workflow_id, last_executed_after=last_executed_after,
            last_executed_before=last_executed_before, search=search, sort=sort, offset=offset, limit=limit),
            self.page_limit)

    def get_journey(self, journey_id: str) -> models.JourneyDetail:
        return self._json(paths.GET_JOURNEY, models.JourneyDetail, path_params={"journey_id": journey_id})

    def resume_journey(self, journey_id: str, *, step_id: str, input: dict[str, Any] | None = None) -> None:
        """Continues a journey suspended at ``step_id``; ``input`` becomes that step's output."""
        self._call(paths.RESUME_JOURNEY, path_params={"journey_id": journey_id},
                   json=_body(input=input, stepId=step_id))

    def approve_journey(self, journey_id: str, *, step_id: str, approved: bool, message: str | None = None) -> None:
        """Approves (``approved=True``) or rejects the approval step ``step_id``, with an optional message."""
        self._call(paths.APPROVE_JOURNEY, path_params={"journey_id": journey_id},
                   json={"input": {"approved": approved, "message": message}, "stepId": step_id})

    def create_journey_url(self, journey_id: str, *, time_to_live: int | None = None) -> models.JourneyUrl:
        """A new link to the journey's end-user page, valid ``time_to_live`` seconds (Mint's default 60)."""
        return self._json(paths.CREATE_JOURNEY_URL, models.JourneyUrl, path_params={"journey_id": journey_id},
                          json=_body(timeToLive=time_to_live))

    def get_journey_log(self, journey_id: str) -> models.JourneyLog:
        return self._json(paths.GET_JOURNEY_LOG, models.JourneyLog, path_params={"journey_id": journey_id})

    def download_journey_file(self, journey_id: str, file_id: str) -> models.FileDownload:
        return self._download(paths.DOWNLOAD_JOURNEY_FILE, {"journey_id": journey_id, "file_id": file_id})

    # --- journey notes --------------------------------------------------------------------------

    def create_journey_note(self, journey_id: str, *, content: str, step_id: str | None = None) -> models.JourneyNote:
        return self._json(paths.CREATE_JOURNEY_NOTE, models.JourneyNote, path_params={"journey_id": journey_id},
                          json=_body(stepId=step_id, content=content))

    def list_journey_notes(
        self,
        journey_id: str,
        *,
        search: str | None = None,
        sort: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        offset: int = 0,
        limit: int = 10,
    ) -> models.Page[models.JourneyNote]:
        params = _query(search=search, sort=sort, createdAfter=created_after, createdBefore=created_before,
                        offset=offset, limit=limit)
        return self._json(paths.LIST_JOURNEY_NOTES, models.Page[models.JourneyNote],
                          path_params={"journey_id": journey_id}, params=params)

    def iter_journey_notes(
        self,
        journey_id: str,
        *,
        search: str | None = None,
        sort: str | None = None,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
    ) -> Iterator[models.JourneyNote]:
        return _iterate(lambda offset, limit: self.list_journey_notes(
            journey_id, search=search, sort=sort, created_after=created_after, created_before=created_before,
            offset=offset, limit=limit), self.page_limit)

    def update_journey_note(self, journey_id: str, note_id: str, *, content: str) -> models.JourneyNote:
        return self._json(paths.UPDATE_JOURNEY_NOTE, models.JourneyNote,
                          path_params={"journey_id": journey_id, "note_id": note_id}, json={"content": content})

    # --- step types and secrets -----------------------------------------------------------------

    def list_step_types(self) -> list[models.StepType]:
        return self._json(paths.LIST_STEP_TYPES, list[models.StepType])

    def create_secret(self, *, name: str, value: str, description: str | None = None) -> models.Secret:
        """Creates a workflow secret. The value goes to Mint only; Mint never returns it."""
        return self._json(paths.CREATE_SECRET, models.Secret,
                          json=_body(name=name, description=description, value=value))

    def update_secret(
        self, secret_id: str, *, name: str | None = None, description: str | None = None, value: str | None = None
    ) -> models.Secret:
        """Changes the given fields of a secret; fields left None stay as they are."""
        return self._json(paths.UPDATE_SECRET, models.Secret, path_params={"secret_id": secret_id},
                          json=_body(name=name, description=description, value=value))

    # --- health ---------------------------------------------------------------------------------

    def check_access(self) -> AccessCheck:
        """Checks the credentials and both roles without changing anything in Mint.

        Fetches a new token, lists one workflow (needs Flow Viewer), and creates a workflow from an
        empty body (needs Flow Editor): Mint rejects the body (400) when the role is there and refuses
        the call (403) when it is not, so nothing is written either way.
        """
        try:
            token = self._with_retries(TOKEN_OPERATION, True, self.tokens.renew)
        except errors.MintError as exc:
            return AccessCheck(token_ok=False, viewer_ok=False, editor_ok=False, token_problem=str(exc))
        expires_in = max(0.0, token.expires_at - time.time())
        viewer_problem = editor_problem = None
        try:
            self.list_workflows(limit=1)
        except errors.MintError as exc:
            viewer_problem = "missing" if isinstance(exc, errors.MintPermissionError) else str(exc)
        try:
            self._call(paths.CREATE_WORKFLOW, json={})
            editor_problem = "the deliberately invalid write was accepted; check the API's validation"
        except errors.MintValidationError:
            editor_problem = None
        except errors.MintError as exc:
            editor_problem = "missing" if isinstance(exc, errors.MintPermissionError) else str(exc)
        return AccessCheck(token_ok=True, viewer_ok=viewer_problem is None, editor_ok=editor_problem is None,
                           token_expires_in=expires_in, viewer_problem=viewer_problem, editor_problem=editor_problem)

    # --- plumbing -------------------------------------------------------------------------------

    def _json[M](self, operation: Operation, model_type: type[M], **kwargs: Any) -> M:
        """Calls ``operation`` and parses its JSON answer into ``model_type`` (strict models)."""
        return self._parse(operation, model_type, self._call(operation, **kwargs))

    def _parse[M](self, operation: Operation, model_type: type[M], response: requests.Response) -> M:
        """Parses a successful answer into ``model_type``; an answer of another shape is a ``MintResponseError``."""
        try:
            return _adapter(model_type).validate_json(response.content)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in error['loc']) or '(body)'}: {error['msg']}" for error in exc.errors()
            )
            error = errors.MintResponseError(
                f"{operation.name}: Mint's answer does not match the expected shape: {problems}",
                status=response.status_code, operation=operation.name, trace_id=response.headers.get("X-Trace-Id"),
            )
            self._log_failure(operation.method, operation.name, error)
            raise error from None

    def _download(self, operation: Operation, path_params: dict[str, str]) -> models.FileDownload:
        response = self._call(operation, path_params=path_params, headers={"Accept": "*/*"})
        disposition = email.message.Message()
        disposition["Content-Disposition"] = response.headers.get("Content-Disposition", "")
        return models.FileDownload(
            filename=disposition.get_filename() or path_params["file_id"],
            content_type=response.headers.get("Content-Type", "application/octet-stream"),
            content=response.content,
        )

    def _call(
        self,
        operation: Operation,
        *,
        path_params: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
        files: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        """Sends ``operation`` within the budget, through its breaker, with retries; returns the 2xx response or
        raises a ``MintError``."""
        url = operation.url(self.config.base_url, **(path_params or {}))
        try:
            budget = self._budget(operation)
            self._take_web_slot(operation, budget)
        except errors.MintError as error:
            MINT_CALLS.labels(operation.name, outcome_label(error)).inc()
            raise
        try:
            return self._call_admitted(operation, url, budget, params=params, json=json, files=files,
                                       headers=headers)
        finally:
            if budget.bounded and self._web_slots is not None:
                self._web_slots.release()

    def _take_web_slot(self, operation: Operation, budget: CallBudget) -> None:
        """The bulkhead (``MINT_WEB_CONCURRENCY``): at most that many of this process's page threads wait on Mint
        at once, so that the others always serve the pages that need no Mint."""
        if not budget.bounded or self._web_slots is None:
            return
        if not self._web_slots.acquire(blocking=False):
            raise errors.MintBudgetExhaustedError(
                f"{operation.name}: not called, {self.config.web_concurrency} pages of this process already wait "
                "on Mint", operation=operation.name, request_sent=False,
            )

    def _call_admitted(self, operation: Operation, url: str, budget: CallBudget, **kwargs: Any) -> requests.Response:
        try:
            ticket = self.breakers.admit(operation)
        except errors.MintError as error:
            # Not sent, so not logged as a failed call: the breaker logged its opening, the page logs its outage.
            MINT_CALLS.labels(operation.name, outcome_label(error)).inc()
            raise
        state = _CallState()
        try:
            response = self._with_retries(
                operation.name, operation.idempotent,
                lambda: self._attempt(operation, url, state, budget, **kwargs),
                method=operation.method, budget=budget,
                on_failure=lambda error: self._breaker_failed(ticket, budget, error),
            )
        except errors.MintError as error:
            MINT_CALLS.labels(operation.name, outcome_label(error)).inc()
            raise
        self.breakers.succeeded(ticket)
        MINT_CALLS.labels(operation.name, "ok").inc()
        return response

    def _breaker_failed(self, ticket: Ticket, budget: CallBudget, error: errors.MintError) -> None:
        """Tells the breaker about a failed call, except a timeout that only the page's earlier calls caused:
        a read given less than half the page's budget says nothing about Mint, and the breaker learns nothing."""
        if (isinstance(error, errors.MintTimeoutError) and budget.bounded
                and budget.read_timeout < self.config.web_timeout / 2):
            self.breakers.abandon(ticket)
            return
        self.breakers.failed(ticket, error)

    def _budget(self, operation: Operation) -> CallBudget:
        """The time this call may take: a worker's timeouts and retries, or what its web request has left."""
        config = self.config
        deadline = budget_deadline()
        if deadline is None:
            return CallBudget(connect_timeout=config.connect_timeout, read_timeout=config.read_timeout,
                              max_retries=config.max_retries, max_retry_wait=config.max_retry_wait,
                              bounded=False)
        if operation.method != "GET":
            # A write cut short by a page's budget may still have happened in Mint ("outcome unknown"), so it
            # keeps the full read timeout; like everything a page asks, it is tried once and never sleeps.
            return CallBudget(connect_timeout=config.connect_timeout, read_timeout=config.read_timeout,
                              max_retries=0, max_retry_wait=0.0, bounded=True)
        left = deadline - time.monotonic()
        if left < MIN_ATTEMPT_SECONDS:
            raise errors.MintBudgetExhaustedError(
                f"{operation.name}: not called, the page has spent its {config.web_timeout:g} s for Mint",
                operation=operation.name, request_sent=False,
            )
        return CallBudget(connect_timeout=min(config.connect_timeout, left), read_timeout=left, max_retries=0,
                          max_retry_wait=0.0, bounded=True)

    def _with_retries[T](self, name: str, idempotent: bool, attempt: Callable[[], T], *, method: str = "POST",
                      budget: CallBudget | None = None,
                      on_failure: Callable[[errors.MintError], None] | None = None) -> T:
        policy = self.retry_policy if budget is None else RetryPolicy(max_retries=budget.max_retries,
                                                                      max_wait=budget.max_retry_wait)
        retries = 0
        while True:
            try:
                return attempt()
            except errors.MintError as error:
                wait = self._retry_wait(policy, idempotent, error, retries)
                if wait is None:
                    if on_failure is not None:
                        on_failure(error)
                    final = self._final_error(idempotent, error)
                    self._log_failure(method, name, final)
                    raise final from None
                logger.info("mint call retrying in %.2fs: %s %s status=%s trace_id=%s (retry %d of %d)",
                            wait, method, name, error.status or "-", error.trace_id or "-",
                            retries + 1, policy.max_retries)
                time.sleep(wait)
                retries += 1

    def _attempt(self, operation: Operation, url: str, state: _CallState, budget: CallBudget,
                 **kwargs: Any) -> requests.Response:
        token = self._token(budget)
        response = self._send(operation, url, token, budget, **kwargs)
        if response.status_code == 401 and not state.reauthenticated:
            # The token was revoked or expired early: drop it everywhere and try once with a new one.
            state.reauthenticated = True
            self.tokens.invalidate(token)
            response = self._send(operation, url, self._token(budget), budget, **kwargs)
        if 200 <= response.status_code < 300:
            return response
        raise error_from_response(response, operation=operation.name)

    def _send(self, operation: Operation, url: str, token: str, budget: CallBudget, *,
              headers: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        all_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})}
        return self._transport.send(operation.name, operation.method, url, timeout=budget.timeout,
                                    headers=all_headers, **kwargs)

    def _token(self, budget: CallBudget) -> str:
        try:
            if budget.bounded:
                return self.tokens.get(timeout=budget.timeout, max_wait=budget.read_timeout)
            return self.tokens.get()
        except errors.MintError as error:
            # Without a token the API request itself was never sent, so any call may be retried.
            error.request_sent = False
            raise

    @staticmethod
    def _retry_wait(policy: RetryPolicy, idempotent: bool, error: errors.MintError, retries: int) -> float | None:
        if not (idempotent or not error.request_sent or _turned_away(error)):
            return None
        return policy.wait_before_retry(error, retries)

    @staticmethod
    def _final_error(idempotent: bool, error: errors.MintError) -> errors.MintError:
        """For a call that is not safe to repeat, an answer that may hide its effect becomes "outcome unknown"."""
        if idempotent or not error.request_sent:
            return error
        may_have_acted = isinstance(error, errors.MintConnectionError) or (
            isinstance(error, errors.MintServerError) and not _turned_away(error)
        )
        if not may_have_acted:
            return error
        return errors.MintOutcomeUnknownError(
            f"{error.operation}: Mint may or may not have carried out the request ({error.message})",
            status=error.status, code=error.code, trace_id=error.trace_id, operation=error.operation,
            title=error.title, detail=error.detail,
        )

    @staticmethod
    def _log_failure(method: str, name: str, error: errors.MintError) -> None:
        """One line per failed call; never the request body, the token or Mint's detail text."""
        logger.warning("mint call failed: %s %s status=%s code=%s trace_id=%s error=%s", method, name,
                       error.status or "-", error.code or "-", error.trace_id or "-", type(error).__name__)


_client: MintClient | None = None
_client_lock = threading.Lock()


def get_client() -> MintClient:
    """The process-wide client for the current MINT_* settings.

    The settings are compared on every call, so a change (pytest-django's ``settings`` fixture, the
    ``mint_settings`` fixture) yields a client that points at the new values.
    """
    global _client
    config = MintConfig.from_settings()
    client = _client
    if client is not None and client.config == config:
        return client
    with _client_lock:
        if _client is None or _client.config != config:
            _client = MintClient(config)
        return _client
