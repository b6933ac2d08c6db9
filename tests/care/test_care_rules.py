"""The care rule list (care.rules): ids, sources, lookup, and that every rule is used."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from openrehab.care import contracture, safety, stim, therapies
from openrehab.care.rules import CARE_RULES, rule
from openrehab.program.rules import ALL_RULES, Rule

DOC = Path(__file__).resolve().parents[2] / "docs" / "care.md"
DAY = date(2026, 5, 3)


def test_ids_are_unique_grouped_and_numbered_in_order() -> None:
    ids = [r.id for r in CARE_RULES]
    assert len(ids) == len(set(ids))
    for prefix in "STK":
        numbers = [int(i[1:]) for i in ids if i[0] == prefix]
        assert numbers == list(range(1, len(numbers) + 1)), prefix
    assert {i[0] for i in ids} == set("STK")
    assert not set(ids) & {r.id for r in ALL_RULES}  # no clash with the planner's R ids


def test_every_rule_is_a_program_rule_with_a_plain_reason_and_a_dated_source() -> None:
    for r in CARE_RULES:
        assert isinstance(r, Rule)
        assert r.title and r.reason and len(r.reason) > 40, r.id
        assert re.search(r"\b(19|20)\d\d\b", r.source) or "labelling" in r.source, r.id
        assert r.cite("x").startswith(f"[{r.id} ")


def test_rule_lookup_and_unknown_id() -> None:
    assert rule("S1").title == "pain stops the set"
    assert rule("K2") is CARE_RULES[-1]
    with pytest.raises(KeyError, match="unknown care rule 'R1'"):
        rule("R1")


def _all_alert_rule_ids() -> set[str]:
    inj = therapies.ToxinInjection(DAY, ("soleus",), 100.0, "Dr Lee")
    found = {
        safety.persisting_pain([safety.PainPoint(DAY, 5), safety.PainPoint(DAY + timedelta(1), 5)],
                               DAY + timedelta(1)),
        safety.pain_alert(safety.PainPoint(DAY, 5), DAY),
        safety.pain_alert(safety.PainPoint(DAY, 8), DAY),
        therapies.reinjection_too_soon([inj], DAY + timedelta(10)),
        therapies.toxin_spread_alert(["breathing"], [inj], DAY),
        therapies.pump_refill_alert(therapies.IntrathecalPump(DAY), DAY),
        therapies.splint_alert(therapies.Splint("s", "hand", 8, "night"), ["blister"], DAY),
        *therapies.reassessments_due([inj], [], DAY + timedelta(weeks=5)),
        *contracture.rom_work_gap_alerts([("elbow", "left")], {}, DAY),
        contracture.rom_decline_alert(
            "elbow", "left", "Elbow", contracture.RomDecline(-3, 12, 90, 78, 9, DAY, DAY), None
        ),
    }  # fmt: skip
    ids = {a.rule_id for a in found if a is not None}
    ids |= set(safety.pain_advice(9).rule_ids)
    plan = stim.StimPlan("electrical_stimulation", "anterior_neck")
    check = stim.stim_check(plan, stim.PatientFactors(frozenset({"epilepsy"})))
    return ids | {f.rule_id for f in check.contraindications + check.precautions}


def test_every_alert_cites_a_known_rule_and_most_rules_raise_one() -> None:
    ids = _all_alert_rule_ids()
    known = {r.id for r in CARE_RULES}
    assert ids <= known
    # The rest act as yes/no checks or numbers: S3 stretch_too_fast, S4 standing_allowed,
    # T3 dose_factor, T6 the oral baclofen words.
    assert known - ids == {"S3", "S4", "T3", "T6"}


def test_docs_table_lists_every_rule_with_its_source() -> None:
    text = DOC.read_text(encoding="utf-8")
    for r in CARE_RULES:
        row = next((line for line in text.splitlines() if line.startswith(f"| {r.id} |")), None)
        assert row is not None, f"{r.id} missing from docs/care.md"
        first_author = r.source.split(",")[0].split(":")[-1].strip().split()[0]
        assert first_author in row, (r.id, first_author)
    assert "not a medical device" in text


def test_a_rule_title_is_shown_with_its_id_and_an_unknown_id_has_none() -> None:
    from openrehab.care.rules import SEVERE_PAIN_STOPS_DAY, title_of

    assert title_of("S5") == SEVERE_PAIN_STOPS_DAY.title == "severe pain stops exercise for the day"
    assert title_of("R1") == "" and title_of("") == ""
