"""Record services: incremental repetitions and the local-day count."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user
from openrehab.store import records
from openrehab.store.models import AuditLog, Role


def test_repetitions_are_numbered_across_batches_and_counted_per_local_day(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENREHAB_TIMEZONE", "America/Los_Angeles")
    patient = create_user(db, "pat", "password-pat-quartz", Role.patient)
    exercise_session = records.start_session(db, patient.id)
    exercise_set = records.start_set(
        db, exercise_session, exercise_id="elbow_flexion", side="left", mode="active"
    )
    first = records.add_repetitions(db, exercise_set, [{"start_s": 0, "end_s": 2, "rom": 80}])
    second = records.add_repetitions(
        db, exercise_set, [{"start_s": 3, "end_s": 5}, {"start_s": 6, "end_s": 8, "jerk": 1.5}]
    )
    assert [r.index for r in first + second] == [0, 1, 2]
    assert second[1].metrics == {"jerk": 1.5}  # unknown metrics are kept, not dropped
    # 03:00 UTC on the 25th is the evening of the 24th in California.
    for rep in first + second:
        rep.recorded_at = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
    db.commit()
    assert records.reps_on_day(db, patient.id, date(2026, 11, 24)) == 3
    assert records.reps_on_day(db, patient.id, date(2026, 11, 25)) == 0


def test_ended_set_refuses_more_repetitions(db: Session) -> None:
    patient = create_user(db, "pat2", "password-pat-quartz", Role.patient)
    exercise_session = records.start_session(db, patient.id)
    exercise_set = records.start_set(
        db, exercise_session, exercise_id="elbow_flexion", side="left", mode="active"
    )
    records.end_set(db, exercise_set)
    with pytest.raises(records.RecordError, match="has ended"):
        records.add_repetitions(db, exercise_set, [{"start_s": 0, "end_s": 1}])


def test_todays_reps_and_last_sessions_are_counted_per_patient_in_one_query(db: Session) -> None:
    ana = create_user(db, "ana", "password-ana-quartz", Role.patient)
    ben = create_user(db, "ben", "password-ben-quartz", Role.patient)
    idle = create_user(db, "idle", "password-idle-quartz", Role.patient)
    day = date(2026, 11, 24)
    for patient, reps_today, reps_yesterday in ((ana, 3, 2), (ben, 1, 0)):
        exercise_session = records.start_session(db, patient.id)
        exercise_set = records.start_set(
            db, exercise_session, exercise_id="elbow_flexion", side="left", mode="active"
        )
        rows = [{"start_s": i, "end_s": i + 1} for i in range(reps_today + reps_yesterday)]
        for i, rep in enumerate(records.add_repetitions(db, exercise_set, rows)):
            rep.recorded_at = datetime(2026, 11, 24 if i < reps_today else 23, 12, tzinfo=UTC)
    db.commit()
    ids = [ana.id, ben.id, idle.id]
    assert records.reps_on_day_by_patient(db, ids, day) == {ana.id: 3, ben.id: 1}
    assert records.reps_on_day_by_patient(db, ids, date(2026, 11, 23)) == {ana.id: 2}
    assert records.reps_on_day_by_patient(db, [], day) == {}
    starts = records.last_session_starts(db, ids)
    assert set(starts) == {ana.id, ben.id}
    assert starts[ana.id] == records.last_session_start(db, ana.id)
    assert records.last_session_start(db, idle.id) is None
    if db.get_bind().dialect.name == "sqlite":
        # Each set's entries of the day are read from the index, not every rep ever made.
        plan = db.connection().exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM repetitions WHERE set_id = 1 "
            "AND recorded_at >= '2026-11-24' AND recorded_at < '2026-11-25'"
        )
        assert "ix_repetitions_set_id_recorded_at" in " ".join(str(row) for row in plan)


def test_locking_a_patient_costs_the_same_however_long_the_audit_log(db: Session) -> None:
    """Every write about a patient starts with ``lock_patient``. On SQLite it must not set a
    key of ``users``: SQLite then checks each table referencing users for the old key, and
    scans the (unindexed) audit log, which grows with every write."""
    if db.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL locks the row with SELECT ... FOR NO KEY UPDATE")
    patient = create_user(db, "pat3", "password-pat-quartz", Role.patient)
    other = create_user(db, "other3", "password-oth-quartz", Role.therapist)
    db.commit()
    raw = db.connection().connection.driver_connection

    def vm_steps() -> int:
        steps = 0

        def tick() -> int:
            nonlocal steps
            steps += 1
            return 0

        raw.set_progress_handler(tick, 1)
        try:
            records.lock_patient(db, patient.id)
        finally:
            raw.set_progress_handler(None, 1)
            db.rollback()
        return steps

    before = vm_steps()
    rows = [{"user_id": other.id, "action": "login", "detail": {}} for _ in range(2000)]
    db.execute(insert(AuditLog), rows)
    db.commit()
    assert vm_steps() < before + 100  # setting the key: +3 steps per row of the log (6,000)
