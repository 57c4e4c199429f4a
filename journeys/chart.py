"""The dashboard's chart as SVG geometry: journeys started per day, stacked by status.

Plain arithmetic over counts the dashboard selector has already read; the template draws the shapes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from journeys.models import JourneyStatus

CHART_WIDTH: Final = 1000
CHART_HEIGHT: Final = 220
CHART_LEFT: Final = 36
CHART_RIGHT: Final = 24
CHART_BOTTOM: Final = 22


@dataclass(frozen=True)
class ChartBar:
    """One stacked segment of the chart, positioned in SVG units."""

    status: str
    x: float
    y: float
    width: float
    height: float
    count: int
    day: date


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[ChartBar]
    days: list[tuple[float, str]]
    peak: int
    gridlines: list[tuple[float, int]]
    left: int = 0
    baseline: int = 0

    @property
    def label_y(self) -> int:
        return self.baseline + 16

    @property
    def right(self) -> int:
        return self.width - CHART_RIGHT


def stacked_chart(*, per_day: dict[date, dict[str, int]], days: list[date]) -> Chart:
    """One bar per day of ``days`` (oldest first), a segment per status with journeys, scaled to the busiest day;
    a date label every fifth day and on the last, gridlines at half and full height."""
    peak = max((sum(counts.values()) for counts in per_day.values()), default=0)
    scale_top = max(peak, 1)
    plot_height = CHART_HEIGHT - CHART_BOTTOM - 8
    slot = (CHART_WIDTH - CHART_LEFT - CHART_RIGHT) / len(days)
    bar_width = max(slot * 0.7, 1)
    bars = []
    labels = []
    for index, day in enumerate(days):
        x = CHART_LEFT + index * slot + (slot - bar_width) / 2
        bottom: float = CHART_HEIGHT - CHART_BOTTOM
        for status in JourneyStatus.values:
            count = per_day.get(day, {}).get(status, 0)
            if not count:
                continue
            height = count / scale_top * plot_height
            bottom -= height
            bars.append(ChartBar(status=status, x=round(x, 1), y=round(bottom, 1), width=round(bar_width, 1),
                                 height=round(height, 1), count=count, day=day))
        if index % 5 == 0 or index == len(days) - 1:
            labels.append((round(x + bar_width / 2, 1), day.strftime("%d %b")))
    gridlines = []
    for fraction in (0.5, 1.0):
        value = round(scale_top * fraction)
        if value:
            gridlines.append((round(CHART_HEIGHT - CHART_BOTTOM - value / scale_top * plot_height, 1), value))
    return Chart(width=CHART_WIDTH, height=CHART_HEIGHT, bars=bars, days=labels, peak=peak, gridlines=gridlines,
                 left=CHART_LEFT, baseline=CHART_HEIGHT - CHART_BOTTOM)
