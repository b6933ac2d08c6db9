"""Tardieu accuracy benchmark on simulated spastic and non-spastic joints.

Run with ``openrehab bench tardieu [--cases N] [--seed S]`` (or ``python bench/tardieu.py``).
Each case is one simulated examination (``care.spastic_joint.simulate_case``): a random
joint, a slow stretch at 5-10 deg/s and one fast stretch at 120, 200, 300 or 400 deg/s
(commanded), seen by a sensor at 30, 60, 100 or 200 Hz with 0, 0.5, 1 or 2 deg of Gaussian
noise (2 ms timestamp jitter at 30 and 60 Hz); half the joints are spastic. The cases cycle
through this grid. Writes ``bench/results/tardieu.md`` (and ``tardieu.json``).

Scoring: a *catch case* has a clear simulated catch (velocity drop >= 30 % of peak, then
re-acceleration and >= 5 deg more motion); a *no-catch case* has no reflex at all; cases
where a reflex fired without a clear catch (like Tardieu grade 1) are *ambiguous*, counted
but not scored. Columns: catch detected rate, R1 found within 5 deg, R1 absolute error
median / 95th percentile (deg), false catch rate, R2 absolute error median / 95th
percentile (deg) and R2 within 3 deg (all cases).
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from openrehab.care.spastic_joint import SensorParams, simulate_case
from openrehab.care.tardieu import analyse_tardieu

BENCH_DIR = Path(__file__).resolve().parent
NOISES_DEG = (0.0, 0.5, 1.0, 2.0)
RATES_HZ = (30.0, 60.0, 100.0, 200.0)
FAST_DEG_S = (120.0, 200.0, 300.0, 400.0)


def run_case(seed: int, spastic: bool, noise: float, rate: float, v_fast: float) -> dict:
    """Simulate and analyse one examination; the truth and the errors."""
    jitter = 0.002 if rate <= 60 else 0.0
    case = simulate_case(
        seed,
        spastic=spastic,
        fast_velocity_deg_s=v_fast,
        sensor=SensorParams(rate, noise, jitter),
    )
    res = analyse_tardieu(case.slow.series, [case.fast.series])
    true_r1 = case.true_r1_deg
    r1_err = None if res.r1_deg is None or true_r1 is None else abs(res.r1_deg - true_r1)
    kind = "catch" if case.true_catch else ("ambiguous" if case.ambiguous else "none")
    return {
        "seed": seed,
        "spastic": spastic,
        "noise_deg": noise,
        "rate_hz": rate,
        "v_fast_deg_s": v_fast,
        "kind": kind,
        "detected": res.catch_detected,
        "r1_err_deg": r1_err,
        "r2_err_deg": abs(res.r2_deg - case.true_r2_deg),
        "quality": res.quality["score"],
    }


def grid(cases: int, seed: int) -> Iterable[tuple[int, bool, float, float, float]]:
    """``cases`` examinations cycling through spasticity x noise x rate x speed."""
    combos = list(itertools.product((True, False), NOISES_DEG, RATES_HZ, FAST_DEG_S))
    for i in range(cases):
        yield (seed + i, *combos[i % len(combos)])


def _pct(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.1f}" if values else "-"


def summarise(rows: list[dict]) -> dict:
    """Rates and error percentiles of a group of cases."""
    catch = [r for r in rows if r["kind"] == "catch"]
    none = [r for r in rows if r["kind"] == "none"]
    r1 = [r["r1_err_deg"] for r in catch if r["r1_err_deg"] is not None]
    r2 = [r["r2_err_deg"] for r in rows]

    def rate(sel: list[dict], test: Callable[[dict], bool]) -> float | None:
        return float(np.mean([test(r) for r in sel])) if sel else None

    return {
        "n": len(rows),
        "n_catch": len(catch),
        "n_none": len(none),
        "n_ambiguous": len(rows) - len(catch) - len(none),
        "detected": rate(catch, lambda r: r["detected"]),
        "within_5": rate(catch, lambda r: r["r1_err_deg"] is not None and r["r1_err_deg"] <= 5),
        "r1_median": _pct(r1, 50),
        "r1_p95": _pct(r1, 95),
        "false_catch": rate(none, lambda r: r["detected"]),
        "r2_median": _pct(r2, 50),
        "r2_p95": _pct(r2, 95),
        "r2_within_3": rate(rows, lambda r: r["r2_err_deg"] <= 3),
    }


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def table(groups: dict[str, list[dict]], key: str) -> list[str]:
    hdr = (
        f"| {key} | n | catch n | detected | R1 within 5 deg | R1 err median | R1 err p95 | "
        "no-catch n | false catch | ambiguous n | R2 err median | R2 err p95 | R2 within 3 |"
    )
    lines = [hdr, "|" + "---|" * (hdr.count("|") - 1)]
    for name, rows in groups.items():
        s = summarise(rows)
        lines.append(
            f"| {name} | {s['n']} | {s['n_catch']} | {_fmt(s['detected'])} | "
            f"{_fmt(s['within_5'])} | {s['r1_median']} | {s['r1_p95']} | {s['n_none']} | "
            f"{_fmt(s['false_catch'])} | {s['n_ambiguous']} | {s['r2_median']} | "
            f"{s['r2_p95']} | {_fmt(s['r2_within_3'])} |"
        )
    return lines


def render_markdown(rows: list[dict], elapsed_s: float) -> str:
    by_noise_rate: dict[str, list[dict]] = {"**all**": rows}
    for noise, rate in itertools.product(NOISES_DEG, RATES_HZ):
        by_noise_rate[f"{noise:g} deg, {rate:g} Hz"] = [
            r for r in rows if r["noise_deg"] == noise and r["rate_hz"] == rate
        ]
    by_noise = {f"{n:g} deg": [r for r in rows if r["noise_deg"] == n] for n in NOISES_DEG}
    by_speed = {f"{v:g} deg/s": [r for r in rows if r["v_fast_deg_s"] == v] for v in FAST_DEG_S}
    lines = [
        "# Tardieu benchmark (simulated joints)",
        "",
        f"{len(rows)} simulated examinations in {elapsed_s:.0f} s; `openrehab bench tardieu` "
        "(bench/tardieu.py explains the grid and the scoring). Angles in deg. Simulation "
        "only: not a validation on patients.",
        "",
        "## By noise level",
        "",
        *table(by_noise, "noise"),
        "",
        "## By commanded fast-stretch speed",
        "",
        *table(by_speed, "V3"),
        "",
        "## By noise level and sampling rate",
        "",
        *table(by_noise_rate, "noise, rate"),
        "",
    ]
    return "\n".join(lines)


def main(out: Path | None = None, *, cases: int = 1200, seed: int = 0) -> dict:
    """Run the benchmark, print the tables and write them to ``out`` (a folder)."""
    t0 = time.perf_counter()
    rows = []
    for i, args in enumerate(grid(cases, seed), start=1):
        rows.append(run_case(*args))
        if i % 200 == 0:
            print(f"{i}/{cases} cases", file=sys.stderr)
    elapsed = time.perf_counter() - t0
    text = render_markdown(rows, elapsed)
    print(text)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "tardieu.md").write_text(text)
        (out / "tardieu.json").write_text(
            json.dumps({"summary": summarise(rows), "rows": rows, "elapsed_s": elapsed})
        )
    return {"summary": summarise(rows), "rows": rows, "elapsed_s": elapsed}


if __name__ == "__main__":
    main(BENCH_DIR / "results", cases=int(sys.argv[1]) if len(sys.argv) > 1 else 1200)
