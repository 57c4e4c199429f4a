"""axe-core in the browser tests: run it in any Playwright page and collect what it finds.

axe-core comes from npm (package.json at the repository root, installed by ``make test``). Its script is evaluated
through the DevTools protocol, which the portal's Content-Security-Policy does not govern, so pages keep their real
policy while they are checked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import require_service

ROOT = Path(__file__).resolve().parents[2]
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
# WCAG 2.0, 2.1 and 2.2 A and AA, and axe's best practices (landmarks, headings, empty table headers).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")
# Rules of lesser impact that the portal once broke (issue 15: an empty table header in "My work") fail as well.
ALSO_BLOCKING = ("empty-table-header",)

# Interactive elements that are not words inside a sentence: each must offer a 44 × 44 px target on a phone.
TOUCH_TARGETS = (
    "main .button, main button, main select, main input:not([type=hidden]), main textarea, "
    ".topbar-menu.open a, .topbar-menu.open button, .menu-button, main .pager a, main th a.sort"
)

SMALL_TARGETS = """(selector) => Array.from(document.querySelectorAll(selector))
  .filter((el) => el.offsetParent !== null && getComputedStyle(el).visibility !== "hidden")
  .map((el) => {
    const r = el.getBoundingClientRect();
    return {el: el.outerHTML.slice(0, 90), w: r.width, h: r.height};
  })
  .filter((r) => r.w < 44 || r.h < 44)"""

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 6).map((n) => ({target: n.target.join(" "), summary: n.failureSummary})),
    count: v.nodes.length,
  }));
}"""


def axe_source() -> str:
    require_service("axe-core", AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: run `make npm` (npm ci)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


@dataclass
class AxeReport:
    """Violations per checked state, written to test-artifacts/<name>.json for the record."""

    name: str
    states: dict[str, list[dict]] = field(default_factory=dict)

    def check(self, page, state: str) -> list[dict]:
        """Runs axe on the page as it is now and records the violations under ``state``."""
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(axe_source())
        violations = page.evaluate(RUN_AXE, AXE_TAGS)
        self.states[state] = violations
        return violations

    def blocking(self) -> dict[str, list[dict]]:
        def blocks(violation: dict) -> bool:
            return violation["impact"] in BLOCKING or violation["id"] in ALSO_BLOCKING

        return {
            state: [v for v in violations if blocks(v)]
            for state, violations in self.states.items()
            if any(blocks(v) for v in violations)
        }

    def counts(self) -> dict[str, dict[str, int]]:
        """Per state: the number of violating nodes by impact."""
        table: dict[str, dict[str, int]] = {}
        for state, violations in self.states.items():
            row = table.setdefault(state, {})
            for violation in violations:
                row[violation["impact"]] = row.get(violation["impact"], 0) + violation["count"]
        return table

    def write(self) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{self.name}.json"
        path.write_text(json.dumps({"counts": self.counts(), "violations": self.states}, indent=1), encoding="utf-8")
        return path

    def failure(self) -> str:
        lines = []
        for state, violations in self.blocking().items():
            for violation in violations:
                targets = "; ".join(node["target"] for node in violation["nodes"])
                lines.append(f"{state}: {violation['impact']} {violation['id']} ({violation['help']}) "
                             f"x{violation['count']}: {targets}")
        return "\n".join(lines)
