"""Spasticity care over the store: alerts, therapy checks, the injection's dose raise.

Reads a patient's records, turns them into the plain inputs of ``care`` (dates and numbers)
and returns what the care rules say. Alerts are computed when asked, from the records, so they
are never stale and need no scheduler: a pump refill reminder appears on its day by itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.care import contracture, safety, stim, therapies
from openrehab.care.alerts import Alert, by_severity
from openrehab.clock import day_bounds, local_date, local_zone
from openrehab.exercises.library import Library, load_library
from openrehab.services import clinical
from openrehab.services.program import active_program
from openrehab.store.models import (
    Assessment,
    ExerciseSession,
    ExerciseSet,
    Program,
    Repetition,
    Role,
    SymptomReport,
    TherapyEvent,
    User,
)

#: Assessments that count as the review after an injection (rule T2), when a clinician made them.
REVIEW_KINDS = ("mas", "tardieu", "rom")
#: Symptoms reported within this many days still raise their alert.
SYMPTOM_ALERT_DAYS = 14
SYMPTOMS_NOTED = "Thank you. This was saved and your therapist will see it."
#: Profile ``extra`` key of the therapist's raise of the daily target while an injection works.
TOXIN_RAISE_KEY = "toxin_dose_raise_pct"


def words_for(alert: Alert, reader: User, patient: User | None = None) -> str:
    """Clinical words for clinicians, plain words for the patient; a caregiver reads what the
    patient was told, named as such (the texts speak to the patient: "you")."""
    if reader.role in (Role.therapist, Role.admin):
        return alert.therapist_text
    if reader.role is Role.caregiver and patient is not None:
        return f"What {patient.display_name} was told: {alert.patient_text}"
    return alert.patient_text


def symptom_answer(alert: Alert | None, reader: User, patient: User) -> str:
    """What the person who reported symptoms reads now: the alert's words, or thanks."""
    if alert is None:
        return SYMPTOMS_NOTED
    if reader.role is Role.caregiver and alert.severity == "urgent":
        return (
            f"Get urgent medical help for {patient.display_name} now: call your emergency number."
        )
    return words_for(alert, reader, patient)


# --- reading the records -------------------------------------------------------------------
def injections(db: Session, patient_id: int) -> list[therapies.ToxinInjection]:
    rows = db.scalars(
        select(TherapyEvent)
        .where(TherapyEvent.patient_id == patient_id, TherapyEvent.kind == "botulinum_toxin")
        .order_by(TherapyEvent.started_on)
    )
    return [
        therapies.ToxinInjection(
            injected_on=row.started_on,
            muscles=tuple(row.details.get("muscles") or ()),
            units=float(row.details.get("units") or 0),
            injector=str(row.details.get("injector") or ""),
        )
        for row in rows
    ]


def _pump(db: Session, patient_id: int) -> therapies.IntrathecalPump | None:
    rows = db.scalars(
        select(TherapyEvent)
        .where(TherapyEvent.patient_id == patient_id, TherapyEvent.kind == "baclofen")
        .order_by(TherapyEvent.started_on.desc(), TherapyEvent.id.desc())
    )
    for row in rows:
        if row.details.get("route") == "intrathecal" and row.details.get("next_refill_on"):
            if row.ended_on is not None:
                return None
            return therapies.IntrathecalPump(
                next_refill_on=date.fromisoformat(row.details["next_refill_on"]), alarm_on=None
            )
    return None


def _pain_alerts(db: Session, patient_id: int, today: date) -> list[Alert]:
    since = day_bounds(today - timedelta(days=7))[0]
    reports = [
        r for r in clinical.active_pain(db, patient_id, since) if local_date(r.reported_at) <= today
    ]
    if not reports:
        return []
    points = [safety.PainPoint(local_date(r.reported_at), r.nrs) for r in reports]
    persisting = safety.persisting_pain(points, today)
    if persisting is not None:
        return [persisting]
    # The worst report still in the alert's window, not the latest: an 8 followed by a 3 ten
    # minutes later still reaches the therapist today.
    recent = [p for p in points if (today - p.reported_on).days < safety.PAIN_ALERT_DAYS]
    worst = max(reversed(recent), key=lambda p: p.nrs) if recent else points[-1]
    single = safety.pain_alert(worst, today)
    return [single] if single is not None else []


def _last_rom_work(
    db: Session, patient_id: int, library: Library, today: date
) -> dict[tuple[str, str], date]:
    """The last local day up to ``today`` each (region, side) was moved in a set with at least
    one rep."""
    query = (
        select(ExerciseSet.exercise_id, ExerciseSet.side, func.max(ExerciseSet.started_at))
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(
            ExerciseSession.patient_id == patient_id,
            ExerciseSet.started_at < day_bounds(today)[1],
            select(Repetition.id).where(Repetition.set_id == ExerciseSet.id).exists(),
        )
        .group_by(ExerciseSet.exercise_id, ExerciseSet.side)
    )
    last: dict[tuple[str, str], date] = {}
    for exercise_id, side, started_at in db.execute(query):
        if exercise_id not in library:
            continue
        day = local_date(started_at)
        sides = ("left", "right") if side == "both" else (side,)
        for region in library.get(exercise_id).regions:
            for one_side in sides:
                key = (region, one_side)
                last[key] = max(day, last.get(key, day))
    return last


def _involved(patient: User) -> list[tuple[str, str]]:
    profile = patient.profile
    if profile is None or not profile.regions:
        return []
    sides = ("left", "right") if profile.affected_side == "both" else (profile.affected_side,)
    return [(region, side) for region in sorted(profile.regions) for side in sides]


def _restoring(library: Library, regions: Iterable[str]) -> dict[str, tuple[str, str]]:
    found = {}
    for region in regions:
        exercises = contracture.restoring_exercises(library, region)
        if exercises:
            found[region] = (exercises[0].id, exercises[0].name)
    return found


def _contracture_alerts(db: Session, patient: User, today: date, library: Library) -> list[Alert]:
    involved = _involved(patient)
    # Range work is expected from the first program on (docs/care.md, K1): before there is one
    # there is nothing to do, and an old account's first day is not a gap.
    program_start = db.scalar(
        select(func.min(Program.created_at)).where(Program.patient_id == patient.id)
    )
    if not involved or program_start is None:
        return []
    restoring = _restoring(library, {region for region, _ in involved})
    last = _last_rom_work(db, patient.id, library, today)
    alerts = contracture.rom_work_gap_alerts(
        involved,
        {key: last.get(key) for key in involved},
        today,
        start=local_date(program_start),
        restoring=restoring,
    )
    for (label, region, side), points in _rom_series(db, patient.id, today, library).items():
        decline = contracture.rom_decline(points, today)
        if decline is not None:
            alerts.append(
                contracture.rom_decline_alert(region, side, label, decline, restoring.get(region))
            )
    return alerts


def _rom_series(
    db: Session, patient_id: int, today: date, library: Library
) -> dict[tuple[str, str, str], list[contracture.RomPoint]]:
    """Range of motion per measure over the trend window: each exercise and side's rep
    excursions (degrees) and each goniometric assessment's muscle and side."""
    since = day_bounds(today - timedelta(days=contracture.DEFAULT_WINDOW_DAYS))[0]
    until = day_bounds(today)[1]
    series: dict[tuple[str, str, str], list[contracture.RomPoint]] = defaultdict(list)
    reps = db.execute(
        select(ExerciseSet.exercise_id, ExerciseSet.side, Repetition.recorded_at, Repetition.rom)
        .join(ExerciseSet, Repetition.set_id == ExerciseSet.id)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(
            ExerciseSession.patient_id == patient_id,
            Repetition.recorded_at >= since,
            Repetition.recorded_at < until,
            Repetition.rom.is_not(None),
            Repetition.rom_unit == "deg",
        )
    )
    zone = local_zone()
    for exercise_id, side, at, rom in reps:
        if exercise_id in library:
            exercise = library.get(exercise_id)
            key = (exercise.name, exercise.primary_region, side)
            series[key].append(contracture.RomPoint(local_date(at, zone), float(rom)))
    rows = db.scalars(
        select(Assessment).where(
            Assessment.patient_id == patient_id,
            Assessment.kind == "rom",
            Assessment.rom_deg.is_not(None),
            Assessment.measured_at >= since,
            Assessment.measured_at < until,
        )
    )
    for row in rows:
        label = f"measured range, {row.muscle or row.region}"
        key = (label, row.region, row.side)
        series[key].append(contracture.RomPoint(local_date(row.measured_at), float(row.rom_deg)))
    return series


def _therapy_alerts(db: Session, patient_id: int, today: date) -> list[Alert]:
    alerts: list[Alert] = []
    toxin = injections(db, patient_id)
    if toxin:
        # A review is a clinician's measure of spasticity: a carer's camera measurement or a
        # pain score does not clear it.
        assessed = [
            local_date(at)
            for at in db.scalars(
                select(Assessment.measured_at)
                .join(User, Assessment.assessor_id == User.id)
                .where(
                    Assessment.patient_id == patient_id,
                    Assessment.kind.in_(REVIEW_KINDS),
                    User.role.in_((Role.therapist, Role.admin)),
                )
            )
        ]
        alerts += therapies.reassessments_due(toxin, assessed, today)
    pump = _pump(db, patient_id)
    if pump is not None:
        alert = therapies.pump_refill_alert(pump, today)
        if alert is not None:
            alerts.append(alert)
    return alerts + _symptom_alerts(db, patient_id, today, toxin)


def _symptom_alerts(
    db: Session, patient_id: int, today: date, toxin: Sequence[therapies.ToxinInjection]
) -> list[Alert]:
    since, _ = day_bounds(today - timedelta(days=SYMPTOM_ALERT_DAYS))
    rows = db.scalars(
        select(SymptomReport)
        .where(SymptomReport.patient_id == patient_id, SymptomReport.reported_at >= since)
        .order_by(SymptomReport.reported_at)
    )
    splint = latest_splint(db, patient_id)
    alerts: dict[str, Alert] = {}
    for row in rows:
        on = local_date(row.reported_at)
        if row.about == "botulinum_toxin":
            alert = therapies.toxin_spread_alert(row.symptoms, toxin, on)
        else:
            alert = therapies.splint_alert(splint, row.symptoms, on) if splint else None
        if alert is not None:
            alerts[alert.key] = alert
    return list(alerts.values())


def latest_splint(db: Session, patient_id: int) -> therapies.Splint | None:
    row = db.scalar(
        select(TherapyEvent)
        .where(TherapyEvent.patient_id == patient_id, TherapyEvent.kind == "splint")
        .order_by(TherapyEvent.started_on.desc(), TherapyEvent.id.desc())
        .limit(1)
    )
    return splint_of(row) if row is not None else None


def splint_of(event: TherapyEvent) -> therapies.Splint:
    d = event.details or {}
    worn_at = d.get("worn_at") if d.get("worn_at") in ("night", "day", "both") else "night"
    hours = float(d.get("wear_hours_per_day") or 8)
    return therapies.Splint(
        name=str(d.get("splint_name") or "splint"),
        region=str(d.get("region") or ""),
        wear_hours_per_day=min(24.0, max(0.5, hours)),
        worn_at=worn_at,
    )


def patient_alerts(
    db: Session, patient: User, today: date | None = None, library: Library | None = None
) -> list[Alert]:
    """Every alert about ``patient`` today, urgent first."""
    today = today or local_date()
    library = library or load_library()
    alerts = _pain_alerts(db, patient.id, today)
    alerts += _contracture_alerts(db, patient, today, library)
    alerts += _therapy_alerts(db, patient.id, today)
    return by_severity(alerts)


def caseload_alerts(
    db: Session, patient_ids: Sequence[int], today: date | None = None
) -> list[tuple[User, Alert]]:
    """Alerts of many patients, urgent first across the caseload."""
    library = load_library()
    found = []
    for patient_id in patient_ids:
        patient = db.get(User, patient_id)
        if patient is None or patient.role is not Role.patient:
            continue
        found += [(patient, a) for a in patient_alerts(db, patient, today, library)]
    order = {alert: i for i, alert in enumerate(by_severity([a for _, a in found]))}
    return sorted(found, key=lambda pair: order[pair[1]])


# --- writes with care checks ---------------------------------------------------------------
def _stim_factors(patient: User, details: dict[str, Any]) -> stim.PatientFactors:
    """The profile's conditions that matter for stimulation, with those given now."""
    profile = patient.profile
    known = set(details.get("conditions") or ())
    if profile is not None:
        known |= {str(c) for c in [*(profile.conditions or []), *(profile.other_conditions or [])]}
    named = {stim.CONDITION_ALIASES.get(c, c) for c in known}
    pregnant = "pregnancy" in named or bool(details.get("pregnant", False))
    return stim.PatientFactors(
        conditions=frozenset(named & stim.STIM_CONDITIONS.keys()),
        site_conditions=frozenset(details.get("site_conditions") or ()),
        can_give_feedback=bool(details.get("can_give_feedback", True)),
        pregnant=pregnant,
    )


def add_therapy(
    db: Session, patient: User, by: User, fields: dict[str, Any]
) -> tuple[TherapyEvent, list[str]]:
    """Store a therapy after its care checks; returns it with the warnings to show.

    Electrical stimulation or electro-acupuncture with a contraindication is refused
    (:class:`clinical.ClinicalError`, 409, naming each); its precautions come back as
    warnings. A botulinum toxin injection sooner than 12 weeks after the last is stored (it
    happened) with a warning. The warnings are also stored in the record's
    ``details["warnings"]``.
    """
    warnings: list[str] = []
    details = fields.get("details") or {}
    if fields["kind"] in ("electrical_stimulation", "electro_acupuncture"):
        try:
            plan = stim.StimPlan(kind=fields["kind"], site=details["site"])
            check = stim.stim_check(plan, _stim_factors(patient, details))
        except ValueError as exc:
            raise clinical.ClinicalError(str(exc), 422) from exc
        if not check.allowed:
            reasons = " ".join(f.plain_text for f in check.contraindications)
            raise clinical.ClinicalError(f"Not safe to schedule: {reasons}", 409)
        warnings += [f"Take care: {f.plain_text}" for f in check.precautions]
    if fields["kind"] == "botulinum_toxin":
        too_soon = therapies.reinjection_too_soon(injections(db, patient.id), fields["started_on"])
        if too_soon is not None:
            warnings.append(too_soon.therapist_text)
    if warnings:
        # Kept with the record: the therapy list shows them for as long as it shows it.
        fields = {**fields, "details": {**details, "warnings": warnings}}
    event = clinical.add_therapy(db, patient, by, fields)
    return event, warnings


def report_symptoms(
    db: Session, patient: User, by: User, about: str, symptoms: list[str], note: str | None
) -> tuple[SymptomReport, Alert | None]:
    """Store reported symptoms and return the alert they raise now (None: noted only).

    Unknown symptom codes, or skin problems without a splint on record, are refused (422,
    409) and nothing is stored.
    """
    today = local_date()
    try:
        if about == "botulinum_toxin":
            alert = therapies.toxin_spread_alert(symptoms, injections(db, patient.id), today)
        else:
            splint = latest_splint(db, patient.id)
            if splint is None:
                raise clinical.ClinicalError("There is no splint on record for this person.", 409)
            alert = therapies.splint_alert(splint, symptoms, today)
    except ValueError as exc:
        if isinstance(exc, clinical.ClinicalError):
            raise
        raise clinical.ClinicalError(str(exc), 422) from exc
    report = clinical.add_symptoms(db, patient, by, about, symptoms, note)
    return report, alert


# --- the injection's dose raise ------------------------------------------------------------
@dataclass(frozen=True)
class DailyTarget:
    reps: int
    base_reps: int
    raise_: therapies.DoseRaise | None


def toxin_raise_pct(patient: User) -> float:
    extra = patient.profile.extra if patient.profile else {}
    value = (extra or {}).get(TOXIN_RAISE_KEY)
    return float(value) if value is not None else therapies.DEFAULT_TOXIN_DOSE_RAISE_PCT


def daily_target(db: Session, patient: User, today: date | None = None) -> DailyTarget:
    """Today's repetition target: the program's (else the profile's), raised while an
    injection works (rule of care.therapies; the raise is the therapist's to set)."""
    today = today or local_date()
    program = active_program(db, patient.id)
    if program is not None:
        base = program.daily_rep_target
    else:
        base = patient.profile.daily_rep_target if patient.profile else 300
    toxin = injections(db, patient.id)
    if not toxin or base == 0:
        return DailyTarget(base, base, None)
    dose = therapies.dose_factor(toxin, today, toxin_raise_pct(patient))
    if dose.factor == 1.0:
        return DailyTarget(base, base, None)
    return DailyTarget(round(base * dose.factor), base, dose)
