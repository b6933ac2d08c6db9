"""The JSON API of the library, the program and progress, and ending sets with progression."""

from __future__ import annotations

from fastapi.testclient import TestClient

from support import World

PROFILE = {
    "affected_side": "left",
    "regions": {
        "shoulder": {"mas": "1", "active_movement": True},
        "elbow": {"mas": 1, "active_movement": True},
    },
    "can_sit_unsupported": True,
    "can_stand_safely": False,
    "goals": ["reach"],
}


def _setup_program(client: TestClient, world: World) -> tuple[str, dict]:
    base = f"/api/patients/{world.ids['patient_p']}"
    therapist = world.headers("therapist_a")
    assert client.put(base + "/profile", json=PROFILE, headers=therapist).status_code == 200
    response = client.post(base + "/program", headers=therapist)
    assert response.status_code == 201, response.text
    return base, response.json()


def test_library_list_filter_one_and_diagram(client: TestClient, world: World) -> None:
    headers = world.headers("patient_p")
    everything = client.get("/api/exercises", headers=headers).json()
    assert len(everything) == 51
    elbow = client.get("/api/exercises?region=elbow", headers=headers).json()
    assert elbow and all("elbow" in e["regions"] for e in elbow)
    one = client.get("/api/exercises/elbow_extension", headers=headers).json()
    assert one["name"] == "Straighten the elbow" and one["levels"][0]["target"] > 0
    assert one["diagram_url"] == "/api/exercises/elbow_extension/diagram.svg"
    svg = client.get(one["diagram_url"], headers=headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and "<title" in svg.text
    assert client.get("/api/exercises/nope", headers=headers).status_code == 404
    assert client.get("/api/exercises?region=nose", headers=headers).status_code == 422
    lying = "/api/exercises/bridging/diagram.svg?position=standing"
    assert client.get(lying, headers=headers).status_code == 422


def test_profile_put_validates_like_the_program(client: TestClient, world: World) -> None:
    url = f"/api/patients/{world.ids['patient_p']}/profile"
    therapist = world.headers("therapist_a")
    assert client.get(url, headers=therapist).json()["complete"] is False
    bad = {**PROFILE, "regions": {"elbow": {"mas": "5", "active_movement": True}}}
    response = client.put(url, json=bad, headers=therapist)
    assert response.status_code == 422
    assert ["body", "regions", "elbow", "mas"] in [e["loc"] for e in response.json()["detail"]]
    missing = {k: v for k, v in PROFILE.items() if k != "can_stand_safely"}
    response = client.put(url, json=missing, headers=therapist)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "can_stand_safely"]
    stored = client.put(url, json=PROFILE, headers=therapist).json()
    assert stored["complete"] is True and stored["regions"]["elbow"]["mas"] == "1"
    assert stored["equipment"] is None  # household defaults


def test_program_build_read_override_remove_add(client: TestClient, world: World) -> None:
    base = f"/api/patients/{world.ids['patient_p']}"
    therapist = world.headers("therapist_a")
    assert client.get(base + "/program", headers=therapist).status_code == 404
    assert client.post(base + "/program", headers=therapist).status_code == 409  # no profile yet
    base, program = _setup_program(client, world)
    assert program["active"] and program["items"] and program["reasons"]
    assert program["planned_reps"] == sum(i["total_reps"] for i in program["items"])
    read = client.get(base + "/program", headers=world.headers("caregiver_c")).json()
    assert read["id"] == program["id"]

    item = next(i for i in program["items"] if i["exercise_id"] == "elbow_flexion")
    url = f"{base}/program/items/{item['id']}"
    changed = client.patch(url, json={"sets": 2, "reason": "short day"}, headers=therapist)
    assert changed.status_code == 200, changed.text
    new = next(i for i in changed.json()["items"] if i["exercise_id"] == "elbow_flexion")
    assert new["sets"] == 2 and new["note"] == "short day"
    assert new["overridden_by_id"] == world.ids["therapist_a"]
    # The old item belongs to the previous program now.
    assert client.patch(url, json={"sets": 3, "reason": "x"}, headers=therapist).status_code == 404

    bad = client.patch(
        f"{base}/program/items/{new['id']}",
        json={"mode": "stretch", "reason": "x"},
        headers=therapist,
    )
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "mode"]
    assert (
        client.patch(
            f"{base}/program/items/{new['id']}", json={"sets": 2}, headers=therapist
        ).status_code
        == 422
    )

    removed = client.delete(f"{base}/program/items/{new['id']}?reason=sore", headers=therapist)
    assert removed.status_code == 200
    assert "elbow_flexion" not in {i["exercise_id"] for i in removed.json()["items"]}

    unknown = client.post(
        base + "/program/items",
        json={"exercise_id": "juggling", "reason": "fun"},
        headers=therapist,
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == [
        "body",
        "exercise_id",
    ]
    added = client.post(
        base + "/program/items",
        json={"exercise_id": "soft_ball_squeeze", "reason": "grip", "sets": 2},
        headers=therapist,
    )
    assert added.status_code == 201
    assert "soft_ball_squeeze" in {i["exercise_id"] for i in added.json()["items"]}

    rebuilt = client.post(
        base + "/program", json={"daily_rep_target": 150}, headers=therapist
    ).json()
    ids = {i["exercise_id"] for i in rebuilt["items"]}
    assert "soft_ball_squeeze" in ids and "elbow_flexion" not in ids
    assert rebuilt["daily_rep_target"] == 150
    # The answer shows the therapist's stored changes, which a rebuild keeps.
    stored = {(o["action"], o["exercise"]) for o in rebuilt["overrides"]["items"]}
    assert {("remove", "elbow_flexion"), ("add", "soft_ball_squeeze")} <= stored
    assert rebuilt["overrides"]["daily_rep_target"] == 150
    cleared = client.post(base + "/program", json={"overrides": []}, headers=therapist).json()
    assert "elbow_flexion" in {i["exercise_id"] for i in cleared["items"]}


def test_sets_must_name_a_library_exercise(client: TestClient, world: World) -> None:
    base = f"/api/patients/{world.ids['patient_p']}/sessions"
    headers = world.headers("patient_p")
    session_id = client.post(base, json={}, headers=headers).json()["id"]
    url = f"{base}/{session_id}/sets"
    cases = [
        ({"exercise_id": "elbow_flexion_extension", "side": "left"}, "exercise_id"),
        ({"exercise_id": "elbow_flexion", "side": "both"}, "side"),
        ({"exercise_id": "bridging", "side": "left"}, "side"),
        ({"exercise_id": "elbow_flexion", "side": "left", "mode": "stretch"}, "mode"),
        ({"exercise_id": "elbow_flexion", "side": "left", "level": 9}, "level"),
    ]
    for body, field in cases:
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422, body
        assert response.json()["detail"][0]["loc"] == ["body", field]
    ok = client.post(url, json={"exercise_id": "bridging", "side": "both"}, headers=headers)
    assert ok.status_code == 201


def test_ending_a_set_runs_the_progression_once(client: TestClient, world: World) -> None:
    base, _ = _setup_program(client, world)
    headers = world.headers("patient_p")
    session_id = client.post(base + "/sessions", json={}, headers=headers).json()["id"]
    sets_url = f"{base}/sessions/{session_id}/sets"
    set_id = client.post(
        sets_url, json={"exercise_id": "elbow_flexion", "side": "left"}, headers=headers
    ).json()["id"]
    reps = [
        {"start_s": 3.0 * i, "end_s": 3.0 * i + 2, "rom": 70.0, "rom_unit": "deg"} for i in range(8)
    ]
    client.post(f"{sets_url}/{set_id}/repetitions", json={"repetitions": reps}, headers=headers)
    first = client.post(f"{sets_url}/{set_id}/end", headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["result"]["success"] and body["result"]["reps_reached"] == 8
    assert body["events"][0]["kind"] == "set" and body["events"][0]["xp"] == 16
    again = client.post(f"{sets_url}/{set_id}/end", headers=headers).json()
    assert [e["id"] for e in again["events"]] == [e["id"] for e in body["events"]]
    progress = client.get(base + "/progress", headers=world.headers("caregiver_c")).json()
    assert progress["overall"]["xp"] == 16
    assert progress["today"]["reps"] == 8 and progress["today"]["target"] == 300
    assert progress["exercises"][0]["exercise_id"] == "elbow_flexion"
    assert progress["streak"]["current_days"] == 1
    assert progress["events"][0]["reason"]
    # Ending the session does not count the set again.
    ended = client.post(f"{base}/sessions/{session_id}/end", headers=headers).json()
    assert ended["events"] == []
    assert client.get(base + "/progress", headers=headers).json()["overall"]["xp"] == 16


def test_ending_a_session_finishes_open_sets(client: TestClient, world: World) -> None:
    base = f"/api/patients/{world.ids['patient_p']}"
    headers = world.headers("caregiver_c")
    session_id = client.post(base + "/sessions", json={}, headers=headers).json()["id"]
    sets_url = f"{base}/sessions/{session_id}/sets"
    set_id = client.post(
        sets_url, json={"exercise_id": "elbow_flexion", "side": "left"}, headers=headers
    ).json()["id"]
    reps = [{"start_s": 3.0 * i, "end_s": 3.0 * i + 2, "rom": 70.0} for i in range(8)]
    client.post(f"{sets_url}/{set_id}/repetitions", json={"repetitions": reps}, headers=headers)
    ended = client.post(f"{base}/sessions/{session_id}/end", headers=headers).json()
    assert ended["ended_at"] and ended["events"][0]["set_id"] == set_id
