"""Read back a Bundle written by :mod:`openrehab.fhir.export` as a new patient.

What is made: the patient (with a temporary password to hand over, the clinical profile, and
an optional therapist), their assessments, pain reports, therapies, the active program, and
their exercise sets. FHIR carries a set's repetition *count*, not each repetition's
measurements: an imported set has that many repetitions without timings or range
(``metrics`` says ``{"imported": true}``). Resources another system wrote (without our
``record`` identifier and ``details`` extension) are skipped and counted.

Everything is written in the caller's transaction; on any error nothing is kept.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.service import AccountError, audit, create_user
from openrehab.fhir import codes
from openrehab.services.onboarding import temporary_password
from openrehab.store.models import (
    Assessment,
    CareLink,
    ExerciseSession,
    ExerciseSet,
    LinkKind,
    PainReport,
    Program,
    ProgramItem,
    Repetition,
    TherapyEvent,
    User,
)

JsonDict = dict[str, Any]
PROFILE_COLUMNS = (
    "affected_side",
    "regions",
    "can_sit_unsupported",
    "can_stand_safely",
    "hand_function",
    "conditions",
    "other_conditions",
    "goals",
    "daily_rep_target",
    "pain_nrs",
    "equipment",
)


class FhirImportError(ValueError):
    """The bundle cannot be imported; the message says why."""


@dataclass
class ImportResult:
    patient: User
    password: str
    counts: Counter[str] = field(default_factory=Counter)


def _details(resource: JsonDict) -> JsonDict | None:
    for ext in resource.get("extension") or []:
        if ext.get("url") == codes.DETAILS_EXTENSION:
            return json.loads(ext["valueString"])
    return None


def _record(resource: JsonDict) -> str | None:
    for ident in resource.get("identifier") or []:
        if ident.get("system") == codes.RECORD:
            return str(ident.get("value"))
    return None


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _resources(bundle: Any) -> list[JsonDict]:
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise FhirImportError("Not a FHIR Bundle (resourceType must be 'Bundle').")
    try:
        get_fhir_model_class("Bundle").model_validate(bundle)
        for entry in bundle.get("entry") or []:
            resource = entry.get("resource") or {}
            get_fhir_model_class(resource.get("resourceType", "")).model_validate(resource)
    except (ValidationError, KeyError, ValueError) as exc:
        first = str(exc).splitlines()[0:3]
        raise FhirImportError(f"The bundle is not valid FHIR R4: {' '.join(first)}") from None
    return [entry["resource"] for entry in bundle.get("entry") or []]


def _patient(db: Session, resources: list[JsonDict], username: str | None) -> tuple[User, str]:
    patients = [r for r in resources if r["resourceType"] == "Patient"]
    if len(patients) != 1:
        raise FhirImportError(
            f"The bundle must hold exactly one Patient (it holds {len(patients)})."
        )
    resource = patients[0]
    stored = next(
        (i["value"] for i in resource.get("identifier") or [] if i.get("system") == codes.USERNAME),
        None,
    )
    name = next((n.get("text") for n in resource.get("name") or [] if n.get("text")), None)
    chosen = username or stored
    if not chosen:
        raise FhirImportError("The Patient has no OpenRehab username: give one (--username).")
    password = temporary_password((chosen, name or ""))
    try:
        user = create_user(db, chosen, password, "patient", name or chosen)
    except AccountError as exc:
        raise FhirImportError(f"{exc} Give another username (--username).") from None
    profile = (_details(resource) or {}).get("profile") or {}
    assert user.profile is not None
    for column in PROFILE_COLUMNS:
        if column in profile:
            setattr(user.profile, column, profile[column])
    return user, password


def _sets(db: Session, patient: User, rows: list[tuple[JsonDict, JsonDict]]) -> None:
    sessions: dict[int, ExerciseSession] = {}
    for resource, d in rows:
        session = sessions.get(d["session"])
        if session is None:
            session = ExerciseSession(
                patient_id=patient.id,
                source=d.get("session_source"),
                started_at=_moment(d["session_started_at"]),
                ended_at=_moment(d.get("session_ended_at")),
            )
            db.add(session)
            sessions[d["session"]] = session
        period = resource.get("effectivePeriod") or {}
        started = _moment(period.get("start"))
        exercise_set = ExerciseSet(
            session=session,
            exercise_id=d["exercise_id"],
            side=d["side"],
            mode=d["mode"],
            level=d["level"],
            target_reps=d.get("target_reps"),
            started_at=started,
            ended_at=_moment(period.get("end")),
            pain_reported=d.get("pain_reported", False),
            source=d.get("source"),
            summary={"imported": True},
        )
        db.add(exercise_set)
        count = int((resource.get("valueQuantity") or {}).get("value") or 0)
        exercise_set.repetitions = [
            Repetition(
                index=i, start_s=0.0, end_s=0.0, recorded_at=started, metrics={"imported": True}
            )
            for i in range(count)
        ]


def _program(db: Session, patient: User, by: User | None, plan: JsonDict) -> None:
    d = _details(plan) or {}
    program = Program(
        patient_id=patient.id,
        created_by_id=by.id if by else None,
        active=True,
        created_at=_moment(plan.get("created")),
        daily_rep_target=d.get("daily_rep_target", 300),
        note=d.get("note"),
    )
    for activity in plan.get("activity") or []:
        fields = _details(activity)
        if fields:
            program.items.append(ProgramItem(**fields))
    db.add(program)


def import_bundle(
    db: Session,
    bundle: Any,
    *,
    by: User | None = None,
    username: str | None = None,
    therapist: User | None = None,
) -> ImportResult:
    """Make a new patient from ``bundle`` (see the module doc)."""
    resources = _resources(bundle)
    patient, password = _patient(db, resources, username)
    result = ImportResult(patient, password)
    if therapist is not None:
        db.add(CareLink(patient_id=patient.id, carer_id=therapist.id, kind=LinkKind.therapist))
    seen: set[str] = set()
    sets: list[tuple[JsonDict, JsonDict]] = []
    for resource in resources:
        record, d = _record(resource), _details(resource)
        kind = record.split("/")[0] if record else None
        if resource["resourceType"] in ("Patient", "Goal"):
            continue  # the profile (in the Patient) and the program hold the goals
        if resource["resourceType"] == "CarePlan":
            _program(db, patient, by, resource)
            result.counts["program"] += 1
            continue
        if record is not None and record in seen:
            continue  # an injection is both a MedicationAdministration and a Procedure
        if record is None or d is None:
            result.counts["skipped"] += 1
            continue
        seen.add(record)
        if kind == "assessment":
            db.add(
                Assessment(
                    patient_id=patient.id,
                    assessor_id=by.id if by else None,
                    measured_at=_moment(resource["effectiveDateTime"]),
                    **d,
                )
            )
        elif kind == "pain":
            db.add(
                PainReport(
                    patient_id=patient.id,
                    nrs=int(resource["valueInteger"]),
                    reported_at=_moment(resource["effectiveDateTime"]),
                    reported_by_id=by.id if by else None,
                    location=d.get("location"),
                )
            )
        elif kind == "set":
            sets.append((resource, d))
        elif kind == "therapy":
            db.add(
                TherapyEvent(
                    patient_id=patient.id,
                    recorded_by_id=by.id if by else None,
                    kind=d["kind"],
                    started_on=date.fromisoformat(d["started_on"]),
                    ended_on=date.fromisoformat(d["ended_on"]) if d.get("ended_on") else None,
                    details=d.get("details") or {},
                    notes=d.get("notes"),
                )
            )
        else:
            result.counts["skipped"] += 1
            continue
        result.counts[kind] += 1
    _sets(db, patient, sets)
    db.flush()
    audit(db, by, "fhir.import", "patient", patient.id, dict(result.counts))
    return result


def find_therapist(db: Session, username: str) -> User:
    user = db.scalar(select(User).where(User.username == username.lower()))
    if user is None or user.role.value != "therapist":
        raise FhirImportError(f"No therapist named {username!r}.")
    return user
