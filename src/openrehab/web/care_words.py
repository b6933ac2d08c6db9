"""Words for care records: clinical for clinicians, plain for patients and caregivers.

Patients see "stiffness test on 3 May: slight stiffness", never "MAS 1+" (issue #11: clinical
words stay on the therapist's side).
"""

from __future__ import annotations

from typing import Any

from openrehab.store.models import Assessment, TherapyEvent

#: Modified Ashworth grades in plain words (Bohannon & Smith 1987, Phys Ther 67).
MAS_PLAIN = {
    "0": "no extra stiffness",
    "1": "slight stiffness at the end of the movement",
    "1+": "slight stiffness through part of the movement",
    "2": "stiffness through most of the movement, still easy to move",
    "3": "a lot of stiffness, hard to move",
    "4": "too stiff to move",
}
KIND_PLAIN = {
    "mas": "Stiffness test",
    "tardieu": "Fast-stretch stiffness test",
    "rom": "How far it moves",
    "pain": "Pain score",
    "other": "Check",
}
KIND_CLINICAL = {
    "mas": "Modified Ashworth",
    "tardieu": "Modified Tardieu",
    "rom": "Goniometric ROM",
    "pain": "Pain NRS",
    "other": "Other",
}
THERAPY_PLAIN = {
    "botulinum_toxin": "Injection to relax a muscle",
    "baclofen": "Baclofen (medicine for stiffness)",
    "electrical_stimulation": "Electrical stimulation",
    "electro_acupuncture": "Electro-acupuncture",
    "splint": "Splint or brace",
    "procedure": "Operation or procedure",
    "other": "Other treatment",
}
THERAPY_CLINICAL = {
    "botulinum_toxin": "Botulinum toxin",
    "baclofen": "Baclofen",
    "electrical_stimulation": "Electrical stimulation",
    "electro_acupuncture": "Electro-acupuncture",
    "splint": "Orthosis / splint",
    "procedure": "Procedure",
    "other": "Other",
}


def where(assessment: Assessment) -> str:
    body = assessment.muscle or assessment.region.replace("_", " ")
    return f"{body}, {assessment.side}"


def assessment_result(assessment: Assessment, clinical: bool) -> str:
    """The result of one assessment in the reader's words."""
    kind = assessment.kind
    if kind == "mas":
        value = assessment.value or ""
        return f"MAS {value}" if clinical else MAS_PLAIN.get(value, value)
    if kind == "tardieu":
        return _tardieu(assessment, clinical)
    if kind == "rom" and assessment.rom_deg is not None:
        return f"{assessment.rom_deg:.0f}°"
    if kind == "pain":
        return f"NRS {assessment.value}/10" if clinical else f"{assessment.value} of 10"
    return assessment.value or assessment.notes or ""


def _tardieu(assessment: Assessment, clinical: bool) -> str:
    details: dict[str, Any] = assessment.details or {}
    r1, r2 = assessment.r1_deg, assessment.r2_deg
    if not clinical:
        if r1 is None:
            return "no catch when moved fast" if r2 is not None else "checked"
        return f"the muscle tightened at {r1:.0f}° when moved fast"
    parts = []
    if details.get("velocity"):
        parts.append(str(details["velocity"]))
    if details.get("quality_x") is not None:
        parts.append(f"X{details['quality_x']}")
    if r1 is not None:
        parts.append(f"R1 {r1:.0f}°")
    if r2 is not None:
        parts.append(f"R2 {r2:.0f}°")
    if r1 is not None and r2 is not None:
        parts.append(f"R2-R1 {r2 - r1:.0f}°")
    if details.get("velocity_deg_s") is not None:
        parts.append(f"{details['velocity_deg_s']:.0f}°/s")
    return ", ".join(parts)


def therapy_summary(event: TherapyEvent, clinical: bool) -> str:
    """One line about a therapy: what, where, how much."""
    d: dict[str, Any] = event.details or {}
    kind = event.kind
    if kind == "botulinum_toxin":
        muscles = ", ".join(d.get("muscles") or [])
        if not clinical:
            return f"in {muscles}" if muscles else ""
        units = d.get("units")
        by = f" by {d['injector']}" if d.get("injector") else ""
        product = f" {d['product']}" if d.get("product") else ""
        return f"{muscles}: {units:g} U{product}{by}" if units is not None else muscles
    if kind == "baclofen":
        if d.get("route") == "intrathecal":
            return f"pump, next refill {d.get('next_refill_on', '?')}"
        doses = ", ".join(f"{x['time']} {x['mg']:g} mg" for x in d.get("doses") or [])
        return f"tablets: {doses}" if doses else "tablets"
    if kind in ("electrical_stimulation", "electro_acupuncture"):
        return f"at the {str(d.get('site', '')).replace('_', ' ')}"
    if kind == "splint":
        hours = d.get("wear_hours_per_day")
        worn = {"night": "at night", "day": "by day", "both": "day and night"}.get(
            d.get("worn_at") or "", ""
        )
        return (
            f"{d.get('splint_name', '')} ({d.get('region', '')}), {hours:g} h a day {worn}".strip()
        )
    if kind == "procedure":
        return str(d.get("procedure", ""))
    return ", ".join(f"{k}: {v}" for k, v in d.items() if isinstance(v, str))
