"""Every sentence care shows a person is written as a sentence: a capital first letter and a
full stop, so a text read aloud (voice prompts) or by a screen reader sounds right."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

from openrehab.care import contracture, safety, stim, therapies

DAY = date(2026, 5, 20)


def _texts() -> Iterator[str]:
    for nrs in range(11):
        for start in (None, 0, nrs - 2):
            advice = safety.pain_advice(nrs, start if start is None or start >= 0 else None)
            carer = safety.pain_advice(nrs, None, name="Ana")
            for a in (advice, carer):
                yield a.headline
                yield from a.steps
                yield from a.urgent_signs
    points = [safety.PainPoint(DAY - timedelta(days=1), 6), safety.PainPoint(DAY, 8)]
    alerts = [safety.persisting_pain(points, DAY), safety.pain_alert(points[-1], DAY)]
    injection = therapies.ToxinInjection(DAY - timedelta(days=30), ("soleus",), 100.0, "Dr Lee")
    alerts.append(therapies.toxin_spread_alert(["breathing"], [injection], DAY))
    alerts.append(therapies.reinjection_too_soon([injection], DAY))
    alerts += therapies.reassessments_due([injection], [], DAY)
    for days in (10, 3, 0, -2):
        pump = therapies.IntrathecalPump(DAY + timedelta(days=days))
        alerts.append(therapies.pump_refill_alert(pump, DAY))
    splint = therapies.Splint("night splint", "wrist", 8.0, "night")
    alerts.append(therapies.splint_alert(splint, ["blister"], DAY))
    alerts += contracture.rom_work_gap_alerts(
        [("elbow", "left")], {}, DAY, start=DAY - timedelta(9)
    )
    decline = contracture.RomDecline(-3.5, 14.0, 130.0, 116.0, 20, DAY - timedelta(27), DAY)
    alerts.append(
        contracture.rom_decline_alert("elbow", "left", "Straighten the elbow", decline, None)
    )
    for alert in alerts:
        assert alert is not None
        yield alert.patient_text
        yield alert.therapist_text
    dose = therapies.dose_factor([injection], DAY)
    yield dose.reason_patient
    yield dose.reason_therapist
    yield therapies.skin_check_text(splint)
    yield therapies.BACLOFEN_NEVER_STOP
    yield therapies.PUMP_NEVER_EMPTY
    yield safety.SLOWER_PROMPT
    factors = stim.PatientFactors(
        frozenset({"pacemaker", "icd", "heart_disease", "dvt", "impaired_sensation", "epilepsy"}),
        frozenset({"malignancy", "broken_skin"}),
        can_give_feedback=False,
        pregnant=True,
    )
    for site in ("anterior_neck", "chest", "abdomen"):
        check = stim.stim_check(stim.StimPlan("electrical_stimulation", site), factors)
        yield from (f.plain_text for f in check.contraindications + check.precautions)


def test_every_care_text_is_written_as_sentences() -> None:
    texts = list(_texts())
    assert len(texts) > 100
    for text in texts:
        assert text == text.strip() and text, repr(text)
        assert text[0].isupper() or text[0].isdigit(), f"starts in lower case: {text!r}"
        assert text[-1] in ".!?)", f"no full stop: {text!r}"
        for sentence in re.split(r"(?<=[.!?]) +", text)[1:]:
            assert sentence[:1].isupper() or sentence[:1].isdigit(), f"{sentence!r} in {text!r}"
