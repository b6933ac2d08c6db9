"""Care rules over stored records (services.care): a simulated 8-week history of practice
fires the contracture alerts on the right days and not on noise; therapies raise their alerts
and the injection's dose raise from what is stored."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import pytest
from sqlalchemy.orm import Session

from openrehab.clock import local_zone
from openrehab.services import care, timeline
from openrehab.services.clinical import ClinicalError
from openrehab.store import records
from openrehab.store.models import Assessment, Program, TherapyEvent, User
from support import World

START = date(2026, 3, 2)  # a Monday; the patient joined that morning


def _patient(db: Session, world: World) -> User:
    patient = db.get_one(User, world.ids["patient_p"])
    patient.created_at = datetime.combine(START, time(8), tzinfo=local_zone())
    assert patient.profile is not None
    patient.profile.affected_side = "left"
    patient.profile.regions = {"elbow": {"mas": "1+", "active_movement": True}}
    # Range work is expected from the first program on (rule K1).
    program = Program(patient_id=patient.id, created_at=patient.created_at, active=True)
    db.add(program)
    db.commit()
    return patient


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=local_zone()).astimezone(UTC)


def _practise(db: Session, patient: User, day: date, roms_deg: list[float]) -> None:
    """A set of elbow extensions on ``day``, one rep per range (degrees)."""
    session = records.start_session(db, patient.id)
    session.started_at = _at(day)
    exercise_set = records.start_set(
        db, session, exercise_id="elbow_extension", side="left", mode="active"
    )
    exercise_set.started_at = _at(day)
    rows = [
        {"start_s": 3.0 * i, "end_s": 3.0 * i + 2.5, "rom": rom, "rom_unit": "deg"}
        for i, rom in enumerate(roms_deg)
    ]
    for rep in records.add_repetitions(db, exercise_set, rows):
        rep.recorded_at = _at(day) + timedelta(seconds=rep.end_s)
    records.end_session(db, session)
    db.commit()


def _kinds(db: Session, patient: User, day: date) -> list[str]:
    return sorted(a.kind for a in care.patient_alerts(db, patient, today=day))


def test_no_range_work_for_more_than_two_days_alerts_on_the_right_days(
    db: Session, world: World
) -> None:
    """Rule K1 through the store: practice every day of 8 weeks except days 20-23; the gap
    alert shows on days 22 and 23 (more than 2 days since day 19) and not on 21; work on
    day 24 clears it."""
    patient = _patient(db, world)
    rest_days = {20, 21, 22, 23}
    for n in range(56):
        if n not in rest_days:
            _practise(db, patient, START + timedelta(days=n), [120.0, 121.0])
    alerted = [
        n for n in range(56) if "contracture_gap" in _kinds(db, patient, START + timedelta(days=n))
    ]
    assert alerted == [22, 23]
    [gap] = [
        a
        for a in care.patient_alerts(db, patient, today=START + timedelta(days=22))
        if a.kind == "contracture_gap"
    ]
    assert (gap.region, gap.side, gap.since) == ("elbow", "left", START + timedelta(days=22))
    assert gap.action_href is not None and gap.action_href.startswith("/exercises/")


def test_range_work_is_expected_from_the_first_program_not_the_account(
    db: Session, world: World
) -> None:
    """Rule K1 counts from the first program: an account made long before has no gap on the
    program's first day, and one with no program has none at all."""
    patient = _patient(db, world)
    patient.created_at = patient.created_at - timedelta(days=60)
    db.commit()
    assert _kinds(db, patient, START) == []
    assert _kinds(db, patient, START + timedelta(days=2)) == []
    assert _kinds(db, patient, START + timedelta(days=3)) == ["contracture_gap"]
    db.query(Program).delete()
    db.commit()
    assert _kinds(db, patient, START + timedelta(days=3)) == []


def _series(rng: np.random.Generator, loss_deg: float, outlier_day: int | None) -> list[float]:
    """28 daily medians around 120 deg (sd 3.5) losing ``loss_deg`` linearly."""
    values = 120.0 - loss_deg * np.arange(28) / 27 + rng.normal(0, 3.5, 28)
    if outlier_day is not None:
        values[outlier_day] -= 30.0
    return [float(v) for v in values]


@pytest.mark.parametrize(("loss_deg", "outlier", "fires"), [(0.0, 20, False), (18.0, None, True)])
def test_a_lasting_loss_of_range_alerts_and_noise_with_an_outlier_does_not(
    loss_deg: float, outlier: int | None, fires: bool, db: Session, world: World
) -> None:
    """Rule K2 through the store: four weeks of practice whose range falls by 18 deg is a
    contracture warning; a flat range with noise and one 30-deg-low session is not."""
    patient = _patient(db, world)
    rng = np.random.default_rng(11)
    first = START + timedelta(days=28)
    for n, rom in enumerate(_series(rng, loss_deg, outlier)):
        _practise(db, patient, first + timedelta(days=n), [rom, rom + 1.0, rom - 1.0])
    today = first + timedelta(days=27)
    declines = [
        a for a in care.patient_alerts(db, patient, today=today) if a.kind == "contracture_decline"
    ]
    assert bool(declines) == fires
    if fires:
        assert (
            declines[0].region == "elbow" and "Straighten the elbow" in declines[0].therapist_text
        )


def _therapy(db: Session, patient: User, kind: str, on: date, **details: object) -> None:
    db.add(TherapyEvent(patient_id=patient.id, kind=kind, started_on=on, details=details))
    db.commit()


def test_the_peak_effect_review_is_due_until_an_assessment_is_recorded(
    db: Session, world: World
) -> None:
    """Rule T2: 4 weeks after an injection the review at peak effect is due; a pain score or
    a carer's measurement does not clear it, the therapist's assessment from week 4 does."""
    patient = _patient(db, world)
    _therapy(db, patient, "botulinum_toxin", START, muscles=["biceps brachii"], units=100.0)
    day = START + timedelta(weeks=4)
    assert "reassessment_due" not in _kinds(db, patient, day - timedelta(days=1))
    assert "reassessment_due" in _kinds(db, patient, day)
    therapist, carer = world.ids["therapist_a"], world.ids["caregiver_c"]
    for by, kind in ((therapist, "pain"), (carer, "tardieu")):
        db.add(
            Assessment(
                patient_id=patient.id, assessor_id=by, kind=kind, region="elbow", side="left",
                measured_at=_at(day), r1_deg=90.0,
            )
        )  # fmt: skip
        db.commit()
        assert "reassessment_due" in _kinds(db, patient, day), (by, kind)
    db.add(
        Assessment(
            patient_id=patient.id, assessor_id=therapist, kind="mas", region="elbow",
            side="left", value="1", ordinal=1, measured_at=_at(day),
        )
    )  # fmt: skip
    db.commit()
    assert "reassessment_due" not in _kinds(db, patient, day)


@pytest.mark.parametrize(("days_left", "severity"), [(15, None), (14, "info"), (7, "warning")])
def test_an_intrathecal_pump_refill_is_reminded_from_two_weeks_before(
    days_left: int, severity: str | None, db: Session, world: World
) -> None:
    patient = _patient(db, world)
    refill = START + timedelta(days=60)
    _therapy(db, patient, "baclofen", START, route="intrathecal", next_refill_on=str(refill))
    alerts = care.patient_alerts(db, patient, today=refill - timedelta(days=days_left))
    found = [a.severity for a in alerts if a.kind == "pump_refill"]
    assert found == ([] if severity is None else [severity])


def test_the_daily_target_rises_only_while_the_injection_works(db: Session, world: World) -> None:
    """Rule T3: +20 % (the default) from a week after the injection to 12 weeks after."""
    patient = _patient(db, world)
    base = patient.profile.daily_rep_target if patient.profile else 300
    _therapy(db, patient, "botulinum_toxin", START, muscles=["soleus"], units=200.0)
    targets = [
        care.daily_target(db, patient, START + timedelta(days=n)).reps for n in (6, 7, 84, 85)
    ]
    assert targets == [base, round(base * 1.2), round(base * 1.2), base]
    assert patient.profile is not None
    patient.profile.extra = {care.TOXIN_RAISE_KEY: 50}
    db.commit()
    assert care.daily_target(db, patient, START + timedelta(days=30)).reps == round(base * 1.5)


def test_a_skin_problem_needs_a_splint_on_record_and_then_keeps_it_off(
    db: Session, world: World
) -> None:
    """Rule T9: a skin problem under a splint is a warning to leave it off; reporting one with
    no splint on record is refused and stores nothing."""
    patient = _patient(db, world)
    with pytest.raises(ClinicalError) as refused:
        care.report_symptoms(db, patient, patient, "splint", ["blister"], None)
    assert refused.value.status == 409
    _therapy(db, patient, "splint", START, splint_name="night splint", region="wrist")
    _, alert = care.report_symptoms(db, patient, patient, "splint", ["blister"], None)
    assert alert is not None and alert.kind == "skin_check" and "night splint" in alert.patient_text


def test_the_timeline_counts_reps_per_local_day_and_marks_therapies(
    db: Session, world: World
) -> None:
    """The care page's timeline: repetitions per day, the range measured (goniometer first,
    else the daily median of the exercise practised on most days) and therapies as markers,
    over the 12 weeks up to today."""
    patient = _patient(db, world)
    today = START + timedelta(weeks=10)
    _practise(db, patient, today - timedelta(days=3), [100.0, 110.0, 120.0])
    _practise(db, patient, today - timedelta(days=1), [112.0, 114.0])
    _practise(db, patient, START - timedelta(weeks=3), [90.0])  # before the 12 weeks
    _therapy(db, patient, "botulinum_toxin", today - timedelta(days=2), muscles=["soleus"])
    line = timeline.timeline(db, patient, today)
    assert line.reps_per_day == [(today - timedelta(days=3), 3), (today - timedelta(days=1), 2)]
    assert line.rom == [(today - timedelta(days=3), 110.0), (today - timedelta(days=1), 113.0)]
    assert "Straighten the elbow (left)" in line.rom_label
    assert line.events == [(today - timedelta(days=2), "botulinum_toxin")]
    db.add(
        Assessment(
            patient_id=patient.id, kind="rom", region="elbow", side="left", rom_deg=125.0,
            measured_at=_at(today - timedelta(days=5)),
        )
    )  # fmt: skip
    db.commit()
    measured = timeline.timeline(db, patient, today)
    assert measured.rom == [(today - timedelta(days=5), 125.0)]
    assert measured.rom_label.startswith("measured range")


def test_range_work_is_tracked_per_region_not_only_per_side(db: Session, world: World) -> None:
    """Rule K1: the elbow worked today and the wrist yesterday leaves neither without range
    work, even though both are on the left side."""
    patient = _patient(db, world)
    assert patient.profile is not None
    patient.profile.regions = {
        "elbow": {"mas": "1+", "active_movement": True},
        "wrist": {"mas": "1", "active_movement": True},
    }
    db.commit()
    today = START + timedelta(days=10)
    _practise(db, patient, today, [120.0])  # elbow extension
    session = records.start_session(db, patient.id)
    wrist = records.start_set(
        db, session, exercise_id="wrist_extension", side="left", mode="active"
    )
    wrist.started_at = _at(today - timedelta(days=1))
    records.add_repetitions(db, wrist, [{"start_s": 0.0, "end_s": 2.0}])
    db.commit()
    assert _kinds(db, patient, today) == []


def test_s5_the_day_is_closed_by_its_latest_score_of_7_until_a_lower_one(
    db: Session, world: World
) -> None:
    """Rule S5 in the store: the day's latest pain report that was not undone decides; a
    score of 7 yesterday or an undone 8 today does not close today."""
    from openrehab.services.clinical import resting_report
    from openrehab.store.models import PainReport

    patient = _patient(db, world)
    today = datetime.now(local_zone()).date()

    def report(nrs: int, at: datetime, withdrawn: bool = False) -> PainReport:
        row = PainReport(patient_id=patient.id, nrs=nrs, reported_at=at)
        row.withdrawn_at = at + timedelta(seconds=20) if withdrawn else None
        db.add(row)
        db.flush()
        return row

    report(9, _at(today - timedelta(days=1), 20))
    assert resting_report(db, patient.id, today) is None
    report(8, _at(today, 8), withdrawn=True)
    assert resting_report(db, patient.id, today) is None
    severe = report(7, _at(today, 9))
    assert resting_report(db, patient.id, today) == severe
    report(3, _at(today, 11))
    assert resting_report(db, patient.id, today) is None
    assert resting_report(db, patient.id, today - timedelta(days=1)) is not None
