"""What care rules tell people: an :class:`Alert` for the patient and one for the therapist.

A check in ``care`` returns alerts rather than raising or printing, so the same finding reaches
the patient's page (plain words), the therapist's alert list (clinical words) and the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

Severity = Literal["info", "warning", "urgent"]
SEVERITY_ORDER: dict[str, int] = {"urgent": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class Alert:
    """One finding of a care rule about one patient.

    ``kind`` names the finding (``pain_stop``, ``pain_persisting``, ``contracture_gap``,
    ``contracture_decline``, ``reassessment_due``, ``reinjection_too_soon``, ``toxin_spread``,
    ``pump_refill``, ``skin_check``, ...); ``rule_id`` is the rule in ``care.rules`` that
    raised it, so every alert can show its source. ``patient_text`` is plain words for the
    patient (no "MAS", no "R1"); ``therapist_text`` may use clinical terms. ``key`` is stable
    for the same finding on later days (used to avoid listing one finding twice).
    """

    kind: str
    severity: Severity
    rule_id: str
    patient_text: str
    therapist_text: str
    since: date
    region: str | None = None
    side: str | None = None
    #: A page the reader can go to about it (e.g. the exercise that restores the range).
    action_href: str | None = None
    action_text: str | None = None

    @property
    def key(self) -> str:
        return ":".join(str(part) for part in (self.kind, self.region, self.side, self.rule_id))


def by_severity(alerts: list[Alert]) -> list[Alert]:
    """Urgent first, then warnings, then information; newest first within a severity."""
    return sorted(alerts, key=lambda a: (SEVERITY_ORDER[a.severity], -a.since.toordinal()))
