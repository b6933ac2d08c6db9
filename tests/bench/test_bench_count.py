"""bench/count.py: which recordings it scores (audited IMU rows, Countix), the naive
baseline, and the confidence calibration table, on a small fake shared folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openrehab.motion.commands import load_bench
from openrehab.motion.recordings import MEDIAPIPE_LANDMARKS, Recording, write_csv

BENCH = Path(__file__).resolve().parents[2] / "bench" / "count.py"


@pytest.fixture(scope="module")
def bench():  # type: ignore[no-untyped-def]
    return load_bench(BENCH)


def _imu(n_reps: int, seed: int = 0) -> Recording:
    fs = 25.0
    t = np.arange(0, 4 + 2.5 * n_reps, 1 / fs)
    rng = np.random.default_rng(seed)
    wave = np.where((t > 2) & (t < 2 + 2.5 * n_reps), np.sin(2 * np.pi * (t - 2) / 2.5), 0.0)
    acc = np.column_stack([0.2 * wave, 9.81 + 3.0 * wave, 0.1 * wave])
    acc = acc + rng.normal(0, 0.05, acc.shape)
    return Recording(t, acc, ("ax", "ay", "az"), "imu")


def _shared(tmp: Path) -> Path:
    ds = tmp / "datasets"
    bb = ds / "barbell-wrist-imu"
    bb.mkdir(parents=True)
    write_csv(_imu(5), bb / "A_ok.csv")
    write_csv(_imu(5, seed=1), bb / "A_bad.csv")
    (bb / "sets.csv").write_text("file,exercise,reps\nA_ok.csv,ohp,5\nA_bad.csv,ohp,10\n")
    (ds / "label_audit.csv").write_text(
        "dataset,file,logged_reps,verdict,counted_from_signal,note\n"
        "barbell-wrist-imu,A_ok.csv,5,consistent,,\n"
        "barbell-wrist-imu,A_bad.csv,10,label_inconsistent,5,logged for both arms\n"
    )
    cx = ds / "countix-fitness-pose"
    cx.mkdir()
    (cx / "sets.csv").write_text(
        "file,exercise,reps,frames\nsquat001.jsonl.gz,squat,3,10\nbench1.jsonl.gz,bench_pressing,4,10\n"
    )
    return tmp


def test_items_carry_the_audit_verdict_and_countix_signals(bench, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = bench.load_items(_shared(tmp_path))
    by_file = {it.file.name: it for it in items}
    assert by_file["A_ok.csv"].verdict == "consistent"
    assert by_file["A_bad.csv"].verdict == "label_inconsistent"
    squat, press = by_file["squat001.jsonl.gz"], by_file["bench1.jsonl.gz"]
    assert (squat.dataset, squat.true, squat.signal) == (
        "countix-fitness-pose",
        3,
        "knee_extension",
    )
    assert press.signal == "elbow_flexion"  # "bench pressing": the elbows


def test_imu_scores_on_the_consistent_rows_separately(bench, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    items = [
        it for it in bench.load_items(_shared(tmp_path)) if it.dataset != "countix-fitness-pose"
    ]
    rows, _lat = bench.run_accuracy(items, lambda _m: None)
    by_file = {r["file"]: r for r in rows}
    ok, bad = by_file["A_ok.csv"], by_file["A_bad.csv"]
    assert abs(ok["pred"] - 5) <= 1 and abs(bad["pred"] - 10) > 1  # the label is wrong
    summary = bench.summarise(rows)
    assert summary["barbell-wrist-imu"]["all"]["pred"]["n"] == 2
    assert summary["barbell-wrist-imu"]["all"]["pred"]["obo"] == 0.5
    consistent = summary["barbell-wrist-imu (audit: consistent)"]["all"]["pred"]
    assert consistent["n"] == 1 and consistent["obo"] == 1.0
    assert consistent["exact"] == float(ok["pred"] == 5)
    other = summary["barbell-wrist-imu (audit: not consistent)"]["all"]["pred"]
    assert other["n"] == 1 and other["obo"] == 0.0
    assert all(0.0 <= r["confidence"] <= 1.0 for r in rows)


def test_naive_baseline_counts_a_clean_set(bench) -> None:  # type: ignore[no-untyped-def]
    assert bench.naive_count(_imu(6)) == 6


def test_calibration_table(bench) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {"auto": 10, "true": 10, "auto_confidence": 0.97},
        {"auto": 10, "true": 13, "auto_confidence": 0.96},  # wrong at high confidence
        {"auto": 3, "true": 3, "auto_confidence": 0.5},
        {"auto": 3, "true": 9, "auto_confidence": 0.55},
        {"auto": 9, "true": 3, "auto_confidence": 0.9, "verdict": "label_inconsistent"},
    ]
    cal = bench.calibration(rows)
    assert cal["n"] == 4  # the mislabelled IMU set is left out
    bands = {b["band"]: b for b in cal["bands"]}
    assert bands["0.95-1.00"]["within_one"] == 0.5 and bands["0.95-1.00"]["n"] == 2
    assert bands["0.00-0.60"]["confidence"] == pytest.approx(0.525)
    # mean gap weighted by band size: (|0.965 - 0.5| * 2 + |0.525 - 0.5| * 2) / 4
    assert cal["ece"] == pytest.approx((0.465 * 2 + 0.025 * 2) / 4)


def test_landmark_names_cover_the_periodic_features() -> None:
    from openrehab.motion.features import PERIODIC_JOINTS

    assert set(PERIODIC_JOINTS) <= set(MEDIAPIPE_LANDMARKS)
