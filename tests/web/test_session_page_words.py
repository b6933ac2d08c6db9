"""The live session page's plain words and settings (web/routes/session_pages.py).

A person at home sets the camera up from these words alone: where it goes, how far away, what
it must see. Counting by button has its own words for who moves the limb. The numbers of a
free choice in the address are kept within safe ranges.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from openrehab.exercises.library import load_library
from openrehab.program.music import rep_duration_s
from openrehab.store import records
from openrehab.store.models import ExerciseProgress, utc_now
from openrehab.web.routes.session_pages import (
    _int_param,
    camera_setup,
    gauge_spec,
    item_data,
    tap_note,
)
from support import Clinic, browser_of, fresh_program, page_text

LIGHT = "Turn on a light in front of you. Keep bright windows behind the camera."
ARM = {
    "distance": "About 1.5 metres away.",
    "see": "The camera must see your head, shoulders and the whole arm down to the fingers.",
    "what": "arm",
    "lost": "I can't see your arm: step back so I can see your shoulder and hand.",
}
HAND = {
    "distance": "About half a metre away (an arm's length).",
    "see": "The camera must see your whole hand, with the fingers spread, and your wrist.",
    "what": "hand",
    "lost": "I can't see your hand: hold it up in front of the camera, fingers towards it.",
}
WHOLE_BODY = {
    "distance": "About 2 to 3 metres away.",
    "see": "The camera must see all of you, from your head to your feet.",
    "what": "body",
    "lost": "I can't see your legs: step back so I can see you from head to feet.",
}
TRUNK = {
    "distance": "About 1.5 to 2 metres away.",
    "see": "The camera must see your head, both shoulders and your hips.",
    "what": "body",
    "lost": "I can't see your body: step back so I can see your shoulders and hips.",
}
SETUPS = [
    (
        "forward_reach_table_slide",
        "right",
        "side",
        "Put the camera beside you, on your right side, at chest height.",
        ARM,
    ),
    (
        "shoulder_flexion_assisted",  # done lying first
        "left",
        "side",
        "Put the camera beside you, on your left side, at the height of your body.",
        ARM,
    ),
    ("wipe_the_table", "left", "top", "Put the camera up high, looking down at you.", ARM),
    (
        "wrist_deviation",
        "left",
        "front",
        "Put the camera on the table in front of you, facing your hand.",
        HAND,
    ),
    (
        "hip_abduction_lying",
        "left",
        "front",
        "Put the camera up high at the foot of the bed, looking down at you.",
        WHOLE_BODY,
    ),
    (
        "standing_weight_shift",  # the trunk, but standing: the whole body
        "both",
        "front",
        "Put the camera in front of you, at chest height.",
        WHOLE_BODY,
    ),
    (
        "trunk_forward_lean",
        "both",
        "side",
        "Put the camera beside you, on one side, at chest height.",
        TRUNK,
    ),
    (
        "seated_weight_shift",
        "both",
        "front",
        "Put the camera in front of you, at chest height.",
        TRUNK,
    ),
    (
        "toe_curls",
        "left",
        "",
        "The camera cannot see this movement. Count it by pressing a button instead.",
        WHOLE_BODY,
    ),
]


@pytest.mark.parametrize(
    ("exercise_id", "side", "view", "place", "words"), SETUPS, ids=[s[0] for s in SETUPS]
)
def test_the_camera_setup_is_told_in_plain_words(
    exercise_id: str, side: str, view: str, place: str, words: dict[str, str]
) -> None:
    """Rule: the words follow what the camera must see (a hand close up; legs, lying or
    standing exercises the whole body from 2-3 m; the trunk from 1.5-2 m; an arm from 1.5 m)
    and where it looks from (beside the side being trained, from above, in front); a
    movement no camera can see is counted by button."""
    setup = camera_setup(load_library().get(exercise_id), side)
    assert setup == {"view": view, "place": place, "light": LIGHT, **words}


@pytest.mark.parametrize(
    ("exercise_id", "mode", "assisted_by", "note"),
    [
        ("elbow_flexion", "active", None, "Press the button after each repetition."),
        ("elbow_flexion", "active", "unaffected_side", "Press the button after each repetition."),
        (
            "elbow_flexion",
            "active_assisted",
            "unaffected_side",
            "Move your arm with your other hand: press the button after each repetition.",
        ),
        (
            "elbow_flexion",
            "active_assisted",
            None,
            "Your carer moves your arm: press the button after each repetition.",
        ),
        (
            "toe_curls",
            "passive",
            None,
            "Your carer moves your leg: press the button after each repetition.",
        ),
        (
            "pinch_thumb_index",
            "active",
            "caregiver",
            "Your carer moves your hand: press the button after each repetition.",
        ),
    ],
)
def test_the_button_note_says_who_moves_the_limb(
    exercise_id: str, mode: str, assisted_by: str | None, note: str
) -> None:
    """Rule: moving on one's own, the note only says to press after each repetition; helped
    by the other hand it says so (not when moving actively); moved passively or by a carer
    it says the carer moves the leg, hand or arm."""
    assert tap_note(load_library().get(exercise_id), mode, assisted_by) == note


def test_the_gauge_follows_the_side_being_trained() -> None:
    """Rule: a sided signal's gauge watches the trained side's joints (both sides when the side
    is "both"); a signal of the whole trunk has one set of joints; a signal the page cannot
    compute has no gauge."""
    library = load_library()
    right = gauge_spec(library.get("elbow_flexion"), "right")
    assert right == {
        "method": "flexion3",
        "sided": True,
        "joints": {"right": ["right_shoulder", "right_elbow", "right_wrist"]},
    }
    both = gauge_spec(library.get("elbow_flexion"), "both")
    assert both is not None and set(both["joints"]) == {"left", "right"}
    trunk = gauge_spec(library.get("trunk_forward_lean"), "right")
    assert trunk == {
        "method": "trunk_lean_sagittal",
        "sided": False,
        "joints": {"left": ["left_shoulder", "right_shoulder", "left_hip", "right_hip"]},
    }
    assert gauge_spec(library.get("wipe_the_table"), "left") is None


@pytest.mark.parametrize(
    ("value", "number"),
    [("1", 1), ("20", 20), ("0", None), ("21", None), ("x", None), ("", None), (None, None)],
)
def test_numbers_in_the_address_are_kept_in_their_range(
    value: str | None, number: int | None
) -> None:
    """Rule: a number from the address is used only when it is a whole number within its
    range (ends included); anything else is ignored (the page's default applies)."""
    assert _int_param(value, 1, 20) == number


# --- the page's choices -----------------------------------------------------------------------
def _live_data(
    clinic: Clinic, db: Session, who: str, query: str, patient: str = "patient_p"
) -> Any:
    """The data the session page hands to its script, or the refusal's (status, text)."""
    p = clinic.world.ids[patient]
    with browser_of(clinic, db, who) as browser:
        response = browser.get(f"/patients/{p}/session?{query}")
    match = re.search(r'id="live-data">(.*?)</script>', response.text, re.S)
    if response.status_code != 200 or match is None:
        return response.status_code, page_text(response)
    return json.loads(match.group(1))


def test_a_free_choice_uses_safe_defaults_and_the_patients_level(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: without numbers in the address a free choice is 1 set of the level's repetitions
    with 60 s rest, at the level the patient reached (never above the exercise's highest),
    on the affected side; numbers outside their ranges are ignored the same way, the ends of
    the ranges are used (a rest of 0 s too)."""
    p = clinic.world.ids["patient_p"]
    clinic_db.add(
        ExerciseProgress(patient_id=p, exercise_id="elbow_extension", side="left", level=3)
    )
    clinic_db.commit()
    exercise = load_library().get("elbow_extension")
    for query in ("", "&sets=21&reps=201&rest=601&level=99", "&sets=0&reps=0&level=0"):
        data = _live_data(clinic, clinic_db, "caregiver_c", f"exercise=elbow_extension{query}")
        [item] = data["items"]
        assert (item["side"], item["level"], item["sets"]) == ("left", 3, 1), query
        assert (item["reps"], item["rest_s"]) == (exercise.level(3).reps_per_set, 60), query
    chosen = _live_data(
        clinic, clinic_db, "caregiver_c", "exercise=elbow_extension&sets=20&reps=200&rest=0&level=2"
    )["items"][0]
    assert (chosen["sets"], chosen["reps"], chosen["rest_s"], chosen["level"]) == (20, 200, 0, 2)
    assert data["today_url"] == f"/patients/{p}" and data["own"] is False
    assert data["patient_name"] == "patient-p" and data["walk"] is False


def test_a_session_of_the_program_says_when_there_is_nothing_to_do(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: an item no longer in today's program, or a program walk without a program, is a
    404 saying what to do; ``all=true`` or ``yes`` walks the program like ``all=1``."""
    q_data = _live_data(clinic, clinic_db, "patient_q", "all=1", patient="patient_q")
    assert q_data == (404, q_data[1]) and "There is no program to do yet." in q_data[1]
    program = fresh_program(clinic_db, clinic.world.ids["patient_p"])
    ids = [item.id for item in program.items]
    for word in ("true", "yes"):
        walk = _live_data(clinic, clinic_db, "patient_p", f"all={word}")
        assert walk["walk"] is True and [i["item_id"] for i in walk["items"]] == ids
    gone = _live_data(clinic, clinic_db, "patient_p", "item=999999")
    assert gone[0] == 404 and "That exercise is not in today's program any more." in gone[1]


def test_the_item_carries_the_exercise_its_timing_and_the_last_time(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: the page gets the exercise as the library has it (target at the level, links to
    its page, drawing and demo), the time one repetition takes at the level's tempo, and the
    last finished set of that exercise and side (repetitions, best range, date)."""
    p = clinic.world.ids["patient_p"]
    exercise = load_library().get("elbow_flexion")
    exercise_session = records.start_session(clinic_db, p)
    done = records.start_set(
        clinic_db, exercise_session, exercise_id="elbow_flexion", side="right", mode="active"
    )
    records.add_repetitions(
        clinic_db,
        done,
        [
            {"start_s": 3.0 * i, "end_s": 3.0 * i + 2, "rom": rom, "rom_unit": "deg"}
            for i, rom in enumerate((61.04, 72.46))
        ],
    )
    records.start_set(
        clinic_db, exercise_session, exercise_id="elbow_flexion", side="left", mode="active"
    )
    done.ended_at = utc_now()
    # A later set of another exercise on the same side is not this exercise's last time.
    other = records.start_set(
        clinic_db, exercise_session, exercise_id="elbow_extension", side="right", mode="active"
    )
    records.add_repetitions(
        clinic_db, other, [{"start_s": 3.0 * i, "end_s": 3.0 * i + 2} for i in range(5)]
    )
    other.ended_at = done.ended_at + timedelta(minutes=1)
    clinic_db.commit()
    data = _live_data(clinic, clinic_db, "patient_p", "exercise=elbow_flexion&side=right&level=2")
    [item] = data["items"]
    level = exercise.level(2)
    assert item["exercise"] == {
        "id": "elbow_flexion",
        "name": exercise.name,
        "steps": list(exercise.steps),
        "safety": list(exercise.safety),
        "diagram_url": "/api/exercises/elbow_flexion/diagram.svg",
        "page_url": "/exercises/elbow_flexion",
        "demo_url": "/api/live/demo/elbow_flexion",
        "camera_view": exercise.sensing.camera_view,
        "signal": exercise.sensing.signal,
        "unit": exercise.sensing.unit,
        "rest": exercise.sensing.rest,
        "target": exercise.sensing.target,
        "level_target": round(exercise.level_target(2), 3),
        "max_velocity_deg_s": exercise.sensing.max_velocity_deg_s,
        "region": exercise.primary_region,
        "max_level": exercise.max_level,
    }
    assert item["tempo_bpm"] == round(level.tempo_bpm, 2)
    assert item["rep_s"] == round(
        rep_duration_s(level.tempo_bpm, level.beats_per_rep, level.hold_s), 3
    )
    assert item["mode_words"] == "on your own"
    assert item["last"] == {
        "reps": 2,
        "best_rom": 72.5,
        "rom_unit": "deg",
        "date": done.ended_at.date().isoformat(),
    }
    left = _live_data(clinic, clinic_db, "patient_p", "exercise=elbow_flexion&side=left")
    assert left["items"][0]["last"] is None, "the left side's set has not ended"
    reach = _live_data(clinic, clinic_db, "patient_p", "exercise=move_objects_across&level=1")
    assert reach["items"][0]["exercise"]["level_target"] == 0.375, "metres, to the millimetre"


def test_only_a_stretch_is_slowed_to_its_safe_speed(clinic: Clinic, clinic_db: Session) -> None:
    """Rule: a slow stretch is paced no faster than its velocity limit allows (spastic
    reflexes are velocity dependent); the same exercise moved passively keeps the level's
    tempo. (No library level is fast enough to need the cap today, so the level is made
    faster here.)"""
    stretch = load_library().get("elbow_flexor_slow_stretch")
    fast = stretch.levels[0].model_copy(update={"tempo_bpm": 120.0})
    exercise = stretch.model_copy(update={"levels": (fast, *stretch.levels[1:])})
    limit = exercise.sensing.max_velocity_deg_s
    assert limit is not None
    tempo = {}
    for mode in ("stretch", "passive"):
        item = item_data(
            clinic_db,
            clinic.world.ids["patient_p"],
            exercise,
            item_id=None,
            side="left",
            mode=mode,
            level=1,
            sets=1,
            reps=5,
            rest_s=60,
        )
        tempo[mode] = item["tempo_bpm"]
    assert tempo["passive"] == 120.0
    out_s = fast.beats_per_rep // 2 * 60 / tempo["stretch"]
    excursion = abs(exercise.level_target(1) - exercise.sensing.rest)
    assert excursion / out_s <= limit * 1.001 and tempo["stretch"] < 120.0  # tempo rounded
