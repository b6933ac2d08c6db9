"""Helpers shared by tests (importable as ``support``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class World:
    """A small clinic: two therapists, two caregivers, two patients and an admin.

    therapist_a and caregiver_c are linked to patient_p; therapist_b to patient_q;
    caregiver_d to nobody.
    """

    ids: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who else {}


WORLD_USERS = {
    "admin": "admin",
    "therapist_a": "therapist",
    "therapist_b": "therapist",
    "caregiver_c": "caregiver",
    "caregiver_d": "caregiver",
    "patient_p": "patient",
    "patient_q": "patient",
}
