"""Concurrent writes about one patient lose nothing and store nothing twice (SQLite and
PostgreSQL): program edits, repetitions from several senders, sets ended together."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openrehab.store.models import AuditLog, Program, Repetition
from support import World

PROFILE = {
    "affected_side": "left",
    "regions": {
        "shoulder": {"mas": "1", "active_movement": True},
        "elbow": {"mas": "1", "active_movement": True},
        "wrist": {"mas": "1", "active_movement": True},
        "hand": {"mas": "1", "active_movement": True},
        "forearm": {"mas": "1", "active_movement": True},
    },
    "can_sit_unsupported": True,
    "can_stand_safely": False,
    "hand_function": "fine",
}
UPPER_LIMB = [
    "shoulder_abduction",
    "shoulder_external_rotation",
    "shoulder_flexion_active",
    "elbow_extension",
    "elbow_flexion",
    "hand_to_mouth",
    "forearm_pronation",
    "forearm_supination",
    "finger_extension_release",
    "finger_flexion_grip",
    "thumb_opposition",
    "pinch_thumb_index",
    "finger_tapping",
]


def in_parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(call) for call in calls]]


def _program(client: TestClient, world: World) -> tuple[str, dict[str, Any]]:
    base = f"/api/patients/{world.ids['patient_p']}"
    therapist = world.headers("therapist_a")
    assert client.put(base + "/profile", json=PROFILE, headers=therapist).status_code == 200
    built = client.post(base + "/program", headers=therapist)
    assert built.status_code == 201, built.text
    return base, built.json()


def test_parallel_item_additions_all_survive(client: TestClient, world: World, db: Session) -> None:
    base, program = _program(client, world)
    present = {item["exercise_id"] for item in program["items"]}
    candidates = [e for e in UPPER_LIMB if e not in present][:10]
    assert len(candidates) >= 6, present
    therapist = world.headers("therapist_a")

    def add(exercise_id: str) -> Callable[[], Any]:
        body = {"exercise_id": exercise_id, "reason": "more practice", "side": "left"}
        return lambda: client.post(base + "/program/items", json=body, headers=therapist)

    responses = in_parallel([add(e) for e in candidates])
    added = [e for e, r in zip(candidates, responses, strict=True) if r.status_code == 201]
    assert len(added) == len(candidates), [r.text for r in responses if r.status_code != 201]
    final = client.get(base + "/program", headers=therapist).json()
    assert set(added) <= {item["exercise_id"] for item in final["items"]}
    active = db.scalar(
        select(func.count(Program.id)).where(
            Program.patient_id == world.ids["patient_p"], Program.active.is_(True)
        )
    )
    assert active == 1


def test_parallel_rebuilds_leave_one_active_program(
    client: TestClient, world: World, db: Session
) -> None:
    base, _ = _program(client, world)
    therapist = world.headers("therapist_a")
    responses = in_parallel(
        [lambda: client.post(base + "/program", headers=therapist) for _ in range(8)]
    )
    assert [r.status_code for r in responses] == [201] * 8
    active = db.scalars(
        select(Program.id).where(
            Program.patient_id == world.ids["patient_p"], Program.active.is_(True)
        )
    ).all()
    assert len(active) == 1
    assert client.get(base + "/program", headers=therapist).json()["id"] == active[0]


def _open_set(client: TestClient, base: str, headers: dict[str, str]) -> str:
    session_id = client.post(base + "/sessions", json={}, headers=headers).json()["id"]
    created = client.post(
        f"{base}/sessions/{session_id}/sets",
        json={"exercise_id": "elbow_flexion", "side": "left"},
        headers=headers,
    )
    assert created.status_code == 201, created.text
    return f"{base}/sessions/{session_id}/sets/{created.json()['id']}"


def test_parallel_repetitions_are_all_stored_in_order(
    client: TestClient, world: World, db: Session
) -> None:
    base = f"/api/patients/{world.ids['patient_p']}"
    headers = world.headers("patient_p")
    set_url = _open_set(client, base, headers)

    def post(i: int) -> Callable[[], Any]:
        rep = {"start_s": 2.0 * i, "end_s": 2.0 * i + 1.5, "client_id": f"rep-{i}"}
        return lambda: client.post(
            set_url + "/repetitions", json={"repetitions": [rep]}, headers=headers
        )

    responses = in_parallel([post(i) for i in range(30)])
    assert [r.status_code for r in responses] == [201] * 30
    stored = client.get(set_url + "/repetitions", headers=headers).json()
    assert sorted(r["index"] for r in stored) == list(range(30))
    assert sorted(r["client_id"] for r in stored) == sorted(f"rep-{i}" for i in range(30))
    audited = db.scalar(select(func.count(AuditLog.id)).where(AuditLog.action == "repetitions.add"))
    assert audited == 30


def test_a_retried_repetition_is_stored_once(client: TestClient, world: World, db: Session) -> None:
    base = f"/api/patients/{world.ids['patient_p']}"
    headers = world.headers("patient_p")
    set_url = _open_set(client, base, headers)
    rep = {"start_s": 0.0, "end_s": 1.5, "rom": 60.0, "client_id": "7d1c-a"}
    first = client.post(set_url + "/repetitions", json={"repetitions": [rep]}, headers=headers)
    again = in_parallel(
        [
            lambda: client.post(
                set_url + "/repetitions", json={"repetitions": [rep]}, headers=headers
            )
            for _ in range(5)
        ]
    )
    assert first.status_code == 201 and all(r.status_code == 201 for r in again)
    assert {r.json()[0]["id"] for r in again} == {first.json()[0]["id"]}
    # A batch holding a stored rep and a new one stores only the new one.
    new = {"start_s": 2.0, "end_s": 3.5, "client_id": "7d1c-b"}
    both = client.post(set_url + "/repetitions", json={"repetitions": [rep, new]}, headers=headers)
    assert [r["index"] for r in both.json()] == [0, 1]
    assert db.scalar(select(func.count(Repetition.id))) == 2


def test_two_sets_ended_together_both_earn_xp(client: TestClient, world: World) -> None:
    base, _ = _program(client, world)
    headers = world.headers("patient_p")
    set_urls = [_open_set(client, base, headers) for _ in range(2)]
    reps = [{"start_s": 3.0 * i, "end_s": 3.0 * i + 2, "rom": 70.0} for i in range(8)]
    for url in set_urls:
        client.post(url + "/repetitions", json={"repetitions": reps}, headers=headers)
    ended = in_parallel([lambda u=u: client.post(u + "/end", headers=headers) for u in set_urls])
    earned = sum(e["xp"] for r in ended for e in r.json()["events"] if e["kind"] == "set")
    assert earned == 32
    progress = client.get(base + "/progress", headers=headers).json()
    assert progress["overall"]["xp"] == earned
    elbow = [e for e in progress["exercises"] if e["exercise_id"] == "elbow_flexion"]
    assert elbow[0]["xp"] == earned and elbow[0]["sets_done"] == 2
