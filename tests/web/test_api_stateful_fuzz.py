"""Stateful fuzzing: nothing one call stores may make a later call fail with a 5xx.

The stateless fuzz test (test_api_fuzz.py) sends each request alone, so it cannot see a write
that stores a record every later read of the patient chokes on. The two tests here can. Both
run on a demo-seeded database that is put back before every example (``FuzzWorld.reset``), so
a failure lists exactly the requests that caused it, from the seeded data.

- ``test_every_write_keeps_the_patient_readable``: each POST/PUT/PATCH/DELETE schemathesis
  generates is aimed at stored records (ids in the path and body are mapped onto the seeded
  patients and their open and newest sessions, sets, program items and links; exercise ids onto
  the library) and sent as the admin, the therapist, the linked caregiver and the patient.
  When that stored anything, the writes that build on stored data follow (the patient's open
  and newest sessions are ended, so their sets go through the progression, and the program is
  rebuilt from the profile), then every read of the patient: the JSON lists and details, the
  sets and repetitions of the sessions involved, and the pages. All must answer below 500.
- ``test_stateful_workflows``: schemathesis' own stateful testing, with the links it infers
  from the schema (GET /api/patients -> POST .../sessions -> POST .../sets -> POST
  .../repetitions -> POST .../end; program build -> PATCH/DELETE item; ...). The caller of each
  step is a generated header (``X-Fuzz-As``, added to a copy of the schema only). After every
  step that stored something, every read of the patient runs (pages as every caller), and at
  the end of each scenario the same follow-up writes and reads as above.

Both generate valid input only (invalid input is the stateless test's job). They run on
SQLite, and on PostgreSQL too when OPENREHAB_TEST_POSTGRES_URL is set. Sizes:
OPENREHAB_FUZZ_WRITE_EXAMPLES (examples per write operation), OPENREHAB_FUZZ_SCENARIOS and
OPENREHAB_FUZZ_SCENARIO_STEPS (stateful scenarios and their most steps).
"""

from __future__ import annotations

import copy
import os
import zlib
from typing import Any
from urllib.parse import urlencode

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.core import NOT_SET

from fuzzing import (
    CALLERS,
    DATA_READER,
    FuzzWorld,
    build_world,
    describe,
    last_lines,
    postgres_database,
)
from openrehab.exercises.library import load_library

WRITE_EXAMPLES = int(os.environ.get("OPENREHAB_FUZZ_WRITE_EXAMPLES", "8"))
SCENARIOS = int(os.environ.get("OPENREHAB_FUZZ_SCENARIOS", "12"))
SCENARIO_STEPS = int(os.environ.get("OPENREHAB_FUZZ_SCENARIO_STEPS", "10"))
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
CALLER_HEADER = "X-Fuzz-As"
# Logging in hashes a password per request (slow) and stores only a token; logging out would
# revoke the caller's token. The access matrix covers both.
NOT_FUZZED = r"^/api/auth/"
# After a single write the pages are read as the therapist and the patient; the stateful
# scenarios read them as every caller.
WRITE_PAGE_READERS = ("therapist", "patient")


def _pick(ids: list[Any], value: Any) -> Any:
    """Map a generated id onto a stored one (same value -> same id); leave other values."""
    if ids and isinstance(value, int) and not isinstance(value, bool):
        return ids[value % len(ids)]
    return value


def aim_at_exercises(body: Any) -> None:
    """Map a generated ``exercise_id`` onto a library exercise, with a side, mode and level
    that exercise has (a random string is never an exercise: every set would be a 422)."""
    if not isinstance(body, dict) or not isinstance(body.get("exercise_id"), str):
        return
    library = load_library()
    exercise = library.get(_pick(library.ids(), zlib.crc32(body["exercise_id"].encode())))
    body["exercise_id"] = exercise.id
    sides = ["left", "right"] if exercise.laterality == "unilateral" else ["both"]
    if body.get("side") is not None and body["side"] not in sides:
        body["side"] = _pick(sides, len(str(body["side"])))
    if body.get("mode") is not None and body["mode"] not in exercise.modes:
        body["mode"] = _pick(list(exercise.modes), len(str(body["mode"])))
    if isinstance(body.get("level"), int) and body["level"] > exercise.max_level:
        body["level"] = _pick(list(range(1, exercise.max_level + 1)), body["level"])


def aim_at_stored_records(world: FuzzWorld, case: Any) -> None:
    """Point the ids of ``case`` at stored records: a seeded patient, then that patient's open
    or newest session, a set of it, an item of their program, a link, a library exercise."""
    path = case.path_parameters or {}
    patients = list(world.patients.values())
    if "patient_id" in path:
        path["patient_id"] = _pick(patients, path["patient_id"])
    patient = path.get("patient_id")
    if "session_id" in path:
        path["session_id"] = _pick(world.sessions.get(patient, []), path["session_id"])
    if "set_id" in path:
        path["set_id"] = _pick(world.sets.get(path.get("session_id"), []), path["set_id"])
    if "item_id" in path:
        path["item_id"] = _pick(world.items.get(patient, []), path["item_id"])
    if "link_id" in path:
        path["link_id"] = _pick(world.links, path["link_id"])
    body = case.body
    if isinstance(body, dict):
        if "session_id" in body:
            body["session_id"] = _pick(world.sessions.get(patient, []), body["session_id"])
        if "patient_id" in body:
            body["patient_id"] = _pick(patients, body["patient_id"])
        if "carer_id" in body:
            carers = [world.users[c] for c in ("unlinked caregiver", "therapist", "caregiver")]
            body["carer_id"] = _pick(carers, body["carer_id"])
    aim_at_exercises(body)


def _request(case: Any) -> tuple[str, str, Any]:
    path = case.formatted_path
    if case.query:
        path += "?" + urlencode(case.query, doseq=True)
    return case.method.upper(), path, None if case.body is NOT_SET else case.body


def _touched(world: FuzzWorld, case: Any) -> dict[str, Any]:
    """What to read back after ``case``: the seeded patient it named (both if none), and the
    session and set it named."""
    path = case.path_parameters or {}
    patient = path.get("patient_id")
    named = patient in world.patients.values()
    return {
        "patients": {patient} if named else set(world.patients.values()),
        "sessions": {path["session_id"]} if named and "session_id" in path else set(),
        "sets": {path["set_id"]} if named and "set_id" in path else set(),
    }


USE_STORED_DATA = "admin: POST .../sessions/{open and newest}/end, POST .../program {}; every read"


def _report(title: str, sequence: list[str], failures: list[str]) -> str:
    steps = "\n".join(f"  {n}. {line}" for n, line in enumerate(sequence, 1))
    return f"{title}\nRequests (from the seeded database):\n{steps}\nFailures:\n" + "\n".join(
        failures
    )


def send(world: FuzzWorld, case: Any, auth: dict[str, str]) -> tuple[Any, int, str]:
    """Send ``case`` with ``auth``: the response (None when the app raised), its status (500
    then) and, for a 5xx, the last lines of the server's traceback."""
    errors_before = len(world.server_errors)
    try:
        response = case.call(headers={**(case.headers or {}), **auth})
    except Exception as exc:  # the ASGI transport re-raises what the app did not handle
        return None, 500, last_lines(exc)
    if response.status_code < 500:
        return response, response.status_code, ""
    where = "\n".join(world.server_errors[errors_before:]) or response.text[:300]
    return response, response.status_code, where


def _failure(caller: str, method: str, path: str, status: int, where: str) -> str:
    lines = "\n".join(f"    {line}" for line in where.splitlines())
    return f"{caller}: {method} {path} -> {status}\n{lines}"


def check_write_then_read(world: FuzzWorld, case: Any) -> None:
    world.reset()
    aim_at_stored_records(world, case)
    method, path, body = _request(case)
    sequence: list[str] = []
    failures: list[str] = []
    for caller in CALLERS:
        _, status, where = send(world, case, world.headers[caller])
        sequence.append(describe(caller, method, path, body, status))
        if status >= 500:
            failures.append(_failure(caller, method, path, status, where))
    if failures or world.stored_something():
        touched = _touched(world, case)
        sequence.append(USE_STORED_DATA)
        failures += world.use_stored_data(touched["patients"])
        failures += world.read_back(**touched, page_readers=WRITE_PAGE_READERS)
    assert not failures, _report("A write, or a call after it, gave a 5xx.", sequence, failures)


WRITES = settings(
    max_examples=WRITE_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.generate],  # no coverage phase (hundreds of cases per operation)
)
STATEFUL = settings(
    max_examples=SCENARIOS,
    stateful_step_count=SCENARIO_STEPS,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    phases=[Phase.generate],
)


def write_schema(world: FuzzWorld) -> Any:
    schema = schemathesis.openapi.from_dict(copy.deepcopy(world.app.openapi()))
    schema.app = world.app
    schema.config.generation.update(modes=["positive"])
    return schema.include(method=list(WRITE_METHODS)).exclude(path_regex=NOT_FUZZED)


def stateful_schema(world: FuzzWorld) -> Any:
    """The app's schema with a required ``X-Fuzz-As`` header naming the caller of each step."""
    raw = copy.deepcopy(world.app.openapi())
    caller = {
        "name": CALLER_HEADER,
        "in": "header",
        "required": True,
        "schema": {"type": "string", "enum": list(CALLERS)},
    }
    for operations in raw["paths"].values():
        for operation in operations.values():
            operation.setdefault("parameters", []).append(dict(caller))
    schema = schemathesis.openapi.from_dict(raw)
    schema.app = world.app
    schema.config.generation.update(modes=["positive"])
    return schema.exclude(path_regex=NOT_FUZZED)


def workflow(world: FuzzWorld) -> Any:
    """schemathesis' state machine for the app: each step as the caller it names, and after
    every step that stored something, every read of the patient."""

    class Workflow(stateful_schema(world).as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            world.reset()
            self.sequence: list[str] = []
            self.failed = False

        def teardown(self) -> None:
            # What the scenario stored, used: sessions ended, the program rebuilt, read again.
            if self.failed or not self.sequence:
                return
            patients = set(world.patients.values())
            failures = world.use_stored_data(patients)
            failures += world.read_back(patients, page_readers=(DATA_READER,))
            self.sequence.append(USE_STORED_DATA)
            assert not failures, _report(
                "A call after the scenario gave a 5xx.", self.sequence, failures
            )

        def before_call(self, case: Any) -> None:
            # Links carry ids from earlier responses; a first step draws a random patient id,
            # aimed here at a seeded patient, and a random exercise id, aimed at the library.
            path = case.path_parameters or {}
            patient = path.get("patient_id")
            if patient is not None and patient not in world.users.values():
                path["patient_id"] = _pick(list(world.patients.values()), patient)
            aim_at_exercises(case.body)

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": world.headers[self._caller(case)]}

        @staticmethod
        def _caller(case: Any) -> str:
            caller = (case.headers or {}).get(CALLER_HEADER)
            return caller if caller in CALLERS else "anonymous"

        def call(self, case: Any, **kwargs: Any) -> Any:
            world.changes.clear()
            response, status, where = send(world, case, kwargs.pop("headers", {}))
            method, path, body = _request(case)
            caller = self._caller(case)
            self.sequence.append(describe(caller, method, path, body, status))
            failures = [_failure(caller, method, path, status, where)] if status >= 500 else []
            if method in WRITE_METHODS and (failures or world.stored_something()):
                failures += world.read_back(**_touched(world, case))
            self.failed = bool(failures)
            assert not failures, _report(
                "A step, or a read after it, gave a 5xx.", self.sequence, failures
            )
            return response

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            """The checks are in ``call``: below 500, and every read after a write too."""

    return Workflow


SQLITE = build_world()


@write_schema(SQLITE).parametrize()
@WRITES
def test_every_write_keeps_the_patient_readable_sqlite(case) -> None:  # type: ignore[no-untyped-def]
    check_write_then_read(SQLITE, case)


def test_stateful_workflows_sqlite() -> None:
    workflow(SQLITE).run(settings=STATEFUL)


_pg_url = postgres_database()
if _pg_url:
    POSTGRES = build_world(_pg_url)

    @write_schema(POSTGRES).parametrize()
    @WRITES
    def test_every_write_keeps_the_patient_readable_postgresql(case) -> None:  # type: ignore[no-untyped-def]
        check_write_then_read(POSTGRES, case)

    def test_stateful_workflows_postgresql() -> None:
        workflow(POSTGRES).run(settings=STATEFUL)
