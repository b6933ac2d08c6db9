"""The program API's answers (web/routes/program.py): what a therapist's build and changes
store, how each item is described, and the reason given when a change cannot be made.

The therapist acts on these answers (a wrong exercise name, total or level would mislead the
plan); a change that is refused must say which field to correct.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.store.models import Program, User
from openrehab.web.routes import exercises as exercise_routes
from support import World, fresh_program, last_audit

REPS = [{"start_s": 3.0 * i, "end_s": 3.0 * i + 2, "rom": 70.0} for i in range(8)]


class Api:
    """The therapist of patient_p, on that patient's program."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client, self.headers = client, world.headers("therapist_a")
        self.base = f"/api/patients/{world.ids['patient_p']}/program"

    def send(self, method: str, path: str = "", body: Any = None, status: int = 200) -> Any:
        response = self.client.request(method, self.base + path, json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


@pytest.fixture
def api(client: TestClient, world: World) -> Api:
    return Api(client, world)


def test_without_a_program_or_profile_the_answer_says_what_to_do(api: Api) -> None:
    """Rule: no program yet is a 404 saying a therapist builds it; building without a complete
    profile is a 409 saying the profile comes first."""
    assert api.send("GET", status=404) == {
        "detail": "No program yet: a therapist builds it from the profile "
        "(POST /api/patients/{patient_id}/program)."
    }
    refused = api.send("POST", status=409)["detail"]
    assert refused.startswith("The clinical profile is not complete yet (")
    assert refused.endswith("); a therapist fills it in first.")


def test_a_build_is_signed_and_keeps_the_target_unless_a_new_one_is_given(
    api: Api, world: World, db: Session
) -> None:
    """Rule: a build by a therapist is created by them with the note "Built from the profile
    by <name>." (or the note given) and audited; the daily target changes only when one is
    sent, and is kept by a rebuild without it."""
    fresh_program(db, world.ids["patient_p"])
    therapist = db.get_one(User, world.ids["therapist_a"])
    built = api.send("POST", "", {"daily_rep_target": 150}, 201)
    assert (built["created_by_id"], built["note"], built["daily_rep_target"]) == (
        therapist.id,
        f"Built from the profile by {therapist.display_name}.",
        150,
    )
    assert last_audit(db, "program.build") == (therapist.id, "program", str(built["id"]), {})
    again = api.send("POST", "", {"note": "after the review"}, 201)
    assert (again["note"], again["daily_rep_target"], again["active"]) == (
        "after the review",
        150,
        True,
    )
    assert db.get_one(Program, built["id"]).active is False


def test_each_item_is_described_from_the_library(api: Api, world: World, db: Session) -> None:
    """Rule: each item carries its exercise's name, region and highest level from the library,
    and its total repetitions (sets x reps); the planned total is their sum."""
    fresh_program(db, world.ids["patient_p"])
    program = api.send("GET")
    library = load_library()
    for item in program["items"]:
        exercise = library.get(item["exercise_id"])
        assert (item["name"], item["region"], item["max_level"]) == (
            exercise.name,
            exercise.primary_region,
            exercise.max_level,
        )
        assert item["total_reps"] == item["sets"] * item["reps"]
    assert program["planned_reps"] == sum(item["total_reps"] for item in program["items"])
    assert program["patient_id"] == world.ids["patient_p"] and program["reasons"]


def test_item_changes_are_audited_with_their_reason(api: Api, world: World, db: Session) -> None:
    """Rule: a change, an addition and a removal of an item are each audited with the reason
    (the exercise, for an addition); a removal without a reason says "Removed by the
    therapist"."""
    program = fresh_program(db, world.ids["patient_p"])
    item_id = program.items[0].id
    changed = api.send("PATCH", f"/items/{item_id}", {"sets": 1, "reason": "tired"})
    assert last_audit(db, "program.item.change")[1:] == (
        "program_item",
        str(item_id),
        {"reason": "tired"},
    )
    added = api.send("POST", "/items", {"exercise_id": "toe_curls", "reason": "cramps"}, 201)
    assert last_audit(db, "program.item.add")[1:] == (
        "program",
        str(added["id"]),
        {"exercise": "toe_curls"},
    )
    assert changed["id"] != program.id, "a change makes a new program"
    last = added["items"][-1]["id"]
    removed = api.send("DELETE", f"/items/{last}")
    assert last_audit(db, "program.item.remove")[1:] == (
        "program_item",
        str(last),
        {"reason": "Removed by the therapist"},
    )
    assert last not in [item["id"] for item in removed["items"]]


def test_a_change_that_cannot_be_made_names_the_field(api: Api, world: World, db: Session) -> None:
    """Rule: an item not in the current program is a 404 saying it may have been rebuilt; a
    change without any change is a 422 about the body; a refused addition names its field."""
    program = fresh_program(db, world.ids["patient_p"])
    item = program.items[0]
    for method, body in (("PATCH", {"sets": 2, "reason": "x"}), ("DELETE", None)):
        missing = api.send(method, "/items/999999", body, 404)
        assert missing == {
            "detail": "No item 999999 in this patient's current program (it may have been "
            "rebuilt; reload it)."
        }
    nothing = api.send("PATCH", f"/items/{item.id}", {"reason": "x"}, 422)
    assert nothing["detail"] == [
        {
            "loc": ["body"],
            "msg": "Nothing to change: give mode, side, sets, reps, level or rest_s",
            "type": "value_error",
        }
    ]
    body = {"exercise_id": item.exercise_id, "side": item.side, "reason": "again"}
    twice = api.send("POST", "/items", body, 422)["detail"][0]
    assert twice["loc"] == ["body", "exercise_id"] and "already in the program" in twice["msg"]
    override = {"overrides": [{"action": "remove", "exercise": "juggling"}]}
    assert api.send("POST", "", override, 422)["detail"] == [
        {
            "loc": ["body", "overrides[0]", "exercise"],
            "msg": "unknown exercise 'juggling' (see GET /api/exercises)",
            "type": "value_error",
        }
    ]


def test_progress_lists_as_many_events_as_asked(
    client: TestClient, world: World, db: Session
) -> None:
    """Rule: the progress overview lists the latest ``events`` events (20 by default)."""
    url = f"/api/patients/{world.ids['patient_p']}/progress"
    headers = world.headers("patient_p")
    base = f"/api/patients/{world.ids['patient_p']}/sessions"
    session_id = client.post(base, json={}, headers=headers).json()["id"]
    for _ in range(3):
        body = {"exercise_id": "elbow_flexion", "side": "left"}
        set_id = client.post(f"{base}/{session_id}/sets", json=body, headers=headers).json()["id"]
        sets = f"{base}/{session_id}/sets/{set_id}"
        client.post(f"{sets}/repetitions", json={"repetitions": REPS}, headers=headers)
        client.post(f"{sets}/end", headers=headers)
    every = client.get(url, headers=headers).json()["events"]
    assert len(every) >= 3
    assert len(client.get(url + "?events=2", headers=headers).json()["events"]) == 2
    assert client.get(url + "?events=0", headers=headers).json()["events"] == []


# --- the exercise library ---------------------------------------------------------------------
def test_the_library_api_filters_by_region_and_names_what_is_missing(
    client: TestClient, world: World
) -> None:
    """Rule: ``region`` keeps exactly the library's exercises for that region, in library
    order, each pointing to its own diagram; an unknown id is a 404 naming it; a diagram in a
    position the exercise is not done in is a 422 saying the positions it is done in."""
    headers = world.headers("caregiver_c")
    library = load_library()
    exercise_routes._bodies.clear()  # bodies built by this test, not cached by an earlier one
    for region in ("elbow", "functional"):
        listed = client.get("/api/exercises", params={"region": region}, headers=headers).json()
        assert [e["id"] for e in listed] == [e.id for e in library.by_region(region)]
        assert {e["diagram_url"] for e in listed} == {
            f"/api/exercises/{e['id']}/diagram.svg" for e in listed
        }
    missing = client.get("/api/exercises/juggling", headers=headers)
    assert missing.json() == {"detail": "No exercise 'juggling' in the library."}
    assert client.get("/api/exercises/juggling/diagram.svg", headers=headers).status_code == 404
    standing = client.get(
        "/api/exercises/bridging/diagram.svg", params={"position": "standing"}, headers=headers
    )
    assert standing.status_code == 422 and standing.json()["detail"] == [
        {"loc": ["query", "position"], "msg": "Bridge is done lying", "type": "value_error"}
    ]
    lying = client.get(
        "/api/exercises/bridging/diagram.svg", params={"position": "lying"}, headers=headers
    )
    assert lying.status_code == 200 and lying.text.startswith("<svg")
    assert lying.headers["cache-control"] == "private, max-age=3600"
