"""Practice trends (services.practice_trends): daily medians of range and smoothness per
exercise and side, the busiest exercises first, within the window."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from service_helpers import do_set
from sqlalchemy.orm import Session

from openrehab.clock import local_zone
from openrehab.services.practice_trends import MAX_TRENDS, PracticeDay, practice_trends
from support import World

TODAY = date(2026, 9, 30)


def _at(day: date) -> datetime:
    return datetime.combine(day, time(10), tzinfo=local_zone()).astimezone(UTC)


def test_daily_medians_per_exercise_busiest_first(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    yesterday = TODAY - timedelta(days=1)
    do_set(db, p, "elbow_flexion", roms=[10, 20, 90], at=_at(yesterday))  # median 20
    do_set(db, p, "elbow_flexion", roms=[30, 40], at=_at(TODAY))
    do_set(db, p, "elbow_flexion", roms=[50], at=_at(TODAY))  # the day's median: 40
    do_set(db, p, "shoulder_flexion_active", roms=[60, 61], at=_at(TODAY))
    do_set(db, p, "elbow_flexion", roms=[99], at=_at(TODAY - timedelta(weeks=13)))  # too old
    db.commit()
    trends = practice_trends(db, p, today=TODAY)
    assert [(t.exercise_id, t.side) for t in trends] == [
        ("elbow_flexion", "left"),
        ("shoulder_flexion_active", "left"),
    ]
    elbow = trends[0]
    assert elbow.unit == "deg" and elbow.name
    assert elbow.days == [PracticeDay(yesterday, 3, 20.0, -1.6), PracticeDay(TODAY, 3, 40.0, -1.6)]


def test_at_most_six_exercises_are_shown(db: Session, world: World) -> None:
    p = world.ids["patient_p"]
    ids = [
        "elbow_flexion",
        "elbow_extension",
        "shoulder_abduction",
        "wrist_extension",
        "shoulder_flexion_active",
        "forward_reach_table_slide",
        "finger_tapping",
    ]
    for n, exercise_id in enumerate(ids):
        do_set(db, p, exercise_id, roms=[1.0] * (n + 1), at=_at(TODAY))
    db.commit()
    trends = practice_trends(db, p, today=TODAY)
    assert len(trends) == MAX_TRENDS and "elbow_flexion" not in {t.exercise_id for t in trends}
