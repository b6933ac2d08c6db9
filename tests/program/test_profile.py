"""The patient profile schema: the documented example parses, bad input names its field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import pytest
from pydantic import TypeAdapter, ValidationError

from openrehab.program.planner import PlanError, parse_overrides
from openrehab.program.profile import (
    DEFAULT_DAILY_REP_TARGET,
    ProfileError,
    describe_validation_error,
    load_profile,
    parse_profile,
    profile_json_schema,
)

EXAMPLE = {
    "affected_side": "left",
    "regions": {
        "elbow": {"mas": "1+", "active_movement": True},
        "hand": {"mas": "3", "active_movement": False},
    },
    "can_sit_unsupported": True,
    "can_stand_safely": False,
    "conditions": ["pacemaker"],
    "pain_nrs": 2,
}


def test_documented_example_parses_with_defaults() -> None:
    profile = parse_profile(EXAMPLE)
    assert profile.regions["hand"].mas == "3" and not profile.regions["hand"].active_movement
    assert profile.regions["elbow"].mas_rank == 1.5
    assert profile.daily_rep_target == DEFAULT_DAILY_REP_TARGET == 300
    assert profile.sides == ("left",) and profile.unaffected_side == "right"


def test_integer_mas_is_accepted_but_1_plus_stays_text() -> None:
    data = {**EXAMPLE, "regions": {"knee": {"mas": 2, "active_movement": True}}}
    assert parse_profile(data).regions["knee"].mas == "2"


def test_both_sides() -> None:
    profile = parse_profile({**EXAMPLE, "affected_side": "both"})
    assert profile.sides == ("left", "right") and profile.unaffected_side is None


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"affected_side": "up"}, "affected_side", "'left', 'right' or 'both'"),
        (
            {"regions": {"elbow": {"mas": "5", "active_movement": True}}},
            "regions.elbow.mas",
            "'1+'",
        ),
        ({"regions": {"tail": {"mas": "1", "active_movement": True}}}, "regions.tail", "'hand'"),
        ({"regions": {}}, "regions", "at least 1"),
        ({"pain_nrs": 11}, "pain_nrs", "less than or equal to 10"),
        ({"conditions": ["flu"]}, "conditions[0]", "'pacemaker'"),
        ({"shoe_size": 42}, "shoe_size", "unknown field"),
        ({"daily_rep_target": -1}, "daily_rep_target", "greater than or equal to 0"),
    ],
)
def test_invalid_field_is_named(change: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_profile({**EXAMPLE, **change})
    message = str(caught.value)
    assert f"field '{field}'" in message and words in message
    assert "\n" not in message


def test_missing_required_field_is_named() -> None:
    data = {k: v for k, v in EXAMPLE.items() if k != "can_stand_safely"}
    with pytest.raises(ProfileError, match="field 'can_stand_safely': required field is missing"):
        parse_profile(data)


def test_file_errors_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "p.json"
    broken.write_text('{"affected_side": "left",,}')
    with pytest.raises(ProfileError, match=r"p\.json: not valid JSON \(line 1"):
        load_profile(broken)
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(tmp_path / "missing.json")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps({**EXAMPLE, "pain_nrs": 11}))
    with pytest.raises(ProfileError) as caught:
        load_profile(invalid)
    assert str(caught.value) == (
        f"{invalid}: field 'pain_nrs': Input should be less than or equal to 10"
    )
    good = tmp_path / "good.json"
    good.write_text(json.dumps(EXAMPLE))
    assert load_profile(good).pain_nrs == 2


def test_json_schema_documents_every_field() -> None:
    schema = profile_json_schema()
    assert set(schema["required"]) == {
        "affected_side",
        "regions",
        "can_sit_unsupported",
        "can_stand_safely",
    }
    assert {
        "conditions",
        "pain_nrs",
        "goals",
        "hand_function",
        "equipment",
        "daily_rep_target",
    } <= set(schema["properties"])


def test_docs_contain_the_current_schema() -> None:
    docs = Path(__file__).resolve().parents[2] / "docs" / "profile.md"
    text = docs.read_text()
    assert json.dumps(profile_json_schema(), indent=2) in text


def test_error_messages_are_whole_sentences_for_the_therapist() -> None:
    """The message is shown as is: each field once, separated by '; ', with the value that
    was refused; a profile that is not even an object is named as '(profile)'."""
    bad = {**EXAMPLE, "conditions": ["flu"], "pain_nrs": 11, "shoe_size": 42}
    with pytest.raises(ProfileError) as caught:
        parse_profile(bad, "patient.json")
    parts = str(caught.value).removeprefix("patient.json: ").split("; ")
    assert parts[0].startswith("field 'conditions[0]': Input should be 'pacemaker', ")
    assert parts[0].endswith(" or 'impaired_sensation', got 'flu'")
    assert parts[1:] == [
        "field 'pain_nrs': Input should be less than or equal to 10",
        "field 'shoe_size': unknown field (see docs/profile.md)",
    ]
    with pytest.raises(ProfileError) as caught:
        parse_profile("left arm")
    assert str(caught.value) == (
        "profile: field '(profile)': Input should be a valid dictionary or instance of "
        "PatientProfile"
    )


def test_a_refused_dict_key_is_named_by_the_key() -> None:
    """describe_validation_error names a bad key as the field (not 'key.[key]'), also for
    a bare mapping, and its default source is 'profile'."""
    try:
        TypeAdapter(dict[Literal["elbow"], int]).validate_python({"tail": 1})
    except ValidationError as exc:
        assert (
            describe_validation_error(exc)
            == "profile: field 'tail': Input should be 'elbow', got 'tail'"
        )
    else:  # pragma: no cover
        pytest.fail("the key was accepted")


def test_a_validator_message_is_shown_without_pydantic_prefix() -> None:
    """A rule written as a validator reads as the rule, not as 'Value error, ...'."""
    with pytest.raises(PlanError) as caught:
        parse_overrides({"items": [{"action": "replace", "exercise": "elbow_extension"}]})
    assert str(caught.value) == (
        "overrides: field 'items[0]': action 'replace' needs 'replacement' (an exercise id)"
    )
