"""The exercise library: list, one exercise, and its diagram (SVG drawn from the data)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import Response
from pydantic import TypeAdapter

from openrehab.exercises.diagrams import exercise_svg
from openrehab.exercises.library import Library, load_library
from openrehab.exercises.schema import Exercise
from openrehab.web.deps import CurrentUser
from openrehab.web.schemas import ExerciseOut

router = APIRouter(prefix="/api/exercises", tags=["exercises"])
RegionFilter = Literal[
    "shoulder", "elbow", "forearm", "wrist", "hand", "trunk", "hip", "knee", "ankle", "functional"
]
ExerciseId = Annotated[str, Path(min_length=1, max_length=80, description="Exercise id")]


def exercise_out(exercise: Exercise) -> ExerciseOut:
    data = exercise.public_dict()
    data["diagram_url"] = f"/api/exercises/{exercise.id}/diagram.svg"
    return ExerciseOut.model_validate(data)


def get_exercise(exercise_id: str) -> Exercise:
    try:
        return load_library().get(exercise_id)
    except KeyError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"No exercise {exercise_id!r} in the library."
        ) from None


_EXERCISE_LIST = TypeAdapter(list[ExerciseOut])
_bodies: dict[tuple[int, str], tuple[Library, bytes]] = {}


def _cached_json(library: Library, key: str, build: Callable[[], bytes]) -> bytes:
    """A response body built once per library (it does not change while the server runs;
    validating ~40 nested exercises per request was the GET mix's dearest endpoint)."""
    hit = _bodies.get((id(library), key))
    if hit is None or hit[0] is not library:
        hit = _bodies[(id(library), key)] = (library, build())
    return hit[1]


def _library_json(library: Library, region: str | None) -> bytes:
    exercises = library.by_region(region) if region else tuple(library)
    return _cached_json(
        library,
        f"list:{region}",
        lambda: _EXERCISE_LIST.dump_json([exercise_out(exercise) for exercise in exercises]),
    )


def _exercise_json(library: Library, exercise_id: str) -> bytes:
    return _cached_json(
        library,
        f"one:{exercise_id}",
        lambda: exercise_out(library.get(exercise_id)).model_dump_json().encode(),
    )


@router.get("", response_model=list[ExerciseOut])
async def list_exercises(
    user: CurrentUser, region: Annotated[RegionFilter | None, Query()] = None
) -> Response:
    """The library, head to toe; ``region`` keeps the exercises moving it (or functional)."""
    return Response(_library_json(load_library(), region), media_type="application/json")


@router.get("/{exercise_id}", response_model=ExerciseOut)
async def read_exercise(exercise_id: ExerciseId, user: CurrentUser) -> Response:
    """One exercise: steps, safety, contraindications, levels, rationale and references."""
    get_exercise(exercise_id)  # 404 for an unknown id
    return Response(_exercise_json(load_library(), exercise_id), media_type="application/json")


@router.get(
    "/{exercise_id}/diagram.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}, "description": "An accessible SVG"}},
)
def exercise_diagram(
    exercise_id: ExerciseId,
    user: CurrentUser,
    position: Annotated[Literal["lying", "seated", "standing"] | None, Query()] = None,
) -> Response:
    """The exercise drawn from its data: start pose dashed, target pose bold (no download)."""
    exercise = get_exercise(exercise_id)
    if position is not None and position not in exercise.positions:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[
                {
                    "loc": ["query", "position"],
                    "msg": f"{exercise.name} is done {', '.join(exercise.positions)}",
                    "type": "value_error",
                }
            ],
        )
    return Response(
        exercise_svg(exercise, position),
        media_type="image/svg+xml",
        headers={"Cache-Control": "private, max-age=3600"},
    )
