"""The carer's patient list (the home page of therapists, caregivers and admins): adherence
over 7 and 28 days, active days, alerts and the last session, sortable and filterable by
query string (``?sort=adherence7&q=ana&show=attention``) so it works without JavaScript and
a sorted view can be bookmarked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openrehab.accounts.access import linked_patient_ids
from openrehab.clock import local_date
from openrehab.services import care as care_service
from openrehab.services.adherence import caseload_adherence
from openrehab.store.models import User, utc_now
from openrehab.store.records import last_session_starts, reps_on_day_by_patient

#: Sort keys: (label, direction of the first click). Low adherence and old sessions first,
#: because they are what a therapist looks for.
SORTS: dict[str, tuple[str, str]] = {
    "name": ("Name", "asc"),
    "adherence7": ("7 days", "asc"),
    "adherence28": ("28 days", "asc"),
    "last": ("Last session", "asc"),
    "alerts": ("Alerts", "desc"),
}
#: "Needs attention": an urgent alert, or under half the target over 7 days, or no session
#: for this many days.
ATTENTION_ADHERENCE_PCT = 50
ATTENTION_IDLE_DAYS = 3
MAX_QUERY_CHARS = 80


def _sort_key(key: str) -> Any:
    def by(row: dict[str, Any]) -> Any:
        if key == "name":
            return row["patient"].display_name.lower()
        if key in ("adherence7", "adherence28"):
            pct = row[key].percent
            return (pct is None, pct or 0)
        if key == "last":
            last = row["last_session_at"]
            return (last is not None, last or datetime.min)
        return (row["urgent"], len(row["alerts"]))

    return by


def attention_reasons(row: dict[str, Any], now: datetime) -> list[str]:
    """Why a therapist should look at this patient now (empty: nothing)."""
    reasons = []
    if row["urgent"]:
        reasons.append("urgent alert")
    pct = row["adherence7"].percent
    if pct is not None and pct < ATTENTION_ADHERENCE_PCT:
        reasons.append(f"under {ATTENTION_ADHERENCE_PCT} % of target this week")
    last = row["last_session_at"]
    if last is None:
        reasons.append("no session yet")
    elif now - last > timedelta(days=ATTENTION_IDLE_DAYS):
        reasons.append(f"no session for over {ATTENTION_IDLE_DAYS} days")
    return reasons


def patient_list(
    db: Session, user: User, *, q: str = "", sort: str = "name", order: str = "", show: str = ""
) -> dict[str, Any]:
    """The list page's context: rows, the sort and filter in use, and counts."""
    sort = sort if sort in SORTS else "name"
    order = order if order in ("asc", "desc") else SORTS[sort][1]
    q = " ".join(q.split())[:MAX_QUERY_CHARS]
    ids = linked_patient_ids(db, user)
    patients = list(db.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    targets = {p.id: care_service.daily_target(db, p).reps for p in patients}
    adherence = caseload_adherence(db, targets)
    reps_today = reps_on_day_by_patient(db, ids)
    last_starts = last_session_starts(db, ids)
    now = utc_now()
    rows = []
    for p in patients:
        alerts = care_service.patient_alerts(db, p)
        row = {
            "patient": p,
            "reps_today": reps_today.get(p.id, 0),
            "target": targets[p.id],
            "adherence7": adherence[p.id][7],
            "adherence28": adherence[p.id][28],
            "last_session_at": last_starts.get(p.id),
            "alerts": alerts,
            "urgent": sum(1 for a in alerts if a.severity == "urgent"),
        }
        row["attention"] = attention_reasons(row, now)
        rows.append(row)
    total = len(rows)
    if q:
        needle = q.lower()
        rows = [
            r
            for r in rows
            if needle in r["patient"].display_name.lower() or needle in r["patient"].username
        ]
    if show == "attention":
        rows = [r for r in rows if r["attention"]]
    rows.sort(key=lambda r: r["patient"].display_name.lower())
    rows.sort(key=_sort_key(sort), reverse=order == "desc")
    return {
        "rows": rows,
        "total": total,
        "q": q,
        "sort": sort,
        "order": order,
        "show": "attention" if show == "attention" else "",
        "sorts": SORTS,
        "today": local_date(),
    }
