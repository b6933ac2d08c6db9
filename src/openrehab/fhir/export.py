"""A patient's records as a FHIR R4 Bundle (type ``collection``), validated against the
``fhir.resources`` R4B models (FHIR 4.3, the R4 line: the resources used here are the same).

* Patient (identifier: the username);
* Observation: each assessment (pain NRS with LOINC 72514-3, range of motion with SNOMED CT
  364564000, MAS and Tardieu with local codes; body site and laterality in SNOMED CT), each
  pain report, and each exercise set's repetition count;
* CarePlan: the active program, one activity per exercise, each pointing to the daily Goal;
* Goal: the daily repetition target, and each goal of the clinical profile;
* MedicationAdministration: botulinum toxin and baclofen (ATC codes);
* Procedure: the injection, electrical stimulation, electro-acupuncture, splints and other
  procedures.

Every resource carries the stored record's fields that FHIR has no element for in the
``details`` extension (a JSON string), so ``openrehab import fhir`` reads back exactly what
was exported. Resource ids are order numbers within the bundle (not database ids), so a
round trip gives the same bundle. Codes: :mod:`openrehab.fhir.codes` and docs/fhir.md.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.fhir import codes
from openrehab.services import program as program_service
from openrehab.store.models import (
    Assessment,
    ExerciseSession,
    ExerciseSet,
    PainReport,
    TherapyEvent,
    User,
)

JsonDict = dict[str, Any]
ASSESSMENT_FIELDS = (
    "kind",
    "region",
    "side",
    "muscle",
    "method",
    "value",
    "ordinal",
    "r1_deg",
    "r2_deg",
    "rom_deg",
    "notes",
    "details",
)
ITEM_FIELDS = (
    "position",
    "exercise_id",
    "mode",
    "side",
    "sets",
    "reps",
    "level",
    "rest_s",
    "body_position",
    "hold_s",
    "tempo_bpm",
    "assisted_by",
    "max_velocity_deg_s",
    "rules",
    "note",
)
MEDICATION_KINDS = ("botulinum_toxin", "baclofen")


def _coding(system: str, code: str, display: str | None = None) -> JsonDict:
    out = {"system": system, "code": code}
    return {**out, "display": display} if display else out


def _concept(
    system: str, code: str, display: str | None = None, text: str | None = None
) -> JsonDict:
    concept: JsonDict = {"coding": [_coding(system, code, display)]}
    return {**concept, "text": text} if text else concept


def _local(key: str) -> JsonDict:
    code, display = codes.MEASURES[key]
    return _concept(codes.LOCAL, code, display)


def _details(values: JsonDict) -> list[JsonDict]:
    return [{"url": codes.DETAILS_EXTENSION, "valueString": json.dumps(values, sort_keys=True)}]


def _record(kind: str, n: int) -> list[JsonDict]:
    return [{"system": codes.RECORD, "value": f"{kind}/{n}"}]


def _when(moment: Any) -> str:
    return moment.isoformat()


def _site(region: str, side: str) -> tuple[JsonDict, list[JsonDict]]:
    """bodySite (SNOMED CT when the region has a code) and the laterality component."""
    code = codes.BODY_SITES.get(region)
    site = _concept(codes.SNOMED, code, text=region) if code else {"text": region}
    if side not in codes.SIDES:
        return site, []
    system, side_code, display = codes.SIDES[side]
    component = {
        "code": _concept(*codes.LATERALITY),
        "valueCodeableConcept": _concept(system, side_code, display),
    }
    return site, [component]


def _assessment(a: Assessment, n: int, subject: JsonDict) -> JsonDict:
    site, components = _site(a.region, a.side)
    obs: JsonDict = {
        "resourceType": "Observation",
        "id": f"assessment-{n}",
        "identifier": _record("assessment", n),
        "status": "final",
        "category": [_concept(codes.OBSERVATION_CATEGORY, "exam", "Exam")],
        "subject": subject,
        "effectiveDateTime": _when(a.measured_at),
        "bodySite": site,
        "extension": _details({f: getattr(a, f) for f in ASSESSMENT_FIELDS}),
    }
    if a.method:
        obs["method"] = {"text": a.method}
    if a.notes:
        obs["note"] = [{"text": a.notes}]
    if a.kind == "pain" and a.value is not None and a.value.isdigit():
        obs["code"] = _concept(*codes.PAIN_NRS)
        obs["valueInteger"] = int(a.value)
    elif a.kind == "rom" and a.rom_deg is not None:
        obs["code"] = _concept(*codes.ROM)
        obs["valueQuantity"] = _degrees(a.rom_deg)
    elif a.kind == "mas" and a.value:
        obs["code"] = _local("mas")
        obs["valueCodeableConcept"] = _concept(codes.MAS_GRADES, a.value, f"MAS {a.value}")
    elif a.kind == "tardieu":
        obs["code"] = _local("tardieu")
        for key, angle in (("r1", a.r1_deg), ("r2", a.r2_deg)):
            if angle is not None:
                components.append({"code": _local(key), "valueQuantity": _degrees(angle)})
    else:
        obs["code"] = _local("other")
        if a.value:
            obs["valueString"] = a.value
    if components:
        obs["component"] = components
    return obs


def _degrees(value: float) -> JsonDict:
    return {"value": value, "unit": "deg", "system": codes.UCUM, "code": "deg"}


def _pain(p: PainReport, n: int, subject: JsonDict) -> JsonDict:
    return {
        "resourceType": "Observation",
        "id": f"pain-{n}",
        "identifier": _record("pain", n),
        "status": "final",
        "category": [_concept(codes.OBSERVATION_CATEGORY, "survey", "Survey")],
        "code": _concept(*codes.PAIN_NRS),
        "subject": subject,
        "effectiveDateTime": _when(p.reported_at),
        "valueInteger": p.nrs,
        "extension": _details({"location": p.location}),
    }


def _set(s: ExerciseSet, count: int, n: int, session_n: int, subject: JsonDict) -> JsonDict:
    _, laterality = _site("", s.side)
    period = {"start": _when(s.started_at)}
    if s.ended_at:
        period["end"] = _when(s.ended_at)
    return {
        "resourceType": "Observation",
        "id": f"set-{n}",
        "identifier": _record("set", n),
        "status": "final",
        "category": [_concept(codes.OBSERVATION_CATEGORY, "activity", "Activity")],
        "code": _local("repetitions"),
        "subject": subject,
        "effectivePeriod": period,
        "valueQuantity": {
            "value": count,
            "unit": "repetitions",
            "system": codes.UCUM,
            "code": "{repetitions}",
        },
        "component": [
            {
                "code": {"text": "exercise"},
                "valueCodeableConcept": _concept(codes.EXERCISE, s.exercise_id),
            },
            *laterality,
        ],
        "extension": _details(
            {
                "session": session_n,
                "exercise_id": s.exercise_id,
                "side": s.side,
                "mode": s.mode,
                "level": s.level,
                "target_reps": s.target_reps,
                "pain_reported": s.pain_reported,
                "source": s.source,
                "session_source": s.session.source,
                "session_started_at": _when(s.session.started_at),
                "session_ended_at": _when(s.session.ended_at) if s.session.ended_at else None,
            }
        ),
    }


def _therapy(t: TherapyEvent, n: int, subject: JsonDict) -> list[JsonDict]:
    details = _details(
        {
            "kind": t.kind,
            "started_on": t.started_on.isoformat(),
            "ended_on": t.ended_on.isoformat() if t.ended_on else None,
            "details": t.details,
            "notes": t.notes,
        }
    )
    when: JsonDict = {"start": t.started_on.isoformat()}
    if t.ended_on:
        when["end"] = t.ended_on.isoformat()
    d = t.details or {}
    out = []
    if t.kind in MEDICATION_KINDS:
        med: JsonDict = {
            "resourceType": "MedicationAdministration",
            "id": f"medication-{n}",
            "identifier": _record("therapy", n),
            "status": "completed",
            "medicationCodeableConcept": _concept(
                *codes.MEDICINES[t.kind], text=d.get("product") or None
            ),
            "subject": subject,
            "effectivePeriod": when,
            "extension": details,
        }
        if t.kind == "botulinum_toxin" and d.get("units") is not None:
            med["dosage"] = {
                "text": ", ".join(d.get("muscles") or []) or None,
                "dose": {"value": d["units"], "unit": "U"},
            }
            med["dosage"] = {k: v for k, v in med["dosage"].items() if v is not None}
        out.append(med)
    if t.kind != "baclofen":
        code = "botulinum-toxin-injection" if t.kind == "botulinum_toxin" else t.kind
        text = d.get("procedure") or d.get("device") or code.replace("_", " ").replace("-", " ")
        out.append(
            {
                "resourceType": "Procedure",
                "id": f"procedure-{n}",
                "identifier": _record("therapy", n),
                "status": "completed",
                "code": _concept(codes.THERAPY, code, text=str(text)),
                "subject": subject,
                "performedPeriod": when,
                "extension": details,
            }
        )
    return out


def _care_plan(db: Session, patient: User, subject: JsonDict, goal_ref: JsonDict) -> list[JsonDict]:
    program = program_service.active_program(db, patient.id)
    if program is None:
        return []
    activities = []
    for item in program.items:
        activities.append(
            {
                "detail": {
                    "kind": "ServiceRequest",
                    "code": _concept(codes.EXERCISE, item.exercise_id),
                    "status": "scheduled",
                    "description": f"{item.sets} x {item.reps}, level {item.level}, {item.mode}, "
                    f"{item.side}",
                    "goal": [goal_ref],
                },
                "extension": _details({f: getattr(item, f) for f in ITEM_FIELDS}),
            }
        )
    return [
        {
            "resourceType": "CarePlan",
            "id": "careplan",
            "status": "active",
            "intent": "plan",
            "title": "Home exercise program",
            "subject": subject,
            "created": _when(program.created_at),
            "activity": activities,
            "extension": _details(
                {"daily_rep_target": program.daily_rep_target, "note": program.note}
            ),
        }
    ]


def _goals(patient: User, subject: JsonDict, target: int) -> list[JsonDict]:
    daily = {
        "resourceType": "Goal",
        "id": "goal-daily",
        "lifecycleStatus": "active",
        "description": {"text": f"At least {target} repetitions a day"},
        "subject": subject,
        "target": [
            {
                "measure": _local("daily-repetitions"),
                "detailQuantity": {"value": target, "unit": "repetitions/day"},
            }
        ],
    }
    goals = [daily]
    for name in (patient.profile.goals if patient.profile else []) or []:
        goals.append(
            {
                "resourceType": "Goal",
                "id": f"goal-{name.replace('_', '-')}",
                "lifecycleStatus": "active",
                "description": {"text": name.replace("_", " ")},
                "subject": subject,
                "extension": _details({"profile_goal": name}),
            }
        )
    return goals


def _full_url(username: str, resource_id: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{codes.BASE}/{username}/{resource_id}')}"


def patient_bundle(db: Session, patient: User) -> JsonDict:
    """The Bundle of ``patient`` (a JSON object), every resource validated."""
    patient_url = _full_url(patient.username, "patient")
    subject = {"reference": patient_url, "display": patient.display_name}
    resources: list[JsonDict] = [
        {
            "resourceType": "Patient",
            "id": "patient",
            "identifier": [{"system": codes.USERNAME, "value": patient.username}],
            "active": patient.active,
            "name": [{"text": patient.display_name}],
            "extension": _details({"profile": program_service.profile_data(patient.profile)}),
        }
    ]
    assessments = db.scalars(
        select(Assessment)
        .where(Assessment.patient_id == patient.id)
        .order_by(Assessment.measured_at, Assessment.id)
    )
    resources += [_assessment(a, n, subject) for n, a in enumerate(assessments)]
    pains = db.scalars(
        select(PainReport)
        .where(PainReport.patient_id == patient.id, PainReport.withdrawn_at.is_(None))
        .order_by(PainReport.reported_at, PainReport.id)
    )
    resources += [_pain(p, n, subject) for n, p in enumerate(pains)]
    sessions = list(
        db.scalars(
            select(ExerciseSession)
            .where(ExerciseSession.patient_id == patient.id)
            .order_by(ExerciseSession.started_at, ExerciseSession.id)
        )
    )
    n_set = 0
    for session_n, session in enumerate(sessions):
        for s in sorted(session.sets, key=lambda x: (x.started_at, x.id)):
            resources.append(_set(s, len(s.repetitions), n_set, session_n, subject))
            n_set += 1
    therapies = db.scalars(
        select(TherapyEvent)
        .where(TherapyEvent.patient_id == patient.id)
        .order_by(TherapyEvent.started_on, TherapyEvent.id)
    )
    for n, t in enumerate(therapies):
        resources += _therapy(t, n, subject)
    target = patient.profile.daily_rep_target if patient.profile else 0
    program = program_service.active_program(db, patient.id)
    target = program.daily_rep_target if program else target
    goals = _goals(patient, subject, target)
    resources += _care_plan(
        db, patient, subject, {"reference": _full_url(patient.username, "goal-daily")}
    )
    resources += goals
    entries = []
    for resource in resources:
        model = get_fhir_model_class(resource["resourceType"])
        valid = model.model_validate(resource)  # raises on anything not R4(B)
        entries.append(
            {
                "fullUrl": _full_url(patient.username, resource["id"]),
                "resource": json.loads(valid.model_dump_json(exclude_none=True)),
            }
        )
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    get_fhir_model_class("Bundle").model_validate(bundle)
    return bundle
