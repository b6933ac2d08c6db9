"""The access matrix of the page forms: every state-changing page route x every kind of caller
x own and other patient.

A browser writes through these forms with its login cookie, so they follow the rules of the API
(accounts/access.py, tests/accounts/test_access_matrix.py): a patient records for themselves
only, a caregiver for the patients linked to them, a therapist records and prescribes for
their own patients, an admin for everyone; nobody else. The expected callers are written out
here, not derived from access.py, so a change of the rules shows up as a failing test.

Each request is measured against the whole store: a refused write must change nothing (not
even a record of another patient), an allowed one must add what the form sent, under the
patient of the address, with the caller as its author, and be audited. The test fails when a
state-changing page route is added without an entry here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.service import create_user, issue_token
from openrehab.store.models import AuditLog, AuthToken, CareLink, LinkKind, PainReport, Role, User
from support import (
    WORLD_USERS,
    Clinic,
    TableChange,
    audited,
    audited_patient,
    fresh_program,
    records_changed,
    store_changes,
    write_routes,
)

CALLERS: list[str | None] = [None, *WORLD_USERS]  # None = anonymous
TARGETS = ("patient_p", "patient_q")
#: Who may record (pain) and who may prescribe (the program) for each patient.
RECORDS_FOR = {
    "patient_p": {"patient_p", "caregiver_c", "therapist_a", "admin"},
    "patient_q": {"patient_q", "therapist_b", "admin"},
}
PRESCRIBES_FOR = {"patient_p": {"therapist_a", "admin"}, "patient_q": {"therapist_b", "admin"}}
#: Placeholders in a form's expected rows.
CALLER, PATIENT = "<caller>", "<patient>"
#: An allowed post that answers with a first-login sheet (201) rather than a redirect.
SHEET = "<first-login sheet>"
_numbers = itertools.count(1)


@dataclass
class Form:
    """One filled-in form: where it goes, what it sends, and what an allowed post stores."""

    url: str
    data: dict[str, str]
    #: table -> the fields of the one row the post adds there
    stores: dict[str, dict[str, Any]]
    #: every table the post may change (besides the audit log)
    touches: set[str] = field(default_factory=set)
    #: more checks of the changes of an allowed post
    also: Callable[[dict[str, TableChange]], None] | None = None
    #: the page an allowed post goes on to (None: the patient's page, or "/" for their own)
    lands: str | None = None


@dataclass(frozen=True)
class PageWrite:
    route: tuple[str, str]
    allowed: dict[str, set[str]]  # target patient -> callers
    make: Callable[[Session, int], Form]  # (session, patient id) -> a form for that patient


def _new_program(**fields: Any) -> dict[str, Any]:
    return {"patient_id": PATIENT, "created_by_id": CALLER, "active": True, **fields}


def _items_in_new_program(changes: dict[str, TableChange]) -> None:
    [new] = [row for row in changes["programs"].added if row["active"]]
    assert {row["program_id"] for row in changes["program_items"].added} == {new["id"]}


def _pain(db: Session, patient: int) -> Form:
    nrs = next(_numbers) % 11  # every value of the scale, 0 and 10 included, over the run
    low, size = (0, 4) if nrs < 4 else (4, 3) if nrs < 7 else (7, 4)
    db.expire_all()
    profile = db.get_one(User, patient).profile
    assert profile is not None
    # The current pain is another value of the same band: the report changes it (to nrs),
    # and the program stays as it is (rule R8 acts on bands).
    profile.pain_nrs = low + (nrs - low + 1) % size
    db.commit()

    def current_pain(changes: dict[str, TableChange]) -> None:
        assert [row["pain_nrs"] for row in changes["patient_profiles"].added] == [nrs]

    return Form(
        f"/patients/{patient}/pain",
        {"nrs": str(nrs)},
        {"pain_reports": {"patient_id": PATIENT, "reported_by_id": CALLER, "nrs": nrs}},
        {"patient_profiles"},
        current_pain,
    )


def _build(db: Session, patient: int) -> Form:
    fresh_program(db, patient)
    target = 100 + next(_numbers)
    return Form(
        f"/patients/{patient}/program",
        {"daily_rep_target": str(target)},
        {"programs": _new_program(daily_rep_target=target)},
        {"program_items"},
        _items_in_new_program,
    )


def _change(db: Session, patient: int) -> Form:
    item = fresh_program(db, patient).items[0]
    sets = 2 if item.sets == 1 else 1
    return Form(
        f"/patients/{patient}/program/items/{item.id}",
        {"reason": f"tired {next(_numbers)}", "sets": str(sets)},
        {
            "programs": _new_program(),
            "program_items": {
                "exercise_id": item.exercise_id,
                "side": item.side,
                "sets": sets,
                "overridden_by_id": CALLER,
            },
        },
        also=_items_in_new_program,
    )


def _remove(db: Session, patient: int) -> Form:
    item = fresh_program(db, patient).items[0]
    removed = (item.exercise_id, item.side)

    def gone(changes: dict[str, TableChange]) -> None:
        _items_in_new_program(changes)
        kept = {(row["exercise_id"], row["side"]) for row in changes["program_items"].added}
        assert removed not in kept

    return Form(
        f"/patients/{patient}/program/items/{item.id}",
        {"reason": "sore", "action": "remove"},
        {"programs": _new_program()},
        {"program_items"},
        gone,
    )


def _add(db: Session, patient: int) -> Form:
    fresh_program(db, patient)
    return Form(
        f"/patients/{patient}/program/items",
        {"exercise_id": "toe_curls", "reason": "foot cramps"},
        {
            "programs": _new_program(),
            "program_items": {"exercise_id": "toe_curls", "overridden_by_id": CALLER},
        },
        also=_items_in_new_program,
    )


def _undo_pain(db: Session, patient: int) -> Form:
    """A pain tap by the patient a moment ago: only they may undo it (within a minute)."""
    db.expire_all()
    profile = db.get_one(User, patient).profile
    assert profile is not None
    profile.pain_nrs = 3  # as the tap set it; 3 and the 1 restored are in one band: no rebuild
    report = PainReport(patient_id=patient, reported_by_id=patient, nrs=3, profile_nrs_before=1)
    db.add(report)
    db.commit()

    def withdrawn(changes: dict[str, TableChange]) -> None:
        [row] = changes["pain_reports"].added
        assert row["id"] == report.id and row["withdrawn_at"] is not None
        assert [r["pain_nrs"] for r in changes["patient_profiles"].added] == [1]

    return Form(
        f"/patients/{patient}/pain/{report.id}/undo",
        {},
        {"pain_reports": {"id": report.id, "patient_id": PATIENT, "reported_by_id": PATIENT}},
        {"patient_profiles"},
        withdrawn,
    )


def _pain_undone_by_its_reporter() -> dict[str, set[str]]:
    return {"patient_p": {"patient_p"}, "patient_q": {"patient_q"}}


def _assessment(db: Session, patient: int) -> Form:
    return Form(
        f"/patients/{patient}/care/assessments",
        {"kind": "mas", "region": "elbow", "side": "left", "value": "1+", "muscle": "biceps"},
        {
            "assessments": {
                "patient_id": PATIENT,
                "assessor_id": CALLER,
                "kind": "mas",
                "value": "1+",
                "ordinal": 2,
                "muscle": "biceps",
            }
        },
        lands=f"/patients/{patient}/care",
    )


def _therapy(db: Session, patient: int) -> Form:
    name = f"tendon lengthening {next(_numbers)}"
    return Form(
        f"/patients/{patient}/care/therapies",
        {"kind": "procedure", "started_on": "2020-01-02", "procedure": name},
        {
            "therapy_events": {
                "patient_id": PATIENT,
                "recorded_by_id": CALLER,
                "kind": "procedure",
                "details": {"procedure": name},
            }
        },
        lands=f"/patients/{patient}/care",
    )


def _symptoms(db: Session, patient: int) -> Form:
    return Form(
        f"/patients/{patient}/care/symptoms",
        {"about": "botulinum_toxin", "symptoms": "speaking"},
        {
            "symptom_reports": {
                "patient_id": PATIENT,
                "reported_by_id": CALLER,
                "symptoms": ["speaking"],
            }
        },
        lands=f"/patients/{patient}/care",
    )


def _dose_raise(db: Session, patient: int) -> Form:
    pct = next(_numbers) % 101

    def stored(changes: dict[str, TableChange]) -> None:
        [row] = changes["patient_profiles"].added
        assert row["extra"]["toxin_dose_raise_pct"] == pct

    return Form(
        f"/patients/{patient}/care/dose-raise",
        {"raise_pct": str(pct)},
        {"patient_profiles": {"user_id": PATIENT}},
        also=stored,
        lands=f"/patients/{patient}/care",
    )


def _profile(db: Session, patient: int) -> Form:
    target = 200 + next(_numbers)
    data = {
        "affected_side": "right",
        "knee_involved": "1",
        "knee_mas": "2",
        "can_sit_unsupported": "yes",
        "can_stand_safely": "no",
        "daily_rep_target": str(target),
        "then": "save",
    }
    return Form(
        f"/patients/{patient}/profile",
        data,
        {"patient_profiles": {"user_id": PATIENT, "daily_rep_target": target}},
    )


def _new_caregiver(db: Session) -> User:
    user = create_user(db, f"carer-{next(_numbers)}", "quartz-kettle-lamp", Role.caregiver)
    db.commit()
    return user


def _link_caregiver(db: Session, patient: int) -> Form:
    carer = _new_caregiver(db)
    return Form(
        f"/patients/{patient}/people/caregivers",
        {"existing": carer.username},
        {"care_links": {"patient_id": PATIENT, "carer_id": carer.id}},
        lands=f"/patients/{patient}/people",
    )


def _unlink_caregiver(db: Session, patient: int) -> Form:
    link = CareLink(patient_id=patient, carer_id=_new_caregiver(db).id, kind=LinkKind.caregiver)
    db.add(link)
    db.commit()

    def ended(changes: dict[str, TableChange]) -> None:
        assert [row["id"] for row in changes["care_links"].removed] == [link.id]

    return Form(
        f"/patients/{patient}/people/{link.id}/remove",
        {},
        {},
        {"care_links"},
        ended,
        lands=f"/patients/{patient}/people",
    )


def _note(db: Session, patient: int) -> Form:
    text = f"Reviewed at home visit {next(_numbers)}"
    return Form(
        f"/patients/{patient}/notes",
        {"text": text},
        {"patient_notes": {"patient_id": PATIENT, "author_id": CALLER, "text": text}},
    )


ITEM = ("POST", "/patients/{patient_id}/program/items/{item_id}")
# audit action -> the form that does it
PAGE_WRITES: dict[str, PageWrite] = {
    "pain.report": PageWrite(("POST", "/patients/{patient_id}/pain"), RECORDS_FOR, _pain),
    "pain.withdraw": PageWrite(
        ("POST", "/patients/{patient_id}/pain/{report_id}/undo"),
        _pain_undone_by_its_reporter(),
        _undo_pain,
    ),
    "assessment.add": PageWrite(
        ("POST", "/patients/{patient_id}/care/assessments"), PRESCRIBES_FOR, _assessment
    ),
    "therapy.add": PageWrite(
        ("POST", "/patients/{patient_id}/care/therapies"), PRESCRIBES_FOR, _therapy
    ),
    "symptoms.report": PageWrite(
        ("POST", "/patients/{patient_id}/care/symptoms"), RECORDS_FOR, _symptoms
    ),
    "profile.toxin_raise": PageWrite(
        ("POST", "/patients/{patient_id}/care/dose-raise"), PRESCRIBES_FOR, _dose_raise
    ),
    "program.build": PageWrite(("POST", "/patients/{patient_id}/program"), PRESCRIBES_FOR, _build),
    "program.item.change": PageWrite(ITEM, PRESCRIBES_FOR, _change),
    "program.item.remove": PageWrite(ITEM, PRESCRIBES_FOR, _remove),
    "program.item.add": PageWrite(
        ("POST", "/patients/{patient_id}/program/items"), PRESCRIBES_FOR, _add
    ),
    "note.add": PageWrite(("POST", "/patients/{patient_id}/notes"), PRESCRIBES_FOR, _note),
    "profile.update": PageWrite(
        ("POST", "/patients/{patient_id}/profile"), PRESCRIBES_FOR, _profile
    ),
    "link.create": PageWrite(
        ("POST", "/patients/{patient_id}/people/caregivers"), PRESCRIBES_FOR, _link_caregiver
    ),
    "link.delete": PageWrite(
        ("POST", "/patients/{patient_id}/people/{link_id}/remove"),
        PRESCRIBES_FOR,
        _unlink_caregiver,
    ),
}
#: Not about a patient: tested below for every account.
ACCOUNT_FORMS = {("POST", "/login"), ("POST", "/logout")}
#: Forms that make accounts or links and answer with a first-login sheet (and the one that
#: ends every login of an account): every caller is tried in tests/web/test_workspace_pages.py
#: (``test_workspace_forms_refuse_everyone_else``).
WORKSPACE_FORMS = {
    ("POST", "/patients/new"),
    ("POST", "/patients/{patient_id}/people/{account_id}/first-login"),
    ("POST", "/admin/therapists"),
    ("POST", "/admin/assignments"),
    ("POST", "/admin/assignments/{link_id}/remove"),
}


@pytest.fixture(scope="module")
def browsers(clinic: Clinic) -> Iterator[dict[str | None, TestClient]]:
    """A browser per caller, logged in with its own cookie (anonymous: none)."""
    with ExitStack() as stack, clinic.session() as db:
        cookies = {
            name: issue_token(db, db.get_one(User, clinic.world.ids[name]), kind="cookie")
            for name in WORLD_USERS
        }
        db.commit()
        yield {
            caller: stack.enter_context(clinic.client(cookies.get(caller) if caller else None))
            for caller in CALLERS
        }


def test_every_state_changing_page_route_is_in_the_matrix(clinic: Clinic) -> None:
    pages = {op for op in write_routes(clinic.app) if not op[1].startswith("/api/")}
    listed = {write.route for write in PAGE_WRITES.values()} | ACCOUNT_FORMS | WORKSPACE_FORMS
    assert pages == listed, "add new page forms to PAGE_WRITES (or ACCOUNT_FORMS)"


def _outcome(response: Response, page: str) -> str:
    """``saved`` (sent on to ``page``), ``login`` (sent to log in) or the status."""
    location = response.headers.get("location", "")
    if response.status_code == 201 and page == SHEET:
        return "saved"
    if response.status_code == 303 and location.startswith("/login"):
        return "login"
    if response.status_code == 303 and location.split("?")[0] == page:
        return "saved"
    return f"{response.status_code} {location}".strip()


def _placed(fields: dict[str, Any], caller: int, patient: int) -> dict[str, Any]:
    places = {CALLER: caller, PATIENT: patient}
    return {k: places.get(v, v) if isinstance(v, str) else v for k, v in fields.items()}


def _check_saved(
    db: Session, form: Form, changes: dict[str, TableChange], caller: int, patient: int, action: str
) -> None:
    """An allowed post added the rows its form describes, and one audit entry."""
    assert set(records_changed(changes)) == set(form.stores) | form.touches
    for table, fields in form.stores.items():
        want = _placed(fields, caller, patient)
        rows = [r for r in changes[table].added if all(r.get(k) == v for k, v in want.items())]
        assert len(rows) == 1, f"{table}: one new row with {want}; added {changes[table].added}"
    if form.also:
        form.also(changes)
    entries = changes["audit_log"].added if "audit_log" in changes else []
    db.expire_all()
    assert [(e["user_id"], e["action"], audited_patient(db, e)) for e in entries] == [
        (caller, action, patient)
    ]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("action", sorted(PAGE_WRITES))
def test_page_access_matrix(
    action: str,
    target: str,
    clinic: Clinic,
    clinic_db: Session,
    browsers: dict[str | None, TestClient],
) -> None:
    """Rule: a page form write about patient X is saved for exactly the callers the rules
    allow for X (and stores what was sent, audited); anyone else is refused (403, audited)
    or sent to log in (anonymous), and the store is left exactly as it was."""
    write, ids = PAGE_WRITES[action], clinic.world.ids
    patient = ids[target]
    outcomes, expected, results = {}, {}, {}
    for caller in CALLERS:
        form = write.make(clinic_db, patient)
        before = clinic.snapshot()
        response = browsers[caller].post(form.url, data=form.data)
        results[caller] = (form, store_changes(before, clinic.snapshot()))
        page = form.lands or ("/" if caller == target else f"/patients/{patient}")
        outcomes[caller] = _outcome(response, page)
        allowed = caller in write.allowed[target]
        expected[caller] = "login" if caller is None else "saved" if allowed else "403"
    assert outcomes == expected
    for caller, (form, changes) in results.items():
        if outcomes[caller] == "saved":
            assert caller is not None
            _check_saved(clinic_db, form, changes, ids[caller], patient, action)
            continue
        assert records_changed(changes) == {}, f"refused for {caller}, yet stored {changes}"
        assert audited(changes) == ([] if caller is None else [(ids[caller], "access.refused")])


def test_an_item_of_another_patient_cannot_be_changed_through_ones_own_patient(
    clinic: Clinic, clinic_db: Session, browsers: dict[str | None, TestClient]
) -> None:
    """Rule: a therapist may change their patient's program items only: an item id of another
    patient, sent through their own patient's address, is not found, and nothing changes."""
    p, q = clinic.world.ids["patient_p"], clinic.world.ids["patient_q"]
    fresh_program(clinic_db, p)
    others = fresh_program(clinic_db, q).items[0]
    before = clinic.snapshot()
    for action in ("change", "remove"):
        response = browsers["therapist_a"].post(
            f"/patients/{p}/program/items/{others.id}",
            data={"reason": "not mine", "sets": "1", "action": action},
        )
        assert response.status_code == 404
    assert store_changes(before, clinic.snapshot()) == {}


# --- the account forms ----------------------------------------------------------------------
def _tokens(db: Session) -> set[tuple[int, int]]:
    """(token id, user id) of every login."""
    db.expire_all()
    return {(t.id, t.user_id) for t in db.scalars(select(AuthToken))}


@pytest.mark.parametrize("who", sorted(WORLD_USERS))
def test_the_login_form_logs_in_only_with_the_accounts_password(
    who: str, clinic: Clinic, clinic_db: Session, clinic_client: TestClient
) -> None:
    """Rule: the login form starts a browser login (one new cookie token) for the account
    whose password was given, and for nobody on a wrong one; neither changes any record."""
    user_id, username = clinic.world.ids[who], who.replace("_", "-")
    tokens, before = _tokens(clinic_db), clinic.snapshot()
    wrong = clinic_client.post("/login", data={"username": username, "password": "x" * 12})
    assert wrong.status_code == 401 and not wrong.cookies
    assert _tokens(clinic_db) == tokens
    right = clinic_client.post("/login", data={"username": username, "password": f"password-{who}"})
    assert right.status_code == 303 and right.cookies.get("openrehab_session")
    [(new_id, owner)] = _tokens(clinic_db) - tokens
    assert owner == user_id and clinic_db.get_one(AuthToken, new_id).kind == "cookie"
    changes = store_changes(before, clinic.snapshot())
    assert records_changed(changes) == {}
    assert audited(changes) == [
        (None, "login.failed"),
        (user_id, "login.browser"),
    ]


@pytest.mark.parametrize("caller", CALLERS)
def test_the_logout_form_ends_only_the_callers_own_login(
    caller: str | None, clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: logging out ends this browser's login and no other (not the account's other
    devices, nor anyone else's); without a login it ends nothing. No record changes."""
    cookie = None
    if caller is not None:
        cookie = issue_token(clinic_db, clinic_db.get_one(User, clinic.world.ids[caller]))
        clinic_db.commit()
    tokens, before = _tokens(clinic_db), clinic.snapshot()
    with clinic.client(cookie) as browser:
        response = browser.post("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    ended = tokens - _tokens(clinic_db)
    assert ended == (set() if caller is None else {max(tokens)})
    assert records_changed(store_changes(before, clinic.snapshot())) == {}


def test_logging_out_everywhere_ends_every_login_of_that_account_only(
    clinic: Clinic, clinic_db: Session
) -> None:
    """Rule: "log out everywhere" ends every browser and API login of the account, and no
    login of anyone else; the audit entry counts the other logins it ended (this browser's
    own ends first), zero when there were none."""
    carer = create_user(clinic_db, f"carer-{next(_numbers)}", "password-x-quartz", Role.caregiver)
    cookies = [issue_token(clinic_db, carer) for _ in range(2)]
    issue_token(clinic_db, carer, kind="bearer")
    clinic_db.commit()
    tokens = _tokens(clinic_db)
    with clinic.client(cookies[0]) as browser:
        assert browser.post("/logout", data={"everywhere": "1"}).status_code == 303
    assert tokens - _tokens(clinic_db) == {t for t in tokens if t[1] == carer.id}
    assert len(tokens - _tokens(clinic_db)) == 3
    cookie = issue_token(clinic_db, carer)
    clinic_db.commit()
    with clinic.client(cookie) as browser:
        assert browser.post("/logout", data={"everywhere": "1"}).status_code == 303
    clinic_db.expire_all()
    entries = clinic_db.scalars(
        select(AuditLog).where(AuditLog.user_id == carer.id).order_by(AuditLog.id)
    )
    assert [(e.action, e.target_id, e.detail) for e in entries] == [
        ("logout.everywhere", str(carer.id), {"tokens": 2}),
        ("logout.everywhere", str(carer.id), {"tokens": 0}),
    ]
