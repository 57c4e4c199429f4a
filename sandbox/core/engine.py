"""The journey engine: runs a journey's steps until it waits, finishes or faults.

Execution is synchronous inside the caller's transaction (start, resume, approve, the end-user page, the
scheduler), so every request sees a journey at rest. A journey runs one path at a time, so it waits on at most
one step. For-each iterations are frames on a stack (stored in ``JourneyState.cursor`` while waiting), so a
step that waits inside an iteration continues in that iteration. Every status change publishes
``mint-api:journey_status_changed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sandbox.core import clock
from sandbox.core.definitions import MAX_STEPS, Graph
from sandbox.core.documents import render_pdf
from sandbox.core.models import (
    FINAL_STATUSES,
    Journey,
    JourneyFile,
    JourneyLogStep,
    JourneyState,
    JourneyStatus,
    JourneyWait,
    OutboxMessage,
    WaitKind,
)
from sandbox.core.problems import conflict
from sandbox.core.templating import render, render_text
from sandbox.events.services import publish_event

# Without a cycle in its connections, a run executes each step at most once between the starts of for-each
# iterations (at most 250 steps), so more than this many steps in a row means the workflow loops without
# waiting and would otherwise run forever in one request.
MAX_STEPS_WITHOUT_PROGRESS = 2 * MAX_STEPS
MAX_LOOP_ITEMS = 1000

WAIT_KINDS_BY_TYPE = {
    "form": WaitKind.END_USER,
    "eid-login": WaitKind.END_USER,
    "suspend": WaitKind.RESUME,
    "require-approval": WaitKind.APPROVAL,
    "waiting": WaitKind.TIMER,
}


@dataclass(frozen=True)
class Continue:
    outcome: str
    output: Any


@dataclass(frozen=True)
class Wait:
    kind: str
    due_at: datetime | None = None


@dataclass(frozen=True)
class Fault:
    message: str


@dataclass(frozen=True)
class Finish:
    output: Any = None


@dataclass(frozen=True)
class StartLoop:
    items: list[Any]


StepResult = Continue | Wait | Fault | Finish | StartLoop


@dataclass
class Frame:
    """One for-each step's iteration in progress."""

    step_id: str
    items: list[Any]
    index: int
    log_id: int
    step_data: dict[str, Any] = field(default_factory=dict)


def _event(name: str, message: str | None, outcomes: list[str] | None = None) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "timestamp": clock.isoformat(clock.now()), "eventName": name,
            "message": message, "outcomes": outcomes}


def set_status(journey: Journey, status: str) -> None:
    """Moves ``journey`` to ``status`` (unsaved), stamps the matching timestamp and publishes the change."""
    previous = journey.status
    if previous == status:
        return
    journey.status = status
    now = clock.now()
    if status == JourneyStatus.FINISHED:
        journey.finished_at = now
    elif status == JourneyStatus.FAULTED:
        journey.faulted_at = now
    elif status == JourneyStatus.CANCELLED:
        journey.cancelled_at = now
    publish_event("mint-api:journey_status_changed", {
        "journeyId": journey.id, "workflowId": journey.workflow_id, "status": status, "previousStatus": previous,
    })


class Run:
    """One stretch of execution of a journey, from a step until it waits, finishes or faults."""

    def __init__(self, journey: Journey, state: JourneyState) -> None:
        self.journey = journey
        self.state = state
        version = journey.workflow_version
        self.graph = Graph.build(version.steps, version.connections)
        self.variables = version.variables or {}
        self.frames = [Frame(**frame) for frame in state.cursor]
        self.executed = 0
        # The step this run left the journey waiting on, if any.
        self.waiting_on: str | None = None
        # New log rows are inserted in batches (in execution order, which is the log's order): a long
        # non-waiting stretch would otherwise cost one INSERT per step.
        self.pending_logs: list[JourneyLogStep] = []

    # --- data visible to templates ----------------------------------------------------------

    def scope(self) -> dict[str, Any]:
        steps = dict(self.state.step_data)
        for frame in self.frames:
            steps.update(frame.step_data)
        loop = None
        if self.frames:
            frame = self.frames[-1]
            loop = {"item": frame.items[frame.index], "index": frame.index, "count": len(frame.items)}
        return {"input": self.state.input or {}, "steps": steps, "variables": self.variables, "loop": loop}

    def record_output(self, step_id: str, output: Any) -> None:
        if self.frames:
            self.frames[-1].step_data[step_id] = output
        else:
            self.state.step_data[step_id] = output

    # --- moving on ---------------------------------------------------------------------------

    def resume_after(self, step_id: str, outcome: str, output: Any, log_step: JourneyLogStep,
                     message: str) -> None:
        """Completes the waiting ``step_id`` with ``outcome`` and runs on from there."""
        self.begin()
        self._close_log(log_step, outcome, message)
        self.record_output(step_id, output)
        self.run_from(self.graph.next_step(step_id, outcome))

    def begin(self) -> None:
        self.journey.last_executed_at = clock.now()
        set_status(self.journey, JourneyStatus.RUNNING)

    def run_from(self, step_id: str | None) -> None:
        """Runs steps from ``step_id`` (None: the current path has ended) until the journey rests, then saves."""
        while True:
            if step_id is None:
                if not self.frames:
                    self._end(JourneyStatus.FINISHED)
                    return
                step_id = self._next_iteration()
                continue
            self.executed += 1
            if self.executed > MAX_STEPS_WITHOUT_PROGRESS:
                self._fault(None, f"More than {MAX_STEPS_WITHOUT_PROGRESS} steps ran without waiting; "
                            "the workflow loops.")
                return
            step = self.graph.steps[step_id]
            log_step = JourneyLogStep(
                journey=self.journey, step_id=step_id, step_type=step["type"], started_at=clock.now(),
                status={"name": "running"}, events=[_event("StepStarted", f"Step {step_id} started.")],
            )
            result = self._execute(step)
            if isinstance(result, Continue):
                self._close_log(log_step, result.outcome, f"Step {step_id} completed with {result.outcome}.")
                self.record_output(step_id, result.output)
                step_id = self.graph.next_step(step_id, result.outcome)
            elif isinstance(result, StartLoop):
                step_id = self._start_loop(step, result.items, log_step)
            elif isinstance(result, Wait):
                self._wait(step, result, log_step)
                return
            elif isinstance(result, Fault):
                self._fault(log_step, result.message)
                return
            else:
                self._close_log(log_step, None, f"Step {step_id} finished the journey.")
                if result.output is not None:
                    self.record_output(step_id, result.output)
                self._end(JourneyStatus.FINISHED)
                return

    def _start_loop(self, step: dict[str, Any], items: list[Any], log_step: JourneyLogStep) -> str | None:
        step_id = step["id"]
        self.record_output(step_id, {"count": len(items)})
        self.state.loops.setdefault(step_id, [])
        branch = self.graph.next_step(step_id, "Iterate", exact=True)
        if not items:
            self._close_log(log_step, "Done", f"Step {step_id} had no items to iterate.")
            return self.graph.next_step(step_id, "Done")
        if branch is None:
            self.state.loops[step_id].extend({"index": i, "stepData": {}} for i in range(len(items)))
            self._close_log(log_step, "Done", f"Step {step_id} iterated {len(items)} items with no steps.")
            return self.graph.next_step(step_id, "Done")
        log_step.status = {"name": "running", "outcome": "Iterate"}
        log_step.events.append(_event("LoopStarted", f"Iterating over {len(items)} items.", ["Iterate"]))
        self._keep_log(log_step)
        self._flush_logs()
        self.frames.append(Frame(step_id=step_id, items=items, index=0, log_id=log_step.pk))
        return branch

    def _next_iteration(self) -> str | None:
        """Closes the innermost iteration; returns the first step of the next one, or what follows the loop."""
        frame = self.frames[-1]
        self.executed = 0
        self.state.loops.setdefault(frame.step_id, []).append({"index": frame.index, "stepData": frame.step_data})
        frame.index += 1
        frame.step_data = {}
        if frame.index < len(frame.items):
            return self.graph.next_step(frame.step_id, "Iterate", exact=True)
        self.frames.pop()
        log_step = JourneyLogStep.objects.get(pk=frame.log_id)
        self._close_log(log_step, "Done", f"Iterated over {len(frame.items)} items.")
        return self.graph.next_step(frame.step_id, "Done")

    def _close_log(self, log_step: JourneyLogStep, outcome: str | None, message: str) -> None:
        log_step.ended_at = clock.now()
        log_step.status = {"name": "finished", "outcome": outcome}
        log_step.events.append(_event("StepCompleted", message, [outcome] if outcome else None))
        self._keep_log(log_step)

    def _keep_log(self, log_step: JourneyLogStep) -> None:
        """Saves a changed log row now if it exists, else queues its insert for the next flush (each new row is
        kept exactly once: when it closes, waits, faults or starts a loop)."""
        if log_step.pk is not None:
            log_step.save()
        else:
            self.pending_logs.append(log_step)

    def _flush_logs(self) -> None:
        if self.pending_logs:
            JourneyLogStep.objects.bulk_create(self.pending_logs)
            self.pending_logs = []

    def _wait(self, step: dict[str, Any], result: Wait, log_step: JourneyLogStep) -> None:
        log_step.status = {"name": "waiting"}
        log_step.events.append(_event("StepWaiting", f"Step {step['id']} is waiting ({result.kind})."))
        self._keep_log(log_step)
        self._flush_logs()
        JourneyWait.objects.create(journey=self.journey, step_id=step["id"], step_type=step["type"],
                                   kind=result.kind, due_at=result.due_at, log_step=log_step)
        self.waiting_on = step["id"]
        self.journey.pending_steps = True
        set_status(self.journey, JourneyStatus.ACTIVE)
        self._save()

    def _fault(self, log_step: JourneyLogStep | None, message: str) -> None:
        if log_step is not None:
            log_step.ended_at = clock.now()
            log_step.status = {"name": "faulted", "message": message}
            log_step.events.append(_event("StepFaulted", message))
            self._keep_log(log_step)
        self._end(JourneyStatus.FAULTED)

    def _end(self, status: str) -> None:
        self.frames = []
        self.journey.pending_steps = False
        set_status(self.journey, status)
        self._save()

    def _save(self) -> None:
        self._flush_logs()
        self.state.cursor = [asdict(frame) for frame in self.frames]
        # A journey being started has no rows yet (rows that point at it are checked at commit): insert them.
        self.state.save(force_insert=self.state._state.adding)
        self.journey.save(force_insert=self.journey._state.adding)

    # --- the step types ---------------------------------------------------------------------

    def _execute(self, step: dict[str, Any]) -> StepResult:
        step_type = step["type"]
        props = step.get("properties") or {}
        if step_type in WAIT_KINDS_BY_TYPE:
            return self._execute_waiting(step_type, props)
        execute = self._STEP_TYPES.get(step_type)
        if execute is None:
            return Fault(f"Step {step['id']} has the unknown type {step_type!r}.")
        return execute(self, step, props)

    def _set_name(self, step: dict[str, Any], props: dict[str, Any]) -> StepResult:
        name = render_text(props.get("template"), self.scope())[:500]
        self.journey.name = name
        return Continue("Done", {"name": name})

    def _if_else(self, step: dict[str, Any], props: dict[str, Any]) -> StepResult:
        left = render(props.get("left"), self.scope())
        result = compare(left, props.get("operator", "eq"), props.get("right"))
        return Continue("True" if result else "False", {"result": result, "left": left})

    def _for_each(self, step: dict[str, Any], props: dict[str, Any]) -> StepResult:
        items = render(props.get("items"), self.scope())
        if not isinstance(items, list):
            return Fault(f"Step {step['id']}: properties.items did not resolve to a list.")
        if len(items) > MAX_LOOP_ITEMS:
            return Fault(f"Step {step['id']}: more than {MAX_LOOP_ITEMS} items to iterate.")
        return StartLoop(items)

    def _trigger_alert(self, step: dict[str, Any], props: dict[str, Any]) -> StepResult:
        alert = {"stepId": step["id"], "severity": props.get("severity") or "info",
                 "message": render_text(props.get("message"), self.scope())[:1000],
                 "timestamp": clock.isoformat(clock.now())}
        self.journey.alerts = [*self.journey.alerts, alert]
        return Continue("Done", {"severity": alert["severity"], "message": alert["message"]})

    def _send_email(self, step: dict[str, Any], props: dict[str, Any]) -> StepResult:
        scope = self.scope()
        message = OutboxMessage.objects.create(
            journey=self.journey, step_id=step["id"], to=render_text(props.get("to"), scope)[:500],
            subject=render_text(props.get("subject"), scope)[:1000], body=render_text(props.get("body"), scope),
            created_at=clock.now(),
        )
        return Continue("Done", {"messageId": message.id, "to": message.to})

    def _fault_step(self, step: dict[str, Any], props: dict[str, Any]) -> StepResult:
        return Fault(render_text(props.get("message"), self.scope()) or f"Step {step['id']} faulted the journey.")

    def _finish(self, step: dict[str, Any], props: dict[str, Any]) -> StepResult:
        return Finish()

    def _execute_waiting(self, step_type: str, props: dict[str, Any]) -> StepResult:
        if step_type == "waiting":
            delay = int(props.get("delay") or 0)
            if delay == 0:
                return Continue("Done", {"delay": 0})
            return Wait(WaitKind.TIMER, clock.now() + timedelta(seconds=delay))
        return Wait(WAIT_KINDS_BY_TYPE[step_type])

    def _generate_document(self, step: dict[str, Any], props: dict[str, Any]) -> StepResult:
        step_id = step["id"]
        scope = self.scope()
        filename = render_text(props.get("filename"), scope)[:255] or f"{step_id}.txt"
        text = render_text(props.get("content"), scope)
        if props.get("format") == "pdf":
            content, content_type = render_pdf(text, title=filename), "application/pdf"
        else:
            content, content_type = text.encode(), "text/plain; charset=utf-8"
        file = JourneyFile.objects.create(journey=self.journey, step_id=step_id, filename=filename,
                                          content_type=content_type, size=len(content), content=content,
                                          created_at=clock.now())
        return Continue("Done", {"fileId": file.id, "filename": filename, "contentType": content_type,
                                 "size": len(content)})

    # The step types that run at once, each to its method (waiting step types go through _execute_waiting).
    _STEP_TYPES: ClassVar[dict[str, Callable[[Run, dict[str, Any], dict[str, Any]], StepResult]]] = {
        "set-name": _set_name,
        "if-else": _if_else,
        "for-each": _for_each,
        "trigger-alert": _trigger_alert,
        "generate-document": _generate_document,
        "send-email": _send_email,
        "fault": _fault_step,
        "finish": _finish,
    }

def compare(left: Any, operator: str, right: Any) -> bool:
    """``left <operator> right``: numbers compare as numbers when both sides are numeric, else as text."""
    if operator == "contains":
        if isinstance(left, list):
            return right in left or str(right) in [str(item) for item in left]
        return str(right) in ("" if left is None else str(left))
    left_number, right_number = _number(left), _number(right)
    a: Any
    b: Any
    if left_number is not None and right_number is not None:
        a, b = left_number, right_number
    else:
        a, b = _text(left), _text(right)
    if operator == "eq":
        return a == b
    if operator == "ne":
        return a != b
    if operator == "gt":
        return a > b
    if operator == "lt":
        return a < b
    return False


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --- entry points (callers hold a transaction) ------------------------------------------------


def start(journey: Journey, state: JourneyState) -> str | None:
    """Runs a new (idle) journey from its start step and saves it with its state, whose rows may not exist yet.
    Returns the id of the step it waits on, or None when it finished or faulted."""
    run = Run(journey, state)
    run.begin()
    run.run_from(run.graph.start)
    return run.waiting_on


def complete_wait(journey: Journey, step_id: str, kinds: set[str], outcome: str, output: Any,
                  message: str) -> None:
    """Completes the step ``step_id`` that ``journey`` waits on, if its wait is one of ``kinds``, and runs on.

    The wait row is removed by a conditional delete, so of concurrent completions exactly one proceeds; the
    others (and a step that is not waiting, or waits for something else) get a 409 problem.
    """
    if journey.status in FINAL_STATUSES:
        raise conflict(f"The journey is {journey.status}; nothing is waiting.")
    wait = JourneyWait.objects.filter(journey=journey, step_id=step_id).select_related("log_step").first()
    if wait is None or wait.kind not in kinds:
        raise conflict(f"Step {step_id!r} is not waiting for this action.")
    if JourneyWait.objects.filter(pk=wait.pk).delete()[0] != 1:
        raise conflict(f"Step {step_id!r} was completed by another request.")
    state = JourneyState.objects.get(journey=journey)
    journey.pending_steps = JourneyWait.objects.filter(journey=journey).exists()
    Run(journey, state).resume_after(step_id, outcome, output, wait.log_step, message)


def cancel(journey: Journey, reason: str) -> None:
    """Ends a journey that is not final as cancelled, closing the step it waited on."""
    if journey.status in FINAL_STATUSES:
        raise conflict(f"The journey is already {journey.status}.")
    for wait in JourneyWait.objects.filter(journey=journey).select_related("log_step"):
        log_step = wait.log_step
        log_step.ended_at = clock.now()
        log_step.status = {"name": "cancelled"}
        log_step.events.append(_event("StepCancelled", reason))
        log_step.save()
        wait.delete()
    journey.pending_steps = False
    set_status(journey, JourneyStatus.CANCELLED)
    journey.save()
