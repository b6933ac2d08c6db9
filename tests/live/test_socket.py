"""The live WebSocket end to end (in-process): counting, storage, errors, access."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from live_support import exchange, frame_batches, of_type, start_msg, stream
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.websockets import WebSocketDisconnect

from openrehab.store.models import AuditLog, ExerciseSession, ExerciseSet, Repetition
from support import World


def url(world: World, patient: str = "patient_p") -> str:
    return f"/api/patients/{world.ids[patient]}/live"


def stored_reps(db: Session, set_id: int) -> list[Repetition]:
    db.expire_all()
    return list(
        db.scalars(select(Repetition).where(Repetition.set_id == set_id).order_by(Repetition.index))
    )


def run_set(ws: Any, exercise_id: str, reps: int = 5, **start: Any) -> list[dict[str, Any]]:
    ready = exchange(ws, [start_msg(exercise_id, **start)])
    assert ready[0]["type"] == "ready", ready
    return ready + exchange(ws, frame_batches(stream(exercise_id, reps=reps)))


@pytest.mark.parametrize(
    "exercise_id", ["elbow_flexion", "seated_knee_extension", "shoulder_abduction"]
)
def test_pose_stream_counts_and_stores_every_rep(
    client: TestClient, world: World, db: Session, exercise_id: str
) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        events = run_set(ws, exercise_id)
        ready = events[0]
        set_id = ready["set_id"]
        reps = of_type(events, "rep")
        assert [e["count"] for e in reps] == [1, 2, 3, 4, 5]
        # Each rep event describes a stored repetition, in order.
        stored = stored_reps(db, set_id)
        assert len(stored) == 5
        for event, row in zip(reps, stored, strict=True):
            assert row.end_s == pytest.approx(event["rep"]["end_s"])
            assert row.rom == pytest.approx(event["rep"]["rom"])
            assert row.rom_unit == "deg"
        # The level-1 target range is reached by the simulated reps.
        assert all(e["target_reached"] for e in reps)
        assert of_type(events, "rest") == [{"type": "rest", "seconds": 30.0}]
        assert of_type(events, "tracking")[0] == {
            "type": "tracking",
            "state": "found",
            "what": "body",
        }
        done = exchange(ws, [{"type": "end_set"}])
    complete = of_type(done, "set_complete")[0]
    assert complete["count"] == 5
    assert complete["judgement"]["reps_completed"] == 5
    assert complete["judgement"]["success"] is True
    assert any(e["kind"] == "set" for e in complete["events"])
    exercise_set = db.get(ExerciseSet, set_id)
    assert exercise_set is not None and exercise_set.ended_at is not None
    assert exercise_set.source == "camera"


def test_rep_times_are_seconds_from_the_set_start(
    client: TestClient, world: World, db: Session
) -> None:
    frames = stream("elbow_flexion", reps=2)
    for frame in frames:  # a browser clock that started long ago
        frame["t"] += 5000.0
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg(target_reps=2)])[0]
        exchange(ws, frame_batches(frames))
    reps = stored_reps(db, ready["set_id"])
    assert len(reps) == 2
    # Demo reps start at 2 s and follow every rep_s + 1 s.
    assert 1.5 < reps[0].start_s < 3.0
    assert reps[0].end_s < reps[1].start_s + 0.5 < 20


def test_hand_stream_counts_with_the_hand_landmarks(client: TestClient, world: World) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        events = run_set(ws, "finger_flexion_grip")
    assert events[0]["exercise"]["sensor"] == "hand"
    assert len(of_type(events, "rep")) == 5
    assert of_type(events, "tracking")[0]["what"] == "hand"


def test_tracking_lost_and_found(client: TestClient, world: World) -> None:
    frames = stream("elbow_flexion", reps=1)
    for frame in frames[30:80]:  # 1.7 s without a body
        frame["pose"] = None
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        exchange(ws, [start_msg()])
        events = exchange(ws, frame_batches(frames))
    states = [e["state"] for e in of_type(events, "tracking")]
    assert states == ["found", "lost", "found"]


def test_stretch_too_fast_says_slower(client: TestClient, world: World) -> None:
    frames = stream("elbow_flexor_slow_stretch", reps=3)
    for frame in frames:  # the same stretch three times faster than its safe tempo
        frame["t"] /= 3
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        exchange(ws, [start_msg("elbow_flexor_slow_stretch", mode="stretch", fps=90)])
        events = exchange(ws, frame_batches(frames))
    slower = of_type(events, "slower")
    assert len(slower) == 3, events
    assert all(e["max_velocity_deg_s"] == 15.0 for e in slower)
    assert all(e["velocity_deg_s"] > e["max_velocity_deg_s"] for e in slower)


def test_slow_stretch_gets_no_slower_prompt(client: TestClient, world: World) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        events = run_set(ws, "elbow_flexor_slow_stretch", reps=3, mode="stretch")
    assert len(of_type(events, "rep")) == 3
    assert of_type(events, "slower") == []


def test_paused_frames_are_not_counted(client: TestClient, world: World, db: Session) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg()])[0]
        assert exchange(ws, [{"type": "pause"}]) == [{"type": "paused"}]
        events = exchange(ws, frame_batches(stream("elbow_flexion", reps=3)))
        assert of_type(events, "rep") == []
        assert exchange(ws, [{"type": "resume"}]) == [{"type": "resumed"}]
        later = [dict(f, t=f["t"] + 100) for f in stream("elbow_flexion", reps=2)]
        events = exchange(ws, frame_batches(later, seq0=10_000))
    assert [e["count"] for e in of_type(events, "rep")] == [1, 2]
    assert len(stored_reps(db, ready["set_id"])) == 2


# --- bad input: an error event, nothing stored, the socket stays usable ----------------------
BAD_FRAMES = [
    ("not json", "bad_json"),
    (json.dumps({"type": "dance"}), "bad_message"),
    (
        json.dumps({"type": "frames", "seq": 1, "frames": [{"t": 1, "pose": [[0.5, 0.5]] * 33}]}),
        "bad_message",
    ),
    (
        json.dumps({"type": "frames", "seq": 1, "frames": [{"t": 1, "pose": [[0.5] * 4] * 32}]}),
        "bad_message",
    ),
    ('{"type": "frames", "seq": 1, "frames": [{"t": 1, "pose": [[NaN, 0, 0, 1]]}]}', "bad_message"),
    (json.dumps({"type": "frames", "seq": 1, "frames": [{"t": -1}]}), "bad_message"),
    (json.dumps({"type": "frames", "seq": 1, "frames": [{"t": 1, "pose": "x"}]}), "bad_message"),
    (json.dumps({"type": "frames", "seq": 1, "frames": [{"t": 1}] * 301}), "too_large"),
    (json.dumps({"type": "frames", "seq": 1, "frames": [{"t": 2}, {"t": 1}]}), "out_of_order"),
    (json.dumps({"type": "tap", "t": 1, "extra": 1}), "bad_message"),
]


@pytest.mark.parametrize(("text", "code"), BAD_FRAMES)
def test_malformed_messages_get_an_error_and_store_nothing(
    client: TestClient, world: World, db: Session, text: str, code: str
) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg()])[0]
        errors = exchange(ws, [text])
        assert [e["code"] for e in errors] == [code]
        assert "fatal" not in errors[0]
        # Still open and counting after the error.
        events = exchange(ws, frame_batches(stream("elbow_flexion", reps=2), seq0=5))
    assert len(of_type(events, "rep")) == 2
    assert len(stored_reps(db, ready["set_id"])) == 2


def test_out_of_order_batches_are_refused_whole(
    client: TestClient, world: World, db: Session
) -> None:
    batches = frame_batches(stream("elbow_flexion", reps=2))
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg()])[0]
        exchange(ws, batches[:100])
        replayed = exchange(ws, [batches[50]])  # an old seq (a resent message)
        assert [e["code"] for e in replayed] == ["out_of_order"]
        assert replayed[0]["seq"] == 50
        stale = dict(batches[40], seq=100_000)  # a new seq carrying old times
        assert [e["code"] for e in exchange(ws, [stale])] == ["out_of_order"]
        events = exchange(ws, batches[100:])
    assert [e["count"] for e in of_type(events, "rep")] == [1, 2]
    assert len(stored_reps(db, ready["set_id"])) == 2


def test_messages_before_start_and_bad_starts(client: TestClient, world: World) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        assert exchange(ws, [{"type": "tap", "t": 1}])[0]["code"] == "not_started"
        assert exchange(ws, [start_msg(v=2)])[0]["code"] == "version"
        assert exchange(ws, [start_msg("no_such")])[0]["code"] == "unknown_exercise"
        assert exchange(ws, [start_msg(side="both")])[0]["code"] == "bad_message"
        assert exchange(ws, [start_msg(mode="stretch")])[0]["code"] == "bad_message"
        camera = exchange(ws, [start_msg("forearm_pronation")])[0]
        assert camera["code"] == "camera_cannot_count"
        assert exchange(ws, [start_msg()])[0]["type"] == "ready"
        assert exchange(ws, [start_msg()])[0]["code"] == "already_started"


# --- taps and the rhythm game ----------------------------------------------------------------
def test_tap_logging(client: TestClient, world: World, db: Session) -> None:
    with client.websocket_connect(url(world), headers=world.headers("caregiver_c")) as ws:
        start = start_msg("forearm_pronation", source="tap", target_reps=3, t=8.0)
        ready = exchange(ws, [start])[0]
        events = exchange(ws, [{"type": "tap", "t": 10.0}, {"type": "tap", "t": 13.0}])
        assert [e["count"] for e in of_type(events, "rep")] == [1, 2]
        bounce = exchange(ws, [{"type": "tap", "t": 13.1}])
        assert [e["code"] for e in bounce] == ["duplicate"]
        events = exchange(ws, [{"type": "tap", "t": 15.5}])
        assert of_type(events, "rest")
        ws.send_json({"type": "end_session"})
        done = [ws.receive_json(), ws.receive_json()]
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    assert [e["type"] for e in done] == ["set_complete", "session_complete"]
    assert done[1]["reps"] == 3 and done[1]["sets"] == 1
    reps = stored_reps(db, ready["set_id"])
    # The first press ends the first rep: from the set start (t=8) to the press (t=10).
    assert [(r.start_s, r.end_s) for r in reps] == [(0.0, 2.0), (2.0, 5.0), (5.0, 7.5)]
    assert all(r.rom is None for r in reps)
    session = db.get(ExerciseSession, ready["session_id"])
    assert session is not None and session.ended_at is not None


def test_frames_in_a_tap_set_are_refused(client: TestClient, world: World) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        exchange(ws, [start_msg(source="tap")])
        errors = exchange(ws, frame_batches(stream("elbow_flexion", reps=1))[:1])
    assert errors[0]["code"] == "bad_message"


def test_rhythm_hits_and_summary_are_stored(client: TestClient, world: World, db: Session) -> None:
    hits = [
        {"type": "hit", "t": 1.02, "note_t": 1.0, "error_ms": 20, "judgement": "perfect"},
        {
            "type": "hit",
            "t": 2.25,
            "note_t": 2.0,
            "error_ms": 250,
            "judgement": "good",
            "finger": "middle",
        },
        {"type": "hit", "t": 3.5, "note_t": 3.0, "judgement": "miss"},
    ]
    summary = {"score": 350, "best_streak": 2, "accuracy": 0.667, "mean_abs_error_ms": 135.0}
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg("finger_tapping", source="rhythm", target_reps=3)])[0]
        events = exchange(ws, hits)
        assert [e["count"] for e in of_type(events, "rep")] == [1, 2, 3]
        done = of_type(exchange(ws, [{"type": "end_set", "summary": summary}]), "set_complete")
        # A missed note is stored with its timing but is not a repetition done.
        assert done[0]["judgement"]["reps_completed"] == 2
        assert done[0]["judgement"]["success"] is False  # 2 of 3 notes is under 80 %
        bad = exchange(ws, [{"type": "end_set", "summary": {"x": [1]}}])
        assert bad[0]["code"] == "bad_message"
    reps = stored_reps(db, ready["set_id"])
    assert [r.metrics["judgement"] for r in reps] == ["perfect", "good", "miss"]
    assert [r.metrics["finger"] for r in reps] == ["index", "middle", "index"]
    assert reps[1].metrics["error_ms"] == 250
    assert reps[1].start_s == pytest.approx(1.0) and reps[1].end_s == pytest.approx(1.25)
    exercise_set = db.get(ExerciseSet, ready["set_id"])
    assert exercise_set is not None
    assert exercise_set.summary == summary and exercise_set.source == "rhythm"
    # The REST API shows the notes' timing and the set's summary too.
    base = f"/api/patients/{world.ids['patient_p']}/sessions/{ready['session_id']}/sets"
    api_reps = client.get(f"{base}/{ready['set_id']}/repetitions", headers=world.headers("admin"))
    assert [r["metrics"].get("error_ms") for r in api_reps.json()] == [20, 250, None]
    api_sets = client.get(base, headers=world.headers("therapist_a")).json()
    assert api_sets[0]["summary"] == summary and api_sets[0]["source"] == "rhythm"


# --- resume --------------------------------------------------------------------------------
def test_reconnect_resumes_the_set(client: TestClient, world: World, db: Session) -> None:
    batches = frame_batches(stream("elbow_flexion", reps=4))
    half = len(batches) // 2
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg(target_reps=4)])[0]
        first = of_type(exchange(ws, batches[:half]), "rep")
    assert 1 <= len(first) < 4
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        again = exchange(ws, [start_msg(target_reps=4, set_id=ready["set_id"])])[0]
        assert again["count"] == len(first) and again["set_id"] == ready["set_id"]
        rest = of_type(exchange(ws, batches[half:]), "rep")
    assert [e["count"] for e in rest] == list(range(len(first) + 1, 5))
    reps = stored_reps(db, ready["set_id"])
    assert len(reps) == 4
    ends = [r.end_s for r in reps]
    assert ends == sorted(ends)  # set time continues after the reconnect


def test_an_ended_set_cannot_be_resumed(client: TestClient, world: World) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg(source="tap")])[0]
        exchange(ws, [{"type": "tap", "t": 1.0}, {"type": "end_set"}])
        again = exchange(ws, [start_msg(source="tap", set_id=ready["set_id"])])
    assert again[0]["code"] == "set_ended"


# --- access ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("who", "code"),
    [
        (None, 4401),
        ("patient_q", 4403),
        ("therapist_b", 4403),
        ("caregiver_d", 4403),
    ],
)
def test_only_those_who_may_record_can_connect(
    client: TestClient, world: World, db: Session, who: str | None, code: int
) -> None:
    """A refused connection closes with the reason's code and is audited like a refused
    request: who, the status, the method WEBSOCKET and the address."""
    with (
        client.websocket_connect(url(world), headers=world.headers(who)) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == code
    entry = db.scalars(
        select(AuditLog).where(AuditLog.action == "access.refused").order_by(AuditLog.id.desc())
    ).first()
    assert entry is not None
    assert entry.user_id == (world.ids[who] if who else None)
    assert (entry.detail["status"], entry.detail["method"]) == (code, "WEBSOCKET")
    assert entry.detail["path"] == url(world).split("?")[0]


@pytest.mark.parametrize("who", ["patient_p", "caregiver_c", "therapist_a", "admin"])
def test_those_who_may_record_can_connect(client: TestClient, world: World, who: str) -> None:
    with client.websocket_connect(url(world), headers=world.headers(who)) as ws:
        assert exchange(ws, [start_msg(source="tap")])[0]["type"] == "ready"


def test_a_patient_cannot_write_into_another_patients_set(
    client: TestClient, world: World, db: Session
) -> None:
    with client.websocket_connect(
        url(world, "patient_q"), headers=world.headers("patient_q")
    ) as ws:
        theirs = exchange(ws, [start_msg(source="tap")])[0]
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        refused = exchange(ws, [start_msg(source="tap", set_id=theirs["set_id"])])
        assert refused[0]["code"] == "forbidden"
        other_session = exchange(ws, [start_msg(source="tap", session_id=theirs["session_id"])])
        assert other_session[0]["code"] == "forbidden"
        assert exchange(ws, [{"type": "tap", "t": 1}])[0]["code"] == "not_started"
    assert stored_reps(db, theirs["set_id"]) == []


def test_cookie_sockets_must_come_from_this_site(
    client: TestClient, world: World, db: Session
) -> None:
    """Another site's page cannot use a patient's cookie to record: closed with the reason,
    and the attempt is audited (nobody is named: the cookie is not trusted)."""
    client.cookies.set("openrehab_session", world.tokens["patient_p"])
    evil = {"origin": "https://evil.example", "host": "testserver"}
    with (
        client.websocket_connect(url(world), headers=evil) as ws,
        pytest.raises(WebSocketDisconnect) as closed,
    ):
        ws.receive_json()
    assert closed.value.code == 4403
    assert closed.value.reason == "This page is not from this server."
    entry = db.scalars(
        select(AuditLog).where(AuditLog.action == "access.refused").order_by(AuditLog.id.desc())
    ).first()
    assert entry is not None and entry.user_id is None
    assert entry.detail["reason"] == "This page is not from this server."
    own = {"origin": "http://testserver"}
    with client.websocket_connect(url(world), headers=own) as ws:
        assert exchange(ws, [start_msg(source="tap")])[0]["type"] == "ready"


def test_frames_are_never_stored(client: TestClient, world: World, db: Session) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        run_set(ws, "elbow_flexion", reps=2)
    db.expire_all()
    # Only sessions, sets and reps: no table grew by the ~400 frames sent.
    assert db.scalar(select(func.count(Repetition.id))) == 2
    assert math.isfinite(db.scalar(select(func.max(Repetition.end_s))) or math.nan)


def test_demo_stream_endpoint(client: TestClient, world: World) -> None:
    assert client.get("/api/live/demo/elbow_flexion").status_code == 401
    ok = client.get("/api/live/demo/elbow_flexion", headers=world.headers("patient_p"))
    body = ok.json()
    assert body["fps"] == 30 and body["reps"] == 5
    assert len(body["frames"][0]["pose"]) == 33
    missing = client.get("/api/live/demo/nope", headers=world.headers("patient_p"))
    assert missing.status_code == 404
    imu = client.get("/api/live/demo/forearm_pronation", headers=world.headers("patient_p"))
    assert imu.status_code == 422 and "no demo" in imu.json()["detail"][0]["msg"]


def test_a_demo_is_counted_and_judged_but_never_stored(
    client: TestClient, world: World, db: Session
) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        events = run_set(ws, "elbow_flexion", reps=3, source="demo", target_reps=3)
        assert events[0]["set_id"] is None and events[0]["session_id"] is None
        assert [e["count"] for e in of_type(events, "rep")] == [1, 2, 3]
        ws.send_json({"type": "end_session"})
        done = [ws.receive_json(), ws.receive_json()]
    assert done[0]["type"] == "set_complete" and done[0]["count"] == 3
    assert done[0]["judgement"]["success"] is True and done[0]["events"] == []
    assert done[1] == {"type": "session_complete", "session_id": None, "sets": 0, "reps": 0}
    db.expire_all()
    assert db.scalar(select(func.count(ExerciseSet.id))) == 0
    assert db.scalar(select(func.count(Repetition.id))) == 0


def test_the_first_tap_after_resuming_counts(client: TestClient, world: World, db: Session) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg(source="tap", t=1.0)])[0]
        exchange(ws, [{"type": "tap", "t": 3.0}])
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        exchange(ws, [start_msg(source="tap", set_id=ready["set_id"], t=50.0)])
        events = exchange(ws, [{"type": "tap", "t": 52.5}])
    assert [e["count"] for e in of_type(events, "rep")] == [2]
    reps = stored_reps(db, ready["set_id"])
    assert [(r.start_s, r.end_s) for r in reps] == [(0.0, 2.0), (2.0, 4.5)]


# --- review findings ------------------------------------------------------------------------
def test_frames_faster_than_a_camera_are_refused(client: TestClient, world: World, app) -> None:  # type: ignore[no-untyped-def]
    app.state.live_frames_per_s = 30.0  # burst 900 frames, then 30 a second
    batches = frame_batches(stream("elbow_flexion", reps=5), size=300)
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        exchange(ws, [start_msg()])
        accepted = exchange(ws, batches[:3])
        assert not of_type(accepted, "error")
        refused = exchange(ws, batches[3:4])
    assert [e["code"] for e in refused] == ["rate_limited"]


def test_origin_behind_a_reverse_proxy(client: TestClient, world: World) -> None:
    client.cookies.set("openrehab_session", world.tokens["patient_p"])
    proxied = {"origin": "https://rehab.example", "x-forwarded-host": "rehab.example"}
    with client.websocket_connect(url(world), headers=proxied) as ws:
        assert exchange(ws, [start_msg(source="tap")])[0]["type"] == "ready"


def test_out_of_range_patient_ids_are_refused(client: TestClient, world: World) -> None:
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect(
            "/api/patients/99999999999999999999/live", headers=world.headers("admin")
        ) as ws,
    ):
        ws.receive_json()


def test_two_connections_on_one_set_never_lose_or_double_a_rep(
    client: TestClient, world: World, db: Session
) -> None:
    headers = world.headers("patient_p")
    with (
        client.websocket_connect(url(world), headers=headers) as a,
        client.websocket_connect(url(world), headers=headers) as b,
    ):
        ready = exchange(a, [start_msg(source="tap", target_reps=50, t=0.0)])[0]
        exchange(b, [start_msg(source="tap", target_reps=50, set_id=ready["set_id"], t=0.0)])
        counts = []
        for k in range(1, 6):
            counts += [e["count"] for e in of_type(exchange(a, [{"type": "tap", "t": k}]), "rep")]
            counts += [e["count"] for e in of_type(exchange(b, [{"type": "tap", "t": k}]), "rep")]
    # Each announced count is the rep's own number in the stored set.
    assert counts == list(range(1, 11))
    assert [r.index for r in stored_reps(db, ready["set_id"])] == list(range(10))


def test_a_resumed_set_keeps_its_own_level_and_target(client: TestClient, world: World) -> None:
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        ready = exchange(ws, [start_msg(source="tap", level=1, target_reps=3)])[0]
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        start = start_msg(source="camera", level=7, target_reps=200, set_id=ready["set_id"])
        again = exchange(ws, [start])[0]
    assert again["target_reps"] == 3
    assert again["exercise"]["needed_excursion"] == ready["exercise"]["needed_excursion"]


def test_a_set_ended_elsewhere_is_let_go(client: TestClient, world: World, db: Session) -> None:
    headers = world.headers("patient_p")
    with client.websocket_connect(url(world), headers=headers) as ws:
        ready = exchange(ws, [start_msg(source="tap", t=0.0)])[0]
        exchange(ws, [{"type": "tap", "t": 1.0}])
        ended = client.post(
            f"/api/patients/{world.ids['patient_p']}/sessions/{ready['session_id']}/end",
            headers=headers,
        )
        assert ended.status_code == 200
        refused = exchange(ws, [{"type": "tap", "t": 2.0}])
        assert [e["code"] for e in refused] == ["set_ended"]
        # The page goes on with its next set, naming the ended session: a new one is opened.
        nxt = exchange(ws, [start_msg(source="tap", session_id=ready["session_id"])])[0]
    assert nxt["type"] == "ready" and nxt["session_id"] != ready["session_id"]
    assert len(stored_reps(db, ready["set_id"])) == 1


def test_each_set_takes_its_own_kind_of_input(client: TestClient, world: World) -> None:
    hit = {"type": "hit", "t": 1.0, "note_t": 1.0, "error_ms": 0, "judgement": "perfect"}
    with client.websocket_connect(url(world), headers=world.headers("patient_p")) as ws:
        exchange(ws, [start_msg(source="tap")])
        assert exchange(ws, [hit])[0]["code"] == "bad_message"
        exchange(ws, [{"type": "end_set"}])
        exchange(ws, [start_msg("finger_tapping", source="rhythm")])
        assert exchange(ws, [{"type": "tap", "t": 5.0}])[0]["code"] == "bad_message"
        early = dict(hit, t=6.0, note_t=60.0)
        assert exchange(ws, [early])[0]["code"] == "bad_message"
