"""The exercise library: list, one exercise, and its diagram (SVG drawn from the data)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, status
from fastapi.responses import Response

from openrehab.exercises.diagrams import exercise_svg
from openrehab.exercises.library import load_library
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


@router.get("", response_model=list[ExerciseOut])
def list_exercises(
    user: CurrentUser, region: Annotated[RegionFilter | None, Query()] = None
) -> list[ExerciseOut]:
    """The library, head to toe; ``region`` keeps the exercises moving it (or functional)."""
    library = load_library()
    exercises = library.by_region(region) if region else tuple(library)
    return [exercise_out(exercise) for exercise in exercises]


@router.get("/{exercise_id}", response_model=ExerciseOut)
def read_exercise(exercise_id: ExerciseId, user: CurrentUser) -> ExerciseOut:
    """One exercise: steps, safety, contraindications, levels, rationale and references."""
    return exercise_out(get_exercise(exercise_id))


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
