"""The exercise library's pages: every exercise by body region, and one exercise with its
levels, diagram, prerequisites and the metronome's beat plan."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from openrehab.exercises.diagrams import exercise_svg
from openrehab.exercises.library import load_library
from openrehab.exercises.schema import REGIONS, Exercise
from openrehab.program.music import metronome_schedule, rep_duration_s, stretch_tempo_bpm
from openrehab.web.routes.pages import MODE_WORDS, MaybeUser, _login_redirect, error_page, render

router = APIRouter(include_in_schema=False)


@router.get("/exercises", response_class=HTMLResponse)
def exercises_page(request: Request, user: MaybeUser, region: str | None = None) -> Response:
    if user is None:
        return _login_redirect(request)
    regions = [*REGIONS, "functional"]
    if region is not None and region not in regions:
        return error_page(request, user, 404, f"There is no body region called {region!r}.")
    library = load_library()
    if region:
        groups = [(region, sorted(library.by_region(region), key=lambda e: e.name))]
    else:  # every exercise once, under its main region
        groups = [
            (
                name,
                sorted(
                    (
                        e
                        for e in library
                        if (e.kind == "functional") == (name == "functional")
                        and (name == "functional" or e.primary_region == name)
                    ),
                    key=lambda e: e.name,
                ),
            )
            for name in regions
        ]
    return render(
        request,
        "exercises.html",
        user=user,
        region=region,
        regions=regions,
        groups=[(name, exercises) for name, exercises in groups if exercises],
        mode_words=MODE_WORDS,
        count=len(library),
    )


def beat_plan(exercise: Exercise) -> list[dict[str, Any]]:
    """One rep's beats per level, for the page's metronome (static/exercise.js plays them).

    Stretch-only exercises get the tempo capped by their slow-stretch velocity limit, so the
    beat never paces a stretch faster than is safe (spastic reflexes are velocity dependent).
    """
    stretch_only = set(exercise.modes) <= {"stretch", "passive"}
    limit = exercise.sensing.max_velocity_deg_s
    excursion = abs(exercise.sensing.target - exercise.sensing.rest)
    plan = []
    for level in exercise.levels:
        tempo_bpm = level.tempo_bpm
        if stretch_only and limit and exercise.sensing.unit == "deg":
            tempo_bpm = stretch_tempo_bpm(
                tempo_bpm, level.beats_per_rep, excursion * level.target_range_pct / 100, limit
            )
        beats = metronome_schedule(tempo_bpm, level.beats_per_rep, 1, level.hold_s)
        plan.append(
            {
                "level": level.level,
                "tempo_bpm": round(tempo_bpm, 1),
                "rep_s": round(rep_duration_s(tempo_bpm, level.beats_per_rep, level.hold_s), 3),
                "reps": level.reps_per_set,
                "beats": [{"t": b.time_s, "accent": b.accent, "phase": b.phase} for b in beats],
            }
        )
    return plan


@router.get("/exercises/{exercise_id}", response_class=HTMLResponse)
def exercise_page(request: Request, exercise_id: str, user: MaybeUser) -> Response:
    if user is None:
        return _login_redirect(request)
    library = load_library()
    if exercise_id not in library:
        return error_page(request, user, 404, "There is no such exercise in the library.")
    exercise = library.get(exercise_id)
    prerequisites = [(library.get(p.exercise), p.level) for p in exercise.prerequisites]
    unlocks = [
        (other, p.level)
        for other in library
        for p in other.prerequisites
        if p.exercise == exercise.id
    ]
    return render(
        request,
        "exercise.html",
        user=user,
        exercise=exercise,
        beat_plan=beat_plan(exercise),
        svg=exercise_svg(exercise),
        mode_words=MODE_WORDS,
        prerequisites=prerequisites,
        unlocks=unlocks,
    )
