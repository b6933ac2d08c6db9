"""Therapies alongside exercise: botulinum toxin, baclofen, electrical stimulation, splints.

Pure functions over frozen dataclasses and ``datetime.date``; each check returns an
:class:`~openrehab.care.alerts.Alert` (or a small result) citing its rule in ``care.rules``.
Sources: Royal College of Physicians 2018 (botulinum toxin), FDA 2009 boxed warning (toxin
spread), FDA boxed warning for intrathecal baclofen, baclofen tablet labelling, Houghton et
al. 2010 Physiotherapy Canada 62 (electrical stimulation), ACPIN/COT 2015 (splinting).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from openrehab.care import rules
from openrehab.care.alerts import Alert, Severity

THERAPY_KINDS: dict[str, str] = {
    "botulinum_toxin": "injection to relax a muscle",
    "baclofen": "baclofen (medicine for stiffness)",
    "electrical_stimulation": "electrical stimulation",
    "electro_acupuncture": "acupuncture with a small electric current",
    "splint": "splint or brace",
    "procedure": "operation or procedure",
    "other": "other treatment",
}
#: Procedures recorded as history only (no rule acts on them).
PROCEDURE_KINDS: dict[str, str] = {
    "selective_dorsal_rhizotomy": "back operation to reduce stiffness in the legs",
    "tendon_lengthening": "operation to lengthen a tendon",
    "tendon_transfer": "operation to move a tendon",
    "tenotomy": "operation to release a tight tendon",
    "neurotomy": "operation on a nerve to reduce stiffness",
    "phenol_nerve_block": "nerve injection to reduce stiffness",
    "serial_casting": "series of plaster casts to stretch a joint",
    "baclofen_pump_implant": "baclofen pump put in",
    "other": "other operation or procedure",
}
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip


def plain_date(day: date) -> str:
    """``3 May`` (the same words in every locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]}"


# --- botulinum toxin -----------------------------------------------------------------------
TOXIN_EFFECT_ONSET_DAYS = 7  # RCP 2018: effect within days, usually by about a week
TOXIN_PEAK_REVIEW_FROM_DAYS = 28  # RCP 2018: review at peak effect, 4-6 weeks
TOXIN_PEAK_REVIEW_TO_DAYS = 42
TOXIN_REVIEW_DAYS = 84  # 12 weeks: effect wanes; earliest re-injection (RCP 2018)
TOXIN_REVIEW_GRACE_DAYS = 14  # program rule: the 12-week review is overdue after week 14
MIN_REINJECTION_INTERVAL_DAYS = 84
#: Program rule (T3), not an evidence-based number: a modest raise a therapist can change.
DEFAULT_TOXIN_DOSE_RAISE_PCT = 20.0


@dataclass(frozen=True)
class ToxinInjection:
    injected_on: date
    muscles: tuple[str, ...]
    units: float
    injector: str


@dataclass(frozen=True)
class ToxinSchedule:
    """Dates that follow from one injection (Royal College of Physicians 2018)."""

    effect_from: date
    peak_review_from: date
    peak_review_to: date
    review_12_weeks: date
    earliest_reinjection: date
    effect_to: date


def toxin_schedule(inj: ToxinInjection) -> ToxinSchedule:
    """Onset +1 week, peak review weeks 4-6, review and earliest re-injection at 12 weeks."""
    day0 = inj.injected_on
    return ToxinSchedule(
        effect_from=day0 + timedelta(days=TOXIN_EFFECT_ONSET_DAYS),
        peak_review_from=day0 + timedelta(days=TOXIN_PEAK_REVIEW_FROM_DAYS),
        peak_review_to=day0 + timedelta(days=TOXIN_PEAK_REVIEW_TO_DAYS),
        review_12_weeks=day0 + timedelta(days=TOXIN_REVIEW_DAYS),
        earliest_reinjection=day0 + timedelta(days=MIN_REINJECTION_INTERVAL_DAYS),
        effect_to=day0 + timedelta(days=TOXIN_REVIEW_DAYS),
    )


def _latest(injections: Iterable[ToxinInjection], today: date) -> ToxinInjection | None:
    past = [i for i in injections if i.injected_on <= today]
    return max(past, key=lambda i: i.injected_on) if past else None


def reinjection_too_soon(previous: Sequence[ToxinInjection], proposed_on: date) -> Alert | None:
    """Rule T1: an injection closer than 12 weeks to another one; exactly 12 weeks is fine."""
    if not previous:
        return None
    nearest = min(previous, key=lambda i: abs((proposed_on - i.injected_on).days))
    gap_days = abs((proposed_on - nearest.injected_on).days)
    if gap_days >= MIN_REINJECTION_INTERVAL_DAYS:
        return None
    earliest = nearest.injected_on + timedelta(days=MIN_REINJECTION_INTERVAL_DAYS)
    return Alert(
        kind="reinjection_too_soon",
        severity="warning",
        rule_id=rules.TOXIN_INTERVAL.id,
        patient_text=(
            f"This injection date is less than 12 weeks from your injection on "
            f"{plain_date(nearest.injected_on)}. Please check the date with the team "
            "that gives your injections."
        ),
        therapist_text=(
            f"Proposed botulinum toxin injection on {proposed_on.isoformat()} is {gap_days} "
            f"days from the injection of {nearest.injected_on.isoformat()}; re-injection no "
            f"sooner than 12 weeks (earliest {earliest.isoformat()})."
        ),
        since=proposed_on,
    )


def _review_alert(kind_words: str, due: date, overdue_after: date, today: date) -> Alert:
    overdue = today > overdue_after
    if overdue:
        state = f"overdue since {(overdue_after + timedelta(days=1)).isoformat()}"
    else:
        state = f"due by {overdue_after.isoformat()}"
    return Alert(
        kind="reassessment_due",
        severity="warning" if overdue else "info",
        rule_id=rules.TOXIN_REVIEW.id,
        patient_text=(
            f"It is time for the check-up {kind_words} after your injection. Your therapist "
            "will measure how your muscles have changed."
        ),
        therapist_text=(
            f"Botulinum toxin {kind_words} review: due from {due.isoformat()}, {state}."
        ),
        since=due,
    )


def reassessments_due(
    injections: Sequence[ToxinInjection], assessed_on: Sequence[date], today: date
) -> list[Alert]:
    """Rule T2: the peak-effect review (weeks 4-6) and the 12-week review of the last injection.

    Only the latest injection counts (a newer one starts a new cycle). The peak review is due
    from week 4 (info) and overdue after week 6 (warning) unless an assessment was recorded
    from week 4 on; a late assessment also clears it, and it is no longer shown once the
    12-week review is due. The 12-week review is due from week 12 and overdue after week 14
    (program grace period) unless an assessment was recorded from week 12 on. Nothing is
    shown before its due date.
    """
    last = _latest(injections, today)
    if last is None:
        return []
    sched = toxin_schedule(last)
    alerts: list[Alert] = []
    if sched.peak_review_from <= today < sched.review_12_weeks and not any(
        sched.peak_review_from <= day <= today for day in assessed_on
    ):
        alerts.append(
            _review_alert("4 to 6 weeks", sched.peak_review_from, sched.peak_review_to, today)
        )
    if today >= sched.review_12_weeks and not any(
        sched.review_12_weeks <= day <= today for day in assessed_on
    ):
        overdue_after = sched.review_12_weeks + timedelta(days=TOXIN_REVIEW_GRACE_DAYS)
        alerts.append(_review_alert("12 weeks", sched.review_12_weeks, overdue_after, today))
    return alerts


@dataclass(frozen=True)
class DoseRaise:
    factor: float
    reason_patient: str
    reason_therapist: str
    until: date | None
    injected_on: date | None = None

    def reason_for(self, name: str | None) -> str:
        """The patient's reason (``name`` None), or the same about them for a carer."""
        if name is None or self.injected_on is None:
            return self.reason_patient
        return (
            f"{name}'s injection on {plain_date(self.injected_on)} relaxes tight muscles for a "
            f"few weeks: this is the best time for {name} to practise more, so today's target "
            "is a little higher."
        )


def dose_factor(
    injections: Sequence[ToxinInjection],
    today: date,
    raise_pct: float = DEFAULT_TOXIN_DOSE_RAISE_PCT,
) -> DoseRaise:
    """Rule T3: the daily target times ``1 + raise_pct/100`` while an injection works.

    The window is ``effect_from`` to ``effect_to`` inclusive (week 1 to week 12). Outside it,
    or with ``raise_pct`` 0, the factor is 1.0 and the reasons are empty. ``raise_pct`` is the
    therapist's choice, 0 to 100 (``ValueError`` otherwise).
    """
    if not 0.0 <= raise_pct <= 100.0:
        raise ValueError(f"raise_pct must be between 0 and 100 (per cent), got {raise_pct}")
    active = [i for i in injections if _in_effect(i, today)]
    if not active or raise_pct == 0:
        return DoseRaise(1.0, "", "", None)
    inj = max(active, key=lambda i: i.injected_on)
    until = toxin_schedule(inj).effect_to
    return DoseRaise(
        factor=1.0 + raise_pct / 100.0,
        reason_patient=(
            f"Your injection on {plain_date(inj.injected_on)} relaxes tight muscles for a few "
            "weeks: this is the best time to practise more, so today's target is a little "
            "higher."
        ),
        reason_therapist=(
            f"Botulinum toxin {inj.injected_on.isoformat()} ({', '.join(inj.muscles)}): daily "
            f"target +{raise_pct:g} % until {until.isoformat()} (program rule, "
            "therapist-configurable)."
        ),
        until=until,
        injected_on=inj.injected_on,
    )


def _in_effect(inj: ToxinInjection, today: date) -> bool:
    sched = toxin_schedule(inj)
    return sched.effect_from <= today <= sched.effect_to


TOXIN_SPREAD_SYMPTOMS: dict[str, str] = {
    "swallowing": "trouble swallowing",
    "speaking": "trouble speaking",
    "breathing": "trouble breathing",
    "generalised_weakness": "weakness all over the body",
    "vision": "double or blurred vision",
    "eyelids": "drooping eyelids",
}


def toxin_spread_alert(
    symptoms: Iterable[str], injections: Sequence[ToxinInjection], today: date
) -> Alert | None:
    """Rule T4: any new spread symptom is urgent (FDA 2009 boxed warning).

    Spread can appear hours to weeks after an injection, so any earlier injection counts; with
    none on record the symptoms are urgent all the same (they are dangerous whatever caused
    them). No symptom: None. Unknown symptom codes raise ``ValueError``.
    """
    codes = list(dict.fromkeys(symptoms))
    unknown = [c for c in codes if c not in TOXIN_SPREAD_SYMPTOMS]
    if unknown:
        raise ValueError(
            f"unknown symptom {unknown[0]!r}; expected one of {', '.join(TOXIN_SPREAD_SYMPTOMS)}"
        )
    if not codes:
        return None
    last = _latest(injections, today)
    words = ", ".join(TOXIN_SPREAD_SYMPTOMS[c] for c in codes)
    # Trouble breathing or swallowing is an emergency whatever the records say (an injection
    # given elsewhere, or not yet entered): urgent with or without one on record.
    after = "after your injection" if last is not None else "(tell them about any injection)"
    given = (
        f"after the injection of {last.injected_on.isoformat()}"
        if last is not None
        else "with no injection on record (ask about injections elsewhere)"
    )
    return Alert(
        kind="toxin_spread",
        severity="urgent",
        rule_id=rules.TOXIN_SPREAD.id,
        patient_text=(
            f"Get urgent medical help now: call your emergency number. You have {words} "
            f"{after}. This can be serious."
        ),
        therapist_text=(
            f"Possible distant spread of botulinum toxin effect ({', '.join(codes)}) {given}: "
            "urgent medical assessment."
        ),
        since=today,
    )


# --- baclofen ------------------------------------------------------------------------------
BACLOFEN_NEVER_STOP = (
    "Never stop baclofen suddenly. Stopping suddenly can cause high fever, confusion, much "
    "stronger stiffness and can be life-threatening. Any change is made slowly, with your "
    "doctor."
)
PUMP_NEVER_EMPTY = (
    "Never let the pump run empty: do not stop baclofen suddenly. If the pump alarm sounds, "
    "call the pump team straight away."
)
PUMP_REMINDER_DAYS = 14
PUMP_WARNING_DAYS = 7
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class OralBaclofen:
    """Baclofen tablets: ``doses`` as (time "HH:MM", mg) pairs."""

    doses: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        if not self.doses:
            raise ValueError("give at least one dose")
        for time, mg in self.doses:
            if not _TIME.match(time):
                raise ValueError(f"dose time must be HH:MM (24 hours), got {time!r}")
            if not 0 < mg <= 100:
                raise ValueError(f"dose must be more than 0 and at most 100 mg, got {mg}")

    def schedule_text(self) -> str:
        """``Take baclofen 10 mg at 08:00 and 10 mg at 20:00.`` plus the never-stop words."""
        parts = [f"{mg:g} mg at {time}" for time, mg in sorted(self.doses)]
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"Take baclofen {listed}. {BACLOFEN_NEVER_STOP}"


@dataclass(frozen=True)
class IntrathecalPump:
    next_refill_on: date
    #: The day the pump's low-reservoir alarm was heard (None: no alarm).
    alarm_on: date | None = None


def pump_refill_alert(pump: IntrathecalPump, today: date) -> Alert | None:
    """Rule T5: reminder from 14 days before (info), warning at 7 days or less, urgent on/after.

    A sounding alarm is urgent whatever the date. Every text says never to let it run empty.
    """
    days_left = (pump.next_refill_on - today).days
    alarm = pump.alarm_on is not None and pump.alarm_on <= today
    if not alarm and days_left > PUMP_REMINDER_DAYS:
        return None
    severity: Severity
    if alarm or days_left <= 0:
        severity = "urgent"
    elif days_left <= PUMP_WARNING_DAYS:
        severity = "warning"
    else:
        severity = "info"
    when = plain_date(pump.next_refill_on)
    if alarm:
        head = "Your baclofen pump alarm has sounded. Call the pump team now."
    elif days_left < 0:
        head = f"Your baclofen pump refill was due on {when}. Call the pump team today."
    elif days_left == 0:
        head = "Your baclofen pump refill is due today. Make sure it happens today."
    else:
        head = f"Your baclofen pump refill is due on {when}, in {days_left} days."
    state = "alarm sounding" if alarm else f"{days_left} days to refill ({pump.next_refill_on})"
    return Alert(
        kind="pump_refill",
        severity=severity,
        rule_id=rules.PUMP_REFILL.id,
        patient_text=f"{head} {PUMP_NEVER_EMPTY}",
        therapist_text=(
            f"Intrathecal baclofen pump: {state}. Abrupt interruption risks withdrawal "
            "(high fever, altered mental state, rebound spasticity, rigidity; can be fatal)."
        ),
        since=_pump_since(pump, severity),
    )


def _pump_since(pump: IntrathecalPump, severity: Severity) -> date:
    """The day the current level began, so the finding keeps one date while it lasts."""
    if pump.alarm_on is not None and severity == "urgent":
        return min(pump.alarm_on, pump.next_refill_on)
    back_days = {"info": PUMP_REMINDER_DAYS, "warning": PUMP_WARNING_DAYS, "urgent": 0}
    return pump.next_refill_on - timedelta(days=back_days[severity])


# --- splints and orthoses ------------------------------------------------------------------
DEFAULT_SKIN_CHECK_EVERY_HOURS = 2.0  # program default while worn by day (ACPIN/COT 2015)
SKIN_PROBLEMS: dict[str, str] = {
    "redness_not_fading": "a red mark that has not faded after 30 minutes",
    "blister": "a blister",
    "broken_skin": "broken skin",
    "swelling": "swelling",
    "numbness": "numbness or tingling",
    "pain": "pain under the splint",
}


@dataclass(frozen=True)
class Splint:
    name: str
    region: str
    wear_hours_per_day: float
    worn_at: Literal["night", "day", "both"]
    skin_check_every_hours: float = DEFAULT_SKIN_CHECK_EVERY_HOURS

    def __post_init__(self) -> None:
        if not 0 < self.wear_hours_per_day <= 24:
            raise ValueError(
                f"wear_hours_per_day must be in (0, 24], got {self.wear_hours_per_day}"
            )
        if self.worn_at not in ("night", "day", "both"):
            raise ValueError(f"worn_at must be night, day or both, got {self.worn_at!r}")
        if not 0 < self.skin_check_every_hours <= 24:
            raise ValueError("skin_check_every_hours must be in (0, 24]")


def skin_check_text(splint: Splint) -> str:
    """Rule T9 in plain words: check every time it comes off; unfading redness: leave it off."""
    when = f"at least every {splint.skin_check_every_hours:g} hours while you wear it by day"
    if splint.worn_at == "night":
        when = "every morning when you take it off"
    return (
        f"Check the skin under your {splint.name} every time it comes off, and {when}. "
        "A little redness is normal. If a red mark has not faded 20 to 30 minutes after "
        "taking it off, leave the splint off and tell your therapist. Do the same for a "
        "blister, broken skin, swelling, numbness or pain."
    )


def splint_alert(splint: Splint, problems: Iterable[str], reported_on: date) -> Alert | None:
    """Rule T9: a reported skin problem keeps the splint off until the therapist has seen it."""
    codes = list(dict.fromkeys(problems))
    for code in codes:
        if code not in SKIN_PROBLEMS:
            raise ValueError(
                f"unknown skin problem {code!r}; expected one of {', '.join(SKIN_PROBLEMS)}"
            )
    if not codes:
        return None
    words = ", ".join(SKIN_PROBLEMS[c] for c in codes)
    return Alert(
        kind="skin_check",
        severity="warning",
        rule_id=rules.SPLINT_SKIN.id,
        patient_text=(
            f"Leave your {splint.name} off and tell your therapist: you have {words}. "
            "The splint may be pressing too hard."
        ),
        therapist_text=(
            f"Splint '{splint.name}' ({splint.region}, {splint.worn_at}, "
            f"{splint.wear_hours_per_day:g} h/day): skin problem reported ({', '.join(codes)}); "
            "left off pending review of fit."
        ),
        since=reported_on,
        region=splint.region,
    )
