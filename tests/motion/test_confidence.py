"""Confidence per rep and per set (motion/confidence.py) and where it is reported."""

from __future__ import annotations

import json

import numpy as np
import pytest
from motion_synth import angle_session
from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.motion.confidence import (
    CALIBRATION,
    EMPTY_CONFIDENCE,
    FIRST_REP_CONFIDENCE,
    OUTLIER_REP_CONFIDENCE,
    SMALL_SET_CONFIDENCE,
    calibrate,
    rep_confidence,
    set_confidence,
    set_score,
)
from openrehab.motion.engine import analyse_recording
from openrehab.motion.recordings import write_csv


@pytest.mark.parametrize(
    ("duration_s", "expected"),
    [
        (2.0, 0.9),
        (3.0, 0.9),  # 1.5 x the median: still the set's tempo
        (1.0 / 0.75, 0.9),
        (3.1, 0.75),
        (4.0, 0.75),  # twice as long: perhaps two reps merged
        (4.1, OUTLIER_REP_CONFIDENCE),
        (0.9, OUTLIER_REP_CONFIDENCE),  # less than half: perhaps half a rep
    ],
)
def test_rep_confidence_by_fit_to_the_set(duration_s: float, expected: float) -> None:
    assert rep_confidence(duration_s, [1.9, 2.0, 2.1]) == pytest.approx(expected)


def test_the_first_rep_of_a_set_is_the_least_sure() -> None:
    assert rep_confidence(2.0, []) == FIRST_REP_CONFIDENCE < 0.9


def test_set_confidence_small_sets_and_calibration() -> None:
    assert set_confidence([], []) == EMPTY_CONFIDENCE
    assert set_confidence([0.9, 0.9], [2.0, 2.0]) == SMALL_SET_CONFIDENCE
    regular = set_confidence([0.9] * 8, [2.0] * 8)
    irregular = set_confidence([0.9] * 8, [1.0, 3.0] * 4)  # CV 0.53: lowered
    unsure = set_confidence([0.6] * 8, [2.0] * 8)
    assert regular > irregular and regular > unsure
    assert set_score([0.9] * 8, [2.0] * 8) == pytest.approx(0.9)
    assert 0.0 <= unsure < regular <= 1.0
    # the calibration table is monotone, and maps its own points exactly
    xs, ys = zip(*CALIBRATION, strict=True)
    assert list(xs) == sorted(xs) and list(ys) == sorted(ys)
    for x, y in CALIBRATION:
        assert calibrate(x) == pytest.approx(y)
    assert calibrate(-1.0) == ys[0] and calibrate(2.0) == ys[-1]


def test_engine_reports_rep_and_set_confidence(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # 5 regular reps then one 2.5 times as long: the first rep is unsure (nothing to
    # compare with), the regular ones sure, the long one (two merged?) least.
    starts = (2.0, 5.0, 8.0, 11.0, 14.0, 17.0)
    durs = (2.0, 2.0, 2.0, 2.0, 2.0, 5.0)
    rec, _spans = angle_session(starts=starts, durs=durs, noise=0.3)
    res = analyse_recording(rec)
    conf = [r.confidence for r in res.reps]
    assert res.count == 6
    assert conf[0] == FIRST_REP_CONFIDENCE and conf[1:5] == [0.9] * 4
    assert conf[5] == OUTLIER_REP_CONFIDENCE
    assert 0.5 <= res.confidence < 0.95
    out = res.to_dict()
    assert out["confidence"] == res.confidence
    assert [r["confidence"] for r in out["repetitions"]] == conf
    # and through the CLI
    path = write_csv(rec, tmp_path / "elbow.csv")
    cli = CliRunner().invoke(app, ["count", str(path), "--json"])
    assert cli.exit_code == 0, cli.output
    got = json.loads(cli.output)
    assert got["confidence"] == res.confidence and got["repetitions"][0]["confidence"] == 0.6
    assert np.isfinite(got["confidence"])
