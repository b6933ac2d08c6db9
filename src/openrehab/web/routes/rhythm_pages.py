"""The rhythm game page: pinch thumb to finger on the beat of synthesised music.

The page only sets the game up (exercises, levels and their tempo, the patient's side and
level); the game runs in the browser (static/rhythm/) and stores itself as a set through the
live-session WebSocket (docs/live-protocol.md, source "rhythm").
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from openrehab.exercises.library import load_library
from openrehab.services import program as program_service
from openrehab.services import progress as progress_service
from openrehab.store.models import User
from openrehab.web.care_context import rest_today
from openrehab.web.deps import Db, ObjectId
from openrehab.web.routes.pages import MaybeUser, _login_redirect, error_page, render
from openrehab.web.routes.session_pages import patient_to_record

router = APIRouter(include_in_schema=False)

#: Library exercises the game can train, in the order offered (pinch first: it is easier).
RHYTHM_EXERCISES = ("pinch_thumb_index", "finger_tapping")
SIDES = ("left", "right")


def _default_side(patient: User, program_sides: dict[str, str]) -> str:
    for side in program_sides.values():
        if side in SIDES:
            return side
    affected = patient.profile.affected_side if patient.profile else None
    return affected if affected in SIDES else "right"


def game_config(db: Db, patient: User) -> dict[str, Any]:
    """What the page's script needs: the exercises with their levels, defaults, the patient."""
    library = load_library()
    program = program_service.active_program(db, patient.id)
    items = {
        item.exercise_id: item
        for item in (program.items if program else [])
        if item.exercise_id in RHYTHM_EXERCISES
    }
    levels = progress_service.progress_levels(db, patient.id)
    side = _default_side(patient, {k: v.side for k, v in items.items()})
    exercises = []
    for exercise_id in RHYTHM_EXERCISES:
        if exercise_id not in library:
            continue
        exercise = library.get(exercise_id)
        item = items.get(exercise_id)
        reached = max(
            [levels.get((exercise_id, s), 1) for s in SIDES] + [item.level if item else 1]
        )
        current = item.level if item else levels.get((exercise_id, side), 1)
        exercises.append(
            {
                "id": exercise.id,
                "name": exercise.name,
                "in_program": item is not None,
                "current_level": current,
                # Levels up to the highest reached: the game never plays above the patient.
                "levels": [
                    {
                        "level": level.level,
                        "tempo_bpm": level.tempo_bpm,
                        "reps": level.reps_per_set,
                    }
                    for level in exercise.levels
                    if level.level <= reached
                ],
            }
        )
    in_program = [e for e in exercises if e["in_program"]]
    return {
        "patient_id": patient.id,
        "side": side,
        "exercise": (in_program or exercises)[0]["id"] if exercises else None,
        "exercises": exercises,
    }


@router.get("/patients/{patient_id}/rhythm", response_class=HTMLResponse)
def rhythm_page(
    request: Request,
    patient_id: ObjectId,
    user: MaybeUser,
    db: Db,
    exercise: str | None = Query(default=None, max_length=80),
    side: str | None = Query(default=None, max_length=10),
) -> Response:
    patient = patient_to_record(request, user, db, patient_id, _login_redirect)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    closed = rest_today(db, user, patient)  # rule S5: severe pain given today
    if closed is not None:
        return error_page(request, user, 409, closed, heading="Rest today")
    config = game_config(db, patient)
    if not config["exercises"]:
        return error_page(request, user, 404, "The rhythm game's exercises are not installed.")
    if exercise in {e["id"] for e in config["exercises"]}:
        config["exercise"] = exercise
    if side in SIDES:
        config["side"] = side
    back = "/" if user.id == patient.id else f"/patients/{patient.id}"
    return render(request, "rhythm.html", user=user, patient=patient, config=config, back=back)
