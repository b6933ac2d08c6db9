"""Progression and motivation: adaptive difficulty, experience, levels, streaks, unlocks.

Everything here is pure and deterministic: functions take state and a result and return
new state plus :class:`ProgressEvent` objects, each with a human explanation. State is
(de)serialisable to plain JSON dicts (shapes documented in ``docs/program.md``).

Difficulty follows a weighted up-down staircase (Kaernbach 1991, Percept Psychophys
49:227) on an internal scale of ``UNITS_PER_LEVEL`` units per level: +``STEP_UP_UNITS``
after a successful set, -``STEP_DOWN_UNITS`` after a failed one. The expected change is
zero where ``p * up = (1 - p) * down``, i.e. at ``p* = down / (up + down) = 3 / 4``: the
staircase settles where the person succeeds in about 75% of sets. (Kaernbach's "up" is a
step towards an easier stimulus after an error; in difficulty terms that is our "down".)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from openrehab.exercises.library import Library
from openrehab.exercises.schema import LOWER_LIMB, UPPER_LIMB, Exercise

UNITS_PER_LEVEL = 4
STEP_UP_UNITS = 1  # harder after a success
STEP_DOWN_UNITS = 3  # easier after a failure
TARGET_SUCCESS_RATE = STEP_DOWN_UNITS / (STEP_UP_UNITS + STEP_DOWN_UNITS)  # 0.75
#: A set succeeds when this share of the target reps was done and reached the target range.
SUCCESS_FRACTION = 0.8
#: Plateau guard: moving up a level needs this many successes among the last WINDOW sets.
PLATEAU_WINDOW = 6
PLATEAU_MIN_SUCCESSES = 4
HISTORY_LENGTH = 20
#: Rest prompt (a heuristic, not a validated fatigue test): the mean of the last
#: ``FATIGUE_REPS`` reps against the first ones.
FATIGUE_REPS = 3
FATIGUE_ROM_RATIO = 0.8
FATIGUE_SPARC_DROP = 0.2  # SPARC 20% further from zero = less smooth (Balasubramanian 2015)

EventKind = Literal[
    "set",
    "level_up",
    "level_down",
    "level_hold",
    "pain",
    "rest_prompt",
    "unlock",
    "limb_level_up",
    "overall_level_up",
]
Limb = Literal["left_arm", "right_arm", "left_leg", "right_leg", "trunk"]


class RepQuality(BaseModel):
    """Quality of one rep: excursion reached (signal unit) and smoothness (SPARC, <= 0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rom: float = Field(ge=0)
    sparc: float | None = Field(default=None, le=0)


class SetResult(BaseModel):
    """What the motion engine measured for one set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reps_target: int = Field(ge=1)
    reps_completed: int = Field(ge=0)
    #: Share of the completed reps that reached the level's target range (0-1).
    target_reached_fraction: float = Field(ge=0, le=1)
    reps: tuple[RepQuality, ...] = ()
    pain_reported: bool = False
    at: datetime | None = None

    @property
    def reps_reached(self) -> int:
        return round(self.target_reached_fraction * self.reps_completed)

    @property
    def success(self) -> bool:
        return (
            not self.pain_reported
            and self.reps_completed >= SUCCESS_FRACTION * self.reps_target
            and self.target_reached_fraction >= SUCCESS_FRACTION
        )


@dataclass(frozen=True)
class ProgressEvent:
    """One row of ``progress_events``; ``reason`` is shown to the patient as is."""

    kind: EventKind
    reason: str
    exercise_id: str | None = None
    side: str | None = None
    from_level: int | None = None
    to_level: int | None = None
    xp: int = 0
    at: str | None = None  # ISO 8601

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SetRecord:
    """Compact history entry kept in the state (last ``HISTORY_LENGTH`` sets)."""

    level: int
    success: bool
    reps_completed: int
    reps_target: int
    reps_reached: int
    at: str | None = None


@dataclass(frozen=True)
class ExerciseProgress:
    """Progress on one exercise and side (a row of ``exercise_progress``)."""

    exercise_id: str
    side: str
    max_level: int
    units: int = 0  # internal difficulty, 0 .. UNITS_PER_LEVEL * max_level - 1
    xp: int = 0
    sets_done: int = 0
    history: tuple[SetRecord, ...] = ()

    @property
    def level(self) -> int:
        return self.units // UNITS_PER_LEVEL + 1

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["level"] = self.level
        data["history"] = [asdict(h) for h in self.history]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExerciseProgress:
        return cls(
            exercise_id=str(data["exercise_id"]),
            side=str(data["side"]),
            max_level=int(data["max_level"]),
            units=int(data["units"]),
            xp=int(data["xp"]),
            sets_done=int(data.get("sets_done", 0)),
            history=tuple(SetRecord(**h) for h in data.get("history", ())),
        )


def new_progress(exercise: Exercise, side: str, level: int = 1) -> ExerciseProgress:
    """Fresh progress at the bottom of ``level`` (a therapist may start higher)."""
    level = max(1, min(level, exercise.max_level))
    return ExerciseProgress(exercise.id, side, exercise.max_level, (level - 1) * UNITS_PER_LEVEL)


def _reps_phrase(result: SetResult) -> str:
    return f"you reached the target range in {result.reps_reached} of {result.reps_target} reps" + (
        "" if result.reps_completed >= result.reps_target else f" ({result.reps_completed} done)"
    )


def rest_prompt(result: SetResult) -> str | None:
    """Why to rest now, when range or smoothness fell across the set; else None."""
    reps = result.reps
    if len(reps) < 2 * FATIGUE_REPS:
        return None
    first, last = reps[:FATIGUE_REPS], reps[-FATIGUE_REPS:]
    first_rom = sum(r.rom for r in first) / FATIGUE_REPS
    last_rom = sum(r.rom for r in last) / FATIGUE_REPS
    if first_rom > 0 and last_rom < FATIGUE_ROM_RATIO * first_rom:
        return (
            f"Your movement got smaller during the set (last reps {last_rom:.0f} vs first "
            f"{first_rom:.0f}, below {FATIGUE_ROM_RATIO:.0%}): rest for a minute or two."
        )
    first_sparc = [r.sparc for r in first if r.sparc is not None]
    last_sparc = [r.sparc for r in last if r.sparc is not None]
    if len(first_sparc) == FATIGUE_REPS and len(last_sparc) == FATIGUE_REPS:
        f_mean, l_mean = sum(first_sparc) / FATIGUE_REPS, sum(last_sparc) / FATIGUE_REPS
        if l_mean < f_mean * (1 + FATIGUE_SPARC_DROP):
            return (
                f"Your movement became less smooth during the set (smoothness "
                f"{l_mean:.2f} vs {f_mean:.2f}): rest for a minute or two."
            )
    return None


def record_set(
    progress: ExerciseProgress, result: SetResult
) -> tuple[ExerciseProgress, list[ProgressEvent]]:
    """Update one exercise/side after a set: difficulty, xp, history; explain each change."""
    at = result.at.isoformat() if result.at else None
    base = {"exercise_id": progress.exercise_id, "side": progress.side, "at": at}
    events: list[ProgressEvent] = []
    level_before = progress.level
    top = UNITS_PER_LEVEL * progress.max_level - 1
    phrase = _reps_phrase(result)
    xp = result.reps_completed + result.reps_reached  # reaching the target counts double
    history = (
        *progress.history,
        SetRecord(
            level_before,
            result.success,
            result.reps_completed,
            result.reps_target,
            result.reps_reached,
            at,
        ),
    )
    history = history[-HISTORY_LENGTH:]
    events.append(
        ProgressEvent(
            "set",
            f"+{xp} points: {result.reps_completed} reps done, "
            f"{result.reps_reached} reached the target range.",
            from_level=level_before,
            to_level=level_before,
            xp=xp,
            **base,
        )
    )
    units = progress.units
    if result.pain_reported:
        # Pain: drop to the bottom of the level below, whatever the staircase says.
        units = max(0, (level_before - 2) * UNITS_PER_LEVEL)
        to_level = units // UNITS_PER_LEVEL + 1
        events.append(
            ProgressEvent(
                "pain",
                f"Level {level_before} -> {to_level} because you reported pain. Never "
                "push into pain; tell your therapist if it happens again.",
                from_level=level_before,
                to_level=to_level,
                **base,
            )
        )
    elif result.success:
        proposed = min(top, units + STEP_UP_UNITS)
        crosses = proposed // UNITS_PER_LEVEL + 1 > level_before
        recent = history[-PLATEAU_WINDOW:]
        successes = sum(h.success for h in recent)
        if crosses and successes < PLATEAU_MIN_SUCCESSES:
            # Plateau guard: one good set after a run of misses does not earn a level.
            units = level_before * UNITS_PER_LEVEL - 1
            events.append(
                ProgressEvent(
                    "level_hold",
                    f"Staying at level {level_before}: {phrase}, but only "
                    f"{successes} of your last {len(recent)} sets succeeded; you move up after "
                    f"{PLATEAU_MIN_SUCCESSES} of {PLATEAU_WINDOW}.",
                    from_level=level_before,
                    to_level=level_before,
                    **base,
                )
            )
        else:
            units = proposed
    else:
        units = max(0, units - STEP_DOWN_UNITS)
    updated = replace(
        progress,
        units=units,
        xp=progress.xp + xp,
        sets_done=progress.sets_done + 1,
        history=history,
    )
    if updated.level > level_before:
        events.append(
            ProgressEvent(
                "level_up",
                f"Level {level_before} -> {updated.level} because {phrase} and "
                f"{sum(h.success for h in history[-PLATEAU_WINDOW:])} of your last "
                f"{len(history[-PLATEAU_WINDOW:])} sets succeeded.",
                from_level=level_before,
                to_level=updated.level,
                **base,
            )
        )
    elif updated.level < level_before and not result.pain_reported:
        events.append(
            ProgressEvent(
                "level_down",
                f"Level {level_before} -> {updated.level} because {phrase} "
                f"(the aim is {math.ceil(SUCCESS_FRACTION * result.reps_target)}): practice works "
                "best at a level you manage about 3 times out of 4.",
                from_level=level_before,
                to_level=updated.level,
                **base,
            )
        )
    prompt = rest_prompt(result)
    if prompt:
        events.append(
            ProgressEvent(
                "rest_prompt", prompt, from_level=updated.level, to_level=updated.level, **base
            )
        )
    return updated, events


# --- limbs, overall level and xp -----------------------------------------------------------
def xp_to_reach(level: int) -> int:
    """Cumulative XP needed to reach ``level`` (level 1 = 0; each level costs 20 more)."""
    n = level - 1
    return 100 * n + 10 * n * (n - 1)


def level_for_xp(xp: int) -> int:
    level = 1
    while xp_to_reach(level + 1) <= xp:
        level += 1
    return level


def limbs_of(exercise: Exercise, side: str) -> tuple[Limb, ...]:
    """Which limb(s) an exercise on ``side`` credits (bilateral leg work credits both)."""
    regions = set(exercise.regions)
    sides = ("left", "right") if side == "both" else (side,)
    if exercise.laterality == "midline" or regions <= {"trunk"}:
        return ("trunk",)
    part = "arm" if regions & UPPER_LIMB and not regions & LOWER_LIMB else "leg"
    if regions & LOWER_LIMB:
        part = "leg"
    return tuple(f"{s}_{part}" for s in sides)  # type: ignore[misc]


def limb_xp(progress: Iterable[ExerciseProgress], library: Library) -> dict[str, int]:
    totals: dict[str, int] = {}
    for item in progress:
        for limb in limbs_of(library.get(item.exercise_id), item.side):
            totals[limb] = totals.get(limb, 0) + item.xp
    return totals


# --- streaks -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Streak:
    current_days: int
    best_days: int
    last_day: date | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "current_days": self.current_days,
            "best_days": self.best_days,
            "last_day": self.last_day.isoformat() if self.last_day else None,
        }


def compute_streak(days_practised: Iterable[date], today: date) -> Streak:
    """Consecutive days with at least one set, ending today or yesterday.

    Yesterday still counts so the streak does not look broken before today's practice.
    """
    days = sorted(set(days_practised))
    if not days:
        return Streak(0, 0, None)
    best = run = 1
    for before, after in itertools.pairwise(days):
        run = run + 1 if after - before == timedelta(days=1) else 1
        best = max(best, run)
    last = days[-1]
    current = run if today - last <= timedelta(days=1) else 0
    return Streak(current, best, last)


# --- unlocks -----------------------------------------------------------------------------
LevelMap = Mapping[tuple[str, str], int]


def levels_of(progress: Iterable[ExerciseProgress]) -> dict[tuple[str, str], int]:
    return {(p.exercise_id, p.side): p.level for p in progress}


def prerequisite_level(levels: LevelMap, exercise_id: str, side: str) -> int:
    """Level reached on ``exercise_id`` for ``side`` (``both`` = the weaker side)."""
    if side in ("left", "right"):
        return levels.get((exercise_id, side), levels.get((exercise_id, "both"), 0))
    if (exercise_id, "both") in levels:
        return levels[(exercise_id, "both")]
    sided = [levels[(exercise_id, s)] for s in ("left", "right") if (exercise_id, s) in levels]
    return min(sided) if sided else 0


def is_unlocked(exercise: Exercise, side: str, levels: LevelMap) -> bool:
    """True exactly when every prerequisite has reached its level on this side."""
    return all(
        prerequisite_level(levels, p.exercise, side) >= p.level for p in exercise.prerequisites
    )


def unlock_events(
    library: Library, before: LevelMap, after: LevelMap, sides: Iterable[str], at: str | None
) -> list[ProgressEvent]:
    """Exercises that became available between ``before`` and ``after``."""
    events = []
    for exercise in library:
        if not exercise.prerequisites:
            continue
        for side in ("both",) if exercise.laterality != "unilateral" else tuple(sides):
            if is_unlocked(exercise, side, after) and not is_unlocked(exercise, side, before):
                because = " and ".join(
                    f"{library.get(p.exercise).name} reached level {p.level}"
                    for p in exercise.prerequisites
                )
                events.append(
                    ProgressEvent(
                        "unlock",
                        f"New exercise unlocked: {exercise.name} ({side}) because {because}.",
                        exercise_id=exercise.id,
                        side=side,
                        at=at,
                    )
                )
    return events


# --- one set for a patient: all of the above -------------------------------------------
@dataclass(frozen=True)
class PatientProgress:
    """All exercise progress of one patient plus the days practised (for the streak)."""

    exercises: dict[tuple[str, str], ExerciseProgress] = field(default_factory=dict)
    days_practised: tuple[date, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "exercises": [p.to_dict() for p in self.exercises.values()],
            "days_practised": [d.isoformat() for d in self.days_practised],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PatientProgress:
        items = [ExerciseProgress.from_dict(d) for d in data.get("exercises", ())]
        return cls(
            {(p.exercise_id, p.side): p for p in items},
            tuple(date.fromisoformat(d) for d in data.get("days_practised", ())),
        )

    def levels(self) -> dict[tuple[str, str], int]:
        return levels_of(self.exercises.values())


def summary(state: PatientProgress, library: Library, today: date) -> dict[str, Any]:
    """What the "today" page shows: limb and overall levels and XP, streak."""
    limbs = limb_xp(state.exercises.values(), library)
    total = sum(p.xp for p in state.exercises.values())
    return {
        "overall": {
            "xp": total,
            "level": level_for_xp(total),
            "xp_to_next": xp_to_reach(level_for_xp(total) + 1) - total,
        },
        "limbs": {
            limb: {
                "xp": xp,
                "level": level_for_xp(xp),
                "xp_to_next": xp_to_reach(level_for_xp(xp) + 1) - xp,
            }
            for limb, xp in sorted(limbs.items())
        },
        "streak": compute_streak(state.days_practised, today).to_dict(),
    }


def record_patient_set(
    state: PatientProgress,
    library: Library,
    exercise_id: str,
    side: str,
    result: SetResult,
    day: date,
) -> tuple[PatientProgress, list[ProgressEvent]]:
    """Record a set for a patient: exercise progress, unlocks, limb/overall levels, streak."""
    exercise = library.get(exercise_id)
    key = (exercise_id, side)
    current = state.exercises.get(key) or new_progress(exercise, side)
    levels_before = state.levels()
    limbs_before = limb_xp(state.exercises.values(), library)
    total_before = sum(p.xp for p in state.exercises.values())
    updated, events = record_set(current, result)
    exercises = {**state.exercises, key: updated}
    days = state.days_practised if day in state.days_practised else (*state.days_practised, day)
    new_state = PatientProgress(exercises, tuple(sorted(days)))
    at = result.at.isoformat() if result.at else day.isoformat()
    sides = {s for (_, s) in exercises if s in ("left", "right")} or {"left", "right"}
    events += unlock_events(library, levels_before, new_state.levels(), sorted(sides), at)
    limbs_after = limb_xp(exercises.values(), library)
    for limb, xp in sorted(limbs_after.items()):
        old, new = level_for_xp(limbs_before.get(limb, 0)), level_for_xp(xp)
        if new > old:
            events.append(
                ProgressEvent(
                    "limb_level_up",
                    f"{limb.replace('_', ' ').capitalize()} level {old} -> {new} "
                    f"because you have earned {xp} points on it.",
                    side=side,
                    from_level=old,
                    to_level=new,
                    at=at,
                )
            )
    total_after = sum(p.xp for p in exercises.values())
    if level_for_xp(total_after) > level_for_xp(total_before):
        events.append(
            ProgressEvent(
                "overall_level_up",
                f"Overall level {level_for_xp(total_before)} -> {level_for_xp(total_after)} "
                f"because you have earned {total_after} points in total.",
                from_level=level_for_xp(total_before),
                to_level=level_for_xp(total_after),
                at=at,
            )
        )
    return new_state, events
