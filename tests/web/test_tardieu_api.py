"""The catch-angle measurement API (POST /api/patients/{id}/tardieu): slow and fast stretches
as angles in, a Tardieu assessment stored (audited) with R1, R2 and the speeds; recordings
that cannot be analysed are refused with the reason and store nothing. Who may call it is in
tests/accounts/test_access_matrix.py (those who record for the patient).
"""

from __future__ import annotations

import copy
import statistics
from functools import cache
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.care.spastic_joint import SensorParams, simulate_case, simulate_stretch
from openrehab.store.models import Assessment, AuditLog
from support import World, tardieu_body


@cache
def _body(spastic: bool = True) -> dict[str, Any]:
    return tardieu_body(0, spastic=spastic)


def _truth_r1(seed: int = 0) -> float:
    case = simulate_case(seed, spastic=True, fast_velocity_deg_s=250, sensor=SensorParams())
    fast = [
        simulate_stretch(case.joint, v, seed=seed * 10 + k) for k, v in enumerate((230, 260, 290))
    ]
    return statistics.median(s.r1_deg for f in fast for s in f.stretches if s.r1_deg is not None)


def _post(client: TestClient, world: World, who: str, body: Any) -> Any:
    p = world.ids["patient_p"]
    return client.post(f"/api/patients/{p}/tardieu", json=body, headers=world.headers(who))


def _count(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Assessment)) or 0)


def test_a_measurement_is_analysed_and_stored_as_a_tardieu_assessment(
    client: TestClient, world: World, db: Session
) -> None:
    response = _post(client, world, "caregiver_c", _body())
    assert response.status_code == 201, response.text
    answer = response.json()
    analysis = answer["analysis"]
    assert analysis["catch_detected"] is True
    assert abs(analysis["r1_deg"] - _truth_r1()) <= 5
    db.expire_all()
    stored = db.get_one(Assessment, answer["id"])
    assert answer["assessment"]["id"] == stored.id
    assert (stored.kind, stored.region, stored.side) == ("tardieu", "elbow", "left")
    assert (stored.muscle, stored.method) == ("elbow flexors", "camera")
    assert stored.patient_id == world.ids["patient_p"]
    assert stored.assessor_id == world.ids["caregiver_c"]
    assert stored.r1_deg == analysis["r1_deg"] and stored.r2_deg == analysis["r2_deg"]
    details = stored.details
    assert details["velocity"] == "V3" and details["source"] == "sensor analysis"
    assert details["velocity_deg_s"] == pytest.approx(statistics.median(analysis["v_fast_deg_s"]))
    assert details["catch_detected"] is True
    assert details["quality_score"] == analysis["quality"]["score"]
    assert details["quality_issues"] == [i["code"] for i in analysis["quality"]["issues"]]
    assert [t["catch_angle_deg"] for t in details["trials"]] == [
        t["catch_angle_deg"] for t in analysis["trials"]
    ]
    assert len(details["trials"]) == 3
    assert stored.ordinal is None  # no X grade: that is the examiner's judgement
    [entry] = db.scalars(
        select(AuditLog).where(
            AuditLog.action == "assessment.add", AuditLog.target_id == str(stored.id)
        )
    ).all()
    assert entry.user_id == world.ids["caregiver_c"]
    # and the care page lists it in the reader's words
    listed = client.get(
        f"/api/patients/{world.ids['patient_p']}/assessments", headers=world.headers("patient_p")
    ).json()
    assert [a["id"] for a in listed if a["kind"] == "tardieu"] == [stored.id]


def test_no_catch_stores_no_r1(client: TestClient, world: World, db: Session) -> None:
    body = _body(spastic=False) | {"joint": "knee", "side": "right"}
    response = _post(client, world, "therapist_a", body)
    assert response.status_code == 201, response.text
    analysis = response.json()["analysis"]
    assert analysis["r1_deg"] is None and analysis["catch_detected"] is False
    stored = db.get_one(Assessment, response.json()["id"])
    assert stored.r1_deg is None and stored.r2_deg == analysis["r2_deg"]
    assert stored.details["catch_detected"] is False
    assert (stored.region, stored.side, stored.muscle) == ("knee", "right", "hamstrings")


def test_a_falling_angle_and_a_named_muscle(client: TestClient, world: World, db: Session) -> None:
    body = copy.deepcopy(_body())
    for series in [body["slow"], *body["fast"]]:
        series["angle_deg"] = [-a for a in series["angle_deg"]]
    body |= {"increasing": False, "muscle": "biceps brachii", "method": "sensor"}
    response = _post(client, world, "therapist_a", body)
    assert response.status_code == 201, response.text
    stored = db.get_one(Assessment, response.json()["id"])
    assert stored.r1_deg is not None and stored.r1_deg < 0
    assert abs(-stored.r1_deg - _truth_r1()) <= 5
    assert (stored.muscle, stored.method, stored.details["increasing"]) == (
        "biceps brachii",
        "sensor",
        False,
    )


def _flat(n: int = 100) -> dict[str, list[float]]:
    return {"t_s": [i / 50 for i in range(n)], "angle_deg": [40.0] * n}


def _bad_bodies() -> list[tuple[str, dict[str, Any], str | None]]:
    good = _body()
    slow = good["slow"]
    long = {"t_s": [i / 100 for i in range(6101)], "angle_deg": [10.0] * 6101}
    many = {"t_s": [i / 250 for i in range(12_001)], "angle_deg": [10.0] * 12_001}
    backwards = {"t_s": list(reversed(slow["t_s"])), "angle_deg": slow["angle_deg"]}
    return [
        ("no stretch", good | {"slow": _flat()}, "slow recording: no stretch found"),
        ("time goes back", good | {"fast": [backwards]}, "time must increase"),
        ("too few samples", good | {"slow": _flat(10)}, "only 10 samples"),
        ("lengths differ", good | {"slow": {"t_s": [0, 1], "angle_deg": [1]}}, None),
        ("over 60 s", good | {"slow": long}, None),
        ("over 12,000 samples", good | {"slow": many}, None),
        ("no fast trial", good | {"fast": []}, None),
        ("six fast trials", good | {"fast": good["fast"] * 2}, None),
        ("a true as a number", good | {"slow": {"t_s": [True] * 30, "angle_deg": [1] * 30}}, None),
        ("an angle out of range", good | {"slow": {"t_s": [0, 1], "angle_deg": [0, 720]}}, None),
        ("an unknown joint", good | {"joint": "hip"}, None),
        ("an unknown field", good | {"r1_deg": 80}, None),
    ]


@pytest.mark.parametrize(
    ("name", "body", "says"), _bad_bodies(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_bad_recordings_are_refused_and_nothing_is_stored(
    name: str, body: dict[str, Any], says: str | None, client: TestClient, world: World, db: Session
) -> None:
    before = _count(db)
    response = _post(client, world, "caregiver_c", body)
    assert response.status_code == 422, (name, response.text)
    if says is not None:
        assert says in response.json()["detail"][0]["msg"]
    assert _count(db) == before


def test_non_finite_numbers_are_refused(client: TestClient, world: World, db: Session) -> None:
    p = world.ids["patient_p"]
    text = (
        '{"joint": "elbow", "side": "left", "slow": {"t_s": [0, NaN], "angle_deg": [1, 2]},'
        ' "fast": [{"t_s": [0, 1], "angle_deg": [Infinity, 2]}]}'
    )
    headers = world.headers("caregiver_c") | {"content-type": "application/json"}
    response = client.post(f"/api/patients/{p}/tardieu", content=text, headers=headers)
    assert response.status_code == 422
    assert _count(db) == 0
