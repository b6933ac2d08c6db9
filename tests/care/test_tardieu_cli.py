"""CLI contract: `openrehab tardieu --slow S.csv --fast F.csv [--fast ...] [--json]
[--decreasing]`: the JSON keys, no catch as nulls, a readable report, bad input exits 2."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from openrehab.care.spastic_joint import JointParams, SensorParams, non_spastic, simulate_stretch
from openrehab.care.tardieu import AngleSeries
from openrehab.cli import app

runner = CliRunner()
JOINT = JointParams(r2_deg=130.0, rest_deg=10.0, threshold_angle_deg=140.0, threshold_slope_s=0.25)
KEYS = {
    "r1_deg",
    "r2_deg",
    "dynamic_component_deg",
    "catch_detected",
    "v_slow_deg_s",
    "v_fast_deg_s",
    "quality",
}


def write(series: AngleSeries, path: Path) -> Path:
    rows = "".join(f"{t:.4f},{a:.3f}\n" for t, a in zip(series.t_s, series.angle_deg, strict=True))
    path.write_text("t_s,angle_deg\n" + rows)
    return path


def pair(tmp: Path, joint: JointParams = JOINT, flip: bool = False) -> tuple[Path, Path]:
    sensor = SensorParams(60, 0.5)
    slow = simulate_stretch(joint, 7, sensor=sensor, seed=1).series
    fast = simulate_stretch(joint, 300, sensor=sensor, seed=2).series
    if flip:
        slow = AngleSeries(slow.t_s, 180 - slow.angle_deg)
        fast = AngleSeries(fast.t_s, 180 - fast.angle_deg)
    return write(slow, tmp / "slow.csv"), write(fast, tmp / "fast.csv")


def test_json_contract_with_a_catch(tmp_path: Path) -> None:
    slow, fast = pair(tmp_path)
    res = runner.invoke(app, ["tardieu", "--slow", str(slow), "--fast", str(fast), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert set(out) >= KEYS
    assert out["catch_detected"] is True
    assert 40 < out["r1_deg"] < out["r2_deg"] - 20
    assert (
        out["dynamic_component_deg"] == round(out["r2_deg"] - out["r1_deg"], 1)
        or abs(out["dynamic_component_deg"] - (out["r2_deg"] - out["r1_deg"])) <= 0.11
    )
    assert isinstance(out["v_fast_deg_s"], list) and len(out["v_fast_deg_s"]) == 1
    assert 0 <= out["quality"]["score"] <= 1 and isinstance(out["quality"]["issues"], list)
    assert out["trials"][0]["catch_angle_deg"] == out["r1_deg"]


def test_no_catch_gives_nulls_and_two_fast_files(tmp_path: Path) -> None:
    slow, fast = pair(tmp_path, non_spastic(JOINT))
    res = runner.invoke(
        app, ["tardieu", "--slow", str(slow), "--fast", str(fast), "--fast", str(fast), "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["catch_detected"] is False
    assert out["r1_deg"] is None and out["dynamic_component_deg"] is None
    assert len(out["v_fast_deg_s"]) == 2 and out["r2_deg"] > 120


def test_readable_report_and_decreasing(tmp_path: Path) -> None:
    slow, fast = pair(tmp_path, flip=True)
    res = runner.invoke(app, ["tardieu", "--slow", str(slow), "--fast", str(fast), "--decreasing"])
    assert res.exit_code == 0, res.output
    assert "catch at R1 =" in res.stdout and "deg/s" in res.stdout
    assert "not a medical device" in res.stdout
    out = json.loads(
        runner.invoke(
            app, ["tardieu", "--slow", str(slow), "--fast", str(fast), "--decreasing", "--json"]
        ).stdout
    )
    assert out["r2_deg"] < out["r1_deg"] < 140 and out["dynamic_component_deg"] > 20


def test_bad_csv_exits_2_with_one_line(tmp_path: Path) -> None:
    slow, _ = pair(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("t_s,angle_deg\n0,1\n0.01,oops\n")
    for args, phrase in (
        (["--fast", str(bad)], "line 3"),
        (["--fast", str(tmp_path / "none.csv")], "cannot read"),
    ):
        res = runner.invoke(app, ["tardieu", "--slow", str(slow), *args, "--json"])
        assert res.exit_code == 2
        assert res.stdout == ""
        err = res.stderr.strip()
        assert err.startswith("error: ") and phrase in err and "\n" not in err
        assert "Traceback" not in err


def test_bench_tardieu_is_registered() -> None:
    res = runner.invoke(app, ["bench", "--help"])
    assert res.exit_code == 0 and "tardieu" in res.stdout


def test_three_fast_trials_are_pooled(tmp_path: Path) -> None:
    slow, _ = pair(tmp_path)
    fast = [
        write(
            simulate_stretch(JOINT, v, sensor=SensorParams(60, 0.5), seed=s).series,
            tmp_path / f"f{s}.csv",
        )
        for s, v in ((5, 280), (6, 310), (7, 330))
    ]
    args = ["tardieu", "--slow", str(slow)] + [a for f in fast for a in ("--fast", str(f))]
    out = json.loads(runner.invoke(app, [*args, "--json"]).stdout)
    assert len(out["trials"]) == 3 and out["catch_detected"]
    assert out["pooled"]["n_trials"] == 3 and out["pooled"]["n_trials_with_catch"] >= 2
    text = runner.invoke(app, args).stdout
    assert "trials pooled: candidates agreeing" in text
