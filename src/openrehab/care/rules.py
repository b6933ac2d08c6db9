"""Every care rule with its plain reason and clinical source (``docs/care.md`` lists them).

Ids: ``S`` safety (``care.safety``), ``T`` therapies (``care.therapies``), ``K`` contracture
(``care.contracture``). Each rule reuses :class:`openrehab.program.rules.Rule`, so a care
alert can cite its source the same way a plan reason does. Where a number is a program choice
rather than a published threshold, the reason says so.
"""

from __future__ import annotations

from openrehab.program.rules import Rule

# --- safety --------------------------------------------------------------------------------
PAIN_STOPS_SET = Rule(
    "S1",
    "pain stops the set",
    "pain of 4 or more out of 10, or pain 2 or more points above where the session started, "
    "stops the set: exercise should not push into pain that is moderate or rising",
    "NRS cut points: Serlin et al. 1995, Pain 61; pain monitoring model (conservative "
    "adaptation): Silbernagel et al. 2007, Am J Sports Med 35",
)
PAIN_PERSISTING = Rule(
    "S2",
    "pain that does not settle goes to the therapist",
    "pain after exercise should settle by the next morning; moderate pain (4 or more) on two "
    "or more days within a week, still there at the latest report, is shown to the therapist",
    "pain monitoring model: Silbernagel et al. 2007, Am J Sports Med 35; NRS cut points: "
    "Serlin et al. 1995, Pain 61",
)
STRETCH_SLOWLY = Rule(
    "S3",
    "stretch slower than the limit",
    "spastic reflex resistance grows with stretch velocity, so a stretch or passive movement "
    "faster than the exercise's velocity limit is slowed down",
    "Lance 1980 (velocity-dependent tonic stretch reflexes); Gracies 2005, Muscle Nerve 31",
)
STANDING_SAFE = Rule(
    "S4",
    "standing only when standing is safe",
    "falls are common after stroke; exercises done standing are offered only when standing "
    "has been judged safe",
    "Winstein et al. 2016, AHA/ASA guideline for adult stroke rehabilitation, Stroke 47",
)
SEVERE_PAIN_STOPS_DAY = Rule(
    "S5",
    "severe pain stops exercise for the day",
    "severe pain (7 or more out of 10) ends exercise for the day and the therapist is "
    "contacted the same day",
    "NRS cut points: Serlin et al. 1995, Pain 61",
)
URGENT_SIGNS = Rule(
    "S6",
    "warning signs go to urgent care",
    "sudden severe pain, chest pain, new weakness, numbness or trouble speaking, a swollen, "
    "hot, red calf or pain after a fall need urgent medical help, not a therapist's message",
    "stroke warning signs: Kleindorfer et al. 2021, AHA/ASA secondary prevention guideline, "
    "Stroke 52; deep vein thrombosis: NICE guideline NG158, 2020",
)

# --- therapies -----------------------------------------------------------------------------
TOXIN_INTERVAL = Rule(
    "T1",
    "botulinum toxin no sooner than 12 weeks",
    "re-injection sooner than 12 weeks after the last injection is not recommended "
    "(risk of antibody formation and of overdose); exactly 12 weeks is allowed",
    "Royal College of Physicians 2018, Spasticity in adults: management using botulinum "
    "toxin, national guidelines",
)
TOXIN_REVIEW = Rule(
    "T2",
    "review at peak effect and at 12 weeks",
    "the effect of an injection is reviewed at its peak, 4 to 6 weeks after it, and again "
    "around 12 weeks, when its effect wears off and re-injection may be considered",
    "Royal College of Physicians 2018, Spasticity in adults: management using botulinum "
    "toxin, national guidelines",
)
TOXIN_THERAPY_WINDOW = Rule(
    "T3",
    "practise more while the injection works",
    "botulinum toxin is given alongside therapy, which makes use of the weeks of lower "
    "muscle tone; the size of the raise in the daily target is a program rule set by the "
    "therapist, not an evidence-based number",
    "Royal College of Physicians 2018, Spasticity in adults: management using botulinum "
    "toxin (therapy alongside injection); raise: OpenRehab program rule",
)
TOXIN_SPREAD = Rule(
    "T4",
    "signs of toxin spread need urgent help",
    "the effect of botulinum toxin can spread from the injected muscles hours to weeks "
    "after an injection: new trouble swallowing, speaking or breathing, generalised weakness, "
    "double or blurred vision or drooping eyelids need urgent medical help",
    "FDA 2009, boxed warning on distant spread of botulinum toxin effect",
)
PUMP_REFILL = Rule(
    "T5",
    "never let a baclofen pump run empty",
    "abrupt interruption of intrathecal baclofen can cause high fever, altered mental state, "
    "rebound spasticity and muscle rigidity, and can be fatal; refill appointments and pump "
    "alarms are never missed",
    "FDA boxed warning, intrathecal baclofen (Lioresal Intrathecal, Gablofen) labelling",
)
BACLOFEN_TAPER = Rule(
    "T6",
    "oral baclofen is never stopped suddenly",
    "baclofen tablets are never stopped suddenly, as that can cause hallucinations, seizures "
    "and rebound stiffness; any change is a slow taper decided with the prescriber",
    "baclofen tablets product labelling (warning on abrupt discontinuation)",
)
STIM_CONTRAINDICATIONS = Rule(
    "T7",
    "electrical stimulation contraindications",
    "no stimulation with a demand pacemaker or implanted defibrillator, over the front of "
    "the neck, over the chest with heart disease, with an active deep vein thrombosis in "
    "the limb, over a cancer or broken skin, over the belly or low back in pregnancy, or "
    "when the person cannot say what they feel",
    "Houghton et al. 2010, Physiotherapy Canada 62 (electrophysical agents: "
    "contraindications and precautions); device labelling (broken skin)",
)
STIM_PRECAUTIONS = Rule(
    "T8",
    "electrical stimulation precautions",
    "with impaired sensation at the site or epilepsy, stimulation is possible but needs "
    "extra care: lower intensity, skin checks, set up by the therapist",
    "Houghton et al. 2010, Physiotherapy Canada 62 (electrophysical agents: "
    "contraindications and precautions)",
)
SPLINT_SKIN = Rule(
    "T9",
    "splints: wear schedule and skin checks",
    "a splint is worn on the schedule the therapist set and the skin under it is checked "
    "every time it comes off; redness that has not faded within 20 to 30 minutes means "
    "pressure, so the splint stays off until the therapist has seen it",
    "ACPIN and COT 2015, Splinting for the prevention and correction of contractures in "
    "adults with neurological dysfunction, practice guideline",
)

# --- contracture ---------------------------------------------------------------------------
ROM_WORK_GAP = Rule(
    "K1",
    "every involved joint through its range",
    "muscles kept in a shortened position start to shorten within days, so each involved "
    "joint is moved through its range regularly; more than 2 days without it is flagged "
    "(the 2-day limit is a program rule; stretch alone has small effects, so this keeps "
    "movement going rather than promising to prevent contracture)",
    "Gracies 2005, Muscle Nerve 31; Harvey et al. 2017, Cochrane review on stretch",
)
ROM_DECLINE = Rule(
    "K2",
    "a real loss of range is flagged",
    "a loss of range is flagged only when the robust trend over 4 weeks loses more than "
    "10 degrees and its confidence interval excludes no change, so that measurement noise "
    "and one odd session do not raise alarms",
    "goniometric measurement error: Gajdosik & Bohannon 1987, Phys Ther 67; contracture in "
    "spastic paresis: Gracies 2005, Muscle Nerve 31",
)

CARE_RULES: tuple[Rule, ...] = (
    PAIN_STOPS_SET,
    PAIN_PERSISTING,
    STRETCH_SLOWLY,
    STANDING_SAFE,
    SEVERE_PAIN_STOPS_DAY,
    URGENT_SIGNS,
    TOXIN_INTERVAL,
    TOXIN_REVIEW,
    TOXIN_THERAPY_WINDOW,
    TOXIN_SPREAD,
    PUMP_REFILL,
    BACLOFEN_TAPER,
    STIM_CONTRAINDICATIONS,
    STIM_PRECAUTIONS,
    SPLINT_SKIN,
    ROM_WORK_GAP,
    ROM_DECLINE,
)
_BY_ID: dict[str, Rule] = {r.id: r for r in CARE_RULES}


def rule(rule_id: str) -> Rule:
    """The care rule with this id; ``KeyError`` naming the known ids otherwise."""
    try:
        return _BY_ID[rule_id]
    except KeyError:
        raise KeyError(f"unknown care rule {rule_id!r}; known: {', '.join(_BY_ID)}") from None


def title_of(rule_id: str) -> str:
    """The care rule's title, or "" for an id that is not a care rule (pages use it)."""
    found = _BY_ID.get(rule_id)
    return found.title if found is not None else ""
