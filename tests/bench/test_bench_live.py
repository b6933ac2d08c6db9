"""Smoke test of `openrehab bench live`: a real server, 3 sessions for a few seconds."""

from __future__ import annotations

import json
import math
from pathlib import Path

from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.motion.commands import load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "live.py"


def _bench_module():
    return load_bench(BENCH)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_three_sessions_are_measured(tmp_path: Path) -> None:
    live = _bench_module()
    report = live.run([3], seconds=11, out_dir=tmp_path, parse=False, echo=lambda _: None)
    run = report["runs"][0]
    assert run["sessions"] == 3
    assert run["reps"]["expected"] >= 1
    assert run["reps"]["counted"] == run["reps"]["expected"]
    assert run["reps"]["unmatched"] == 0
    for key in ("p50", "p95", "p99", "max"):
        assert _number(run["rep_ms"][key]) and run["rep_ms"][key] > 0
        assert _number(run["ping_ms"][key]) and run["ping_ms"][key] > 0
    assert _number(run["server"]["cpu_pct"]) and run["server"]["cpu_pct"] > 0
    assert _number(run["client"]["cpu_pct"])
    assert _number(run["server"]["rss_loaded_mb"]) and _number(run["rss_per_session_kb"])
    assert _number(run["messages_per_s"]) and run["messages_per_s"] > 3 * 10
    assert run["drops"] == 0 and run["errors"] == {}
    saved = json.loads((tmp_path / "live.json").read_text())
    assert saved["runs"][0]["reps"] == run["reps"]
    assert "| 3 | 1 | 2 |" in (tmp_path / "live.md").read_text()


def test_command_is_registered() -> None:
    result = CliRunner().invoke(app, ["bench", "live", "--help"])
    assert result.exit_code == 0, result.output
    assert "--sessions" in result.output and "--workers" in result.output
