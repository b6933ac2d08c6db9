"""Repetition-counting benchmark: OpenRehab engine vs a naive baseline on shared datasets.

Run with ``openrehab bench count [--data DIR] [--json]`` (or ``python bench/count.py``).
Reads ``<data>/datasets/{ui-prmd,barbell-wrist-imu,muvr-wrist-accel}`` and
``<data>/videos/landmarks`` (default ``<repo>/../shared``); never copies them. Writes the
latest results to ``bench/results/count.md`` (and ``count.json``).

Metrics per dataset and exercise (see bench/README.md): OBO (|pred - true| <= 1), exact
rate, normalised MAE (mean |pred - true| / max(true, 1)), bias (mean pred - true), UI-PRMD
boundary hit rate (a true boundary with a predicted one within 0.5 s) and zero-count rate
on 0-rep recordings; the same for the naive baseline; then speed and latency.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import signal as sps

from openrehab.motion.engine import MotionEngine, analyse_recording
from openrehab.motion.recordings import Recording, RecordingError, read_recording
from openrehab.motion.signals import SignalSpec, signal_for_name

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent


def default_shared() -> Path:
    env = os.environ.get("OPENREHAB_SHARED_DIR")
    return Path(env) if env else (REPO / ".." / "shared").resolve()


@dataclass
class Item:
    dataset: str
    exercise: str
    file: Path
    true: int
    boundaries: list[float] | None = None
    signal: str = "auto"
    aspect: float | None = None
    verdict: str | None = None  # IMU sets: the label audit's verdict (label_audit.csv)


def load_items(shared: Path) -> list[Item]:
    items: list[Item] = []
    ds = shared / "datasets"
    p = ds / "ui-prmd" / "sets.csv"
    if p.exists():
        for r in csv.DictReader(p.open()):
            items.append(
                Item(
                    "ui-prmd",
                    r["movement_name"],
                    p.parent / r["file"],
                    int(r["reps"]),
                    [float(x) for x in r["rep_boundaries_s"].split(";")],
                    signal_for_name(r["movement_name"]) or "auto",
                )
            )
    audit: dict[tuple[str, str], str] = {}
    if (ds / "label_audit.csv").exists():
        for r in csv.DictReader((ds / "label_audit.csv").open()):
            audit[(r["dataset"], r["file"])] = r["verdict"]
    for name in ("barbell-wrist-imu", "muvr-wrist-accel"):
        p = ds / name / "sets.csv"
        if p.exists():
            for r in csv.DictReader(p.open()):
                items.append(
                    Item(
                        name,
                        r["exercise"],
                        p.parent / r["file"],
                        int(r["reps"]),
                        verdict=audit.get((name, r["file"])),
                    )
                )
    p = ds / "countix-fitness-pose" / "sets.csv"
    if p.exists():
        for r in csv.DictReader(p.open()):
            items.append(
                Item(
                    "countix-fitness-pose",
                    r["exercise"],
                    p.parent / r["file"],
                    int(r["reps"]),
                    signal=signal_for_name(r["exercise"]) or "auto",
                )
            )
    p = shared / "videos" / "manifest.csv"
    if p.exists():
        for r in csv.DictReader(p.open()):
            f = shared / "videos" / "landmarks" / (Path(r["file"]).stem + ".jsonl")
            if f.exists():
                items.append(
                    Item(
                        "videos",
                        r["category"],
                        f,
                        int(r["reps"]),
                        signal=signal_for_name(r["category"]) or "auto",
                        aspect=float(r["width"]) / float(r["height"]),
                    )
                )
    return items


# ------------------------------------------------------------------------------ baseline


#: The naive baseline's settings, set once for every dataset (a round setting among the
#: plain ones tried, 2026-12: 2 Hz / 0.5 SD / 0.5 s scored barbell OBO 0.13; 1 Hz / 1 SD /
#: 1 s 0.70; this one 0.85 on the audited rows, and about the same elsewhere).
NAIVE_LOWPASS_HZ = 0.5
NAIVE_PROMINENCE_SD = 0.5
NAIVE_MIN_GAP_S = 1.0


def naive_count(rec: Recording) -> int:
    """The naive baseline (offline): first principal component of all channels, low-pass
    (``NAIVE_LOWPASS_HZ``, zero phase), ``scipy.signal.find_peaks`` (prominence
    ``NAIVE_PROMINENCE_SD`` x its standard deviation, peaks ``NAIVE_MIN_GAP_S`` apart)."""
    d = rec.data
    ok = ~np.isnan(d).any(axis=1)
    d = d[ok]
    if rec.kind == "pose":
        d = d[:, [i for i, c in enumerate(rec.channels) if not c.endswith("_v")]]
    if d.shape[0] < 10:
        return 0
    d = d - d.mean(axis=0)
    _, _, vt = np.linalg.svd(d, full_matrices=False)
    pc = d @ vt[0]
    fs = rec.sample_rate_hz
    sos = sps.butter(2, min(NAIVE_LOWPASS_HZ, 0.45 * fs), fs=fs, output="sos")
    pc = sps.sosfiltfilt(sos, pc) if pc.size > 15 else pc
    peaks, _ = sps.find_peaks(
        pc,
        prominence=NAIVE_PROMINENCE_SD * pc.std(),
        distance=max(1, int(NAIVE_MIN_GAP_S * fs)),
    )
    return len(peaks)


# ------------------------------------------------------------------------------- scoring


def score(rows: list[dict], key: str) -> dict:
    pos = [r for r in rows if r["true"] > 0]
    zero = [r for r in rows if r["true"] == 0]
    out: dict = {"n": len(rows)}
    if rows:
        out["obo"] = float(np.mean([abs(r[key] - r["true"]) <= 1 for r in rows]))
        out["exact"] = float(np.mean([r[key] == r["true"] for r in rows]))
        out["mae"] = float(np.mean([abs(r[key] - r["true"]) / max(r["true"], 1) for r in rows]))
        out["bias"] = float(np.mean([r[key] - r["true"] for r in rows]))
    if zero:
        out["zero_ok"] = f"{sum(r[key] == 0 for r in zero)}/{len(zero)}"
    if key == "pred" and pos and any(r.get("hit") is not None for r in pos):
        hits = [r["hit"] for r in pos if r.get("hit") is not None]
        out["boundary_hit"] = float(np.mean(hits))
    return out


def boundary_hit(pred_reps, truth: list[float], tol_s: float = 0.5) -> float:
    pb = [r.start_s for r in pred_reps] + ([pred_reps[-1].end_s] if pred_reps else [])
    if not pb:
        return 0.0
    pb_arr = np.array(pb)
    return float(np.mean([np.min(np.abs(pb_arr - b)) <= tol_s for b in truth]))


def run_accuracy(
    items: list[Item], log: Callable[[str], None]
) -> tuple[list[dict], dict[str, list[float]]]:
    rows: list[dict] = []
    latencies: dict[str, list[float]] = defaultdict(list)
    for it in items:
        rec = read_recording(it.file, aspect=it.aspect)
        auto = analyse_recording(rec, SignalSpec())
        row = {
            "dataset": it.dataset,
            "exercise": it.exercise,
            "file": it.file.name,
            "true": it.true,
            "auto": auto.count,
            "auto_confidence": auto.confidence,
            "naive": naive_count(rec),
        }
        if it.verdict is not None:
            row["verdict"] = it.verdict
        if it.signal != "auto":
            try:
                res = analyse_recording(rec, SignalSpec(signal=it.signal))
            except RecordingError:  # e.g. a joint this recording lacks: automatic instead
                res = auto
            row["signal"] = it.signal
        else:
            res = auto
        row["pred"] = res.count
        row["confidence"] = res.confidence
        latencies[it.dataset].extend(res.latencies_s)
        if res is not auto:
            latencies[f"{it.dataset} (automatic)"].extend(auto.latencies_s)
        if it.boundaries:
            row["hit"] = boundary_hit(res.reps, it.boundaries)
        rows.append(row)
    log(f"scored {len(rows)} recordings")
    return rows, latencies


def summarise(rows: list[dict]) -> dict:
    """Scores per dataset and exercise; IMU datasets also on the audit's ``consistent``
    rows (the targets) and on the others (mislabelled, spliced or ambiguous sets)."""
    out: dict = {}
    by_ds: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_ds[r["dataset"]].append(r)
        if "verdict" in r:
            audited = "consistent" if r["verdict"] == "consistent" else "not consistent"
            by_ds[f"{r['dataset']} (audit: {audited})"].append(r)
    for ds, rs in by_ds.items():
        entry = {"all": {k: score(rs, k) for k in ("pred", "auto", "naive")}, "exercises": {}}
        by_ex: dict[str, list[dict]] = defaultdict(list)
        for r in rs:
            by_ex[r["exercise"]].append(r)
        for ex, ers in sorted(by_ex.items()):
            entry["exercises"][ex] = {k: score(ers, k) for k in ("pred", "auto", "naive")}
        out[ds] = entry
    return out


#: Confidence bands of the calibration table.
CONF_BANDS = (0.0, 0.6, 0.75, 0.85, 0.95, 1.0001)


def calibration(rows: list[dict]) -> dict:
    """Is ``confidence`` (the estimated probability of a count within one rep) calibrated?
    Automatic-mode results of every recording whose count can be trusted (IMU: the audit's
    consistent rows), per confidence band: recordings, mean confidence and the observed
    share within one rep; and the expected calibration error (weighted mean gap)."""
    pairs = [
        (r["auto_confidence"], abs(r["auto"] - r["true"]) <= 1)
        for r in rows
        if r.get("verdict", "consistent") == "consistent" and r.get("auto_confidence") is not None
    ]
    bands = []
    ece = 0.0
    for lo, hi in itertools.pairwise(CONF_BANDS):
        sel = [(c, ok) for c, ok in pairs if lo <= c < hi]
        if not sel:
            continue
        conf = float(np.mean([c for c, _ in sel]))
        obs = float(np.mean([ok for _, ok in sel]))
        ece += len(sel) / len(pairs) * abs(conf - obs)
        bands.append(
            {
                "band": f"{lo:.2f}-{min(hi, 1.0):.2f}",
                "n": len(sel),
                "confidence": conf,
                "within_one": obs,
            }
        )
    return {"bands": bands, "ece": ece, "n": len(pairs)}


# ---------------------------------------------------------------------------------- speed


def _synthetic_imu(n: int, fs: float, seed: int = 0) -> Recording:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    ph = 2 * np.pi * 0.4 * t
    acc = np.column_stack([0.5 * np.sin(ph), 9.81 + 2.0 * np.sin(ph), 0.3 * np.cos(ph)])
    gyr = np.column_stack([1.5 * np.cos(ph), 0.2 * np.sin(ph), 0.1 * np.cos(2 * ph)])
    data = np.column_stack([acc, gyr]) + rng.normal(0, 0.05, (n, 6))
    return Recording(t, data, ("ax", "ay", "az", "gx", "gy", "gz"), "imu")


def run_speed(shared: Path, log: Callable[[str], None]) -> dict:
    out: dict = {}
    rec = _synthetic_imu(30_000, 100.0)
    eng = MotionEngine(rec.channels, rec.kind, 100.0)
    rows = list(rec.data)
    ts = rec.t_s.tolist()
    t0 = time.perf_counter()
    for t, r in zip(ts, rows, strict=True):
        eng.push(t, r)
    out["imu6_stream_us_per_sample"] = (time.perf_counter() - t0) / len(ts) * 1e6
    # 33-landmark pose stream: a real clip looped, counted with a joint angle and in auto.
    lm = shared / "videos" / "landmarks" / "squat_correct_001.jsonl"
    if lm.exists():
        prec = read_recording(lm)
        ok = ~np.isnan(prec.data).any(axis=1)
        frames = prec.data[ok]
        reps = max(1, 3000 // len(frames))
        data = np.concatenate([frames] * reps)
        # A joint angle as a live session counts it, the same in a file (only reps of a
        # set: both counters and the gate), and automatic mode.
        for name, sig, gated in (
            ("knee_extension", "knee_extension", False),
            ("knee_extension_sets_only", "knee_extension", True),
            ("auto", "auto", True),
        ):
            eng = MotionEngine(prec.channels, "pose", 30.0, SignalSpec(signal=sig), sets_only=gated)
            t0 = time.perf_counter()
            for i, r in enumerate(data):
                eng.push(i / 30.0, r)
            out[f"pose33_{name}_stream_us_per_frame"] = (time.perf_counter() - t0) / len(data) * 1e6
        out["pose33_auto_vs_joint_angle_ratio"] = (
            out["pose33_auto_stream_us_per_frame"]
            / out["pose33_knee_extension_stream_us_per_frame"]
        )
    # One hour of 100 Hz IMU from a file: read + analyse (file path).
    hour = _synthetic_imu(360_000, 100.0, seed=1)
    tmp = BENCH_DIR / "results" / "_hour_imu.csv"
    tmp.parent.mkdir(exist_ok=True)
    with open(tmp, "w") as fh:
        fh.write("t,ax,ay,az,gx,gy,gz\n")
        np.savetxt(fh, np.column_stack([hour.t_s, hour.data]), delimiter=",", fmt="%.5f")
    # Best of 3 runs (as timeit reports): the machine is shared, the minimum is the cost.
    runs = []
    try:
        for _ in range(3):
            t0 = time.perf_counter()
            rec_h = read_recording(tmp)
            t1 = time.perf_counter()
            res = analyse_recording(rec_h)
            t2 = time.perf_counter()
            runs.append((t2 - t0, t1 - t0, t2 - t1, res.count))
    finally:
        tmp.unlink(missing_ok=True)
    total, read_s, analyse_s, n_reps = min(runs)
    out["hour_imu_read_s"] = read_s
    out["hour_imu_analyse_s"] = analyse_s
    out["hour_imu_total_s"] = total
    out["hour_imu_reps"] = n_reps
    log("speed measured")
    return out


# -------------------------------------------------------------------------------- report


def _fmt(s: dict, k: str) -> str:
    v = s.get(k)
    if v is None:
        return "-"
    return f"{v:.2f}" if isinstance(v, float) else str(v)


def render_markdown(
    summary: dict,
    speed: dict,
    latency: dict,
    elapsed_s: float,
    calibration_table: dict | None = None,
) -> str:
    lines = [
        "# Repetition counting benchmark",
        "",
        f"Generated by `openrehab bench count` in {elapsed_s:.0f} s "
        f"({time.strftime('%Y-%m-%d %H:%M')}).",
        "",
        "`engine` = the signal `openrehab count --exercise <the dataset's exercise name>` "
        "resolves (everyday names, `EXERCISE_NAMES` in motion/signals.py; automatic for "
        "IMU datasets and names without a signal), `auto` = automatic mode (no exercise "
        f"given), `naive` = an offline baseline set once for all datasets: first PC, "
        f"{NAIVE_LOWPASS_HZ:g} Hz zero-phase low-pass, find_peaks (prominence "
        f"{NAIVE_PROMINENCE_SD:g} SD, {NAIVE_MIN_GAP_S:g} s apart). IMU datasets are also "
        "scored on the label audit's `consistent` rows (the targets) and on the others.",
        "",
    ]
    cols = ("obo", "exact", "mae", "bias")
    hdr = (
        "| dataset / exercise | n | "
        + " | ".join(f"engine {c}" for c in cols)
        + " | boundary hit | zero ok | "
        + " | ".join(f"auto {c}" for c in cols[:3])
        + " | auto zero ok | "
        + " | ".join(f"naive {c}" for c in cols)
        + " | naive zero ok |"
    )
    for ds, entry in summary.items():
        lines += [f"## {ds}", "", hdr, "|" + "---|" * (hdr.count("|") - 1)]
        for name, sc in [("**all**", entry["all"]), *entry["exercises"].items()]:
            p, a, nv = sc["pred"], sc["auto"], sc["naive"]
            lines.append(
                f"| {name} | {p['n']} | "
                + " | ".join(_fmt(p, c) for c in cols)
                + f" | {_fmt(p, 'boundary_hit')} | {_fmt(p, 'zero_ok')} | "
                + " | ".join(_fmt(a, c) for c in cols[:3])
                + f" | {_fmt(a, 'zero_ok')} | "
                + " | ".join(_fmt(nv, c) for c in cols)
                + f" | {_fmt(nv, 'zero_ok')} |"
            )
        lines.append("")
    cal = calibration_table
    if cal and cal["bands"]:
        lines += [
            "## Confidence calibration",
            "",
            "Automatic mode, every recording with a trustworthy count (IMU: audited "
            f"`consistent` rows), n={cal['n']}: per band of the reported `confidence` (the "
            "estimated probability of a count within one rep), the share counted within one "
            f"rep. Expected calibration error {cal['ece']:.3f}.",
            "",
            "| confidence | n | mean confidence | counted within one rep |",
            "|---|---|---|---|",
        ]
        for b in cal["bands"]:
            lines.append(
                f"| {b['band']} | {b['n']} | {b['confidence']:.2f} | {b['within_one']:.2f} |"
            )
        lines.append("")
    for title, (key, value), table in (
        (
            "Speed (one core, `time.perf_counter`; the one-hour file: best of 3 runs)",
            ("measure", "value"),
            speed,
        ),
        (
            "Latency (event time - rep end; IMU: the first reps of a set are reported "
            "retroactively once the movement is periodic)",
            ("dataset", "latency"),
            latency,
        ),
    ):
        lines += [f"## {title}", "", f"| {key} | {value} |", "|---|---|"]
        for k, v in table.items():
            lines.append(f"| {k} | {v:.3g} |" if isinstance(v, float) else f"| {k} | {v} |")
        lines.append("")
    return "\n".join(lines)


def main(
    data: Path | None = None,
    as_json: bool = False,
    write: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Run the benchmark; return (and optionally save) the results."""
    log = log or (lambda m: print(m, file=sys.stderr))
    shared = Path(data) if data else default_shared()
    if (shared / "datasets").exists() is False and (shared.name == "datasets"):
        shared = shared.parent
    items = load_items(shared)
    if not items:
        raise FileNotFoundError(f"no datasets found under {shared}")
    t0 = time.perf_counter()
    rows, lat = run_accuracy(items, log)
    summary = summarise(rows)
    cal = calibration(rows)
    speed = run_speed(shared, log)
    latency: dict = {}
    for ds, values in lat.items():
        if values:
            la = np.array(values)
            latency[ds] = (
                f"n={la.size}, median {np.median(la):.3f} s, p95 "
                f"{np.percentile(la, 95):.3f} s, max {la.max():.3f} s, "
                f"<= 0.3 s: {np.mean(la <= 0.3):.2f}"
            )
    elapsed = time.perf_counter() - t0
    result = {
        "summary": summary,
        "speed": speed,
        "latency": latency,
        "calibration": cal,
        "rows": rows,
        "elapsed_s": elapsed,
    }
    if write:
        out = BENCH_DIR / "results"
        out.mkdir(exist_ok=True)
        (out / "count.md").write_text(render_markdown(summary, speed, latency, elapsed, cal))
        (out / "count.json").write_text(json.dumps(result, indent=1, default=float))
    if as_json:
        print(
            json.dumps(
                {k: result[k] for k in ("summary", "speed", "latency", "calibration", "elapsed_s")},
                default=float,
            )
        )
    else:
        print(render_markdown(summary, speed, latency, elapsed, cal))
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
