"""The attacks of the hardening issue, replayed against a fresh `openrehab serve` (a real
uvicorn server with the demo data): none of the defects may be found."""

from __future__ import annotations

from pathlib import Path

from openrehab.motion.commands import load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "probes.py"


def test_no_probe_finds_its_defect(tmp_path: Path) -> None:
    probes = load_bench(BENCH)
    out = tmp_path / "probes.md"
    status = probes.main(out=out)
    text = out.read_text()
    assert status == 0, text
    assert text.count("| fixed |") == 10 and "DEFECT" not in text


def test_a_defect_is_reported() -> None:
    probes = load_bench(BENCH)
    found = [probes.Probe("1", "d", "422", "500", ok=False)]
    assert "DEFECT" in probes.table(found)
