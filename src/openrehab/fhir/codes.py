"""Code systems and codes used in OpenRehab's FHIR R4 bundles (docs/fhir.md lists them).

Standard codes are used where one exists for what we record, and only codes we are sure of:
LOINC for the pain score, SNOMED CT for body sites, laterality and the range-of-motion
observable, ATC for the medicines. Everything else has a documented local code in
``LOCAL`` (``https://openrehab.org/fhir/CodeSystem/...``): there is no LOINC or SNOMED CT
code for the Modified Ashworth or Modified Tardieu result, nor for a home exercise count.
"""

from __future__ import annotations

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
BASE = "https://openrehab.org/fhir"
LOCAL = f"{BASE}/CodeSystem/measure"
MAS_GRADES = f"{BASE}/CodeSystem/mas-grade"
EXERCISE = f"{BASE}/CodeSystem/exercise"
THERAPY = f"{BASE}/CodeSystem/therapy"
#: The stored record behind a resource (its kind and an order number), so an import knows
#: what to make of it.
RECORD = f"{BASE}/record"
USERNAME = f"{BASE}/username"
#: A JSON object of the record's details that FHIR has no element for (read back on import).
DETAILS_EXTENSION = f"{BASE}/StructureDefinition/details"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

PAIN_NRS = (LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
ROM = (SNOMED, "364564000", "Range of joint movement")
LATERALITY = (SNOMED, "272741003", "Laterality")
SIDES = {"left": (SNOMED, "7771000", "Left"), "right": (SNOMED, "24028007", "Right")}
#: Body sites of the exercise regions (SNOMED CT body structures).
BODY_SITES = {
    "shoulder": "91774008",  # shoulder joint
    "elbow": "16953009",  # elbow joint
    "wrist": "74670003",  # wrist joint
    "hand": "85562004",  # hand
    "forearm": "14975008",  # forearm
    "hip": "24136001",  # hip joint
    "knee": "72696002",  # knee joint
    "ankle": "70258002",  # ankle joint
    "trunk": "22943007",  # trunk
}
MEDICINES = {
    "botulinum_toxin": (ATC, "M03AX01", "botulinum toxin"),
    "baclofen": (ATC, "M03BX01", "baclofen"),
}
#: Local measure codes: (code, display).
MEASURES = {
    "mas": ("mas", "Modified Ashworth Scale grade"),
    "tardieu": ("tardieu", "Modified Tardieu Scale"),
    "other": ("other", "Other clinical measurement"),
    "repetitions": ("repetitions", "Repetitions of a home exercise set"),
    "daily-repetitions": ("daily-repetitions", "Repetitions per day"),
    "r1": ("r1", "Tardieu R1 catch angle"),
    "r2": ("r2", "Tardieu R2 passive range"),
}
