"""The ``openrehab`` command as a user runs it: help, version, errors, serve, db, user."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from openrehab.store import migrate
from support import free_port, running_server


def run(
    *args: str, env: dict[str, str] | None = None, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "NO_COLOR": "1", "OPENREHAB_TEST_FAST_HASH": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "openrehab", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=full_env,
        input=input_text,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], *phrases: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    message = result.stderr.strip()
    for phrase in phrases:
        assert phrase.lower() in message.lower(), message


def test_help_lists_every_command() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "db", "user", "count", "bench", "exercises", "plan"):
        assert command in result.stdout, command


def test_version() -> None:
    from openrehab import __version__

    result = run("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"openrehab {__version__}"


def test_unknown_option_is_a_usage_error() -> None:
    result = run("serve", "--no-such-option")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_bad_port_number_is_rejected() -> None:
    result = run("serve", "--port", "70000")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("serve", "--port", str(port), "--data-dir", str(tmp_path))
    assert_clean_failure(result, "already in use", str(port))


def test_the_address_printed_for_an_ipv6_host_has_brackets(tmp_path: Path) -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    command = [sys.executable, "-m", "openrehab", "serve", "--host", "::1"]
    command += ["--port", str(free_port()), "--data-dir", str(tmp_path), "--no-demo"]
    env = {**os.environ, "OPENREHAB_TEST_FAST_HASH": "1"}
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env) as server:
        try:
            assert server.stdout is not None
            ready = next(line for line in server.stdout if "is ready at" in line)
        finally:
            server.terminate()
    assert "http://[::1]:" in ready


def test_data_dir_that_is_a_file(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    result = run("serve", "--port", str(free_port()), "--data-dir", str(not_a_dir))
    assert_clean_failure(result, "not a directory")


def test_corrupt_database_file(tmp_path: Path) -> None:
    (tmp_path / "openrehab.sqlite3").write_bytes(b"this is not a database" * 100)
    result = run("serve", "--port", str(free_port()), "--data-dir", str(tmp_path))
    assert_clean_failure(result, "cannot be read")


def test_unreachable_database(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://nobody:secret@127.0.0.1:{free_port()}/none"
    result = run("db", "current", "--data-dir", str(tmp_path), "--database-url", url)
    assert_clean_failure(result, "cannot reach the database")
    assert "secret" not in result.stderr, "password must not be printed"


def test_invalid_database_url(tmp_path: Path) -> None:
    result = run("db", "current", "--data-dir", str(tmp_path), "--database-url", "nonsense://x")
    assert_clean_failure(result, "database url")


def test_db_upgrade_downgrade_current(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    assert run("db", "upgrade", *data).returncode == 0
    current = run("db", "current", *data)
    assert f"current: {migrate.head_revision()}" in current.stdout
    down = run("db", "downgrade", "base", *data)
    assert down.returncode == 0 and "base" in down.stdout
    assert "current: base" in run("db", "current", *data).stdout


def test_user_create_and_errors(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    created = run(
        "user", "create", "dr-who", "--role", "therapist", "--password", "tardis-1963", *data
    )
    assert created.returncode == 0 and "Created therapist 'dr-who'" in created.stdout
    assert_clean_failure(
        run("user", "create", "dr-who", "--role", "therapist", "--password", "tardis-1963", *data),
        "already exists",
    )
    assert_clean_failure(run("user", "create", "amy", "--password", "short", *data), "at least 8")
    assert_clean_failure(
        run("user", "create", "rory", "--role", "nurse", "--password", "long-enough-quartz", *data),
        "unknown role",
    )
    prompted = run(
        "user", "create", "amy", "--role", "patient", *data, input_text="pond-pond\npond-pond\n"
    )
    assert prompted.returncode == 0
    linked = run("user", "link", "amy", "dr-who", *data)
    assert linked.returncode == 0 and "can now see amy" in linked.stdout
    listing = run("user", "list", *data).stdout
    assert "dr-who" in listing and "amy" in listing


def test_patients_lists_each_patient_with_therapists_and_last_session(tmp_path: Path) -> None:
    import json

    data = ["--data-dir", str(tmp_path)]
    assert run("patients", *data).stdout.strip() == "No patients yet."
    assert json.loads(run("patients", "--json", *data).stdout) == []
    for name, role in (("dr-a", "therapist"), ("dr-b", "therapist"), ("ana", "patient")):
        args = ("user", "create", name, "--role", role, "--password", "quartz-kettle-9", *data)
        assert run(*args).returncode == 0
    run(
        "user",
        "create",
        "bo",
        "--role",
        "patient",
        "--display-name",
        "Bo Ng",
        "--password",
        "quartz-kettle-9",
        *data,
    )
    assert run("user", "link", "ana", "dr-b", *data).returncode == 0
    assert run("user", "link", "ana", "dr-a", *data).returncode == 0
    rows = json.loads(run("patients", "--json", *data).stdout)
    assert [(r["username"], r["name"], r["therapists"], r["last_session_at"]) for r in rows] == [
        ("ana", "ana", ["dr-a", "dr-b"], None),
        ("bo", "Bo Ng", [], None),
    ]
    table = run("patients", *data).stdout.splitlines()
    assert table[0].split() == ["id", "username", "name", "therapist", "last", "session"]
    assert table[1].split()[1:] == ["ana", "ana", "dr-a,", "dr-b", "none"]
    assert_clean_failure(
        run(
            "patients",
            "--data-dir",
            str(tmp_path / "x" / "f"),
            "--json",
            "--database-url",
            "nosuch://",
        ),
        "database",
    )


def test_report_exports_and_fhir_round_trip_from_the_command_line(tmp_path: Path) -> None:
    import json

    data = ["--data-dir", str(tmp_path / "a")]
    made = run("user", "create", "ana", "--role", "patient", "--password", "quartz-kettle-9", *data)
    assert made.returncode == 0
    pdf = tmp_path / "out" / "ana.pdf"
    written = run(
        "report",
        "--patient",
        "1",
        "--from",
        "2026-01-01",
        "--to",
        "2026-01-31",
        "--out",
        str(pdf),
        *data,
    )
    assert written.returncode == 0 and pdf.read_bytes().startswith(b"%PDF")
    assert "2026-01-01 to 2026-01-31" in written.stdout
    csvs = run("export", "csv", "--patient", "1", "--out-dir", str(tmp_path / "csv"), *data)
    assert csvs.returncode == 0
    assert (tmp_path / "csv" / "sessions.csv").read_text().startswith("session_id,")
    bundle = tmp_path / "ana.json"
    assert run("export", "fhir", "--patient", "1", "--out", str(bundle), *data).returncode == 0
    assert json.loads(bundle.read_text())["resourceType"] == "Bundle"
    other = ["--data-dir", str(tmp_path / "b")]
    imported = run("import", "fhir", str(bundle), *other)
    assert imported.returncode == 0 and "Imported ana as 'ana'" in imported.stdout
    assert "First-login password (shown once): " in imported.stdout
    assert_clean_failure(run("import", "fhir", str(bundle), *other), "already exists")
    assert_clean_failure(run("import", "fhir", str(pdf), *other), "not JSON")
    assert_clean_failure(run("report", "--patient", "9", "--out", str(pdf), *data), "No patient")
    assert_clean_failure(
        run(
            "report",
            "--patient",
            "1",
            "--from",
            "2026-02-01",
            "--to",
            "2026-01-01",
            "--out",
            str(pdf),
            *data,
        ),
        "after it ends",
    )
    assert_clean_failure(run("export", "fhir", "--patient", "9", "--out", "-", *data), "No patient")


def test_serve_answers_health_and_prints_demo_logins(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        assert server.health is not None and server.health["status"] == "ok"
        assert server.health["database"] == "ok"
        with urllib.request.urlopen(server.base_url + "/login", timeout=5) as response:
            assert response.status == 200
    stdout = server.output
    assert f"{server.base_url}/" in stdout
    assert "demo-therapist" in stdout and "demo-patient" in stdout
    assert (tmp_path / "openrehab.sqlite3").exists()


@pytest.mark.parametrize("args", [["user", "create"], ["db", "downgrade"]])
def test_missing_arguments_are_usage_errors(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_unknown_timezone_is_reported_before_serving(tmp_path: Path) -> None:
    result = run(
        "serve",
        "--port",
        str(free_port()),
        "--data-dir",
        str(tmp_path),
        env={"OPENREHAB_TIMEZONE": "Nowhere/Atlantis"},
    )
    assert_clean_failure(result, "not a known time zone")
