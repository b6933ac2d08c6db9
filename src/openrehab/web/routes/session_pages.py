"""The live exercise session page: camera (or tap, or demo) counting with music and voice.

``GET /patients/{patient_id}/session?item=ID`` runs one item of the patient's program;
``?all=1`` walks through every item of today's program in order (``&item=ID`` starts there);
``?exercise=ID&side=..&mode=..`` runs a free choice from the library. The page itself is
static: everything the browser needs (exercise, level, tempo, beats, sets, camera set-up) is
in one JSON blob, and the counting happens over the WebSocket in docs/live-protocol.md.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from openrehab.accounts.access import Action
from openrehab.care.safety import pain_question
from openrehab.exercises.library import load_library
from openrehab.exercises.schema import LOWER_LIMB, Exercise
from openrehab.live.demo_stream import demo_available
from openrehab.motion.signals import SIGNALS
from openrehab.program.music import metronome_schedule, rep_duration_s, stretch_tempo_bpm
from openrehab.program.planner import MODERATE_PAIN_NRS
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store.models import (
    ExerciseSession,
    ExerciseSet,
    PainReport,
    ProgramItem,
    Repetition,
    User,
    utc_now,
)
from openrehab.web.deps import Db, ObjectId, optional_user
from openrehab.web.routes.pages import MODE_WORDS, error_page, page_patient, render

router = APIRouter(include_in_schema=False)
MaybeUser = Annotated[User | None, Depends(optional_user)]

VISION = {
    "bundle": "/static/vendor/tasks-vision-0.10.21/vision_bundle.mjs",
    "wasm": "/static/vendor/tasks-vision-0.10.21/wasm",
    "pose_lite": "/static/models/pose_landmarker_lite-0.10.21.task",
    "pose_full": "/static/models/pose_landmarker_full-0.10.21.task",
    "hand": "/static/models/hand_landmarker-0.10.21.task",
}
#: Signal computations the page can redo for its live gauge (display only; the server counts).
GAUGE_METHODS = frozenset(
    {
        "angle3",
        "flexion3",
        "segment_vs_vertical",
        "segment_vs_vertical_frontal",
        "segment_vs_vertical_sagittal",
        "trunk_lean_sagittal",
        "trunk_lean_frontal",
        "hand_distance",
    }
)
MAX_SIDES = ("left", "right", "both")
#: Pain of 4 or more reported this recently is asked about again before the next session.
PAIN_ASK_WITHIN = timedelta(days=3)


def _login_redirect_with_query(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status.HTTP_303_SEE_OTHER)


def sensor_for(exercise: Exercise) -> str:
    """How the page senses the exercise: ``pose``, ``hand`` or ``tap`` (no camera can)."""
    if SIGNALS[exercise.sensing.signal].sensor == "hand":
        return "hand"
    if exercise.sensing.camera_view is None or SIGNALS[exercise.sensing.signal].sensor == "imu":
        return "tap"
    return "pose"


def camera_setup(exercise: Exercise, side: str) -> dict[str, str]:
    """Plain words: where the camera goes, how far, what it must see, and the light."""
    sensor = sensor_for(exercise)
    view = exercise.sensing.camera_view
    region = exercise.primary_region
    whole_body = (
        region in LOWER_LIMB
        or exercise.sensing.signal == "sit_to_stand"
        or exercise.positions == ("standing",)
    )
    lying = exercise.positions[0] == "lying"
    side_words = f"your {side} side" if side in ("left", "right") else "one side"
    if sensor == "hand":
        what, see = "hand", "your whole hand, with the fingers spread, and your wrist"
        distance = "About half a metre away (an arm's length)."
        lost = "I can't see your hand: hold it up in front of the camera, fingers towards it."
    elif whole_body:
        what, see = "body", "all of you, from your head to your feet"
        distance = "About 2 to 3 metres away."
        lost = "I can't see your legs: step back so I can see you from head to feet."
    elif region == "trunk":
        what, see = "body", "your head, both shoulders and your hips"
        distance = "About 1.5 to 2 metres away."
        lost = "I can't see your body: step back so I can see your shoulders and hips."
    else:
        what, see = "arm", "your head, shoulders and the whole arm down to the fingers"
        distance = "About 1.5 metres away."
        lost = "I can't see your arm: step back so I can see your shoulder and hand."
    if view == "side":
        height = "the height of your body" if lying else "chest height"
        place = f"Put the camera beside you, on {side_words}, at {height}."
    elif view == "top":
        place = "Put the camera up high, looking down at you."
    elif view == "front" and sensor == "hand":
        place = "Put the camera on the table in front of you, facing your hand."
    elif view == "front" and lying:
        place = "Put the camera up high at the foot of the bed, looking down at you."
    elif view == "front":
        place = "Put the camera in front of you, at chest height."
    else:
        place = "The camera cannot see this movement. Count it by pressing a button instead."
    return {
        "view": view or "",
        "place": place,
        "distance": distance,
        "see": f"The camera must see {see}.",
        "light": "Turn on a light in front of you. Keep bright windows behind the camera.",
        "what": what,
        "lost": lost,
    }


def tap_note(exercise: Exercise, mode: str, assisted_by: str | None) -> str:
    """What to do when counting with the button, in plain words."""
    region = exercise.primary_region
    limb = "leg" if region in LOWER_LIMB else "hand" if region == "hand" else "arm"
    if assisted_by == "unaffected_side" and mode != "active":
        return f"Move your {limb} with your other hand: press the button after each repetition."
    if mode in ("passive", "active_assisted") or assisted_by == "caregiver":
        return f"Your carer moves your {limb}: press the button after each repetition."
    return "Press the button after each repetition."


def gauge_spec(exercise: Exercise, side: str) -> dict[str, Any] | None:
    """The signal's computation for the page's live gauge, or None when it cannot redo it."""
    definition = SIGNALS[exercise.sensing.signal]
    if definition.method not in GAUGE_METHODS:
        return None
    sides = [side] if side in ("left", "right") and definition.sided else ["left", "right"]
    if not definition.sided:
        sides = ["left"]
    return {
        "method": definition.method,
        "sided": definition.sided,
        "joints": {s: list(definition.joints_for(s)) for s in sides},
    }


def _last_time(db: Any, patient_id: int, exercise_id: str, side: str) -> dict[str, Any] | None:
    """The latest finished set of this exercise and side: reps and best ROM."""
    last = db.scalar(
        select(ExerciseSet)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(
            ExerciseSession.patient_id == patient_id,
            ExerciseSet.exercise_id == exercise_id,
            ExerciseSet.side == side,
            ExerciseSet.ended_at.is_not(None),
        )
        .order_by(ExerciseSet.ended_at.desc(), ExerciseSet.id.desc())
        .limit(1)
    )
    if last is None:
        return None
    reps: list[Repetition] = list(last.repetitions)
    roms = [r.rom for r in reps if r.rom is not None]
    return {
        "reps": len(reps),
        "best_rom": round(max(roms), 1) if roms else None,
        "rom_unit": reps[0].rom_unit if reps else None,
        "date": last.ended_at.date().isoformat() if last.ended_at else None,
    }


def item_data(
    db: Any,
    patient_id: int,
    exercise: Exercise,
    *,
    item_id: int | None,
    side: str,
    mode: str,
    level: int,
    sets: int,
    reps: int,
    rest_s: int,
    hold_s: float | None = None,
    tempo_bpm: float | None = None,
    assisted_by: str | None = None,
) -> dict[str, Any]:
    """Everything the page needs for one exercise of the session."""
    level_def = exercise.level(level)
    hold = level_def.hold_s if hold_s is None else hold_s
    tempo = tempo_bpm or level_def.tempo_bpm
    limit = exercise.sensing.max_velocity_deg_s
    if mode == "stretch" and limit and exercise.sensing.unit == "deg":
        excursion = abs(exercise.level_target(level) - exercise.sensing.rest)
        tempo = stretch_tempo_bpm(tempo, level_def.beats_per_rep, excursion, limit)
    beats = metronome_schedule(tempo, level_def.beats_per_rep, 1, hold)
    sensor = sensor_for(exercise)
    return {
        "item_id": item_id,
        "exercise": {
            "id": exercise.id,
            "name": exercise.name,
            "steps": list(exercise.steps),
            "safety": list(exercise.safety),
            "diagram_url": f"/api/exercises/{exercise.id}/diagram.svg",
            "page_url": f"/exercises/{exercise.id}",
            "demo_url": f"/api/live/demo/{exercise.id}",
            "camera_view": exercise.sensing.camera_view,
            "signal": exercise.sensing.signal,
            "unit": exercise.sensing.unit,
            "rest": exercise.sensing.rest,
            "target": exercise.sensing.target,
            "level_target": round(exercise.level_target(level), 3),
            "max_velocity_deg_s": limit,
            "region": exercise.primary_region,
            "max_level": exercise.max_level,
        },
        "sensor": sensor,
        "gauge": gauge_spec(exercise, side) if sensor != "tap" else None,
        "setup": camera_setup(exercise, side),
        "side": side,
        "mode": mode,
        "mode_words": MODE_WORDS.get(mode, mode),
        "demo": sensor != "tap" and demo_available(exercise),
        "tap_first": sensor == "tap" or mode == "passive" or assisted_by == "caregiver",
        "tap_note": tap_note(exercise, mode, assisted_by),
        "assisted_by": assisted_by,
        "level": level,
        "sets": sets,
        "reps": reps,
        "rest_s": rest_s,
        "tempo_bpm": round(tempo, 2),
        "beats_per_rep": level_def.beats_per_rep,
        "hold_s": hold,
        "rep_s": round(rep_duration_s(tempo, level_def.beats_per_rep, hold), 3),
        "beats": [{"t": b.time_s, "accent": b.accent, "phase": b.phase} for b in beats],
        "last": _last_time(db, patient_id, exercise.id, side),
    }


def _from_item(db: Any, patient_id: int, item: ProgramItem, exercise: Exercise) -> dict[str, Any]:
    return item_data(
        db,
        patient_id,
        exercise,
        item_id=item.id,
        side=item.side,
        mode=item.mode,
        level=item.level,
        sets=item.sets,
        reps=item.reps,
        rest_s=item.rest_s,
        hold_s=item.hold_s,
        tempo_bpm=item.tempo_bpm,
        assisted_by=item.assisted_by,
    )


def _int_param(value: str | None, low: int, high: int) -> int | None:
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and low <= number <= high else None


def patient_to_record(
    request: Request,
    user: User | None,
    db: Db,
    patient_id: int,
    login_redirect: Callable[[Request], Response] = _login_redirect_with_query,
) -> User | Response:
    """The patient whose exercises ``user`` records on this page, or the page to show instead
    (the login with ``login_redirect``, 403, 404)."""
    return page_patient(request, user, db, patient_id, Action.record, login_redirect)


def pain_ask(db: Any, patient_id: int, now: datetime | None = None) -> bool:
    """Ask about pain before the session starts: the latest pain report (not undone) was 4 or
    more within the last 3 days, or the latest finished set was stopped for pain."""
    now = now or utc_now()
    latest = db.scalar(
        select(PainReport)
        .where(PainReport.patient_id == patient_id, PainReport.withdrawn_at.is_(None))
        .order_by(PainReport.reported_at.desc(), PainReport.id.desc())
        .limit(1)
    )
    if (
        latest is not None
        and latest.nrs >= MODERATE_PAIN_NRS
        and now - PAIN_ASK_WITHIN <= latest.reported_at <= now
    ):
        return True
    last_set = db.scalar(
        select(ExerciseSet)
        .join(ExerciseSession, ExerciseSet.session_id == ExerciseSession.id)
        .where(ExerciseSession.patient_id == patient_id, ExerciseSet.ended_at.is_not(None))
        .order_by(ExerciseSet.ended_at.desc(), ExerciseSet.id.desc())
        .limit(1)
    )
    return bool(last_set is not None and last_set.pain_reported)


def pain_words(db: Any, patient: User, viewer: User) -> dict[str, Any]:
    """The pain question and its words (second person for the patient, else by name)."""
    own = viewer.id == patient.id
    name = patient.display_name
    return {
        "ask": pain_ask(db, patient.id),
        "api": f"/api/patients/{patient.id}/pain-reports",
        "question": pain_question(None if own else name),
        "hint": "0 means no pain, 10 the worst pain you can imagine.",
        "button": "It hurts" if own else "Pain",
        "why": "You had pain last time. Before you start:"
        if own
        else f"{name} had pain last time. Before you start:",
        "gentle": (
            "Do only gentle exercises today: your program is lighter while you have pain. "
            "Do not stretch into pain, and stop if it hurts more. If the pain is still there "
            "tomorrow, tell your therapist."
            if own
            else f"{name} should do only gentle exercises today: the program is lighter while "
            "there is pain. No stretching into pain; stop if it hurts more. If the pain is "
            f"still there tomorrow, tell {name}'s therapist."
        ),
    }


@router.get("/patients/{patient_id}/session", response_class=HTMLResponse)
def session_page(request: Request, patient_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    patient = patient_to_record(request, user, db, patient_id)
    if isinstance(patient, Response):
        return patient
    params = request.query_params
    library = load_library()
    items: list[dict[str, Any]] = []
    walk = params.get("all") in ("1", "true", "yes")
    item_param = params.get("item")
    if walk or item_param:
        program = program_service.active_program(db, patient_id)
        program_items = list(program.items) if program else []
        usable = [i for i in program_items if i.exercise_id in library]
        chosen = usable
        if item_param:
            item_id = _int_param(item_param, 1, 2**31 - 1)
            index = next((n for n, i in enumerate(usable) if i.id == item_id), None)
            if index is None:
                return error_page(
                    request,
                    user,
                    404,
                    "That exercise is not in today's program any more. Go back to Today "
                    "and start it from there.",
                )
            chosen = usable[index:] if walk else [usable[index]]
        if not chosen:
            return error_page(request, user, 404, "There is no program to do yet.")
        items = [_from_item(db, patient_id, i, library.get(i.exercise_id)) for i in chosen]
    else:
        exercise_id = params.get("exercise", "")
        if exercise_id not in library:
            return error_page(request, user, 404, "There is no such exercise in the library.")
        exercise = library.get(exercise_id)
        sides = ("left", "right") if exercise.laterality == "unilateral" else ("both",)
        side = params.get("side") if params.get("side") in sides else sides[0]
        if exercise.laterality == "unilateral" and params.get("side") not in sides:
            affected = patient.profile.affected_side if patient.profile else None
            side = affected if affected in sides else sides[0]
        mode = params.get("mode") if params.get("mode") in exercise.modes else exercise.modes[0]
        levels = progress_service.progress_levels(db, patient_id)
        stored = levels.get((exercise.id, progress_service.progress_key_side(side)), 1)
        level = _int_param(params.get("level"), 1, exercise.max_level) or min(
            stored, exercise.max_level
        )
        rest_s = _int_param(params.get("rest"), 0, 600)  # 0 s is a choice, not "none given"
        items = [
            item_data(
                db,
                patient_id,
                exercise,
                item_id=None,
                side=side,
                mode=mode,
                level=level,
                sets=_int_param(params.get("sets"), 1, 20) or 1,
                reps=_int_param(params.get("reps"), 1, 200) or exercise.level(level).reps_per_set,
                rest_s=60 if rest_s is None else rest_s,
            )
        ]
    own = user.id == patient.id
    data = {
        "v": 1,
        "patient_id": patient.id,
        "patient_name": patient.display_name,
        "own": own,
        "walk": walk,
        "today_url": "/" if own else f"/patients/{patient.id}",
        "ws_path": f"/api/patients/{patient.id}/live",
        "vision": VISION,
        "items": items,
        "pain": pain_words(db, patient, user),
    }
    return render(
        request,
        "live.html",
        user=user,
        patient=patient,
        own=own,
        data=data,
        first=items[0],
    )
