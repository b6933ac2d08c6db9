"""Exercise sessions, sets and repetitions, persisted incrementally."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from openrehab.accounts.service import audit
from openrehab.services import progress as progress_service
from openrehab.store import records
from openrehab.store.models import ExerciseSession, ExerciseSet, Repetition
from openrehab.web.deps import CurrentUser, Db, ObjectId, PatientRead, PatientRecord
from openrehab.web.schemas import (
    ProgressEventOut,
    RepetitionBatch,
    RepetitionOut,
    SessionCreate,
    SessionEndOut,
    SessionOut,
    SetCreate,
    SetEnd,
    SetEndOut,
    SetJudgementOut,
    SetOut,
)

router = APIRouter(prefix="/api/patients/{patient_id}/sessions", tags=["sessions"])


def _session(db: Db, patient_id: int, session_id: int) -> ExerciseSession:
    exercise_session = db.get(ExerciseSession, session_id)
    if exercise_session is None or exercise_session.patient_id != patient_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No session {session_id} here.")
    return exercise_session


# A set with its session, if both are the patient's, in one query (repetitions are posted
# one by one: this runs for every one of them).
_SET_OF_PATIENT = (
    select(ExerciseSet)
    .join(ExerciseSet.session)
    .options(contains_eager(ExerciseSet.session))
    .where(
        ExerciseSet.id == bindparam("set_id"),
        ExerciseSet.session_id == bindparam("session_id"),
        ExerciseSession.patient_id == bindparam("patient_id"),
    )
)


def _set(db: Db, patient_id: int, session_id: int, set_id: int) -> ExerciseSet:
    params = {"set_id": set_id, "session_id": session_id, "patient_id": patient_id}
    exercise_set = db.scalar(_SET_OF_PATIENT, params)
    if exercise_set is None:
        _session(db, patient_id, session_id)  # 404 naming the session if it is that
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"No set {set_id} in this session.")
    return exercise_set


def _set_out(db: Db, exercise_set: ExerciseSet) -> SetOut:
    out = SetOut.model_validate(exercise_set)
    out.rep_count = records.rep_count(db, exercise_set.id)
    return out


@router.get("", response_model=list[SessionOut])
def list_sessions(
    patient: PatientRead, db: Db, limit: int = Query(50, ge=1, le=500)
) -> list[ExerciseSession]:
    """The patient's sessions, newest first."""
    return records.latest_for_patient(
        db, ExerciseSession, patient.id, ExerciseSession.started_at, limit
    )


@router.post("", response_model=SessionOut, status_code=status.HTTP_201_CREATED)
def create_session(
    body: SessionCreate, patient: PatientRecord, user: CurrentUser, db: Db
) -> ExerciseSession:
    """Start an exercise session for the patient."""
    exercise_session = records.start_session(db, patient.id, body.source, body.notes)
    audit(db, user, "session.start", "session", exercise_session.id)
    db.commit()
    return exercise_session


@router.get("/{session_id}", response_model=SessionOut)
def get_session(session_id: ObjectId, patient: PatientRead, db: Db) -> ExerciseSession:
    return _session(db, patient.id, session_id)


@router.post("/{session_id}/end", response_model=SessionEndOut)
def end_session(
    session_id: ObjectId, patient: PatientRecord, user: CurrentUser, db: Db
) -> SessionEndOut:
    """End the session; sets still open are ended with their progression (``events``).
    Ending twice is harmless."""
    exercise_session = _session(db, patient.id, session_id)
    events = progress_service.finish_session(db, exercise_session)
    audit(db, user, "session.end", "session", exercise_session.id, {"events": len(events)})
    db.commit()
    out = SessionEndOut.model_validate(exercise_session)
    out.events = [ProgressEventOut.model_validate(e) for e in events]
    return out


@router.get("/{session_id}/sets", response_model=list[SetOut])
def list_sets(session_id: ObjectId, patient: PatientRead, db: Db) -> list[SetOut]:
    sets = _session(db, patient.id, session_id).sets
    counts = records.rep_counts(db, [s.id for s in sets])  # one query, not one per set
    out = []
    for exercise_set in sets:
        item = SetOut.model_validate(exercise_set)
        item.rep_count = counts.get(exercise_set.id, 0)
        out.append(item)
    return out


@router.post("/{session_id}/sets", response_model=SetOut, status_code=status.HTTP_201_CREATED)
def create_set(
    session_id: ObjectId, body: SetCreate, patient: PatientRecord, user: CurrentUser, db: Db
) -> SetOut:
    """Start a set of one exercise within the session."""
    try:
        exercise_set = records.start_set(
            db, _session(db, patient.id, session_id), **body.model_dump()
        )
    except records.RecordError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    audit(db, user, "set.start", "set", exercise_set.id, {"exercise": exercise_set.exercise_id})
    db.commit()
    return _set_out(db, exercise_set)


@router.post("/{session_id}/sets/{set_id}/end", response_model=SetEndOut)
def end_set(
    session_id: ObjectId,
    set_id: ObjectId,
    patient: PatientRecord,
    user: CurrentUser,
    db: Db,
    body: SetEnd | None = None,
) -> SetEndOut:
    """End the set and run the progression on its repetitions: ``result`` says how it went
    against the level, ``events`` what changed and why (level up/down, unlocks, rest prompt).
    Ending again returns the same events and counts nothing twice."""
    exercise_set = _set(db, patient.id, session_id, set_id)
    events = progress_service.finish_set(
        db, exercise_set, pain_reported=body.pain_reported if body else False
    )
    audit(db, user, "set.end", "set", exercise_set.id, {"events": len(events)})
    db.commit()
    out = SetEndOut.model_validate(_set_out(db, exercise_set).model_dump())
    judgement = progress_service.set_judgement(db, exercise_set)
    out.result = SetJudgementOut.model_validate(judgement.to_dict()) if judgement else None
    out.events = [ProgressEventOut.model_validate(e) for e in events]
    return out


@router.get("/{session_id}/sets/{set_id}/repetitions", response_model=list[RepetitionOut])
def list_repetitions(
    session_id: ObjectId, set_id: ObjectId, patient: PatientRead, db: Db
) -> list[Repetition]:
    return list(_set(db, patient.id, session_id, set_id).repetitions)


@router.post(
    "/{session_id}/sets/{set_id}/repetitions",
    response_model=list[RepetitionOut],
    status_code=status.HTTP_201_CREATED,
)
def add_repetitions(
    session_id: ObjectId,
    set_id: ObjectId,
    body: RepetitionBatch,
    patient: PatientRecord,
    user: CurrentUser,
    db: Db,
) -> list[Repetition]:
    """Append repetitions as the motion engine reports them (send each as soon as it ends).

    Give each rep a ``client_id``: a rep sent again with the same id (a retry, a second
    device) is returned as stored, not stored twice. Concurrent posts to one set are
    numbered one after the other."""
    exercise_set = _set(db, patient.id, session_id, set_id)
    # Audited before add_repetitions takes the patient's lock (the same transaction: an
    # error undoes both), so that the lock is held for one statement fewer (PostgreSQL:
    # posts for one patient queue on it; 20 of them at once 235-280 -> 275-330/s).
    audit(db, user, "repetitions.add", "set", exercise_set.id, {"count": len(body.repetitions)})
    try:
        added = records.add_repetitions(
            db,
            exercise_set,
            [rep.model_dump(exclude_none=True) for rep in body.repetitions],
            patient_id=patient.id,
        )
    except records.RecordError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    db.commit()
    return added
