"""Small server-drawn SVG charts (no chart library, no script): a care timeline and trend
sparklines. Each chart is decorative for screen readers (``aria-hidden``): the page puts the
same numbers in a table next to it, so nothing is only in the picture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 44, 44, 16, 30


@dataclass(frozen=True)
class Marker:
    on: date
    label: str


def _x(day: date, first: date, last: date) -> float:
    span = max(1, (last - first).days)
    return LEFT + (WIDTH - LEFT - RIGHT) * (day - first).days / span


def _y(value: float, low: float, high: float) -> float:
    span = (high - low) or 1.0
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - (value - low) / span)


def timeline_svg(
    first: date,
    last: date,
    reps_per_day: Sequence[tuple[date, int]],
    rom: Sequence[tuple[date, float]],
    markers: Sequence[Marker],
    rom_label: str = "range (°)",
) -> Markup:
    """Repetitions per day (bars, left axis), a range of motion (line, right axis) and therapy
    events (dashed lines with a label) over ``first``..``last``."""
    parts = [
        f'<svg class="chart timeline" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        'aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg">'
    ]
    base_y = HEIGHT - BOTTOM
    parts.append(
        f'<line class="axis" x1="{LEFT}" y1="{base_y}" x2="{WIDTH - RIGHT}" y2="{base_y}"/>'
    )
    top_reps = max([n for _, n in reps_per_day] + [1])
    bar_w = max(1.5, (WIDTH - LEFT - RIGHT) / max(1, (last - first).days + 1) * 0.7)
    for day, reps in reps_per_day:
        y = _y(reps, 0, top_reps)
        parts.append(
            f'<rect class="bar" x="{_x(day, first, last) - bar_w / 2:.1f}" y="{y:.1f}" '
            f'width="{bar_w:.1f}" height="{base_y - y:.1f}"/>'
        )
    parts.append(
        f'<text class="tick" x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end">{top_reps}</text>'
    )
    parts.append(f'<text class="tick" x="{LEFT - 4}" y="{base_y}" text-anchor="end">0</text>')
    if rom:
        values = [v for _, v in rom]
        low, high = min(values) - 5, max(values) + 5
        points = " ".join(f"{_x(d, first, last):.1f},{_y(v, low, high):.1f}" for d, v in rom)
        parts.append(f'<polyline class="rom" points="{points}"/>')
        for d, v in rom:
            x, y = _x(d, first, last), _y(v, low, high)
            parts.append(f'<circle class="rom" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
        right_x = WIDTH - RIGHT + 4
        parts.append(f'<text class="tick rom" x="{right_x}" y="{TOP + 4}">{high:.0f}°</text>')
        parts.append(f'<text class="tick rom" x="{right_x}" y="{base_y}">{low:.0f}°</text>')
    for i, marker in enumerate(markers):
        x = _x(marker.on, first, last)
        label_y = TOP + 12 + 14 * (i % 3)
        parts.append(f'<line class="marker" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{base_y}"/>')
        near_end = x > WIDTH * 0.7  # label to the left of the line, inside the picture
        anchor, dx = ("end", -3) if near_end else ("start", 3)
        parts.append(
            f'<text class="marker" x="{x + dx:.1f}" y="{label_y}" text-anchor="{anchor}">'
            f"{escape(marker.label)}</text>"
        )
    for day in (first, last):
        anchor = "start" if day == first else "end"
        x = LEFT if day == first else WIDTH - RIGHT
        parts.append(
            f'<text class="tick" x="{x}" y="{HEIGHT - 10}" text-anchor="{anchor}">'
            f"{day.strftime('%d %b')}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline_svg(points: Sequence[tuple[date, float]], *, steps: bool = False) -> Markup:
    """A small trend line; ``steps`` draws an ordinal scale (MAS) as steps, never a slope
    between grades."""
    width, height, pad = 160, 36, 4
    if not points:
        return Markup("")
    first, last = points[0][0], points[-1][0]
    values = [v for _, v in points]
    low, high = min(values), max(values)
    span_days = max(1, (last - first).days)

    def xy(day: date, value: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * (day - first).days / span_days
        y = pad + (height - 2 * pad) * (1 - ((value - low) / ((high - low) or 1)))
        return x, y

    coords: list[tuple[float, float]] = []
    for day, value in points:
        x, y = xy(day, value)
        if steps and coords:
            coords.append((x, coords[-1][1]))
        coords.append((x, y))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    dots = "".join(
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>' for x, y in (xy(*p) for p in points)
    )
    return Markup(
        f'<svg class="chart spark" viewBox="0 0 {width} {height}" aria-hidden="true" '
        f'focusable="false" xmlns="http://www.w3.org/2000/svg"><polyline points="{path}"/>'
        f"{dots}</svg>"
    )
