"""The clinical progress report as a PDF: one summary page a physician can read on its own
(patient, period, program, adherence, charts of repetitions, range and spasticity with
therapy markers, therapies, alerts), then an appendix of the program and every record.

Drawn with matplotlib (Agg, ``PdfPages``), A4 portrait, text as real text (TrueType fonts,
so it can be searched and read aloud). Not a medical device: the footer says so.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterable, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from openrehab import __version__
from openrehab.reports.data import ReportData

A4_IN = (8.27, 11.69)
FOOT = "OpenRehab is not a medical device: a record of home exercise to support clinical judgement."
LINE = 0.0165  # one line of 8.5 pt text, in figure fractions
MAS_LABELS = ["0", "1", "1+", "2", "3", "4"]
matplotlib.rcParams.update({"pdf.fonttype": 42, "font.size": 8.5, "axes.titlesize": 9.5})


def _text(fig: Figure, y: float, text: str, *, size: float = 8.5, bold: bool = False) -> float:
    fig.text(0.07, y, text, fontsize=size, fontweight="bold" if bold else "normal", va="top")
    return y - LINE * size / 8.5 * 1.25


def _lines(fig: Figure, y: float, lines: Iterable[str], width: int = 100, limit: int = 99) -> float:
    for n, line in enumerate(lines):
        if n == limit:
            return _text(fig, y, "... (more in the appendix)")
        for part in textwrap.wrap(line, width) or [""]:
            y = _text(fig, y, part)
    return y


def _reps_chart(ax: Axes, data: ReportData) -> None:
    days = [d for d, _ in data.reps_per_day]
    ax.bar(days, [n for _, n in data.reps_per_day], color="#0b5cad", width=0.8, label="done")
    if data.daily_target:
        ax.axhline(data.daily_target, color="#a15c00", linestyle="--", label="daily target")
    ax.set_title("Repetitions per day")
    ax.legend(loc="upper left", fontsize=7, frameon=False)
    _markers(ax, data)
    _date_axis(ax, data)


def _rom_chart(ax: Axes, data: ReportData) -> None:
    ax.set_title("Range of motion per session day (median, deg)")
    if not data.rom:
        ax.text(0.5, 0.5, "No range measured in this period", ha="center", transform=ax.transAxes)
    for label, points in data.rom.items():
        ax.plot([d for d, _ in points], [v for _, v in points], marker="o", ms=3, label=label)
    if data.rom:
        ax.legend(loc="best", fontsize=6.5, frameon=False)
    _markers(ax, data)
    _date_axis(ax, data)


def _mas_chart(ax: Axes, data: ReportData) -> None:
    ax.set_title("Modified Ashworth (ordinal grade, not averaged)")
    ax.set_yticks(range(6), MAS_LABELS)
    ax.set_ylim(-0.3, 5.3)
    if not data.mas:
        ax.text(0.5, 0.5, "No MAS in this period", ha="center", transform=ax.transAxes)
    for label, points in data.mas.items():
        ax.step(
            [d for d, _, _ in points],
            [o for _, o, _ in points],
            where="post",
            marker="s",
            ms=3,
            label=label,
        )
    if data.mas:
        ax.legend(loc="upper right", fontsize=6.5, frameon=False)
    _markers(ax, data)
    _date_axis(ax, data)


def _markers(ax: Axes, data: ReportData) -> None:
    """Therapies in the period as dotted vertical lines, labelled at the top."""
    for day, kind, _ in data.therapies:
        if data.first <= day <= data.last:
            ax.axvline(day, color="#b3261e", linestyle=":", linewidth=1)
            ax.annotate(
                kind,
                (day, 1.0),
                xycoords=("data", "axes fraction"),
                fontsize=6,
                color="#b3261e",
                rotation=90,
                va="top",
                ha="right",
            )


def _date_axis(ax: Axes, data: ReportData) -> None:
    ax.set_xlim(mdates.date2num(data.first) - 0.6, mdates.date2num(data.last) + 0.6)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax.grid(axis="y", color="#d5dde6", linewidth=0.6)
    ax.spines[["top", "right"]].set_visible(False)


def _header(fig: Figure, data: ReportData) -> float:
    y = _text(fig, 0.965, "Clinical progress report", size=15, bold=True)
    y = _text(
        fig,
        y - 0.004,
        f"{data.patient_name}  (username {data.patient_username}, id {data.patient_id})",
        size=10.5,
        bold=True,
    )
    return _text(
        fig,
        y,
        f"Period {data.first:%d %b %Y} to {data.last:%d %b %Y} "
        f"({data.adherence.days} days). Generated {data.generated_at:%d %b %Y %H:%M} "
        f"UTC by OpenRehab {__version__}.",
    )


def _summary(data: ReportData) -> list[str]:
    a = data.adherence
    pct = "no target" if a.percent is None else f"{a.percent} % of target"
    regions = ", ".join(f"{r} MAS {m}" for r, m in data.regions.items()) or "not set"
    return [
        f"Affected side: {data.affected_side or 'not set'}. Regions: {regions}."
        + (f" Conditions: {', '.join(data.conditions)}." if data.conditions else ""),
        f"Adherence: {a.reps} repetitions in {data.sessions} sessions, {pct} "
        f"(daily target {data.daily_target}); active on {a.active_days} of {a.days} days.",
        f"Program: {len(data.program)} exercises"
        + (
            ": "
            + "; ".join(f"{n} ({m}, {s}, {sr}, level {lv})" for n, m, s, sr, lv in data.program[:6])
            if data.program
            else " (none yet)."
        )
        + (" ..." if len(data.program) > 6 else ""),
    ]


def summary_page(data: ReportData) -> Figure:
    """Page 1: the report on one page."""
    fig = Figure(figsize=A4_IN)
    y = _header(fig, data)
    y = _lines(fig, y - 0.008, _summary(data))
    charts = [(_reps_chart, 0.19), (_rom_chart, 0.175), (_mas_chart, 0.14)]
    top = y - 0.02
    for draw, height in charts:
        ax = fig.add_axes((0.09, top - height, 0.86, height - 0.035))
        draw(ax, data)
        top -= height + 0.012
    y = _text(fig, top - 0.015, "Therapies", bold=True)
    therapy_lines = [f"{d:%d %b %Y}  {k}: {t}" for d, k, t in reversed(data.therapies)]
    y = _lines(fig, y, therapy_lines or ["none recorded"], limit=4)
    y = _text(fig, y - 0.004, "Alerts on the last day", bold=True)
    alert_lines = [f"[{s}] {t} ({r})" for s, r, t in data.alerts]
    _lines(fig, y, alert_lines or ["none"], limit=4)
    fig.text(0.07, 0.025, FOOT, fontsize=7, color="#4a5563")
    fig.text(0.93, 0.025, "page 1", fontsize=7, ha="right", color="#4a5563")
    return fig


def _appendix_lines(data: ReportData) -> list[tuple[str, bool]]:
    out: list[tuple[str, bool]] = [("Appendix", True)]

    def section(title: str, rows: Sequence[str]) -> None:
        out.append(("", False))
        out.append((title, True))
        out.extend((r, False) for r in (rows or ["none"]))

    section(
        "Program",
        [f"{n}: {m}, {s}, {sr}, level {lv}" for n, m, s, sr, lv in data.program]
        + ([f"Note: {data.program_note}"] if data.program_note else []),
    )
    section("Assessments", [f"{d:%d %b %Y}  {k}, {w}: {r}" for d, k, w, r in data.assessments])
    section("Therapies", [f"{d:%d %b %Y}  {k}: {t}" for d, k, t in data.therapies])
    section("Pain reports (NRS 0-10)", [f"{d:%d %b %Y}  {n}/10" for d, n in data.pain])
    section("Repetitions per day", [f"{d:%a %d %b %Y}  {n}" for d, n in data.reps_per_day if n])
    section("Alerts", [f"[{s}] {t} ({r})" for s, r, t in data.alerts])
    section("Notes", [f"{d:%d %b %Y}  {n}" for d, n in data.notes])
    return out


def appendix_pages(data: ReportData) -> list[Figure]:
    """Pages 2..n: every record of the period as text."""
    pages: list[Figure] = []
    fig, y = None, 0.0
    for line, bold in _appendix_lines(data):
        for part in textwrap.wrap(line, 100) or [""]:
            if fig is None or y < 0.06:
                fig = Figure(figsize=A4_IN)
                pages.append(fig)
                fig.text(0.93, 0.025, f"page {len(pages) + 1}", fontsize=7, ha="right")
                fig.text(
                    0.07,
                    0.025,
                    f"{data.patient_name}, {data.first} to {data.last}",
                    fontsize=7,
                    color="#4a5563",
                )
                y = 0.96
            y = _text(fig, y, part, bold=bold)
    return pages


def render_pdf(data: ReportData) -> bytes:
    """The report as PDF bytes."""
    out = io.BytesIO()
    metadata = {
        "Title": f"Clinical progress report: {data.patient_name}, {data.first} to {data.last}",
        "Author": "OpenRehab",
        "Subject": "Home exercise and spasticity care record (not a medical device)",
        "CreationDate": None,
    }
    with PdfPages(out, metadata=metadata) as pdf:
        for fig in [summary_page(data), *appendix_pages(data)]:
            pdf.savefig(fig)
    return out.getvalue()


def file_name(data: ReportData) -> str:
    """``openrehab-report-<username>-<first>-<last>.pdf``."""
    return f"openrehab-report-{data.patient_username}-{data.first:%Y%m%d}-{data.last:%Y%m%d}.pdf"
