"""The clinical progress report and CSV exports (reports/): what the report says is what is
stored for the period, the PDF has its pages, text and charts, and the CSV rows are the
records; the period's edges."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from service_helpers import do_set, give_profile
from sqlalchemy.orm import Session

from openrehab.clock import local_zone
from openrehab.reports import csv_export
from openrehab.reports.data import ReportError, collect, period
from openrehab.reports.pdf import render_pdf
from openrehab.store.models import Assessment, PainReport, TherapyEvent, User
from support import World

pypdf = pytest.importorskip("pypdf")
LAST = date(2026, 6, 28)
FIRST = LAST - timedelta(days=27)


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_zone()).astimezone(UTC)


@pytest.fixture
def history(db: Session, world: World) -> User:
    """patient_p: sets on 3 days of the period and 1 before it, a MAS change, an injection,
    pain reports (one withdrawn)."""
    patient = give_profile(db, world.ids["patient_p"])
    do_set(db, patient.id, reps=5, roms=[40, 42, 44, 46, 48], at=_at(FIRST))  # median 44
    do_set(db, patient.id, reps=3, roms=[50, 52, 54], at=_at(LAST - timedelta(days=1)))
    do_set(db, patient.id, reps=2, roms=[60, 60], at=_at(LAST, 21))
    do_set(db, patient.id, reps=7, at=_at(FIRST - timedelta(days=1)))  # before the period
    for day, grade, ordinal in ((FIRST + timedelta(days=2), "2", 3), (LAST, "1+", 2)):
        db.add(
            Assessment(
                patient_id=patient.id,
                kind="mas",
                region="elbow",
                side="left",
                muscle="elbow flexors",
                value=grade,
                ordinal=ordinal,
                measured_at=_at(day),
            )
        )
    db.add(
        TherapyEvent(
            patient_id=patient.id,
            kind="botulinum_toxin",
            started_on=FIRST + timedelta(days=5),
            details={"muscles": ["biceps brachii"], "units": 100.0},
        )
    )
    db.add(PainReport(patient_id=patient.id, nrs=3, reported_at=_at(FIRST + timedelta(days=3))))
    db.add(
        PainReport(
            patient_id=patient.id,
            nrs=9,
            reported_at=_at(FIRST + timedelta(days=4)),
            withdrawn_at=_at(FIRST + timedelta(days=4)),
        )
    )
    db.commit()
    return patient


def test_the_period_defaults_to_28_days_and_refuses_backwards_or_over_a_year() -> None:
    assert period(None, None, today=LAST) == (FIRST, LAST)
    assert period(None, LAST) == (FIRST, LAST)
    assert period(LAST, LAST) == (LAST, LAST)
    assert period(LAST - timedelta(days=365), LAST)[0] == LAST - timedelta(days=365)
    with pytest.raises(ReportError, match="after it ends"):
        period(LAST + timedelta(days=1), LAST)
    with pytest.raises(ReportError, match="at most 366"):
        period(LAST - timedelta(days=366), LAST)


def test_the_report_data_is_what_was_stored_in_the_period(db: Session, history: User) -> None:
    data = collect(db, history, FIRST, LAST)
    per_day = dict(data.reps_per_day)
    assert len(data.reps_per_day) == 28 and per_day[FIRST] == 5 and per_day[LAST] == 2
    assert sum(per_day.values()) == 10  # the 7 before the period are left out
    assert (data.adherence.reps, data.adherence.active_days, data.sessions) == (10, 3, 3)
    assert data.adherence.percent == round(100 * 10 / (data.daily_target * 28))
    [rom] = data.rom.values()
    assert rom == [(FIRST, 44.0), (LAST - timedelta(days=1), 52.0), (LAST, 60.0)]
    assert data.mas == {
        "elbow flexors, left": [(FIRST + timedelta(days=2), 3, "2"), (LAST, 2, "1+")]
    }
    assert [(d, k) for d, k, _ in data.therapies] == [
        (FIRST + timedelta(days=5), "Botulinum toxin")
    ]
    assert data.pain == [(FIRST + timedelta(days=3), 3)]  # the withdrawn 9 is not
    assert data.regions == {"shoulder": "1", "elbow": "1"} and data.affected_side == "left"


def _pdf(db: Session, patient: User) -> object:
    return pypdf.PdfReader(io.BytesIO(render_pdf(collect(db, patient, FIRST, LAST))))


def test_the_pdf_has_a_summary_page_with_charts_and_an_appendix(db: Session, history: User) -> None:
    reader = _pdf(db, history)
    assert len(reader.pages) == 2
    assert "Clinical progress report" in reader.metadata.title
    summary = reader.pages[0].extract_text()
    for text in (
        "Clinical progress report",
        "patient-p",
        "Period 01 Jun 2026 to 28 Jun 2026",
        "10 repetitions in 3 sessions",
        "active on 3 of 28 days",
        "Repetitions per day",
        "Range of motion",
        "Modified Ashworth",
        "Botulinum toxin",
        "not a medical device",
    ):
        assert text in summary, text
    # The charts are drawn on the page: a bar (a filled rectangle) per day with repetitions,
    # and the MAS grades as tick labels.
    content = reader.pages[0].get_contents().get_data().decode("latin-1")
    assert content.count(" re") >= 3 and "1+" in summary
    assert "Therapies" in summary and "Alerts on the last day" in summary
    appendix = reader.pages[1].extract_text()
    assert "MAS 2" in appendix and "MAS 1+" in appendix and "3/10" in appendix
    assert "9/10" not in appendix


def test_a_long_history_flows_onto_more_appendix_pages(db: Session, history: User) -> None:
    for i in range(80):
        db.add(
            Assessment(
                patient_id=history.id,
                kind="rom",
                region="elbow",
                side="left",
                rom_deg=float(i),
                measured_at=_at(FIRST + timedelta(days=i % 28)),
            )
        )
    db.commit()
    reader = _pdf(db, history)
    assert len(reader.pages) >= 3
    text = "".join(page.extract_text() for page in reader.pages[1:])
    assert all(f"{i}°" in text for i in (0, 40, 79))


def test_the_csv_exports_are_the_sets_and_repetitions_of_the_period(
    db: Session, history: User
) -> None:
    sessions = list(
        csv.DictReader(io.StringIO(csv_export.sessions_csv(db, history.id, FIRST, LAST)))
    )
    assert [int(r["reps"]) for r in sessions] == [5, 3, 2]
    assert {r["exercise_id"] for r in sessions} == {"elbow_flexion"}
    reps = list(
        csv.DictReader(io.StringIO(csv_export.repetitions_csv(db, history.id, FIRST, LAST)))
    )
    assert [float(r["rom"]) for r in reps][:5] == [40, 42, 44, 46, 48] and len(reps) == 10
    assert list(reps[0]) == list(csv_export.REPETITION_COLUMNS)
    one_day = csv_export.repetitions_csv(db, history.id, LAST, LAST)
    assert one_day.count("\n") == 1 + 2


def test_an_empty_period_says_so_instead_of_empty_charts(db: Session, history: User) -> None:
    quiet = date(2025, 1, 1)
    data = collect(db, history, quiet, quiet + timedelta(days=6))
    assert data.rom == {} and data.mas == {} and data.adherence.reps == 0
    summary = pypdf.PdfReader(io.BytesIO(render_pdf(data))).pages[0].extract_text()
    assert "No range measured in this period" in summary and "No MAS in this period" in summary
    assert "none" in summary.split("Alerts on the last day")[1]


def test_the_program_is_listed_in_the_clinicians_words(db: Session, history: User) -> None:
    from support import fresh_program

    program = fresh_program(db, history.id)
    data = collect(db, history, FIRST, LAST)
    modes = {
        "active": "active",
        "active_assisted": "assisted",
        "passive": "passive",
        "stretch": "stretch",
    }
    assert [(n, m, s, sr, lv) for n, m, s, sr, lv in data.program] == [
        (n, modes[i.mode], i.side, f"{i.sets} x {i.reps}", i.level)
        for n, i in zip([row[0] for row in data.program], program.items, strict=True)
    ]
    assert data.daily_target == program.daily_rep_target


def test_a_session_without_an_end_has_an_empty_end_in_the_csv(db: Session, history: User) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_export.sessions_csv(db, history.id, FIRST, LAST))))
    assert rows[0]["session_ended_at"] == ""  # do_set leaves its session open
    assert rows[0]["set_ended_at"].startswith(str(FIRST))
