"""The guided catch-angle measurement (Modified Tardieu, docs/care.md): the API that analyses
one slow and up to five fast stretches recorded as joint angles (care.tardieu) and stores the
result as an assessment, and the step-by-step page that records them with the camera.

Only angles reach the server: the video stays in the browser. Those who may record for the
patient (the patient, their caregiver, their therapist) may measure: it is a measurement,
not a prescription.
"""

from __future__ import annotations

import statistics
from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field, model_validator

from openrehab.accounts.access import Action
from openrehab.care.tardieu import AngleSeries, TardieuInputError, analyse_tardieu
from openrehab.services import clinical
from openrehab.store.models import Role, User
from openrehab.web.care_schemas import AssessmentOut
from openrehab.web.deps import CurrentUser, Db, ObjectId, PatientRecord
from openrehab.web.routes.pages import MaybeUser, page_patient, render
from openrehab.web.routes.session_pages import VISION
from openrehab.web.schemas import Strict

router = APIRouter(prefix="/api/patients/{patient_id}", tags=["clinical"])
page_router = APIRouter(include_in_schema=False)

MAX_SERIES_S = 60.0
MAX_SAMPLES = 12_000
MAX_FAST_TRIALS = 5
Joint = Literal["elbow", "knee", "ankle", "wrist"]
#: The muscle group each joint's stretch tests (stored when none is given).
DEFAULT_MUSCLE: dict[str, str] = {
    "elbow": "elbow flexors",
    "knee": "hamstrings",
    "ankle": "calf muscles",
    "wrist": "wrist flexors",
}
Seconds = Annotated[float, Field(strict=True, ge=-1e6, le=1e6, allow_inf_nan=False)]
Degrees = Annotated[float, Field(strict=True, ge=-360, le=360, allow_inf_nan=False)]


class SeriesIn(Strict):
    """One recording: times (s, increasing) and joint angles (deg), at most 60 s and 12,000
    samples."""

    t_s: list[Seconds] = Field(max_length=MAX_SAMPLES)
    angle_deg: list[Degrees] = Field(max_length=MAX_SAMPLES)

    @model_validator(mode="after")
    def _fits(self) -> Self:
        if len(self.t_s) != len(self.angle_deg):
            raise ValueError(f"{len(self.t_s)} times but {len(self.angle_deg)} angles")
        if self.t_s and self.t_s[-1] - self.t_s[0] > MAX_SERIES_S:
            raise ValueError(f"a recording may last at most {MAX_SERIES_S:g} s")
        return self


class TardieuIn(Strict):
    """A catch-angle measurement: one slow (V1) and 1-5 fast (V3) stretches of one joint,
    as angles that rise with the stretch (``increasing``: else they fall)."""

    joint: Joint
    side: Literal["left", "right"]
    muscle: Annotated[str, Field(min_length=1, max_length=60)] | None = None
    increasing: bool = True
    method: Literal["camera", "sensor", "goniometer"] = "camera"
    slow: SeriesIn
    fast: list[SeriesIn] = Field(min_length=1, max_length=MAX_FAST_TRIALS)


class TardieuOut(BaseModel):
    id: int = Field(description="The stored assessment's id")
    assessment: AssessmentOut
    analysis: dict[str, Any] = Field(description="care.tardieu's result (docs/tardieu.md)")


def assessment_fields(body: TardieuIn, analysis: dict[str, Any]) -> dict[str, Any]:
    """The stored assessment: R1 (None without a catch), R2, and the details of the fast
    stretches (V3 at their median peak velocity), the catch and the quality."""
    trials = analysis["trials"]
    return {
        "kind": "tardieu",
        "region": body.joint,
        "side": body.side,
        "muscle": body.muscle or DEFAULT_MUSCLE[body.joint],
        "method": body.method,
        "r1_deg": analysis["r1_deg"],
        "r2_deg": analysis["r2_deg"],
        "details": {
            "velocity": "V3",
            "velocity_deg_s": round(statistics.median(analysis["v_fast_deg_s"]), 1),
            "v_slow_deg_s": analysis["v_slow_deg_s"],
            "catch_detected": analysis["catch_detected"],
            "dynamic_component_deg": analysis["dynamic_component_deg"],
            "quality_score": analysis["quality"]["score"],
            "quality_issues": [issue["code"] for issue in analysis["quality"]["issues"]],
            "trials": [
                {"catch_angle_deg": t["catch_angle_deg"], "velocity_deg_s": t["velocity_deg_s"]}
                for t in trials
            ],
            "increasing": body.increasing,
            "source": "sensor analysis",
        },
    }


@router.post("/tardieu", response_model=TardieuOut, status_code=status.HTTP_201_CREATED)
def measure_tardieu(
    body: TardieuIn, patient: PatientRecord, user: CurrentUser, db: Db
) -> dict[str, Any]:
    """Analyse slow and fast stretches of one joint (angles only) and store the catch angle
    (R1), the slow range (R2) and the speeds as a Tardieu assessment. A recording that
    cannot be analysed is refused (422, saying why) and nothing is stored."""
    try:
        slow = AngleSeries.from_lists(body.slow.t_s, body.slow.angle_deg)
        fast = [AngleSeries.from_lists(f.t_s, f.angle_deg) for f in body.fast]
        result = analyse_tardieu(slow, fast, increasing=body.increasing).to_json()
    except TardieuInputError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(exc)) from None
    if result["r2_deg"] is None or not result["v_fast_deg_s"]:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="the recordings could not be analysed"
        )
    assessment = clinical.add_assessment(db, patient, user, assessment_fields(body, result))
    db.commit()
    return {"id": assessment.id, "assessment": assessment, "analysis": result}


# --- the page ------------------------------------------------------------------------------
def _first_name(patient: User) -> str:
    return (patient.display_name or "").split(" ")[0] or "The person"


def joint_words(name: str) -> dict[str, dict[str, str]]:
    """Per joint: its name, the stretch in plain words, and where the camera goes."""
    return {
        "elbow": {
            "label": "Elbow",
            "muscle": DEFAULT_MUSCLE["elbow"],
            "how": f"{name} lies or sits relaxed. Hold the upper arm still. Start with the "
            "elbow fully bent and straighten it.",
            "camera": "Put the camera to the side of the arm, so it sees the shoulder, the "
            "elbow and the wrist.",
            "seen": "shoulder, elbow and wrist",
        },
        "knee": {
            "label": "Knee",
            "muscle": DEFAULT_MUSCLE["knee"],
            "how": f"{name} lies on the back. Hold the thigh upright, the hip bent to a right "
            "angle. Start with the knee fully bent and straighten it.",
            "camera": "Put the camera to the side of the leg, so it sees the hip, the knee and "
            "the ankle.",
            "seen": "hip, knee and ankle",
        },
        "ankle": {
            "label": "Ankle",
            "muscle": DEFAULT_MUSCLE["ankle"],
            "how": f"{name} lies on the back with the knee straight. Hold the shin still. "
            "Start with the foot pointing down and bring the toes up toward the shin.",
            "camera": "Put the camera to the side of the leg, so it sees the knee, the ankle "
            "and the toes.",
            "seen": "knee, ankle and toes",
        },
        "wrist": {
            "label": "Wrist",
            "muscle": DEFAULT_MUSCLE["wrist"],
            "how": f"{name} sits with the forearm resting on a table, palm down, the hand "
            "over the edge. Hold the forearm still. Start with the wrist bent down and bend it "
            "back up.",
            "camera": "Put the camera to the side of the arm, so it sees the elbow, the wrist "
            "and the fingers.",
            "seen": "elbow, wrist and fingers",
        },
    }


@page_router.get("/patients/{patient_id}/tardieu", response_class=HTMLResponse)
def tardieu_page(request: Request, patient_id: ObjectId, user: MaybeUser, db: Db) -> Response:
    """The guided catch-angle measurement, one step per screen."""
    patient = page_patient(request, user, db, patient_id, Action.record)
    if isinstance(patient, Response):
        return patient
    assert user is not None
    name = _first_name(patient)
    side = patient.profile.affected_side if patient.profile is not None else "left"
    joints = joint_words(name)
    data = {
        "api": f"/api/patients/{patient.id}/tardieu",
        "care_url": f"/patients/{patient.id}/care",
        "clinical": user.role in (Role.therapist, Role.admin),
        "name": name,
        "joints": joints,
        "vision": VISION,
        "max_s": MAX_SERIES_S,
    }
    return render(
        request,
        "tardieu.html",
        user=user,
        patient=patient,
        name=name,
        joints=joints,
        side=side if side in ("left", "right") else "left",
        clinical=data["clinical"],
        data=data,
    )
