"""Therapies (care.therapies): toxin dates, baclofen, electrical stimulation, splints."""

from __future__ import annotations

import dataclasses
import importlib
import re
from datetime import date, timedelta

import pytest

from openrehab.care import therapies
from openrehab.care.stim import PatientFactors, StimCheck, StimPlan, stim_check
from openrehab.care.therapies import (
    BACLOFEN_NEVER_STOP,
    DEFAULT_TOXIN_DOSE_RAISE_PCT,
    PROCEDURE_KINDS,
    THERAPY_KINDS,
    TOXIN_SPREAD_SYMPTOMS,
    IntrathecalPump,
    OralBaclofen,
    Splint,
    ToxinInjection,
    dose_factor,
    plain_date,
    pump_refill_alert,
    reassessments_due,
    reinjection_too_soon,
    skin_check_text,
    splint_alert,
    toxin_schedule,
    toxin_spread_alert,
)

INJECTED = date(2026, 5, 3)
INJ = ToxinInjection(INJECTED, ("biceps brachii", "brachioradialis"), 200.0, "Dr Lee")


def day(weeks: int = 0, days: int = 0) -> date:
    return INJECTED + timedelta(weeks=weeks, days=days)


# --- T1/T2 botulinum toxin dates -----------------------------------------------------------
def test_t2_schedule_dates_follow_the_injection() -> None:
    s = toxin_schedule(INJ)
    assert s.effect_from == day(1)
    assert (s.peak_review_from, s.peak_review_to) == (day(4), day(6))
    assert s.review_12_weeks == s.earliest_reinjection == s.effect_to == day(12)


def test_t1_reinjection_12_weeks_minus_one_day_is_too_soon_exactly_12_is_allowed() -> None:
    alert = reinjection_too_soon([INJ], day(12, -1))
    assert alert is not None
    assert (alert.kind, alert.severity, alert.rule_id) == ("reinjection_too_soon", "warning", "T1")
    assert "83 days" in alert.therapist_text and "3 May" in alert.patient_text
    assert reinjection_too_soon([INJ], day(12)) is None
    assert reinjection_too_soon([], day(1)) is None


def test_t1_the_nearest_injection_counts_not_only_the_first() -> None:
    later = ToxinInjection(day(20), ("gastrocnemius",), 300.0, "Dr Lee")
    assert reinjection_too_soon([INJ, later], day(30)) is not None
    assert reinjection_too_soon([INJ, later], day(32)) is None


def test_t2_peak_review_not_before_week_4_due_from_week_4_overdue_after_week_6() -> None:
    assert reassessments_due([INJ], [], day(4, -1)) == []
    due = reassessments_due([INJ], [], day(4))
    assert [(a.kind, a.severity, a.rule_id) for a in due] == [("reassessment_due", "info", "T2")]
    assert due[0].since == day(4)
    assert reassessments_due([INJ], [], day(6))[0].severity == "info"
    assert reassessments_due([INJ], [], day(6, 1))[0].severity == "warning"


def test_t2_an_assessment_from_week_4_clears_the_peak_review_one_before_does_not() -> None:
    assert reassessments_due([INJ], [day(4)], day(5)) == []
    assert reassessments_due([INJ], [day(8)], day(9)) == []  # a late review still counts
    assert len(reassessments_due([INJ], [day(4, -1)], day(5))) == 1


def test_t2_twelve_week_review_due_from_week_12_overdue_after_week_14() -> None:
    assert all("4 to 6" in a.patient_text for a in reassessments_due([INJ], [], day(12, -1)))
    twelve = reassessments_due([INJ], [day(5)], day(12))
    assert len(twelve) == 1 and "12 weeks" in twelve[0].patient_text
    assert twelve[0].severity == "info" and twelve[0].since == day(12)
    assert reassessments_due([INJ], [day(5)], day(14))[0].severity == "info"
    assert reassessments_due([INJ], [day(5)], day(14, 1))[0].severity == "warning"
    assert reassessments_due([INJ], [day(5), day(12)], day(13)) == []


def test_t2_only_the_latest_injection_has_reviews() -> None:
    newer = ToxinInjection(day(13), ("soleus",), 100.0, "Dr Lee")
    assert reassessments_due([INJ, newer], [], day(14)) == []
    assert reassessments_due([], [], day(14)) == []


def test_t3_dose_factor_inside_the_effect_window_only() -> None:
    assert dose_factor([INJ], day(1, -1)).factor == 1.0
    inside = dose_factor([INJ], day(1))
    assert inside.factor == pytest.approx(1 + DEFAULT_TOXIN_DOSE_RAISE_PCT / 100)
    assert inside.until == day(12)
    assert inside.reason_patient.startswith("Your injection on 3 May relaxes tight muscles")
    assert inside.reason_for(None) == inside.reason_patient
    about = inside.reason_for("Ana")  # a carer reads about the patient, not "your"
    assert about.startswith("Ana's injection on 3 May relaxes tight muscles")
    assert "best time for Ana to practise" in about and "your" not in about.lower()
    assert "program rule" in inside.reason_therapist
    assert dose_factor([INJ], day(12)).factor > 1.0
    outside = dose_factor([INJ], day(12, 1))
    assert (outside.factor, outside.until, outside.reason_patient) == (1.0, None, "")


def test_t3_raise_pct_is_configurable_from_0_to_100() -> None:
    assert dose_factor([INJ], day(2), raise_pct=0).factor == 1.0
    assert dose_factor([INJ], day(2), raise_pct=100).factor == 2.0
    assert dose_factor([INJ], day(2), raise_pct=35).factor == pytest.approx(1.35)
    for bad in (-0.1, 100.1):
        with pytest.raises(ValueError, match="between 0 and 100"):
            dose_factor([INJ], day(2), raise_pct=bad)


def test_t3_default_raise_is_conservative() -> None:
    assert 0 < DEFAULT_TOXIN_DOSE_RAISE_PCT <= 25


# --- T4 toxin spread -----------------------------------------------------------------------
@pytest.mark.parametrize("code", sorted(TOXIN_SPREAD_SYMPTOMS))
def test_t4_every_spread_symptom_after_an_injection_is_urgent(code: str) -> None:
    alert = toxin_spread_alert([code], [INJ], day(2))
    assert alert is not None
    assert (alert.kind, alert.severity, alert.rule_id) == ("toxin_spread", "urgent", "T4")
    assert alert.patient_text.startswith("Get urgent medical help now")
    assert TOXIN_SPREAD_SYMPTOMS[code] in alert.patient_text


def test_t4_no_symptom_no_alert_and_no_injection_on_record_is_still_urgent() -> None:
    """Trouble swallowing is an emergency whatever the records say: before the injection on
    record (or with none) it is still urgent, only the words about the injection change."""
    assert toxin_spread_alert([], [INJ], day(2)) is None
    before = toxin_spread_alert(["swallowing"], [INJ], day(0, -1))
    none = toxin_spread_alert(["swallowing"], [], day(2))
    after = toxin_spread_alert(["swallowing"], [INJ], day(0))
    for alert in (before, none, after):
        assert alert is not None and alert.severity == "urgent"
        assert "emergency number" in alert.patient_text
    assert before is not None and after is not None
    assert "no injection on record" in before.therapist_text
    assert INJECTED.isoformat() in after.therapist_text
    with pytest.raises(ValueError, match="unknown symptom 'itch'"):
        toxin_spread_alert(["itch"], [INJ], day(2))


def test_t4_symptom_list_covers_the_boxed_warning() -> None:
    words = " ".join(TOXIN_SPREAD_SYMPTOMS.values())
    for w in ("swallowing", "speaking", "breathing", "weakness", "double", "drooping eyelids"):
        assert w in words


# --- T5/T6 baclofen ------------------------------------------------------------------------
REFILL = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("days_left", "severity"),
    [
        (15, None),
        (14, "info"),
        (8, "info"),
        (7, "warning"),
        (1, "warning"),
        (0, "urgent"),
        (-1, "urgent"),
    ],
)
def test_t5_pump_refill_15_14_8_7_0_minus_1_days(days_left: int, severity: str | None) -> None:
    alert = pump_refill_alert(IntrathecalPump(REFILL), REFILL - timedelta(days=days_left))
    if severity is None:
        assert alert is None
        return
    assert alert is not None
    assert (alert.kind, alert.severity, alert.rule_id) == ("pump_refill", severity, "T5")
    assert "Never let the pump run empty" in alert.patient_text
    assert "do not stop baclofen suddenly" in alert.patient_text


def test_t5_since_is_the_day_the_level_began() -> None:
    pump = IntrathecalPump(REFILL)
    assert pump_refill_alert(pump, REFILL - timedelta(days=10)).since == REFILL - timedelta(14)
    assert pump_refill_alert(pump, REFILL - timedelta(days=3)).since == REFILL - timedelta(7)
    assert pump_refill_alert(pump, REFILL + timedelta(days=3)).since == REFILL


def test_t5_a_sounding_alarm_is_urgent_whatever_the_refill_date() -> None:
    far = REFILL - timedelta(days=40)
    assert pump_refill_alert(IntrathecalPump(REFILL, alarm_on=far + timedelta(1)), far) is None
    alert = pump_refill_alert(IntrathecalPump(REFILL, alarm_on=far), far)
    assert alert is not None and alert.severity == "urgent" and alert.since == far
    assert "alarm" in alert.patient_text


def test_t6_oral_schedule_lists_doses_in_time_order_and_never_stop() -> None:
    text = OralBaclofen((("20:00", 10.0), ("08:00", 5.0), ("14:00", 2.5))).schedule_text()
    assert text.startswith("Take baclofen 5 mg at 08:00, 2.5 mg at 14:00 and 10 mg at 20:00.")
    assert text.endswith(BACLOFEN_NEVER_STOP)
    assert OralBaclofen((("08:00", 10.0),)).schedule_text().startswith("Take baclofen 10 mg at")


@pytest.mark.parametrize("doses", [(), (("8:00", 10.0),), (("24:00", 10.0),), (("08:00", 0),)])
def test_t6_invalid_oral_doses_are_refused(doses: tuple[tuple[str, float], ...]) -> None:
    with pytest.raises(ValueError):
        OralBaclofen(doses)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?:])\s+", text) if s]


def _baclofen_strings() -> list[str]:
    out = [BACLOFEN_NEVER_STOP, therapies.PUMP_NEVER_EMPTY, THERAPY_KINDS["baclofen"]]
    out.append(OralBaclofen((("08:00", 10.0), ("20:00", 10.0))).schedule_text())
    pump = IntrathecalPump(REFILL)
    for days_left in range(-3, 16):
        alert = pump_refill_alert(pump, REFILL - timedelta(days=days_left))
        if alert is not None:
            out += [alert.patient_text, alert.therapist_text]
    alarm = pump_refill_alert(IntrathecalPump(REFILL, REFILL - timedelta(30)), REFILL)
    assert alarm is not None
    return [*out, alarm.patient_text, alarm.therapist_text]


def _module_strings() -> list[str]:
    """Every string constant of every care module (their words reach people)."""
    out: list[str] = []
    for name in ("rules", "safety", "therapies", "contracture", "alerts"):
        module = importlib.import_module(f"openrehab.care.{name}")
        for value in vars(module).values():
            if isinstance(value, str):
                out.append(value)
            elif isinstance(value, dict):
                out += [v for v in value.values() if isinstance(v, str)]
            elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                out += [v for v in vars(value).values() if isinstance(v, str)]
    return out


def test_t5_t6_no_text_in_care_suggests_stopping_baclofen() -> None:
    texts = _baclofen_strings() + _module_strings()
    assert any("baclofen" in t.lower() for t in texts)
    for text in texts:
        for sentence in _sentences(text):
            lowered = sentence.lower()
            stopping = "stop taking" in lowered or ("stop" in lowered and "baclofen" in lowered)
            if stopping:
                assert any(w in lowered for w in ("do not", "never", "don't", "not ")), sentence


def test_t5_t6_the_never_stop_words_are_plain() -> None:
    assert BACLOFEN_NEVER_STOP.startswith("Never stop baclofen suddenly.")
    assert "life-threatening" in BACLOFEN_NEVER_STOP


# --- T7/T8 electrical stimulation ----------------------------------------------------------
def _check(site: str = "forearm", kind: str = "electrical_stimulation", **kw: object) -> StimCheck:
    conditions = frozenset(kw.pop("conditions", ()))  # type: ignore[arg-type]
    site_conditions = frozenset(kw.pop("site_conditions", ()))  # type: ignore[arg-type]
    factors = PatientFactors(conditions, site_conditions, **kw)  # type: ignore[arg-type]
    return stim_check(StimPlan(kind, site), factors)  # type: ignore[arg-type]


def _codes(result: StimCheck) -> set[str]:
    return {f.code for f in result.contraindications}


def test_t7_no_findings_is_allowed() -> None:
    result = _check()
    assert result.allowed and result.contraindications == () and result.precautions == ()


@pytest.mark.parametrize("kind", ["electrical_stimulation", "electro_acupuncture"])
@pytest.mark.parametrize("device", ["pacemaker", "icd", "implanted_defibrillator"])
def test_t7_pacemaker_or_icd_anywhere_forbids(kind: str, device: str) -> None:
    for site in ("ankle_foot", "thigh", "wrist_hand"):
        result = _check(site, kind, conditions={device})
        assert not result.allowed and _codes(result) == {"icd" if "defib" in device else device}
        assert all(f.rule_id == "T7" for f in result.contraindications)


def test_t7_anterior_neck_forbids_the_back_of_the_shoulder_does_not() -> None:
    assert _codes(_check("anterior_neck")) == {"anterior_neck"}
    assert _check("shoulder").allowed


def test_t7_heart_disease_forbids_the_chest_not_the_arm() -> None:
    assert _codes(_check("chest", conditions={"heart_disease"})) == {"heart_disease_thorax"}
    assert not _check("upper_back", conditions={"heart_disease"}).allowed
    assert _check("upper_arm", conditions={"heart_disease"}).allowed
    assert _check("chest").allowed


def test_t7_active_dvt_forbids_anywhere_on_the_limbs_and_says_so() -> None:
    for site in ("lower_leg", "forearm", "thigh"):
        result = _check(site, conditions={"dvt"})
        assert _codes(result) == {"dvt"}
        assert "whole limb" in result.contraindications[0].plain_text
    assert _codes(_check("forearm", site_conditions={"dvt"})) == {"dvt"}


def test_t7_malignancy_at_the_site_forbids_elsewhere_is_a_precaution() -> None:
    assert _codes(_check(site_conditions={"malignancy"})) == {"malignancy_site"}
    elsewhere = _check(conditions={"malignancy"})
    assert elsewhere.allowed
    assert [f.code for f in elsewhere.precautions] == ["malignancy_elsewhere"]


def test_t7_broken_skin_at_the_site_forbids_elsewhere_is_a_precaution() -> None:
    assert _codes(_check(site_conditions={"broken_skin"})) == {"broken_skin_site"}
    assert _codes(_check(site_conditions={"skin_lesion"})) == {"broken_skin_site"}
    elsewhere = _check(conditions={"broken_skin"})
    assert elsewhere.allowed and [f.code for f in elsewhere.precautions] == [
        "broken_skin_elsewhere"
    ]


@pytest.mark.parametrize("site", ["abdomen", "low_back"])
def test_t7_pregnancy_forbids_the_belly_and_low_back(site: str) -> None:
    assert _codes(_check(site, pregnant=True)) == {"pregnancy_trunk"}
    assert _check(site, pregnant=False).allowed


def test_t7_pregnancy_at_the_forearm_is_allowed() -> None:
    assert _check("forearm", pregnant=True).allowed


def test_t7_a_person_who_cannot_give_feedback_is_not_stimulated() -> None:
    assert _codes(_check(can_give_feedback=False)) == {"no_feedback"}
    assert _check(can_give_feedback=True).allowed


def test_t8_impaired_sensation_and_epilepsy_are_precautions_not_contraindications() -> None:
    result = _check(conditions={"epilepsy"}, site_conditions={"impaired_sensation"})
    assert result.allowed
    assert [f.code for f in result.precautions] == ["impaired_sensation", "epilepsy"]
    assert all(f.rule_id == "T8" for f in result.precautions)
    assert [f.code for f in _check(conditions={"impaired_sensation"}).precautions] == [
        "impaired_sensation"
    ]


def test_t7_several_contraindications_are_all_listed() -> None:
    result = _check("abdomen", conditions={"pacemaker", "dvt"}, pregnant=True)
    assert _codes(result) == {"pacemaker", "dvt", "pregnancy_trunk"}


def test_stim_inputs_are_validated() -> None:
    with pytest.raises(ValueError, match="unknown site"):
        StimPlan("electrical_stimulation", "ear")
    with pytest.raises(ValueError, match="unknown stimulation kind"):
        StimPlan("tens", "forearm")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown condition 'flu'"):
        PatientFactors(frozenset({"flu"}))
    with pytest.raises(ValueError, match="unknown site condition 'epilepsy'"):
        PatientFactors(frozenset(), frozenset({"epilepsy"}))


# --- T9 splints ----------------------------------------------------------------------------
SPLINT = Splint("resting hand splint", "hand", 8.0, "night")


def test_t9_skin_check_text_every_time_and_unfading_redness_leaves_it_off() -> None:
    text = skin_check_text(SPLINT)
    assert "every time it comes off" in text and "every morning" in text
    assert "20 to 30 minutes" in text and "leave the splint off and tell your therapist" in text
    day_text = skin_check_text(Splint("ankle brace", "ankle", 6.0, "day", 3.0))
    assert "at least every 3 hours" in day_text


def test_t9_a_reported_skin_problem_raises_an_alert_none_does_not() -> None:
    assert splint_alert(SPLINT, [], date(2026, 5, 1)) is None
    alert = splint_alert(SPLINT, ["redness_not_fading", "blister"], date(2026, 5, 1))
    assert alert is not None
    assert (alert.kind, alert.severity, alert.rule_id, alert.region) == (
        "skin_check",
        "warning",
        "T9",
        "hand",
    )
    assert alert.patient_text.startswith("Leave your resting hand splint off")
    with pytest.raises(ValueError, match="unknown skin problem"):
        splint_alert(SPLINT, ["itchy"], date(2026, 5, 1))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"wear_hours_per_day": 0},
        {"wear_hours_per_day": 25},
        {"worn_at": "weekends"},
        {"skin_check_every_hours": 0},
    ],
)
def test_t9_invalid_splints_are_refused(kwargs: dict[str, object]) -> None:
    base: dict[str, object] = {
        "name": "s",
        "region": "hand",
        "wear_hours_per_day": 8.0,
        "worn_at": "day",
    }
    with pytest.raises(ValueError):
        Splint(**{**base, **kwargs})  # type: ignore[arg-type]


# --- words ---------------------------------------------------------------------------------
def test_kind_codes_have_plain_words() -> None:
    assert THERAPY_KINDS["botulinum_toxin"] == "injection to relax a muscle"
    assert THERAPY_KINDS["splint"] == "splint or brace"
    assert set(THERAPY_KINDS) >= {"baclofen", "electrical_stimulation", "procedure", "other"}
    assert {"selective_dorsal_rhizotomy", "tendon_lengthening"} <= set(PROCEDURE_KINDS)


def test_plain_date_is_day_and_month() -> None:
    assert plain_date(date(2026, 5, 3)) == "3 May"
    assert plain_date(date(2026, 12, 25)) == "25 December"


@pytest.mark.parametrize(
    ("days_left", "words"),
    [(1, "is due on 30 June, in 1 days"), (0, "is due today"), (-1, "was due on 30 June")],
)
def test_t5_the_patient_is_told_whether_the_refill_is_coming_due_today_or_late(
    days_left: int, words: str
) -> None:
    alert = pump_refill_alert(IntrathecalPump(REFILL), REFILL - timedelta(days=days_left))
    assert alert is not None and words in alert.patient_text
    assert f"{days_left} days to refill" in alert.therapist_text


@pytest.mark.parametrize(
    ("doses", "message"),
    [
        ((("8:00", 5.0),), "dose time must be HH:MM"),
        ((("08:00", 0.0),), "dose must be more than 0"),
        ((), "give at least one dose"),
    ],
)
def test_t6_a_bad_dose_is_refused_with_its_reason(
    doses: tuple[tuple[str, float], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        OralBaclofen(doses)


def test_t9_a_splint_with_an_unknown_wearing_time_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError, match="worn_at must be night, day or both"):
        Splint("night splint", "wrist", 8.0, "weekends")  # type: ignore[arg-type]
