"""Electrical stimulation and electro-acupuncture: contraindications and precautions checked
before any session is scheduled (rules T7, T8; Houghton et al. 2010, Physiotherapy Canada 62,
"Electrophysical agents: contraindications and precautions"). Re-exported by
``care.therapies``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from openrehab.care import rules

# --- electrical stimulation and electro-acupuncture ----------------------------------------
StimKind = Literal["electrical_stimulation", "electro_acupuncture"]
#: Condition codes of :class:`PatientFactors` (person-wide or at the electrode site).
STIM_CONDITIONS: dict[str, str] = {
    "pacemaker": "demand pacemaker",
    "icd": "implanted defibrillator",
    "heart_disease": "heart disease",
    "dvt": "blood clot in a vein (deep vein thrombosis) not yet treated",
    "malignancy": "active cancer",
    "broken_skin": "broken or damaged skin",
    "impaired_sensation": "reduced feeling in the skin",
    "epilepsy": "epilepsy",
}
#: The profile's condition names that mean the same thing (``program.profile``).
CONDITION_ALIASES: dict[str, str] = {"implanted_defibrillator": "icd", "skin_lesion": "broken_skin"}
#: Conditions that are about one place of the body (meaningful in ``site_conditions``).
SITE_CONDITIONS: frozenset[str] = frozenset(
    {"dvt", "malignancy", "broken_skin", "impaired_sensation"}
)
STIM_SITES: dict[str, str] = {
    "anterior_neck": "front of the neck",
    "chest": "chest",
    "upper_back": "upper back",
    "abdomen": "belly",
    "low_back": "low back",
    "shoulder": "shoulder",
    "upper_arm": "upper arm",
    "forearm": "forearm",
    "wrist_hand": "wrist and hand",
    "thigh": "thigh",
    "lower_leg": "lower leg",
    "ankle_foot": "ankle and foot",
}
THORAX_SITES: frozenset[str] = frozenset({"chest", "upper_back"})
PREGNANCY_SITES: frozenset[str] = frozenset({"abdomen", "low_back"})


def _normalised(codes: frozenset[str], allowed: Iterable[str], what: str) -> frozenset[str]:
    out = frozenset(CONDITION_ALIASES.get(c, c) for c in codes)
    known = frozenset(allowed)
    for code in sorted(out - known):
        raise ValueError(f"unknown {what} {code!r}; expected one of {', '.join(sorted(known))}")
    return out


@dataclass(frozen=True)
class StimPlan:
    kind: StimKind
    site: str

    def __post_init__(self) -> None:
        if self.kind not in ("electrical_stimulation", "electro_acupuncture"):
            raise ValueError(f"unknown stimulation kind {self.kind!r}")
        if self.site not in STIM_SITES:
            raise ValueError(f"unknown site {self.site!r}; expected one of {', '.join(STIM_SITES)}")


@dataclass(frozen=True)
class PatientFactors:
    """``conditions`` anywhere in the person; ``site_conditions`` where the electrodes go."""

    conditions: frozenset[str]
    site_conditions: frozenset[str] = field(default_factory=frozenset)
    can_give_feedback: bool = True
    pregnant: bool = False

    def __post_init__(self) -> None:
        conditions = _normalised(frozenset(self.conditions), STIM_CONDITIONS, "condition")
        site = _normalised(frozenset(self.site_conditions), SITE_CONDITIONS, "site condition")
        object.__setattr__(self, "conditions", conditions)
        object.__setattr__(self, "site_conditions", site)


@dataclass(frozen=True)
class Finding:
    code: str
    plain_text: str
    rule_id: str


@dataclass(frozen=True)
class StimCheck:
    allowed: bool
    contraindications: tuple[Finding, ...]
    precautions: tuple[Finding, ...]


def _contraindications(plan: StimPlan, f: PatientFactors) -> list[Finding]:
    """Rule T7 (Houghton et al. 2010): each line is one contraindication, its test, its words."""
    heart_site = plan.site in THORAX_SITES
    checks: tuple[tuple[str, bool, str], ...] = (
        ("pacemaker", "pacemaker" in f.conditions, "Not with a pacemaker: it can upset it."),
        ("icd", "icd" in f.conditions, "Not with an implanted defibrillator: it can set it off."),
        ("anterior_neck", plan.site == "anterior_neck", "Never on the front of the neck."),
        (
            "heart_disease_thorax",
            heart_site and "heart_disease" in f.conditions,
            "Not over the chest or upper back with heart disease.",
        ),
        (
            "dvt",
            "dvt" in f.conditions | f.site_conditions,
            "Not with an untreated blood clot in a vein: the whole limb counts, so none "
            "until a doctor says it is safe.",
        ),
        ("malignancy_site", "malignancy" in f.site_conditions, "Never over an area with cancer."),
        ("broken_skin_site", "broken_skin" in f.site_conditions, "Never on broken skin."),
        (
            "pregnancy_trunk",
            f.pregnant and plan.site in PREGNANCY_SITES,
            "Not on the belly or low back during pregnancy.",
        ),
        (
            "no_feedback",
            not f.can_give_feedback,
            "Only if the person can say what they feel: it could burn unnoticed.",
        ),
    )
    rule_id = rules.STIM_CONTRAINDICATIONS.id
    return [Finding(code, text, rule_id) for code, found, text in checks if found]


def _precautions(plan: StimPlan, f: PatientFactors) -> list[Finding]:
    """Rule T8: allowed with extra care; a site-only condition recorded person-wide is asked."""
    rule_id = rules.STIM_PRECAUTIONS.id
    out: list[Finding] = []
    if "impaired_sensation" in f.conditions | f.site_conditions:
        text = "Reduced feeling: keep the strength low and check the skin after each session."
        out.append(Finding("impaired_sensation", text, rule_id))
    if "epilepsy" in f.conditions:
        text = "Epilepsy: the therapist sets it up; stop the stimulation if you feel unwell."
        out.append(Finding("epilepsy", text, rule_id))
    for code in sorted({"malignancy", "broken_skin"} & (f.conditions - f.site_conditions)):
        text = f"Make sure the {STIM_SITES[plan.site]} has no {STIM_CONDITIONS[code]}."
        out.append(Finding(f"{code}_elsewhere", text, rule_id))
    return out


def stim_check(plan: StimPlan, factors: PatientFactors) -> StimCheck:
    """Rules T7/T8: contraindications forbid the plan; precautions are listed but allow it.

    Electro-acupuncture gets the same electrical checks (its needles need the acupuncturist's
    own precautions too, which this check does not cover).
    """
    contra = tuple(_contraindications(plan, factors))
    return StimCheck(not contra, contra, tuple(_precautions(plan, factors)))
