"""The safety engine (care.safety): each rule alone, at its boundaries."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from openrehab.care import safety
from openrehab.care.safety import (
    SLOWER_PROMPT,
    PainPoint,
    pain_advice,
    pain_alert,
    pain_question,
    persisting_pain,
    set_must_stop,
    standing_allowed,
    stretch_too_fast,
)

TODAY = date(2026, 5, 20)
JARGON = ("nrs", "mas ", "s1", "s5", "numeric rating", "spasticity")


def _texts(advice: safety.PainAdvice) -> list[str]:
    return [advice.headline, *advice.steps, *advice.urgent_signs]


# --- S1: pain stops the set ----------------------------------------------------------------
def test_s1_pain_3_does_not_stop_the_set_pain_4_does() -> None:
    assert set_must_stop(3, None) is False
    assert set_must_stop(4, None) is True
    assert set_must_stop(4, 4) is True  # 4 stops even without a rise


def test_s1_rise_of_1_does_not_stop_the_set_a_rise_of_2_does() -> None:
    assert set_must_stop(2, 1) is False
    assert set_must_stop(3, 1) is True
    assert set_must_stop(1, 3) is False  # pain going down never stops the set


def test_s1_pain_outside_0_to_10_is_refused() -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        set_must_stop(11, None)
    with pytest.raises(ValueError, match="starting pain"):
        set_must_stop(3, -1)


def test_s1_advice_at_3_thanks_and_carries_on_gently() -> None:
    advice = pain_advice(3)
    assert (advice.band, advice.stop_set, advice.stop_today) == ("mild", False, False)
    assert advice.headline == "Thank you."
    assert "Carry on gently." in advice.steps
    assert not advice.ask_again_next_session and not advice.urgent_signs
    assert pain_advice(0).band == "none"


def test_s1_advice_at_4_stops_the_set_rests_and_asks_again() -> None:
    advice = pain_advice(4)
    assert (advice.band, advice.stop_set, advice.stop_today) == ("moderate", True, False)
    assert advice.ask_again_next_session and not advice.tell_therapist
    assert "Stop this set now." in advice.steps
    assert any("still there tomorrow, tell your therapist" in s for s in advice.steps)
    assert advice.urgent_signs and "S1" in advice.rule_ids


def test_s1_advice_for_a_rise_of_2_in_the_mild_band_stops_the_set() -> None:
    assert pain_advice(2, 1).stop_set is False
    advice = pain_advice(3, 1)
    assert (advice.band, advice.stop_set, advice.ask_again_next_session) == ("mild", True, True)
    assert advice.rule_ids == ("S1",)


# --- S5 / S6: severe pain, urgent signs ----------------------------------------------------
def test_s5_pain_6_keeps_the_day_pain_7_stops_for_today_and_calls_the_therapist() -> None:
    assert pain_advice(6).stop_today is False
    advice = pain_advice(7)
    assert (advice.band, advice.stop_set, advice.stop_today) == ("severe", True, True)
    assert advice.tell_therapist and advice.ask_again_next_session
    assert "Call your therapist today." in advice.steps
    assert {"S5", "S6"} <= set(advice.rule_ids)


def test_s5_the_days_latest_score_of_7_closes_the_day_6_does_not() -> None:
    assert safety.rests_today(None) is False
    assert safety.rests_today(6) is False
    assert safety.rests_today(7) is True and safety.rests_today(10) is True
    own = safety.rest_today_text(8, "10:32")
    assert own.startswith("Your pain was 8 out of 10 at 10:32. Rest today")
    assert "give your pain score again" in own
    about = safety.rest_today_text(8, "10:32", name="Ana")
    assert about.startswith("Ana's pain was 8 out of 10 at 10:32. Ana should rest today")
    assert "your" not in about.lower().replace("give the pain score", "")


def test_s6_urgent_signs_name_each_emergency() -> None:
    signs = " ".join(pain_advice(9).urgent_signs).lower()
    for words in ("sudden", "chest pain", "new weakness", "numbness", "trouble speaking"):
        assert words in signs
    assert "swollen, hot and red" in signs and "fall" in signs
    assert all(s.startswith("Call your emergency number") for s in pain_advice(9).urgent_signs)


# --- plain words ---------------------------------------------------------------------------
@pytest.mark.parametrize("nrs", range(11))
def test_advice_words_are_plain_and_never_coach_stretching_into_pain(nrs: int) -> None:
    for name in (None, "Ana"):
        for text in _texts(pain_advice(nrs, 0, name=name)):
            lowered = text.lower()
            assert not any(j in lowered for j in JARGON), text
            assert "stretch into" not in lowered or "not" in lowered or "no " in lowered, text
            assert "push" not in lowered and "through the pain" not in lowered, text
            assert len(text) <= 110, text


def test_advice_with_a_name_speaks_about_the_person_in_the_third_person() -> None:
    advice = pain_advice(5, name="Ana")
    assert "Ana should stop this set now." in advice.steps
    assert all("you" not in s.lower().split() for s in advice.steps)
    assert pain_advice(8, name="Ana").steps[-1] == "Call Ana's therapist today."
    assert all("Call the emergency number" in s for s in pain_advice(8, name="Ana").urgent_signs)


def test_pain_question_for_the_patient_and_about_them() -> None:
    assert pain_question(None) == "How much pain do you have now?"
    assert pain_question("Ana") == "How much pain does Ana have now?"


# --- S2: pain that does not settle ---------------------------------------------------------
def _days_ago(days: int, nrs: int) -> PainPoint:
    return PainPoint(TODAY - timedelta(days=days), nrs)


def test_s2_one_day_of_pain_4_is_not_persisting_two_days_are() -> None:
    assert persisting_pain([_days_ago(0, 4)], TODAY) is None
    alert = persisting_pain([_days_ago(1, 4), _days_ago(0, 4)], TODAY)
    assert alert is not None
    assert (alert.kind, alert.severity, alert.rule_id) == ("pain_persisting", "warning", "S2")
    assert alert.since == TODAY - timedelta(days=1)
    assert "on 2 days" in alert.therapist_text and "latest 4/10" in alert.therapist_text


def test_s2_pain_3_on_the_second_day_is_not_counted() -> None:
    assert persisting_pain([_days_ago(1, 4), _days_ago(0, 3)], TODAY) is None


def test_s2_pain_that_settled_at_the_latest_report_is_not_flagged() -> None:
    reports = [_days_ago(3, 6), _days_ago(2, 5), _days_ago(0, 2)]
    assert persisting_pain(reports, TODAY) is None


def test_s2_same_day_reports_the_last_given_is_the_latest() -> None:
    reports = [_days_ago(1, 5), _days_ago(0, 5), _days_ago(0, 1)]
    assert persisting_pain(reports, TODAY) is None
    assert persisting_pain([_days_ago(1, 5), _days_ago(0, 1), _days_ago(0, 5)], TODAY)


def test_s2_window_is_the_last_7_days_today_included() -> None:
    assert persisting_pain([_days_ago(6, 5), _days_ago(0, 5)], TODAY) is not None
    assert persisting_pain([_days_ago(7, 5), _days_ago(0, 5)], TODAY) is None
    assert persisting_pain([_days_ago(1, 5), _days_ago(-1, 5)], TODAY) is None  # future


def test_s2_latest_pain_7_is_urgent_6_is_a_warning() -> None:
    warning = persisting_pain([_days_ago(1, 5), _days_ago(0, 6)], TODAY)
    urgent = persisting_pain([_days_ago(1, 5), _days_ago(0, 7)], TODAY)
    assert warning is not None and warning.severity == "warning"
    assert urgent is not None and urgent.severity == "urgent"
    assert "not settled" in urgent.patient_text


def test_pain_alert_for_a_single_report_of_4_today_or_yesterday() -> None:
    assert pain_alert(_days_ago(0, 3), TODAY) is None
    alert = pain_alert(_days_ago(0, 4), TODAY)
    assert alert is not None and (alert.kind, alert.severity) == ("pain_report", "warning")
    assert pain_alert(_days_ago(1, 4), TODAY) is not None
    assert pain_alert(_days_ago(2, 4), TODAY) is None
    assert pain_alert(_days_ago(-1, 4), TODAY) is None


def test_pain_alert_at_7_is_urgent_under_rule_s5() -> None:
    alert = pain_alert(_days_ago(0, 7), TODAY)
    assert alert is not None and (alert.severity, alert.rule_id) == ("urgent", "S5")
    six = pain_alert(_days_ago(0, 6), TODAY)
    assert six is not None and (six.severity, six.rule_id) == ("warning", "S1")


# --- S3: stretch slowly --------------------------------------------------------------------
def test_s3_at_the_velocity_limit_is_not_too_fast_above_it_is() -> None:
    assert stretch_too_fast("stretch", 10.0, 10.0) is False
    assert stretch_too_fast("stretch", 10.01, 10.0) is True
    assert stretch_too_fast("passive", -12.0, 10.0) is True  # direction does not matter


def test_s3_only_stretch_and_passive_modes_are_limited() -> None:
    assert stretch_too_fast("active", 50.0, 10.0) is False
    assert stretch_too_fast("active_assisted", 50.0, 10.0) is False
    assert stretch_too_fast("stretch", None, 10.0) is False
    assert stretch_too_fast("stretch", 50.0, None) is False


def test_s3_slower_prompt_is_plain_and_never_into_pain() -> None:
    assert SLOWER_PROMPT.startswith("Slower")
    assert "before it hurts" in SLOWER_PROMPT


# --- S4: standing --------------------------------------------------------------------------
def test_s4_standing_needs_can_stand_safely() -> None:
    assert standing_allowed("standing", can_stand_safely=False) is False
    assert standing_allowed("standing", can_stand_safely=True) is True
    assert standing_allowed("seated", can_stand_safely=False) is True
    assert standing_allowed(None, can_stand_safely=False) is True


def test_the_e_stim_check_is_reachable_from_the_safety_engine() -> None:
    plan = safety.StimPlan("electrical_stimulation", "forearm")
    assert safety.stim_check(plan, safety.PatientFactors(frozenset({"pacemaker"}))).allowed is False
