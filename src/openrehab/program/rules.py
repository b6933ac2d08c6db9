"""The planner's rules: each has an id, a plain-language reason and its clinical source.

Kept apart from the planner so that the web pages, the docs and the plan's ``reasons``
quote exactly the same words. ``docs/program.md`` lists them with their discussion.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    reason: str
    source: str

    def cite(self, detail: str) -> str:
        """A reason line for a plan: ``[R1 title] detail. Why: reason (source)``."""
        return f"[{self.id} {self.title}] {detail} Why: {self.reason} ({self.source})."


STANDING_SAFETY = Rule(
    "R1",
    "standing only when safe",
    "falls are common after stroke; standing practice at home is "
    "planned only when standing has been judged safe",
    "Winstein et al. 2016, AHA/ASA guideline, Stroke 47:e98",
)
SITTING_BALANCE = Rule(
    "R2",
    "unsupported sitting only when safe",
    "exercises that move the trunk without a backrest need sitting balance; until then "
    "they are done with a therapist",
    "Veerbeek et al. 2014, PLoS One (sitting balance training)",
)
PASSIVE_FIRST = Rule(
    "R3",
    "passive and slow stretch first for severe regions",
    "with no active movement or marked spasticity (MAS 3-4) the muscle cannot be moved "
    "through its range by the person; keeping it moving and at length counters the "
    "shortening that immobilisation causes in spastic paresis",
    "Gracies 2005, Muscle Nerve 31; MAS: Bohannon & Smith 1987, Phys Ther 67",
)
DAILY_RANGE = Rule(
    "R4",
    "every involved region through its range daily",
    "immobilisation in a shortened position drives muscle shortening and contracture; "
    "stretch alone has small effects, so it accompanies active practice rather than "
    "replacing it",
    "Gracies 2005, Muscle Nerve 31; Harvey et al. 2017, Cochrane review on stretch",
)
SLOW_STRETCH = Rule(
    "R5",
    "stretches slow, gentle and never into pain",
    "spastic reflex resistance grows with stretch velocity, so stretches are done as slowly "
    "as possible and stop at the first feeling of pain",
    "Lance 1980 (velocity-dependent tonic stretch reflexes); Tardieu V1 in Gracies 2005",
)
SELF_ASSIST = Rule(
    "R6",
    "the unaffected side helps",
    "when one side is unaffected, the other hand or leg moves the affected limb in assisted "
    "and passive modes so that practice does not depend on a helper being present",
    "self-administered graded arm programme: Harris et al. 2009, Stroke 40 (GRASP)",
)
CONTRAINDICATION = Rule(
    "R7",
    "contraindications exclude exercises",
    "an exercise whose listed contraindications include one of the person's conditions is "
    "not planned (e.g. electrical stimulation with a pacemaker or implanted defibrillator)",
    "device labelling for neuromuscular electrical stimulation; Billinger et al. 2014, "
    "Stroke 45 (exercise precautions after stroke)",
)
PAIN = Rule(
    "R8",
    "pain reduces volume and removes stretch",
    "moderate pain (NRS 4-6) halves the daily volume and keeps stretches at the gentlest "
    "level; severe pain (NRS 7-10) or a painful region removes stretching and keeps only "
    "gentle movement within comfort until a clinician has reviewed it",
    "NRS cut points: Serlin et al. 1995, Pain 61; Winstein et al. 2016 (shoulder pain)",
)
DOSE = Rule(
    "R9",
    "high repetition dose",
    "recovery depends on many repetitions; about 300 repetitions per session are feasible "
    "and far above the 30-40 typical of usual care; the target is adjustable by the therapist",
    "Lang et al. 2009, Arch Phys Med Rehabil 90; Birkenmeier et al. 2010, Neurorehabil "
    "Neural Repair 24; Kwakkel et al. 2004, Stroke 35",
)
ORDER = Rule(
    "R10",
    "order: passive, stretch, assisted, active, functional",
    "gentle range of motion and slow stretch come before active work on the same limb; "
    "task-specific functional practice comes last, once the parts have been warmed up",
    "Veerbeek et al. 2014, PLoS One; Kwakkel et al. 2004, Stroke 35",
)
UNLOCK = Rule(
    "R11",
    "harder exercises unlock with progress",
    "an exercise with prerequisites is planned only when those have reached their level, "
    "so that difficulty grows with measured ability",
    "graded repetitive practice: Harris et al. 2009, Stroke 40 (GRASP)",
)
EQUIPMENT = Rule(
    "R12",
    "only with the equipment at hand",
    "an exercise needing equipment the person does not have is not planned",
    "practical rule",
)
HAND_FUNCTION = Rule(
    "R13",
    "fine hand work needs grasp and release",
    "pinch and finger tapping are planned actively only once the hand can grasp and release",
    "Harris et al. 2009, Stroke 40 (GRASP graded levels)",
)
OVERRIDE = Rule(
    "R14",
    "the therapist decides",
    "a therapist may replace, remove, add or change any item; the change is recorded here",
    "OpenRehab is not a medical device; clinical judgement comes first",
)

ALL_RULES: tuple[Rule, ...] = (
    STANDING_SAFETY,
    SITTING_BALANCE,
    PASSIVE_FIRST,
    DAILY_RANGE,
    SLOW_STRETCH,
    SELF_ASSIST,
    CONTRAINDICATION,
    PAIN,
    DOSE,
    ORDER,
    UNLOCK,
    EQUIPMENT,
    HAND_FUNCTION,
    OVERRIDE,
)
