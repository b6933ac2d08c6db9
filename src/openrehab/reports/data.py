"""What a clinical progress report says, read from the store for one patient and period.

The period is whole local days, ``first`` to ``last`` inclusive. Range of motion per exercise
and side is the daily median of the repetitions' ``rom`` in degrees (other units are left
out); MAS is the ordinal code of each assessment (never averaged); adherence is repetitions /
(today's target x days), as on the patient list (``services.adherence``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.clock import day_bounds, local_date
from openrehab.exercises.library import load_library
from openrehab.services import care as care_service
from openrehab.services import program as program_service
from openrehab.services.adherence import Adherence
from openrehab.services.notes import notes_of
from openrehab.store.models import (
    Assessment,
    ExerciseSession,
    ExerciseSet,
    PainReport,
    Repetition,
    TherapyEvent,
    User,
    utc_now,
)
from openrehab.web import care_words

DEFAULT_DAYS = 28
MAX_DAYS = 366
MODE_WORDS = {"active": "active", "active_assisted": "assisted", "passive": "passive"}


class ReportError(ValueError):
    """The report cannot be made as asked (a bad period); the message says why."""


@dataclass(frozen=True)
class ReportData:
    """Everything one report shows (angles in deg, dates local)."""

    patient_name: str
    patient_username: str
    patient_id: int
    first: date
    last: date
    generated_at: datetime
    affected_side: str | None
    regions: dict[str, str]  # region -> MAS of the profile
    conditions: list[str]
    daily_target: int
    program: list[tuple[str, str, str, str, int]]  # name, mode, side, sets x reps, level
    program_note: str | None
    reps_per_day: list[tuple[date, int]]
    adherence: Adherence
    sessions: int
    rom: dict[str, list[tuple[date, float]]]  # "Exercise (side)" -> daily median ROM
    mas: dict[str, list[tuple[date, int, str]]]  # "muscle, side" -> (day, ordinal, grade)
    assessments: list[tuple[date, str, str, str]]  # day, measure, where, result
    therapies: list[tuple[date, str, str]]  # day, therapy, details
    pain: list[tuple[date, int]]
    alerts: list[tuple[str, str, str]]  # severity, rule, text
    notes: list[tuple[date, str]] = field(default_factory=list)


def period(first: date | None, last: date | None, today: date | None = None) -> tuple[date, date]:
    """The report's days: default the last 28 days to today; at most a year."""
    today = today or local_date()
    last = last or today
    first = first or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise ReportError(f"The period starts ({first}) after it ends ({last}).")
    if (last - first).days + 1 > MAX_DAYS:
        raise ReportError(f"A report covers at most {MAX_DAYS} days.")
    return first, last


def _reps(db: Session, patient_id: int, start: datetime, end: datetime) -> list[tuple]:
    return list(
        db.execute(
            select(
                Repetition.recorded_at,
                ExerciseSet.exercise_id,
                ExerciseSet.side,
                Repetition.rom,
                Repetition.rom_unit,
            )
            .join(ExerciseSet, Repetition.set_id == ExerciseSet.id)
            .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
            .where(
                ExerciseSession.patient_id == patient_id,
                Repetition.recorded_at >= start,
                Repetition.recorded_at < end,
            )
        )
    )


def _rom_series(rows: list[tuple], names: dict[str, str]) -> dict[str, list[tuple[date, float]]]:
    per: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
    for at, exercise_id, side, rom, unit in rows:
        if rom is not None and unit == "deg":
            per[f"{names.get(exercise_id, exercise_id)} ({side})"][local_date(at)].append(rom)
    # The 4 exercises practised on most days: a report page has room for them.
    busiest = sorted(per, key=lambda k: (-len(per[k]), k))[:4]
    return {k: sorted((d, float(median(v))) for d, v in per[k].items()) for k in busiest}


def collect(db: Session, patient: User, first: date, last: date) -> ReportData:
    """The report of ``patient`` over ``first``..``last`` (see :func:`period`)."""
    library = load_library()
    names = {e.id: e.name for e in library}
    start, _ = day_bounds(first)
    _, end = day_bounds(last)
    rows = _reps(db, patient.id, start, end)
    per_day: dict[date, int] = defaultdict(int)
    for at, *_ in rows:
        per_day[local_date(at)] += 1
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    target = care_service.daily_target(db, patient).reps
    sessions = list(
        db.scalars(
            select(ExerciseSession).where(
                ExerciseSession.patient_id == patient.id,
                ExerciseSession.started_at >= start,
                ExerciseSession.started_at < end,
            )
        )
    )
    assessments = list(
        db.scalars(
            select(Assessment)
            .where(
                Assessment.patient_id == patient.id,
                Assessment.measured_at >= start,
                Assessment.measured_at < end,
            )
            .order_by(Assessment.measured_at)
        )
    )
    mas: dict[str, list[tuple[date, int, str]]] = defaultdict(list)
    for a in assessments:
        if a.kind == "mas" and a.ordinal is not None:
            mas[care_words.where(a)].append((local_date(a.measured_at), a.ordinal, a.value or ""))
    therapies = db.scalars(
        select(TherapyEvent)
        .where(
            TherapyEvent.patient_id == patient.id,
            TherapyEvent.started_on <= last,
        )
        .order_by(TherapyEvent.started_on)
    )
    pain = db.scalars(
        select(PainReport)
        .where(
            PainReport.patient_id == patient.id,
            PainReport.reported_at >= start,
            PainReport.reported_at < end,
            PainReport.withdrawn_at.is_(None),
        )
        .order_by(PainReport.reported_at)
    )
    program = program_service.active_program(db, patient.id)
    profile = patient.profile
    return ReportData(
        patient_name=patient.display_name,
        patient_username=patient.username,
        patient_id=patient.id,
        first=first,
        last=last,
        generated_at=utc_now(),
        affected_side=profile.affected_side if profile else None,
        regions={r: str(v.get("mas", "")) for r, v in (profile.regions or {}).items()}
        if profile
        else {},
        conditions=list(profile.conditions or []) if profile else [],
        daily_target=target,
        program=[
            (
                names.get(i.exercise_id, i.exercise_id),
                MODE_WORDS.get(i.mode, i.mode),
                i.side,
                f"{i.sets} x {i.reps}",
                i.level,
            )
            for i in (program.items if program else [])
        ],
        program_note=program.note if program else None,
        reps_per_day=[(d, per_day.get(d, 0)) for d in days],
        adherence=Adherence(len(days), len(rows), target, sum(1 for d in days if per_day.get(d))),
        sessions=len(sessions),
        rom=_rom_series(rows, names),
        mas=dict(mas),
        assessments=[
            (
                local_date(a.measured_at),
                care_words.KIND_CLINICAL.get(a.kind, a.kind),
                care_words.where(a),
                care_words.assessment_result(a, clinical=True),
            )
            for a in assessments
        ],
        therapies=[
            (
                t.started_on,
                care_words.THERAPY_CLINICAL.get(t.kind, t.kind),
                care_words.therapy_summary(t, clinical=True),
            )
            for t in therapies
        ],
        pain=[(local_date(p.reported_at), p.nrs) for p in pain],
        alerts=[
            (a.severity, a.rule_id, a.therapist_text)
            for a in care_service.patient_alerts(db, patient, today=last)
        ],
        notes=sorted(
            [(local_date(s.started_at), f"Session: {s.notes}") for s in sessions if s.notes]
            + [
                (local_date(n.created_at), f"{author}: {n.text}")
                for n, author in notes_of(db, patient.id, limit=500)
                if start <= n.created_at < end
            ]
        ),
    )
