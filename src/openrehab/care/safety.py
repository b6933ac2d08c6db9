"""The safety engine: pain during and after exercise, stretch speed, standing.

Each rule is one small function, testable alone: ``set_must_stop`` (S1), ``pain_advice``
(S1, S5, S6), ``persisting_pain`` (S2), ``stretch_too_fast`` (S3), ``standing_allowed`` (S4).
The electrical stimulation check lives in ``care.therapies`` (T7, T8) and is re-exported
here so that every safety check can be found in one place. Pain is the 0-10 numeric rating
scale; the cut points (4 moderate, 7 severe) are the planner's (Serlin et al. 1995, Pain 61).
Words for people are plain: no "NRS", and never a push to stretch into pain.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from openrehab.care import rules
from openrehab.care.alerts import Alert
from openrehab.care.stim import PatientFactors, StimCheck, StimPlan, stim_check
from openrehab.program.planner import MODERATE_PAIN_NRS, SEVERE_PAIN_NRS

__all__ = [
    "PAIN_RISE_STOP_NRS",
    "SLOWER_PROMPT",
    "STRETCH_MODES",
    "PainAdvice",
    "PainPoint",
    "PatientFactors",
    "StimCheck",
    "StimPlan",
    "pain_advice",
    "pain_alert",
    "pain_band",
    "pain_question",
    "persisting_pain",
    "set_must_stop",
    "standing_allowed",
    "stim_check",
    "stretch_too_fast",
]

PainBand = Literal["none", "mild", "moderate", "severe"]
#: A rise of this many points above the session's start stops the set (S1, program rule).
PAIN_RISE_STOP_NRS = 2
PERSISTING_WINDOW_DAYS = 7  # S2: moderate pain on 2+ days within the last 7 days
PERSISTING_MIN_DAYS = 2
PAIN_ALERT_DAYS = 2  # a single moderate report reaches the therapist for 2 days (today, yesterday)
STRETCH_MODES: frozenset[str] = frozenset({"stretch", "passive"})
SLOWER_PROMPT = "Slower, please. Move gently and stop before it hurts."


def _check_nrs(nrs: int, what: str = "pain") -> None:
    if not 0 <= nrs <= 10:
        raise ValueError(f"{what} must be a whole number from 0 to 10, got {nrs}")


def set_must_stop(nrs: int, session_start_nrs: int | None) -> bool:
    """Rule S1: pain 4 or more, or 2 or more above the session's start, stops the set."""
    _check_nrs(nrs)
    if session_start_nrs is not None:
        _check_nrs(session_start_nrs, "the session's starting pain")
    rise = 0 if session_start_nrs is None else nrs - session_start_nrs
    return nrs >= MODERATE_PAIN_NRS or rise >= PAIN_RISE_STOP_NRS


def pain_band(nrs: int) -> PainBand:
    """0 none, 1-3 mild, 4-6 moderate, 7-10 severe (the planner's cut points)."""
    _check_nrs(nrs)
    if nrs >= SEVERE_PAIN_NRS:
        return "severe"
    if nrs >= MODERATE_PAIN_NRS:
        return "moderate"
    return "mild" if nrs > 0 else "none"


@dataclass(frozen=True)
class PainAdvice:
    """What to do now about a pain report, in plain words for the reader.

    ``tell_therapist`` means contact the therapist today; with moderate pain the steps say to
    tell the therapist only if it is still there tomorrow (S2 then flags it by itself).
    """

    nrs: int
    band: PainBand
    stop_set: bool
    stop_today: bool
    tell_therapist: bool
    headline: str
    steps: tuple[str, ...]
    urgent_signs: tuple[str, ...]
    ask_again_next_session: bool
    rule_ids: tuple[str, ...]


class _Words:
    """Second person for the patient, third person (by name) for a caregiver or therapist."""

    def __init__(self, name: str | None) -> None:
        self.name = name

    def do(self, you: str, they: str) -> str:
        """``you``: an instruction ("Stop this set."); ``they``: "{n} should stop ..."."""
        return you if self.name is None else they.format(n=self.name)


def _urgent_signs(w: _Words) -> tuple[str, ...]:
    call = w.do("Call your emergency number", "Call the emergency number")
    return (
        f"{call} for sudden, very bad pain.",
        f"{call} for chest pain or trouble breathing.",
        f"{call} for new weakness, numbness, a drooping face or trouble speaking.",
        f"{call} for a calf that is swollen, hot and red.",
        f"{call} if the pain came after a fall.",
    )


def _severe(nrs: int, w: _Words, rule_ids: tuple[str, ...]) -> PainAdvice:
    steps = (
        w.do("Stop exercising for today.", "{n} should stop exercising for today."),
        w.do(
            "Rest in a comfortable position. Support the sore part with a pillow.",
            "Help {n} rest in a comfortable position, with the sore part on a pillow.",
        ),
        w.do("Call your therapist today.", "Call {n}'s therapist today."),
    )
    headline = w.do("That is a lot of pain. Stop for today.", "That is a lot of pain for {n}.")
    return PainAdvice(
        nrs, "severe", True, True, True, headline, steps, _urgent_signs(w), True, rule_ids
    )


def _stop_set(nrs: int, band: PainBand, w: _Words, rule_ids: tuple[str, ...]) -> PainAdvice:
    steps = (
        w.do("Stop this set now.", "{n} should stop this set now."),
        w.do(
            "Rest and let the pain settle. Do not stretch into pain.",
            "{n} should rest and let the pain settle, with no stretching into pain.",
        ),
        w.do(
            "We will ask about your pain again next time.",
            "We will ask about {n}'s pain again next time.",
        ),
        w.do(
            "If the pain is still there tomorrow, tell your therapist.",
            "If the pain is still there tomorrow, tell {n}'s therapist.",
        ),
    )
    headline = w.do("Time to stop this set and rest.", "Time for {n} to stop this set and rest.")
    urgent = _urgent_signs(w) if band != "mild" else ()
    return PainAdvice(nrs, band, True, False, False, headline, steps, urgent, True, rule_ids)


def pain_advice(
    nrs: int, session_start_nrs: int | None = None, *, name: str | None = None
) -> PainAdvice:
    """Rules S1, S5, S6: what to do now about pain ``nrs`` (0-10).

    0-3 without a rise of 2: thanks, carry on gently. 4-6, or a rise of 2 or more: stop the
    set, rest, asked again next session, tell the therapist if still there tomorrow. 7-10:
    stop for today, rest, call the therapist today. Urgent signs are listed from 4 and with
    any rise to moderate. ``name=None`` speaks to the patient; a name speaks about them.
    """
    w = _Words(name)
    band = pain_band(nrs)
    if band == "severe":
        ids = (rules.PAIN_STOPS_SET.id, rules.SEVERE_PAIN_STOPS_DAY.id, rules.URGENT_SIGNS.id)
        return _severe(nrs, w, ids)
    if set_must_stop(nrs, session_start_nrs):
        ids = (rules.PAIN_STOPS_SET.id,) + ((rules.URGENT_SIGNS.id,) if band != "mild" else ())
        return _stop_set(nrs, band, w, ids)
    steps = (
        w.do("Carry on gently.", "{n} can carry on gently."),
        w.do("Stop if it starts to hurt more.", "{n} should stop if it starts to hurt more."),
    )
    return PainAdvice(nrs, band, False, False, False, "Thank you.", steps, (), False, ())


def pain_question(name: str | None) -> str:
    """``How much pain do you have now?`` or ``How much pain does Ana have now?``."""
    return (
        "How much pain do you have now?" if name is None else f"How much pain does {name} have now?"
    )


def rests_today(latest_nrs_today: int | None) -> bool:
    """Rule S5: the day's latest pain score of 7 or more ends exercise for the rest of the day
    (a lower score given later that day, once the pain has settled, lifts it)."""
    return latest_nrs_today is not None and latest_nrs_today >= SEVERE_PAIN_NRS


def rest_today_text(nrs: int, at: str, name: str | None = None) -> str:
    """Why the exercises are closed today, and how to reopen them, in plain words."""
    w = _Words(name)
    return w.do(
        f"Your pain was {nrs} out of 10 at {at}. Rest today: no exercises until the pain has "
        "settled. If it has gone, give your pain score again.",
        f"{{n}}'s pain was {nrs} out of 10 at {at}. {{n}} should rest today: no exercises until "
        "the pain has settled. If it has gone, give the pain score again.",
    )


@dataclass(frozen=True)
class PainPoint:
    reported_on: date
    nrs: int


def _pain_texts(nrs: int, first_on: date, days: int) -> tuple[str, str]:
    if days <= 1:
        return (
            "You reported strong pain. Your therapist has been told.",
            f"Pain {nrs}/10 reported on {first_on.isoformat()}.",
        )
    return (
        "Your pain has not settled from one day to the next. Your therapist has been told.",
        f"Pain >= {MODERATE_PAIN_NRS}/10 on {days} days since {first_on.isoformat()}, "
        f"latest {nrs}/10: not settling by the next day.",
    )


def persisting_pain(reports: Sequence[PainPoint], today: date) -> Alert | None:
    """Rule S2: pain >= 4 on 2+ different days within the last 7 days, the latest still >= 4.

    The last 7 days are ``today - 6`` to ``today``; later reports are ignored. Of reports on
    the same day the last one given counts as the latest. Urgent when the latest is >= 7.
    """
    start = today - timedelta(days=PERSISTING_WINDOW_DAYS - 1)
    recent = [r for r in reports if start <= r.reported_on <= today]
    if not recent:
        return None
    latest = max(enumerate(recent), key=lambda pair: (pair[1].reported_on, pair[0]))[1]
    pain_days = sorted({r.reported_on for r in recent if r.nrs >= MODERATE_PAIN_NRS})
    if latest.nrs < MODERATE_PAIN_NRS or len(pain_days) < PERSISTING_MIN_DAYS:
        return None
    patient, therapist = _pain_texts(latest.nrs, pain_days[0], len(pain_days))
    return Alert(
        kind="pain_persisting",
        severity="urgent" if latest.nrs >= SEVERE_PAIN_NRS else "warning",
        rule_id=rules.PAIN_PERSISTING.id,
        patient_text=patient,
        therapist_text=therapist,
        since=pain_days[0],
    )


def pain_alert(latest: PainPoint, today: date) -> Alert | None:
    """Rules S1/S5: one report of pain >= 4 made today or yesterday reaches the therapist."""
    age_days = (today - latest.reported_on).days
    if latest.nrs < MODERATE_PAIN_NRS or not 0 <= age_days < PAIN_ALERT_DAYS:
        return None
    severe = latest.nrs >= SEVERE_PAIN_NRS
    patient, therapist = _pain_texts(latest.nrs, latest.reported_on, 1)
    return Alert(
        kind="pain_report",
        severity="urgent" if severe else "warning",
        rule_id=(rules.SEVERE_PAIN_STOPS_DAY if severe else rules.PAIN_STOPS_SET).id,
        patient_text=patient,
        therapist_text=therapist,
        since=latest.reported_on,
    )


def stretch_too_fast(
    mode: str, peak_velocity_deg_s: float | None, max_velocity_deg_s: float | None
) -> bool:
    """Rule S3: in stretch or passive mode, a peak above the limit is too fast (at it is not)."""
    if mode not in STRETCH_MODES or peak_velocity_deg_s is None or max_velocity_deg_s is None:
        return False
    return abs(peak_velocity_deg_s) > max_velocity_deg_s


def standing_allowed(body_position: str | None, can_stand_safely: bool) -> bool:
    """Rule S4: an exercise done standing needs "can stand safely"; others are not limited."""
    return body_position != "standing" or can_stand_safely
