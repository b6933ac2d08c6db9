"""Smoke test of `openrehab bench api`: a real server, 2 clients for 1 s per scenario."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openrehab.cli import app
from openrehab.motion.commands import load_bench

BENCH = Path(__file__).resolve().parents[2] / "bench" / "api.py"


@pytest.fixture(scope="module")
def api():  # type: ignore[no-untyped-def]
    return load_bench(BENCH)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def test_tiny_load_is_measured(api, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    report = api.run(
        ("get", "progress", "reps", "reps-patients"),
        seconds=1.0,
        clients=2,
        warmup=0.3,
        out_dir=tmp_path,
        echo=lambda _: None,
    )
    runs = {r["scenario"]: r for r in report["runs"]}
    assert set(runs) == {"get", "progress", "reps", "reps-patients"}
    for run in runs.values():
        assert run["clients"] == 2 and run["database"] == "sqlite"
        assert run["requests"] > 0 and run["rps"] > 0
        assert run["errors"] == 0, run["error_kinds"]
        for key in ("p50", "p95", "p99", "max"):
            assert _number(run["latency_ms"][key]) and run["latency_ms"][key] > 0
        assert run["latency_ms"]["p50"] <= run["latency_ms"]["p99"] <= run["latency_ms"]["max"]
        assert _number(run["server_cpu_pct"]) and run["server_cpu_pct"] > 0
        assert _number(run["client_cpu_us_per_request"])
    # The GET mix reached every endpoint with a non-empty JSON body.
    endpoints = runs["get"]["endpoints"]
    assert set(endpoints) == set(api.GET_ENDPOINTS)
    for name, e in endpoints.items():
        assert e["n"] > 0 and e["bytes"] > 100, name
    assert set(runs["progress"]["endpoints"]) == {"progress"}
    # Every acknowledged repetition is stored, one per request.
    reps = runs["reps"]
    assert reps["reps_stored"] == reps["reps_acknowledged"] >= reps["requests"] > 0
    # ... all by the demo patient, or each client a patient of its own.
    assert reps["posting_patients"] == 1
    own = runs["reps-patients"]
    assert own["reps_stored"] == own["reps_acknowledged"] >= own["requests"] > 0
    assert own["posting_patients"] == 2
    # The load generator was measured on its own.
    ceiling = report["client_ceiling"]
    assert ceiling["rps"] > 0 and ceiling["errors"] == 0
    table = (tmp_path / "api.md").read_text()
    assert "| get | 2 |" in table and "| reps | 2 |" in table and "| progress | 2 |" in table
    saved = json.loads((tmp_path / "api.json").read_text())
    assert saved["runs"][2]["reps_stored"] == reps["reps_stored"]


def test_only_loopback_targets(api) -> None:  # type: ignore[no-untyped-def]
    assert api.require_loopback("http://127.0.0.1:8000") == ("127.0.0.1", 8000)
    assert api.require_loopback("http://localhost:8000/") == ("127.0.0.1", 8000)
    for url in ("http://10.0.0.5:8000", "http://example.org", "https://127.0.0.1", "ftp://::1"):
        with pytest.raises(ValueError):
            api.require_loopback(url)
    with pytest.raises(ValueError, match="loopback"):
        api.run(("get",), seconds=1, url="http://192.168.1.2:8000", out_dir=None)


def test_bounds(api) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        api.run(("get",), seconds=10_000, out_dir=None)
    with pytest.raises(ValueError):
        api.run(("get",), clients=0, out_dir=None)
    with pytest.raises(ValueError):
        api.parse_scenarios("get,everything")


def test_stage_classification(api) -> None:  # type: ignore[no-untyped-def]
    token = [
        "run (anyio/_backends/_asyncio.py:1)",
        "optional_user (/src/openrehab/web/deps.py:50)",
        "user_for_token (/src/openrehab/accounts/service.py:110)",
        "execute (sqlalchemy/orm/session.py:9)",
    ]
    endpoint_query = [
        "run (anyio/_backends/_asyncio.py:1)",
        "get_progress (/src/openrehab/web/routes/program.py:5)",
        "execute (sqlalchemy/orm/session.py:9)",
    ]
    hop = ["run (anyio/_backends/_asyncio.py:1)", "get (/usr/lib/python3.11/queue.py:3)"]
    assert api.stage_of(token).startswith("auth")
    assert api.stage_of(endpoint_query).startswith("queries")
    assert api.stage_of(hop).startswith("thread-pool")
    bd = api.breakdown([(token, 3), (endpoint_query, 1)], seconds=1.0)
    assert bd["stages"][0]["pct"] == 75.0 and bd["stages"][0]["db_pct_of_stage"] == 100


def test_command_is_registered() -> None:
    result = CliRunner().invoke(app, ["bench", "api", "--help"])
    assert result.exit_code == 0, result.output
    assert "--seconds" in result.output and "--database-url" in result.output
    assert "--workers" in result.output
    result = CliRunner().invoke(app, ["serve", "--help"])
    assert "--workers" in result.output
