"""The step types the sandbox's engine runs (DESIGN.md's table) and the checks on their properties.

``GET /mint/step-types`` lists :data:`STEP_TYPES`; workflow definitions are validated against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.core.validation import Checker

MAX_DELAY_SECONDS = 604800
ALERT_SEVERITIES = ("info", "warning", "critical")
IF_ELSE_OPERATORS = ("eq", "ne", "gt", "lt", "contains")
FORM_FIELD_TYPES = ("text", "email", "number", "date", "textarea", "checkbox")
DOCUMENT_FORMATS = ("text", "pdf")


@dataclass(frozen=True)
class StepType:
    type: str
    display_name: str
    description: str
    category: str
    outcomes: tuple[str, ...]
    interactive: bool
    required_permissions: tuple[str, ...] = ()
    deprecated: bool = False

    def to_wire(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "displayName": self.display_name,
            "description": self.description,
            "category": self.category,
            "outcomes": list(self.outcomes),
            "requiredPermissions": list(self.required_permissions),
            "deprecated": self.deprecated,
            "interactive": self.interactive,
        }


STEP_TYPES: dict[str, StepType] = {
    step.type: step
    for step in [
        StepType("form", "Form", "The end user fills in properties.fields at the journey URL; the output is the "
                 "submitted values.", "Signicat", ("Done",), True),
        StepType("eid-login", "eID login", "The end user logs in with a test eID identity at the journey URL; the "
                 "output is name, birthDate and nationalId.", "eID Hub", ("Success", "Aborted"), True,
                 ("eid-hub",)),
        StepType("set-name", "Set journey name", "Sets the journey name from properties.template.", "Primitives",
                 ("Done",), False),
        StepType("if-else", "If/else", "Compares properties.left (a template) with properties.right using "
                 "properties.operator (eq, ne, gt, lt, contains).", "Control flow", ("True", "False"), False),
        StepType("for-each", "For each", "Runs the steps after the Iterate outcome once per item of "
                 "properties.items (a template resolving to a list), then continues with Done.", "Control flow",
                 ("Iterate", "Done"), False),
        StepType("trigger-alert", "Trigger alert", "Adds an alert with properties.severity (info, warning, "
                 "critical) and properties.message to the journey.", "Alerts", ("Done",), False),
        StepType("waiting", "Wait", "Pauses the journey for properties.delay seconds (at most 604800).",
                 "Utilities", ("Done",), False),
        StepType("suspend", "Suspend", "Pauses the journey until it is resumed through the API; the resume input "
                 "becomes the step's output.", "State", ("Done",), False),
        StepType("require-approval", "Require approval", "Pauses the journey until it is approved or rejected "
                 "through the API; the output is {approved, message}.", "State", ("Approved", "Rejected"), False),
        StepType("generate-document", "Generate document", "Renders properties.content into a text or PDF file "
                 "(properties.format) named properties.filename in the journey's files.", "Documents", ("Done",),
                 False, ("documents",)),
        StepType("send-email", "Send email", "Records a message (properties.to, subject, body) in the sandbox "
                 "outbox; nothing leaves the machine.", "Communication", ("Done",), False),
        StepType("fault", "Fault", "Faults the journey with properties.message.", "Utilities", (), False),
        StepType("finish", "Finish", "Ends the journey as finished.", "Workflows", (), False),
    ]
}


def check_properties(step_type: str, properties: dict[str, Any] | None, name: str, checker: Checker) -> None:
    """Records invalid ``properties`` of a step of ``step_type``; ``name`` is the field path prefix."""
    props = properties or {}
    if step_type == "form":
        fields = checker.array(props, "fields", f"{name}.fields", max_items=100) or []
        for path, field in checker.objects(fields, f"{name}.fields"):
            checker.string(field, "name", f"{path}.name", required=True, min_length=1, max_length=100)
            checker.string(field, "label", f"{path}.label", max_length=200)
            checker.choice(field, "type", FORM_FIELD_TYPES, f"{path}.type")
            checker.boolean(field, "required", f"{path}.required")
    elif step_type == "set-name":
        checker.string(props, "template", f"{name}.template", required=True, max_length=500)
    elif step_type == "if-else":
        checker.string(props, "left", f"{name}.left", required=True, max_length=500)
        checker.choice(props, "operator", IF_ELSE_OPERATORS, f"{name}.operator", required=True)
        if isinstance(props.get("right"), (dict, list)):
            checker.add(f"{name}.right", "Must be a string, number, boolean or null.")
    elif step_type == "for-each":
        checker.string(props, "items", f"{name}.items", required=True, max_length=500)
    elif step_type == "trigger-alert":
        checker.choice(props, "severity", ALERT_SEVERITIES, f"{name}.severity")
        checker.string(props, "message", f"{name}.message", required=True, max_length=1000)
    elif step_type == "waiting":
        checker.integer(props, "delay", f"{name}.delay", low=0, high=MAX_DELAY_SECONDS, required=True)
    elif step_type == "generate-document":
        checker.string(props, "filename", f"{name}.filename", required=True, min_length=1, max_length=255)
        checker.choice(props, "format", DOCUMENT_FORMATS, f"{name}.format")
        checker.string(props, "content", f"{name}.content", max_length=100_000)
    elif step_type == "send-email":
        checker.string(props, "to", f"{name}.to", required=True, min_length=1, max_length=500)
        checker.string(props, "subject", f"{name}.subject", max_length=1000)
        checker.string(props, "body", f"{name}.body", max_length=100_000)
    elif step_type == "fault":
        checker.string(props, "message", f"{name}.message", max_length=1000)
