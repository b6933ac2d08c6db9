"""FHIR R4 (fhir/): the bundle validates against the R4(B) models with the documented codes,
and ``import`` reads back exactly what ``export`` wrote (round trip into another database)."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fhir.resources.R4B import get_fhir_model_class
from service_helpers import do_set, give_profile
from sqlalchemy.orm import Session

from openrehab.fhir import codes
from openrehab.fhir.export import patient_bundle
from openrehab.fhir.importer import FhirImportError, import_bundle
from openrehab.services import program as program_service
from openrehab.store import migrate
from openrehab.store.db import make_engine, make_session_factory
from openrehab.store.models import Assessment, PainReport, Repetition, TherapyEvent, User
from support import World, fresh_program

AT = datetime(2026, 4, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def patient(db: Session, world: World) -> User:
    """patient_p with a profile, program, sets, assessments of every kind, pain, therapies."""
    p = give_profile(db, world.ids["patient_p"])
    p.profile.goals = ["reach", "dressing"]
    fresh_program(db, p.id)
    first = do_set(db, p.id, reps=4, at=AT)
    first.session.ended_at = AT.replace(minute=50)
    first.pain_reported = True
    do_set(db, p.id, reps=2, side="left", at=AT.replace(day=3))
    rows = [
        dict(kind="mas", value="1+", ordinal=2, muscle="elbow flexors"),
        dict(kind="tardieu", r1_deg=80.0, r2_deg=150.0, details={"velocity": "V3"}),
        dict(kind="rom", rom_deg=135.5, method="goniometer"),
        dict(kind="pain", value="6"),
        dict(kind="other", value="ok", notes="free text"),
    ]
    for n, fields in enumerate(rows):
        db.add(
            Assessment(
                patient_id=p.id,
                region="elbow",
                side="left",
                measured_at=AT.replace(hour=10 + n),
                **fields,
            )
        )
    db.add(PainReport(patient_id=p.id, nrs=5, reported_at=AT))
    db.add(PainReport(patient_id=p.id, nrs=9, reported_at=AT, withdrawn_at=AT))
    for kind, details in (
        ("botulinum_toxin", {"muscles": ["biceps brachii"], "units": 100.0, "product": "Botox"}),
        ("baclofen", {"route": "oral", "doses": [{"time": "08:00", "mg": 10.0}]}),
        ("electrical_stimulation", {"site": "forearm", "minutes": 20}),
        ("splint", {"device": "resting hand splint"}),
    ):
        db.add(
            TherapyEvent(patient_id=p.id, kind=kind, started_on=date(2026, 3, 1), details=details)
        )
    db.commit()
    return p


def _resources(bundle: dict) -> list[dict]:
    return [e["resource"] for e in bundle["entry"]]


def _codes(resource: dict, key: str = "code") -> set[tuple[str, str]]:
    return {(c["system"], c["code"]) for c in resource.get(key, {}).get("coding", [])}


def test_the_bundle_validates_and_uses_the_documented_codes(db: Session, patient: User) -> None:
    bundle = patient_bundle(db, patient)
    get_fhir_model_class("Bundle").model_validate(bundle)
    resources = _resources(bundle)
    for r in resources:
        get_fhir_model_class(r["resourceType"]).model_validate(r)
    kinds = Counter(r["resourceType"] for r in resources)
    # 5 assessments + 1 pain report (the withdrawn one is not) + 2 sets
    assert kinds["Observation"] == 8 and kinds["Patient"] == 1 and kinds["CarePlan"] == 1
    assert kinds["MedicationAdministration"] == 2  # toxin and baclofen
    assert kinds["Procedure"] == 3  # the injection, e-stim, the splint
    assert kinds["Goal"] == 3  # the daily target and two profile goals
    by_id = {r["id"]: r for r in resources}
    mas, rom, pain = by_id["assessment-0"], by_id["assessment-2"], by_id["pain-0"]
    assert _codes(mas) == {(codes.LOCAL, "mas")}
    assert mas["valueCodeableConcept"]["coding"][0]["code"] == "1+"
    assert _codes(rom) == {(codes.SNOMED, "364564000")} and rom["valueQuantity"]["value"] == 135.5
    assert _codes(rom, "bodySite") == {(codes.SNOMED, "16953009")}
    [laterality] = rom["component"]
    assert _codes(laterality, "valueCodeableConcept") == {(codes.SNOMED, "7771000")}
    assert _codes(pain) == {(codes.LOINC, "72514-3")} and pain["valueInteger"] == 5
    assert pain["category"][0]["coding"][0]["code"] == "survey"
    assert mas["category"][0]["coding"][0]["code"] == "exam"
    procedures = {
        r["code"]["coding"][0]["code"]: r["code"]["text"]
        for r in resources
        if r["resourceType"] == "Procedure"
    }
    assert procedures == {
        "botulinum-toxin-injection": "botulinum toxin injection",
        "electrical_stimulation": "electrical stimulation",
        "splint": "resting hand splint",
    }
    assert _codes(by_id["assessment-3"]) == {(codes.LOINC, "72514-3")}
    tardieu = {
        c["code"]["coding"][0]["code"]: c
        for c in by_id["assessment-1"]["component"]
        if "valueQuantity" in c
    }
    assert tardieu["r1"]["valueQuantity"]["value"] == 80.0
    toxin = by_id["medication-0"]
    assert _codes(toxin, "medicationCodeableConcept") == {(codes.ATC, "M03AX01")}
    assert toxin["dosage"]["dose"]["value"] == 100.0
    assert by_id["set-0"]["valueQuantity"]["value"] == 4
    program = program_service.active_program(db, patient.id)
    assert program is not None
    assert len(by_id["careplan"]["activity"]) == len(program.items)
    assert by_id["goal-daily"]["target"][0]["detailQuantity"]["value"] == program.daily_rep_target
    patient_ref = by_id["careplan"]["subject"]["reference"]
    assert patient_ref == bundle["entry"][0]["fullUrl"] and patient_ref.startswith("urn:uuid:")


def _other_database(tmp_path: Path) -> Session:
    engine = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    migrate.upgrade(engine)
    return make_session_factory(engine)()


def test_import_reads_back_exactly_what_export_wrote(
    db: Session, patient: User, tmp_path: Path
) -> None:
    bundle = patient_bundle(db, patient)
    with _other_database(tmp_path) as other:
        result = import_bundle(other, copy.deepcopy(bundle))
        other.commit()
        assert result.counts == Counter(assessment=5, pain=1, set=2, therapy=4, program=1)
        again = patient_bundle(other, other.get_one(User, result.patient.id))
        imported_reps = other.query(Repetition).count()
    assert json.dumps(again, sort_keys=True) == json.dumps(bundle, sort_keys=True)
    assert imported_reps == 6


def test_import_refuses_what_it_cannot_read_and_keeps_nothing(
    db: Session, patient: User, tmp_path: Path
) -> None:
    bundle = patient_bundle(db, patient)
    broken = copy.deepcopy(bundle)
    broken["entry"][1]["resource"]["effectiveDateTime"] = "last Tuesday"
    two = copy.deepcopy(bundle)
    two["entry"].append(copy.deepcopy(bundle["entry"][0]))
    with _other_database(tmp_path) as other:
        with pytest.raises(FhirImportError, match="Not a FHIR Bundle"):
            import_bundle(other, {"resourceType": "Patient"})
        with pytest.raises(FhirImportError, match="not valid FHIR R4"):
            import_bundle(other, broken)
        with pytest.raises(FhirImportError, match="exactly one Patient"):
            import_bundle(other, two)
        other.rollback()
        import_bundle(other, copy.deepcopy(bundle))
        other.commit()
        with pytest.raises(FhirImportError, match="already exists"):
            import_bundle(other, copy.deepcopy(bundle))
        other.rollback()
        renamed = import_bundle(other, copy.deepcopy(bundle), username="pat-two")
        assert renamed.patient.username == "pat-two"


def test_resources_from_other_systems_are_skipped_not_guessed(
    db: Session, patient: User, tmp_path: Path
) -> None:
    bundle = patient_bundle(db, patient)
    foreign = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "weight"},
        "valueQuantity": {"value": 70, "unit": "kg"},
    }
    bundle["entry"].append(
        {"fullUrl": "urn:uuid:00000000-0000-0000-0000-000000000001", "resource": foreign}
    )
    with _other_database(tmp_path) as other:
        result = import_bundle(other, bundle)
    assert result.counts["skipped"] == 1 and result.counts["assessment"] == 5


def test_without_a_program_the_daily_goal_is_the_profiles_target(db: Session, world: World) -> None:
    p = give_profile(db, world.ids["patient_q"])
    p.profile.daily_rep_target = 222
    db.commit()
    by_id = {r["id"]: r for r in _resources(patient_bundle(db, p))}
    assert "careplan" not in by_id
    assert by_id["goal-daily"]["target"][0]["detailQuantity"]["value"] == 222
