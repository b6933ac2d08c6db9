"""Offline pose estimation from video with MediaPipe Tasks, using OpenRehab's own model
bundles (``models/*.task``, built by ``tools/mediapipe_assets/build.py``).

* :mod:`.assets`: where the bundled models and the browser runtime are
  (:func:`~.assets.model_path`);
* :mod:`.video`: :func:`~.video.analyze_video`, a video file -> a pose
  :class:`~openrehab.motion.recordings.Recording` (needs the ``video`` extra);
* :mod:`.commands`: ``openrehab analyze-video`` and ``openrehab bench video``.

Importing this package imports neither MediaPipe nor OpenCV.
"""

from __future__ import annotations

from .assets import MODEL_FILES, AssetMissingError, model_path

__all__ = ["MODEL_FILES", "AssetMissingError", "model_path"]
