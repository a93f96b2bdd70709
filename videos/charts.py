"""A small bar chart as SVG geometry, drawn by templates/videos/usage.html (no chart library:
a few rectangles, no script, nothing the CSP would have to allow)."""

from dataclasses import dataclass

WIDTH, HEIGHT, GAP = 720, 160, 2


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # for the bar's <title>, read out by screen readers too


@dataclass(frozen=True)
class Chart:
    summary: str  # what a screen reader hears for the whole chart
    bars: list[Bar]
    first: str  # the axis under the chart: first and last period, and what the top stands for
    last: str
    top: str


def chart(values: list[tuple[str, float]], *, summary: str, unit: str = "") -> Chart | None:
    """The bars with their axis labels; None when there is nothing to draw."""
    if not values:
        return None
    top = max(value for _, value in values)
    drawn = bars(values, unit=unit)
    return Chart(summary, drawn, values[0][0], values[-1][0], _amount(top, unit))


def bars(values: list[tuple[str, float]], *, unit: str = "") -> list[Bar]:
    """One bar per (label, value), scaled to the tallest; a zero is a hairline so the period
    still shows."""
    if not values:
        return []
    top = max(value for _, value in values) or 1
    step = WIDTH / len(values)
    width = max(1.0, step - GAP)
    drawn = []
    for n, (label, value) in enumerate(values):
        height = max(1.0, HEIGHT * value / top)
        text = f"{label}: {_amount(value, unit)}"
        drawn.append(
            Bar(
                round(n * step, 2),
                round(HEIGHT - height, 2),
                round(width, 2),
                round(height, 2),
                text,
            )
        )
    return drawn


def _amount(value: float, unit: str) -> str:
    """'1 video', '2 videos', '0.4 USD': a unit given in the plural loses its s for exactly one."""
    if value == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{value:g}{unit}"
