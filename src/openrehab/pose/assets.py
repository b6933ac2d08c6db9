"""Where OpenRehab's offline MediaPipe assets live.

The MediaPipe Tasks model bundles (``.task``) ship inside the package, in ``models/``; the
browser runtime of ``@mediapipe/tasks-vision`` ships with the web app's static files. Both
are built reproducibly by ``tools/mediapipe_assets/build.py`` (checksums in its
``assets.lock.json``) and never downloaded at run time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

#: MediaPipe release the bundles and the browser runtime come from.
MEDIAPIPE_ASSETS_VERSION = "0.10.21"

MODELS_DIR = Path(__file__).resolve().parent / "models"
#: URL path the web app serves ``MODELS_DIR`` under (browser PoseLandmarker/HandLandmarker).
MODELS_URL = "/static/models/"

ModelName = Literal["pose_lite", "pose_full", "hand"]

MODEL_FILES: dict[str, str] = {
    "pose_lite": f"pose_landmarker_lite-{MEDIAPIPE_ASSETS_VERSION}.task",
    "pose_full": f"pose_landmarker_full-{MEDIAPIPE_ASSETS_VERSION}.task",
    "hand": f"hand_landmarker-{MEDIAPIPE_ASSETS_VERSION}.task",
}

#: The vendored ``@mediapipe/tasks-vision`` runtime (``vision_bundle.mjs``, ``wasm/``), as
#: a folder of the package and as the URL path the web app serves it under.
TASKS_VISION_DIR = (
    Path(__file__).resolve().parents[1]
    / "web"
    / "static"
    / "vendor"
    / f"tasks-vision-{MEDIAPIPE_ASSETS_VERSION}"
)
TASKS_VISION_URL = f"/static/vendor/tasks-vision-{MEDIAPIPE_ASSETS_VERSION}/"


class AssetMissingError(FileNotFoundError):
    """A bundled model file is not where the package expects it. ``str()`` is one line."""


def model_path(name: str) -> Path:
    """Path of a bundled MediaPipe Tasks model: ``"pose_lite"``, ``"pose_full"`` or
    ``"hand"``. Raises :class:`ValueError` for an unknown name and
    :class:`AssetMissingError` if the file is missing (a broken install)."""
    try:
        file = MODEL_FILES[name]
    except KeyError:
        known = ", ".join(MODEL_FILES)
        raise ValueError(f"unknown model {name!r} (known: {known})") from None
    p = MODELS_DIR / file
    if not p.is_file():
        raise AssetMissingError(
            f"model file {p} is missing: reinstall OpenRehab, or rebuild the assets with "
            "`python3 tools/mediapipe_assets/build.py` in a source checkout"
        )
    return p


__all__ = [
    "MEDIAPIPE_ASSETS_VERSION",
    "MODELS_DIR",
    "MODELS_URL",
    "MODEL_FILES",
    "TASKS_VISION_DIR",
    "TASKS_VISION_URL",
    "AssetMissingError",
    "ModelName",
    "model_path",
]
