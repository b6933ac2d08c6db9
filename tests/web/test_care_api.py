"""Spasticity care through the API: what a pain report answers and changes, undoing a
mis-tap, therapies checked before they are stored, symptoms, alerts in the reader's words.

Each test uses a fresh database (SQLite, and PostgreSQL when configured).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.clock import local_date
from openrehab.services.clinical import PAIN_UNDO_WINDOW
from openrehab.store import records
from openrehab.store.models import (
    Assessment,
    AuditLog,
    ExerciseSet,
    PainReport,
    PatientProfile,
    Program,
    SymptomReport,
    TherapyEvent,
)
from support import World, fresh_program


def _post(client: TestClient, world: World, who: str, path: str, body: Any) -> Any:
    p = world.ids["patient_p"]
    return client.post(f"/api/patients/{p}/{path}", json=body, headers=world.headers(who))


def _profile(db: Session, world: World) -> PatientProfile:
    db.expire_all()
    return db.scalars(
        select(PatientProfile).where(PatientProfile.user_id == world.ids["patient_p"])
    ).one()


# --- pain ----------------------------------------------------------------------------------
PAIN_ANSWERS = [(0, False, False), (3, False, False), (4, True, False)]
PAIN_ANSWERS += [(6, True, False), (7, True, True), (10, True, True)]


@pytest.mark.parametrize(("nrs", "stop_set", "stop_today"), PAIN_ANSWERS)
def test_a_pain_report_says_what_to_do_now_and_becomes_the_current_pain(
    nrs: int, stop_set: bool, stop_today: bool, client: TestClient, world: World, db: Session
) -> None:
    """Rule S1: pain 4 or more stops the set and lists when to get urgent help; 7 or more
    stops for the day. The answer is in plain words, and becomes the profile's current pain."""
    response = _post(client, world, "patient_p", "pain-reports", {"nrs": nrs})
    assert response.status_code == 201, response.text
    body = response.json()
    advice = body["advice"]
    assert (advice["stop_set"], advice["stop_today"]) == (stop_set, stop_today)
    assert advice["headline"] and (advice["steps"] or nrs < 4)
    assert bool(advice["urgent_signs"]) == (nrs >= 4)
    assert "NRS" not in advice["headline"] + " ".join(advice["steps"])
    assert _profile(db, world).pain_nrs == nrs
    stored = db.get_one(PainReport, body["id"])
    assert (stored.nrs, stored.profile_nrs_before, stored.withdrawn_at) == (nrs, None, None)


def test_pain_two_above_the_sessions_start_stops_the_set_and_one_above_does_not(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule S1: in a session that started at pain 1, a 2 goes on and a 3 stops the set."""
    session_id = records.start_session(db, world.ids["patient_p"]).id
    db.commit()
    answers = [
        _post(client, world, "patient_p", "pain-reports", {"nrs": n, "session_id": session_id})
        for n in (1, 2, 3)
    ]
    assert [a.json()["advice"]["stop_set"] for a in answers] == [False, False, True]


def test_a_caregivers_pain_answer_speaks_of_the_patient_by_name(
    client: TestClient, world: World
) -> None:
    """Rule: caregivers and therapists are answered in the third person."""
    answer = _post(client, world, "caregiver_c", "pain-reports", {"nrs": 5}).json()["advice"]
    words = answer["headline"] + " " + " ".join(answer["steps"])
    assert "patient-p" in words  # the display name of patient_p
    own = _post(client, world, "patient_p", "pain-reports", {"nrs": 5}).json()["advice"]
    assert "patient-p" not in own["headline"] + " ".join(own["steps"])


def test_moderate_pain_rebuilds_the_program_with_half_the_daily_target(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule R8 fed by the pain report: moving into moderate pain rebuilds the program with the
    daily target halved; staying in the same band does not rebuild it again."""
    p = world.ids["patient_p"]
    before = fresh_program(db, p).daily_rep_target
    first = _post(client, world, "patient_p", "pain-reports", {"nrs": 5}).json()
    again = _post(client, world, "patient_p", "pain-reports", {"nrs": 6}).json()
    db.expire_all()
    active = db.scalars(select(Program).where(Program.patient_id == p, Program.active)).one()
    assert (first["program_rebuilt"], again["program_rebuilt"]) == (True, False)
    assert active.daily_rep_target == before // 2


def test_the_reporter_can_undo_a_pain_tap_within_a_minute_and_the_old_pain_returns(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule: a mis-tap can be undone for a minute by whoever tapped it; the report is kept,
    marked withdrawn and audited, and the profile's pain goes back to what it was."""
    _post(client, world, "patient_p", "pain-reports", {"nrs": 2})
    made = _post(client, world, "patient_p", "pain-reports", {"nrs": 9}).json()
    assert _profile(db, world).pain_nrs == 9
    undo = _post(client, world, "patient_p", f"pain-reports/{made['id']}/undo", None)
    assert undo.status_code == 200, undo.text
    assert undo.json()["withdrawn_at"] is not None
    assert _profile(db, world).pain_nrs == 2
    again = _post(client, world, "patient_p", f"pain-reports/{made['id']}/undo", None)
    assert again.status_code == 200, "undoing twice is harmless"
    actions = db.scalars(
        select(AuditLog.action).where(
            AuditLog.target_type == "pain_report", AuditLog.target_id == str(made["id"])
        )
    )
    assert sorted(actions) == ["pain.report", "pain.withdraw"]


def test_a_pain_tap_older_than_a_minute_or_by_someone_else_cannot_be_undone(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule: undo is the reporter's, for one minute: another person gets 403, a report a
    minute and a second old 409, and the report stays counted."""
    made = _post(client, world, "patient_p", "pain-reports", {"nrs": 8}).json()
    other = _post(client, world, "caregiver_c", f"pain-reports/{made['id']}/undo", None)
    assert other.status_code == 403
    report = db.get_one(PainReport, made["id"])
    report.reported_at = report.reported_at - PAIN_UNDO_WINDOW - timedelta(seconds=1)
    db.commit()
    late = _post(client, world, "patient_p", f"pain-reports/{made['id']}/undo", None)
    assert late.status_code == 409 and "minute" in late.json()["detail"]
    db.expire_all()
    assert db.get_one(PainReport, made["id"]).withdrawn_at is None
    assert _profile(db, world).pain_nrs == 8


def test_a_pain_report_of_another_patient_cannot_be_undone_through_ones_own_address(
    client: TestClient, world: World
) -> None:
    q = world.ids["patient_q"]
    made = client.post(
        f"/api/patients/{q}/pain-reports", json={"nrs": 5}, headers=world.headers("patient_q")
    ).json()
    response = _post(client, world, "patient_p", f"pain-reports/{made['id']}/undo", None)
    assert response.status_code == 404


# --- assessments ---------------------------------------------------------------------------
def test_a_mas_grade_is_stored_with_its_ordinal_code_never_as_a_number(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule: MAS grades are ordinal codes 0..5 (0, 1, 1+, 2, 3, 4): 1+ is code 2, not 1.5."""
    codes = {}
    for grade in ("0", "1", "1+", "2", "3", "4"):
        body = {"kind": "mas", "region": "elbow", "side": "left", "value": grade}
        body |= {"muscle": "elbow flexors", "method": "manual"}
        made = _post(client, world, "therapist_a", "assessments", body)
        assert made.status_code == 201, made.text
        stored = db.get_one(Assessment, made.json()["id"])
        codes[grade] = (stored.value, stored.ordinal, stored.muscle, stored.method)
    assert codes == {
        g: (g, i, "elbow flexors", "manual") for i, g in enumerate(("0", "1", "1+", "2", "3", "4"))
    }


def test_a_tardieu_assessment_keeps_velocity_quality_and_angles(
    client: TestClient, world: World, db: Session
) -> None:
    body = {"kind": "tardieu", "region": "elbow", "side": "left", "r1_deg": 95, "r2_deg": 150}
    body |= {"velocity": "V3", "quality_x": 2, "velocity_deg_s": 310.5}
    made = _post(client, world, "therapist_a", "assessments", body).json()
    stored = db.get_one(Assessment, made["id"])
    assert (stored.r1_deg, stored.r2_deg, stored.ordinal) == (95, 150, 2)
    assert stored.details == {"velocity": "V3", "quality_x": 2, "velocity_deg_s": 310.5}


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"kind": "rom"}, "rom_deg"),
        ({"kind": "pain"}, "nrs"),
        ({"kind": "tardieu"}, "r1_deg"),
        ({"kind": "mas", "value": "1.5"}, "grade"),
        ({"kind": "rom", "rom_deg": 90, "value": "90"}, "value"),
    ],
)
def test_an_assessment_missing_what_its_kind_needs_is_refused_and_not_stored(
    body: dict[str, Any], reason: str, client: TestClient, world: World, db: Session
) -> None:
    response = _post(
        client, world, "therapist_a", "assessments", {"region": "elbow", "side": "left", **body}
    )
    assert response.status_code == 422 and reason in response.text
    assert db.scalars(select(Assessment)).all() == []


# --- therapies -----------------------------------------------------------------------------
def _set_conditions(db: Session, world: World, conditions: list[str]) -> None:
    profile = _profile(db, world)
    profile.conditions = conditions
    db.commit()


def test_electrical_stimulation_with_a_pacemaker_is_refused_with_its_reason(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule: a demand pacemaker contraindicates electrical stimulation anywhere: refused
    (409, naming it) and nothing stored; without it the same session is stored."""
    body = {"kind": "electrical_stimulation", "started_on": "2026-12-01", "site": "forearm"}
    _set_conditions(db, world, ["pacemaker"])
    refused = _post(client, world, "therapist_a", "therapy-events", body)
    assert refused.status_code == 409 and "pacemaker" in refused.json()["detail"]
    assert db.scalars(select(TherapyEvent)).all() == []
    _set_conditions(db, world, [])
    made = _post(client, world, "therapist_a", "therapy-events", body)
    assert made.status_code == 201 and made.json()["warnings"] == []


def test_electrical_stimulation_with_epilepsy_is_stored_with_a_precaution(
    client: TestClient, world: World
) -> None:
    body = {"kind": "electrical_stimulation", "started_on": "2026-12-01", "site": "forearm"}
    body["conditions"] = ["epilepsy"]
    made = _post(client, world, "therapist_a", "therapy-events", body)
    assert made.status_code == 201, made.text
    assert any("epilep" in w.lower() for w in made.json()["warnings"])


@pytest.mark.parametrize(("site", "allowed"), [("abdomen", False), ("forearm", True)])
def test_pregnancy_contraindicates_stimulation_at_the_abdomen_not_the_forearm(
    site: str, allowed: bool, client: TestClient, world: World
) -> None:
    body = {"kind": "electrical_stimulation", "started_on": "2026-12-01", "site": site}
    made = _post(client, world, "therapist_a", "therapy-events", body | {"pregnant": True})
    assert made.status_code == (201 if allowed else 409)


def test_an_injection_needs_muscles_and_units(client: TestClient, world: World) -> None:
    body = {"kind": "botulinum_toxin", "started_on": "2026-12-01"}
    assert _post(client, world, "therapist_a", "therapy-events", body).status_code == 422
    body |= {"muscles": ["biceps brachii"], "units": 100}
    assert _post(client, world, "therapist_a", "therapy-events", body).status_code == 201


@pytest.mark.parametrize(("days", "warned"), [(83, True), (84, False)])
def test_a_reinjection_sooner_than_12_weeks_is_stored_with_a_warning(
    days: int, warned: bool, client: TestClient, world: World, db: Session
) -> None:
    """Rule: no re-injection sooner than 12 weeks (84 days); it is recorded (it happened) but
    the therapist is warned; at exactly 12 weeks there is no warning."""
    first = local_date() - timedelta(days=days)
    body = {"kind": "botulinum_toxin", "muscles": ["soleus"], "units": 200}
    _post(client, world, "therapist_a", "therapy-events", body | {"started_on": str(first)})
    second = _post(
        client, world, "therapist_a", "therapy-events", body | {"started_on": str(local_date())}
    )
    assert second.status_code == 201
    assert bool(second.json()["warnings"]) == warned
    assert len(db.scalars(select(TherapyEvent)).all()) == 2


# --- symptoms and alerts -------------------------------------------------------------------
def test_trouble_swallowing_after_an_injection_is_an_urgent_alert_for_everyone(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule: a symptom of distant toxin spread after an injection is urgent: the reporter is
    told to get help now, and the alert tops the patient's and the therapist's lists."""
    injected = str(local_date() - timedelta(days=10))
    _post(
        client,
        world,
        "therapist_a",
        "therapy-events",
        {"kind": "botulinum_toxin", "started_on": injected, "muscles": ["soleus"], "units": 150},
    )
    made = _post(
        client,
        world,
        "caregiver_c",
        "symptom-reports",
        {"about": "botulinum_toxin", "symptoms": ["swallowing"]},
    )
    assert made.status_code == 201, made.text
    assert made.json()["urgent"] is True and made.json()["message"]
    assert db.get_one(SymptomReport, made.json()["id"]).symptoms == ["swallowing"]
    p = world.ids["patient_p"]
    own = client.get(f"/api/patients/{p}/alerts", headers=world.headers("patient_p")).json()
    theirs = client.get("/api/alerts", headers=world.headers("therapist_a")).json()
    assert own[0]["kind"] == "toxin_spread" and own[0]["severity"] == "urgent"
    assert theirs[0]["kind"] == "toxin_spread" and theirs[0]["patient_id"] == p
    assert own[0]["text"] != theirs[0]["text"], "plain words for the patient, clinical for staff"
    other = client.get("/api/alerts", headers=world.headers("therapist_b")).json()
    assert all(row["patient_id"] != p for row in other)


def test_an_unknown_symptom_is_refused_and_not_stored(
    client: TestClient, world: World, db: Session
) -> None:
    made = _post(
        client,
        world,
        "patient_p",
        "symptom-reports",
        {"about": "botulinum_toxin", "symptoms": ["x"]},
    )
    assert made.status_code == 422
    assert db.scalars(select(SymptomReport)).all() == []


def test_moderate_pain_reaches_the_therapists_alerts_and_an_undone_tap_does_not(
    client: TestClient, world: World
) -> None:
    p = world.ids["patient_p"]
    made = _post(client, world, "patient_p", "pain-reports", {"nrs": 6}).json()
    alerts = client.get("/api/alerts", headers=world.headers("therapist_a")).json()
    assert [(a["patient_id"], a["kind"]) for a in alerts if a["kind"].startswith("pain")] == [
        (p, "pain_report")
    ]
    _post(client, world, "patient_p", f"pain-reports/{made['id']}/undo", None)
    alerts = client.get("/api/alerts", headers=world.headers("therapist_a")).json()
    assert not [a for a in alerts if a["kind"].startswith("pain")]


def test_severe_pain_stays_on_the_therapists_list_after_a_lower_score(
    client: TestClient, world: World
) -> None:
    """Rules S1/S5: an 8 followed ten minutes later by a 3 still reaches the therapist today
    (the worst report of the last two days counts, not the latest)."""
    for nrs in (8, 3):
        _post(client, world, "patient_p", "pain-reports", {"nrs": nrs})
    alerts = client.get("/api/alerts", headers=world.headers("therapist_a")).json()
    assert [(a["kind"], a["severity"]) for a in alerts if a["kind"].startswith("pain")] == [
        ("pain_report", "urgent")
    ]
    assert "8/10" in alerts[0]["text"]


def test_a_rise_of_two_over_the_answer_before_the_session_stops_and_is_judged_pain(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule S1 means the same when the pain is tapped and when the set is judged: 1 before
    the session (no session yet), 3 during a set: "stop", and the set counts as pain."""
    from openrehab.services import progress as progress_service
    from openrehab.store.models import ExerciseSet

    _post(client, world, "patient_p", "pain-reports", {"nrs": 1})
    session = records.start_session(db, world.ids["patient_p"])
    exercise_set = records.start_set(
        db, session, exercise_id="elbow_flexion", side="left", mode="active"
    )
    db.commit()
    during = _post(client, world, "patient_p", "pain-reports", {"nrs": 3, "session_id": session.id})
    assert during.json()["advice"]["stop_set"] is True
    stored = db.get_one(ExerciseSet, exercise_set.id)
    records.end_set(db, stored)
    progress_service.finish_set(db, stored)
    db.commit()
    db.expire_all()
    assert db.get_one(ExerciseSet, exercise_set.id).pain_reported is True


def test_spread_symptoms_with_no_injection_on_record_are_still_urgent(
    client: TestClient, world: World
) -> None:
    made = _post(
        client,
        world,
        "caregiver_c",
        "symptom-reports",
        {"about": "botulinum_toxin", "symptoms": ["breathing"]},
    ).json()
    assert made["urgent"] is True
    assert (
        made["message"] == "Get urgent medical help for patient-p now: call your emergency number."
    )


def test_a_caregiver_reads_what_the_patient_was_told(client: TestClient, world: World) -> None:
    _post(client, world, "patient_p", "pain-reports", {"nrs": 5})
    p = world.ids["patient_p"]
    [alert] = client.get(f"/api/patients/{p}/alerts", headers=world.headers("caregiver_c")).json()
    assert alert["text"].startswith("What patient-p was told: ")


def test_an_unknown_stimulation_site_is_refused_not_a_server_error(
    client: TestClient, world: World, db: Session
) -> None:
    body = {"kind": "electrical_stimulation", "started_on": "2026-12-01", "site": "elbow"}
    response = _post(client, world, "therapist_a", "therapy-events", body)
    assert response.status_code == 422 and "site" in response.text
    assert db.scalars(select(TherapyEvent)).all() == []


def test_undoing_a_tap_keeps_a_later_score_as_the_current_pain(
    client: TestClient, world: World, db: Session
) -> None:
    """Undo restores the profile's pain only when nothing was reported since: 3, then 5 and
    5 again, then undo the first 5: the current pain stays 5 (the later report), not 3. The
    undo is audited with its patient."""
    _post(client, world, "patient_p", "pain-reports", {"nrs": 3})
    first = _post(client, world, "patient_p", "pain-reports", {"nrs": 5}).json()
    _post(client, world, "patient_p", "pain-reports", {"nrs": 5})
    assert _post(client, world, "patient_p", f"pain-reports/{first['id']}/undo", None).is_success
    assert _profile(db, world).pain_nrs == 5
    detail = db.scalars(
        select(AuditLog.detail).where(
            AuditLog.action == "pain.withdraw", AuditLog.target_id == str(first["id"])
        )
    ).one()
    assert detail == {"patient": world.ids["patient_p"]}


def test_a_mis_tap_undone_and_answered_again_judges_the_set_again(
    client: TestClient, world: World, db: Session
) -> None:
    """Through the API as the live page uses it: a set with 8 good reps, pain 6 during it, the
    set ends (judged: stopped for pain), the tap is undone (the judgement stands meanwhile)
    and answered again with 2. That answer lists the set with its new events (no pain
    judgement) and the stored set is no longer marked painful; a later score changes nothing."""
    base = "sessions"
    session = _post(client, world, "patient_p", base, {"source": "manual"}).json()
    body = {"exercise_id": "elbow_flexion", "side": "left"}
    set_id = _post(client, world, "patient_p", f"{base}/{session['id']}/sets", body).json()["id"]
    good = {"rom": 120.0, "rom_unit": "deg"}
    reps = [{"start_s": 3.0 * i, "end_s": 3.0 * i + 2, **good} for i in range(8)]
    path = f"{base}/{session['id']}/sets/{set_id}"
    added = _post(client, world, "patient_p", f"{path}/repetitions", {"repetitions": reps})
    assert added.status_code == 201, added.text
    pain = {"nrs": 6, "session_id": session["id"]}
    tap = _post(client, world, "patient_p", "pain-reports", pain).json()
    assert tap["sets_judged_again"] == []
    ended = _post(client, world, "patient_p", f"{path}/end", None).json()
    assert "pain" in [e["kind"] for e in ended["events"]]
    undone = _post(client, world, "patient_p", f"pain-reports/{tap['id']}/undo", None)
    assert undone.status_code == 200 and "sets_judged_again" not in undone.json()
    db.expire_all()
    stored = db.get(ExerciseSet, set_id)
    assert stored is not None and stored.pain_reported is True
    again = _post(client, world, "patient_p", "pain-reports", {**pain, "nrs": 2}).json()
    [judged] = again["sets_judged_again"]
    assert judged["set_id"] == set_id
    kinds = [e["kind"] for e in judged["events"]]
    assert kinds[0] == "set" and "pain" not in kinds
    assert judged["events"][0]["reason"].startswith("+") and judged["events"][0]["xp"] > 0
    assert {e["set_id"] for e in judged["events"]} == {set_id}
    db.expire_all()
    stored = db.get(ExerciseSet, set_id)
    assert stored is not None and stored.pain_reported is False
    later = _post(client, world, "patient_p", "pain-reports", {**pain, "nrs": 1}).json()
    assert later["sets_judged_again"] == []
