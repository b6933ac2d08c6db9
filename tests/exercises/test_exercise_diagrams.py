"""Every exercise has an accessible, code-drawn SVG whose drawing follows its data."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from openrehab.exercises.diagrams import exercise_svg
from openrehab.exercises.library import load_library
from openrehab.exercises.schema import Exercise

SVG = "{http://www.w3.org/2000/svg}"
LIBRARY = load_library()


def _drawing(svg: str) -> str:
    """The geometry only: without title, description and ids (which name the exercise)."""
    svg = re.sub(r"<title.*?</title>|<desc.*?</desc>", "", svg)
    return re.sub(r'(id|aria-labelledby)="[^"]*"', "", svg)


@pytest.mark.parametrize("exercise", list(LIBRARY), ids=lambda e: e.id)
def test_every_exercise_renders_valid_accessible_svg(exercise: Exercise) -> None:
    svg = exercise_svg(exercise)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and exercise.name in (title.text or "")
    assert desc is not None and exercise.steps[0] in (desc.text or "")
    # Rest pose (dashed) and target pose (bold) are both drawn.
    assert 'stroke-dasharray="4 3"' in svg
    assert 'stroke-width="5"' in svg or 'stroke-width="3"' in svg
    assert root.get("data-position") == exercise.positions[0]


def test_drawings_differ_between_movements_and_positions() -> None:
    seen: dict[str, str] = {}
    for exercise in LIBRARY:
        key = f"{exercise.sensing.signal}|{exercise.positions[0]}|{exercise.movement}"
        drawing = _drawing(exercise_svg(exercise))
        seen.setdefault(drawing, key)
        assert seen[drawing] == key or seen[drawing].split("|")[:2] == key.split("|")[:2], (
            f"{exercise.id} draws exactly like {seen[drawing]}"
        )
    distinct_views = {ET.fromstring(exercise_svg(e)).get("data-view") for e in LIBRARY}
    assert distinct_views == {"side", "front", "top", "hand"}


def test_drawing_follows_the_data() -> None:
    exercise = LIBRARY.get("elbow_extension")
    smaller = exercise.model_copy(
        update={"sensing": exercise.sensing.model_copy(update={"target": 60.0})}
    )
    assert _drawing(exercise_svg(exercise)) != _drawing(exercise_svg(smaller))
    assert "100°" in exercise_svg(exercise) and "50°" in exercise_svg(smaller)


def test_position_can_be_chosen() -> None:
    exercise = LIBRARY.get("elbow_extension")  # seated or lying
    seated, lying = exercise_svg(exercise, "seated"), exercise_svg(exercise, "lying")
    assert _drawing(seated) != _drawing(lying)
    assert 'data-position="lying"' in lying
