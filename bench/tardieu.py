"""Tardieu accuracy benchmark on simulated spastic and non-spastic joints.

Run with ``openrehab bench tardieu [--cases N] [--seed S]`` (or ``python bench/tardieu.py``).
Two parts, each of ``N`` cases cycling through the same grid (seeds ``S`` to ``S + N - 1``):

* **Single trial**: one simulated examination (``care.spastic_joint.simulate_case``) with
  one fast trial: a random joint, a slow stretch at 5-10 deg/s and one fast stretch at 120,
  200, 300 or 400 deg/s (commanded), seen by a sensor at 30, 60, 100 or 200 Hz with 0, 0.5,
  1 or 2 deg of Gaussian noise (2 ms timestamp jitter at 30 and 60 Hz); half the joints are
  spastic.
* **3-trial examinations** (``simulate_examination``, as the in-app flow records): the same
  joint and slow stretch, then 3 fast trials, each at the grid's speed x a uniform factor
  in 0.85-1.15 (the examiner's "fast" varies), with independent noise and hand wobble; the
  catch angle of each trial moves with its speed (the reflex threshold falls as velocity
  rises). Analysed together (``analyse_tardieu`` pools the trials, ``care.catch_pool``).

Scoring: in a single trial, a *catch case* has a clear simulated catch (velocity drop >= 30
% of peak, then re-acceleration and >= 5 deg more motion); a *no-catch case* has no reflex
at all; cases where a reflex fired without a clear catch (like Tardieu grade 1) are
*ambiguous*, counted but not scored. In a 3-trial examination, a catch case has a clear
catch in at least 2 of the 3 trials, and its true R1 is the median of the true catch angles
of the trials with a clear catch; a no-catch case has no reflex in any trial (a catch
reported there is a false catch); the rest (a catch in one trial only, reflexes without a
clear catch) is ambiguous. Columns: catch detected rate, R1 found within 5 deg, R1 absolute error
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

from openrehab.care.spastic_joint import SensorParams, simulate_case, simulate_examination
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


def run_examination(seed: int, spastic: bool, noise: float, rate: float, v_fast: float) -> dict:
    """Simulate and analyse one 3-trial examination; the truth and the errors."""
    jitter = 0.002 if rate <= 60 else 0.0
    exam = simulate_examination(
        seed,
        spastic=spastic,
        fast_velocity_deg_s=v_fast,
        sensor=SensorParams(rate, noise, jitter),
    )
    res = analyse_tardieu(exam.slow.series, [f.series for f in exam.fast])
    true_r1 = exam.true_r1_deg
    r1_err = None if res.r1_deg is None or true_r1 is None else abs(res.r1_deg - true_r1)
    kind = "catch" if exam.true_catch else ("none" if exam.no_reflex else "ambiguous")
    return {
        "seed": seed,
        "spastic": spastic,
        "noise_deg": noise,
        "rate_hz": rate,
        "v_fast_deg_s": v_fast,
        "kind": kind,
        "n_true_catches": exam.n_true_catches,
        "detected": res.catch_detected,
        "r1_err_deg": r1_err,
        "r2_err_deg": abs(res.r2_deg - exam.true_r2_deg),
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


def _sections(rows: list[dict], level: str) -> list[str]:
    by_noise_rate: dict[str, list[dict]] = {"**all**": rows}
    for noise, rate in itertools.product(NOISES_DEG, RATES_HZ):
        by_noise_rate[f"{noise:g} deg, {rate:g} Hz"] = [
            r for r in rows if r["noise_deg"] == noise and r["rate_hz"] == rate
        ]
    by_noise = {f"{n:g} deg": [r for r in rows if r["noise_deg"] == n] for n in NOISES_DEG}
    by_speed = {f"{v:g} deg/s": [r for r in rows if r["v_fast_deg_s"] == v] for v in FAST_DEG_S}
    return [
        f"{level} By noise level",
        "",
        *table(by_noise, "noise"),
        "",
        f"{level} By commanded fast-stretch speed",
        "",
        *table(by_speed, "V3"),
        "",
        f"{level} By noise level and sampling rate",
        "",
        *table(by_noise_rate, "noise, rate"),
        "",
    ]


def render_markdown(rows: list[dict], exams: list[dict], elapsed_s: float, seed: int) -> str:
    lines = [
        "# Tardieu benchmark (simulated joints)",
        "",
        f"{len(rows)} single-trial examinations and {len(exams)} 3-trial examinations "
        f"(seeds from {seed}) in {elapsed_s:.0f} s; `openrehab bench tardieu` "
        "(bench/tardieu.py explains the grid and the scoring). Angles in deg. Simulation "
        "only: not a validation on patients.",
        "",
        "## 3-trial examinations (3 fast trials, speed +-15 %, pooled)",
        "",
        *_sections(exams, "###"),
        "## Single fast trial",
        "",
        *_sections(rows, "###"),
    ]
    return "\n".join(lines)


def main(
    out: Path | None = None, *, cases: int = 1200, seed: int = 0, exam_cases: int | None = None
) -> dict:
    """Run the benchmark (``cases`` single-trial cases and ``exam_cases``, default
    ``cases``, 3-trial examinations), print the tables and write them to ``out``."""
    t0 = time.perf_counter()
    rows, exams = [], []
    for i, args in enumerate(grid(cases, seed), start=1):
        rows.append(run_case(*args))
        if i % 200 == 0:
            print(f"{i}/{cases} single-trial cases", file=sys.stderr)
    n_exams = cases if exam_cases is None else exam_cases
    for i, args in enumerate(grid(n_exams, seed), start=1):
        exams.append(run_examination(*args))
        if i % 200 == 0:
            print(f"{i}/{n_exams} 3-trial examinations", file=sys.stderr)
    elapsed = time.perf_counter() - t0
    text = render_markdown(rows, exams, elapsed, seed)
    print(text)
    result = {
        "summary": summarise(rows) if rows else None,
        "summary_3_trials": summarise(exams) if exams else None,
        "rows": rows,
        "examinations": exams,
        "elapsed_s": elapsed,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "tardieu.md").write_text(text)
        (out / "tardieu.json").write_text(json.dumps(result))
    return result


if __name__ == "__main__":
    main(BENCH_DIR / "results", cases=int(sys.argv[1]) if len(sys.argv) > 1 else 1200)
