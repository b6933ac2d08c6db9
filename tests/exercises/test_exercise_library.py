"""The packaged library: coverage of every region, and the schema's rejection messages."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from openrehab.exercises.library import (
    DATA_DIR,
    ExerciseLibraryError,
    load_library,
)
from openrehab.exercises.schema import REGIONS
from openrehab.motion.signals import SIGNAL_NAMES, SignalSpec

#: Movements the issue asks for, each mapped to the exercise that provides it.
REQUIRED_EXERCISES = {
    "grip": "finger_flexion_grip",
    "release / finger extension": "finger_extension_release",
    "pinch": "pinch_thumb_index",
    "thumb opposition": "thumb_opposition",
    "finger tapping": "finger_tapping",
    "wrist extension": "wrist_extension",
    "wrist flexion": "wrist_flexion",
    "radial/ulnar deviation": "wrist_deviation",
    "pronation": "forearm_pronation",
    "supination": "forearm_supination",
    "elbow flexion": "elbow_flexion",
    "elbow extension": "elbow_extension",
    "shoulder flexion": "shoulder_flexion_active",
    "shoulder abduction": "shoulder_abduction",
    "external rotation": "shoulder_external_rotation",
    "scapular retraction": "scapular_retraction",
    "reach": "forward_reach_table_slide",
    "trunk forward lean": "trunk_forward_lean",
    "trunk lateral lean": "trunk_lateral_lean",
    "trunk rotation": "trunk_rotation",
    "seated weight shift": "seated_weight_shift",
    "seated march": "seated_march",
    "hip abduction": "hip_abduction_lying",
    "bridging": "bridging",
    "knee extension": "seated_knee_extension",
    "sit to stand": "sit_to_stand",
    "dorsiflexion": "ankle_dorsiflexion",
    "plantarflexion": "ankle_plantarflexion",
    "heel raises": "standing_heel_raise",
    "toe curls": "toe_curls",
    "reach and grasp": "reach_and_grasp_cup",
    "wiping a table": "wipe_the_table",
    "hand to mouth": "hand_to_mouth",
}


def test_library_has_at_least_40_valid_exercises_with_unique_ids() -> None:
    library = load_library()
    assert len(library) >= 40
    assert len(set(library.ids())) == len(library)


@pytest.mark.parametrize("movement", sorted(REQUIRED_EXERCISES))
def test_every_required_movement_is_in_the_library(movement: str) -> None:
    exercise = load_library().get(REQUIRED_EXERCISES[movement])
    assert exercise.steps and exercise.safety and exercise.levels


def test_every_region_and_functional_tasks_are_covered() -> None:
    library = load_library()
    for region in REGIONS:
        assert library.by_region(region), region
    functional = library.by_region("functional")
    assert len(functional) >= 3
    assert all(e.kind == "functional" for e in functional)


def test_by_region_finds_every_exercise_under_every_region_it_lists(
    region_index: dict[str, set[str]],
) -> None:
    """An exercise is found under every region it moves, not only its main one (bridging
    under the trunk, heel slides under the hip): the therapist's exercise picker, the API
    and the CLI list exercises by region, so a missed secondary region hides exercises that
    work it. Checked against the YAML data for every region, in library order."""
    library = load_library()
    secondary = [(e.id, r) for e in library for r in e.regions[1:]]
    assert ("bridging", "trunk") in secondary and ("heel_slide_lying", "hip") in secondary
    for region, expected in region_index.items():
        found = [e.id for e in library.by_region(region)]
        assert set(found) == expected, (region, sorted(expected - set(found)))
        assert found == [i for i in library.ids() if i in expected], region  # library order


def test_every_exercise_is_complete_and_sensed_with_a_known_signal() -> None:
    for exercise in load_library():
        assert exercise.sensing.signal in SIGNAL_NAMES
        assert exercise.rationale
        assert exercise.sensing.camera_view or exercise.sensing.imu_placement
        if "stretch" in exercise.modes:
            # Slow stretch: a velocity limit in deg/s, conservative (Lance 1980).
            assert exercise.sensing.max_velocity_deg_s is not None
            assert exercise.sensing.max_velocity_deg_s <= 30
            assert "recent_fracture" in exercise.contraindications
        if exercise.positions == ("standing",):
            assert "standing_balance" in exercise.requires


def test_level_targets_interpolate_between_rest_and_target() -> None:
    exercise = load_library().get("elbow_extension")  # rest 110 deg -> target 10 deg
    assert exercise.level_target(1) == pytest.approx(110 - 0.40 * 100)
    assert exercise.level_target(exercise.max_level) == pytest.approx(10)
    assert exercise.level_target(99) == exercise.level_target(exercise.max_level)


def test_signal_spec_feeds_the_motion_engine() -> None:
    exercise = load_library().get("elbow_flexor_slow_stretch")
    spec = exercise.signal_spec("left", "stretch", level=1)
    assert isinstance(spec, SignalSpec)
    assert spec.signal == "elbow_flexion" and spec.side == "left"
    assert spec.max_velocity_deg_s == exercise.sensing.max_velocity_deg_s
    assert spec.rest_deg == 90
    limit = exercise.sensing.max_velocity_deg_s
    # Rule S3: a limb moved by someone else is kept under the same limit; active work is not.
    assert exercise.signal_spec("left", "passive").max_velocity_deg_s == limit
    elbow = load_library().get("elbow_flexion")
    assert elbow.signal_spec("left", "active").max_velocity_deg_s is None


def test_get_unknown_id_is_a_clear_key_error() -> None:
    with pytest.raises(KeyError, match="unknown exercise 'nope'"):
        load_library().get("nope")
    with pytest.raises(KeyError, match="unknown exercise 3"):
        load_library().get(3)  # type: ignore[arg-type]


def test_every_exercise_is_found_by_its_id_and_nothing_else() -> None:
    library = load_library()
    for exercise in library:
        assert exercise.id in library and library.get(exercise.id) is exercise
    assert "nope" not in library and None not in library and ["elbow_flexion"] not in library


def test_every_prerequisite_exists_and_is_reachable() -> None:
    library = load_library()
    for exercise in library:
        for prerequisite in exercise.prerequisites:
            assert prerequisite.level <= library.get(prerequisite.exercise).max_level


# --- rejection of broken entries -------------------------------------------------------
def _valid_entry() -> dict[str, Any]:
    document = yaml.safe_load((DATA_DIR / "elbow.yaml").read_text())
    entry = next(e for e in document["exercises"] if e["id"] == "elbow_extension")
    return copy.deepcopy(entry)


def _write(folder: Path, name: str, entries: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump({"exercises": entries}, sort_keys=False))
    return path


def _error_for(tmp_path: Path, entry: dict[str, Any]) -> ExerciseLibraryError:
    _write(tmp_path, "broken.yaml", [entry])
    with pytest.raises(ExerciseLibraryError) as caught:
        load_library(tmp_path)
    return caught.value


def test_a_valid_entry_loads_from_a_custom_folder(tmp_path: Path) -> None:
    _write(tmp_path, "ok.yaml", [_valid_entry()])
    assert load_library(tmp_path).ids() == ("elbow_extension",)


def test_missing_field_is_named(tmp_path: Path) -> None:
    entry = _valid_entry()
    del entry["name"]
    error = _error_for(tmp_path, entry)
    assert "broken.yaml" in str(error) and "field 'name'" in str(error)
    assert "required" in str(error).lower()


def test_bad_enum_value_is_named(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["positions"] = ["seated", "kneeling"]
    error = _error_for(tmp_path, entry)
    assert "broken.yaml" in str(error) and "field 'positions[1]'" in str(error)
    assert "kneeling" in str(error)


def test_bad_level_ordering_is_named(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["levels"][2]["target_range_pct"] = 20  # easier than level 2
    error = _error_for(tmp_path, entry)
    assert "broken.yaml" in str(error) and "field 'levels'" in str(error)
    assert "level 3 must be at least as hard as level 2" in str(error)


def test_a_level_with_fewer_reps_than_the_one_below_is_refused(tmp_path: Path) -> None:
    """A higher level never asks for fewer reps per set than the level below (levels only get
    harder, so moving up never lowers the practice dose): a library breaking this is refused
    at load, naming the file, the exercise and the two levels; equal reps are fine. Checked
    for every pair of adjacent levels of a real entry."""
    levels = _valid_entry()["levels"]
    for index in range(1, len(levels)):
        lower, higher = levels[index - 1]["level"], levels[index]["level"]
        fewer, equal = _valid_entry(), _valid_entry()
        fewer["levels"][index]["reps_per_set"] = levels[index - 1]["reps_per_set"] - 1
        equal["levels"][index]["reps_per_set"] = levels[index - 1]["reps_per_set"]
        message = str(_error_for(tmp_path / f"fewer{index}", fewer))
        assert "broken.yaml: exercises[0] 'elbow_extension': field 'levels'" in message
        assert f"level {higher} must be at least as hard as level {lower}" in message
        _write(tmp_path / f"equal{index}", "ok.yaml", [equal])
        loaded = load_library(tmp_path / f"equal{index}").get("elbow_extension").levels
        assert loaded[index].reps_per_set == loaded[index - 1].reps_per_set


def test_level_numbering_gap_is_rejected(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["levels"][1]["level"] = 5
    assert "field 'levels'" in str(_error_for(tmp_path, entry))


def test_unknown_signal_is_named(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["sensing"]["signal"] = "elbow_wiggle"
    error = _error_for(tmp_path, entry)
    assert "broken.yaml" in str(error) and "field 'sensing.signal'" in str(error)
    assert "unknown signal 'elbow_wiggle'" in str(error)


def test_more_than_three_step_sentences_is_rejected(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["steps"] = ["Sit down. Relax.", "Bend the elbow.", "Straighten it."]
    error = _error_for(tmp_path, entry)
    assert "broken.yaml" in str(error) and "field 'steps'" in str(error)
    assert "at most 3" in str(error)


def test_stretch_without_velocity_limit_is_rejected(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["modes"] = ["stretch"]
    error = _error_for(tmp_path, entry)
    assert "max_velocity_deg_s" in str(error) and "broken.yaml" in str(error)


def test_standing_only_without_standing_balance_is_rejected(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["positions"] = ["standing"]
    assert "standing_balance" in str(_error_for(tmp_path, entry))


def test_unknown_field_is_named(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["colour"] = "blue"
    error = _error_for(tmp_path, entry)
    assert "field 'colour'" in str(error) and "unknown field" in str(error)


def test_duplicate_ids_across_files_name_both_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", [_valid_entry()])
    _write(tmp_path, "b.yaml", [_valid_entry()])
    with pytest.raises(ExerciseLibraryError) as caught:
        load_library(tmp_path)
    message = str(caught.value)
    assert "b.yaml" in message and "field 'id'" in message and "first defined in a.yaml" in message


def test_unknown_prerequisite_is_named(tmp_path: Path) -> None:
    entry = _valid_entry()
    entry["prerequisites"] = [{"exercise": "ghost", "level": 2}]
    _write(tmp_path, "p.yaml", [entry])
    with pytest.raises(ExerciseLibraryError, match=r"p\.yaml.*prerequisites\[0\]\.exercise.*ghost"):
        load_library(tmp_path)


def test_prerequisite_cycle_is_rejected(tmp_path: Path) -> None:
    first, second = _valid_entry(), _valid_entry()
    second["id"] = "elbow_two"
    first["prerequisites"] = [{"exercise": "elbow_two", "level": 1}]
    second["prerequisites"] = [{"exercise": "elbow_extension", "level": 1}]
    _write(tmp_path, "c.yaml", [first, second])
    with pytest.raises(ExerciseLibraryError, match="cycle"):
        load_library(tmp_path)


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("exercises:\n  - id: [unclosed\n")
    with pytest.raises(ExerciseLibraryError, match=r"bad\.yaml: field 'line \d+': invalid YAML"):
        load_library(tmp_path)


def test_missing_top_level_list_is_reported(tmp_path: Path) -> None:
    (tmp_path / "empty.yaml").write_text("region: elbow\n")
    with pytest.raises(ExerciseLibraryError, match=r"empty\.yaml: field 'exercises'"):
        load_library(tmp_path)


def test_docs_list_every_exercise() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "exercises.md").read_text()
    missing = [e.id for e in load_library() if f"`{e.id}`" not in docs]
    assert not missing, f"docs/exercises.md lacks {missing}"
