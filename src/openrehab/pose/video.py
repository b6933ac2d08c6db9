"""Pose landmarks from a video file, offline: OpenCV decodes, MediaPipe Tasks' PoseLandmarker
(VIDEO mode, OpenRehab's bundled models) finds the 33 landmarks of one person per frame.

:func:`analyze_video` returns an :class:`~openrehab.motion.recordings.Recording` laid out
exactly as :func:`~openrehab.motion.recordings.read_landmarks_jsonl` reads a landmark file
(channels ``{landmark}_{x,y,z,v}``, kind ``"pose"``, ``aspect`` = width / height, NaN rows
for frames without a pose), so the motion engine counts a video like a landmark recording.

MediaPipe and OpenCV are optional (``pip install 'openrehab[video]'``) and imported lazily.
Nothing is downloaded and nothing is sent anywhere: the models are the package's own
``.task`` files, and MediaPipe releases that log usage over the network are refused
(:data:`TELEMETRY_FROM`).
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Literal

import numpy as np

from openrehab.motion.recordings import (
    MEDIAPIPE_LANDMARKS,
    Recording,
    RecordingError,
    validate,
)

from .assets import model_path

PoseModel = Literal["lite", "full"]
POSE_MODELS: tuple[str, ...] = ("lite", "full")

#: First MediaPipe release whose Tasks library sends usage logs to Google
#: (``play.googleapis.com``; seen with strace on 0.10.35 and 1.x). OpenRehab refuses these
#: so that analysing a video never touches the network. 0.10.21-0.10.33 open no socket.
TELEMETRY_FROM = (0, 10, 34)
#: Frame rate assumed when a file does not give a plausible one.
DEFAULT_FPS = 30.0

_CHANNELS = tuple(f"{n}_{a}" for n in MEDIAPIPE_LANDMARKS for a in ("x", "y", "z", "v"))
_N_LM = len(MEDIAPIPE_LANDMARKS)


class VideoError(ValueError):
    """A video cannot be analysed. ``str(err)`` is one line naming the file and problem."""


class MediaPipeUnavailableError(VideoError):
    """MediaPipe or OpenCV is not installed (or is a release OpenRehab does not use)."""


@dataclass
class VideoStats:
    """What :func:`analyze_video` saw and how long each stage took (seconds).

    Frames are decoded and converted to RGB in a background thread, ahead of the model,
    so on a multi-core machine decoding mostly overlaps inference: ``wait_s`` is the part
    of it that the model waited for, ``decode_s``/``convert_s`` the work itself.
    """

    frames: int = 0
    frames_with_pose: int = 0
    fps: float = math.nan
    width: int = 0
    height: int = 0
    model: str = "lite"
    mediapipe_version: str = ""
    load_s: float = 0.0  # creating the PoseLandmarker (model load)
    decode_s: float = 0.0  # cv2.VideoCapture.read (background thread)
    convert_s: float = 0.0  # BGR -> RGB and mp.Image (background thread)
    results_s: float = 0.0  # landmarks -> arrays, the Recording and its validation
    wait_s: float = 0.0  # the loop waiting for a decoded frame
    inference_s: float = 0.0  # PoseLandmarker.detect_for_video
    loop_s: float = 0.0  # wall time of the frame loop
    total_s: float = 0.0  # wall time of analyze_video
    #: Per frame, on the loop's thread: (waiting for the frame, converting the result,
    #: inference) in seconds; for benchmarks (medians). The background thread alone
    #: writes ``decode_s`` and ``convert_s``, the loop the other fields.
    frame_times: list[tuple[float, float, float]] = field(default_factory=list, repr=False)

    @property
    def ms_per_frame(self) -> float:
        """Wall time per frame of the frame loop (decode, convert, inference)."""
        return 1000.0 * self.loop_s / self.frames if self.frames else math.nan

    @property
    def inference_ms_per_frame(self) -> float:
        return 1000.0 * self.inference_s / self.frames if self.frames else math.nan

    @property
    def outside_model_share(self) -> float:
        """Share of the loop's wall time not spent in the model."""
        return 1.0 - self.inference_s / self.loop_s if self.loop_s > 0 else math.nan

    def to_dict(self) -> dict:
        """The scalar fields and per-frame means (without ``frame_times``)."""
        d = {k: v for k, v in vars(self).items() if k != "frame_times"}
        d["ms_per_frame"] = self.ms_per_frame
        d["inference_ms_per_frame"] = self.inference_ms_per_frame
        d["outside_model_share"] = self.outside_model_share
        return d


# ------------------------------------------------------------------------- dependencies


def _version_tuple(v: str) -> tuple[int, ...]:
    out = []
    for part in v.split(".")[:3]:
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out)


def load_backends() -> tuple[ModuleType, ModuleType]:
    """``(cv2, mediapipe)``, or :class:`MediaPipeUnavailableError` with a one-line reason."""
    try:
        import cv2
    except ImportError as exc:
        raise MediaPipeUnavailableError(
            f"OpenCV is not installed ({exc}); install the video extra: "
            "pip install 'openrehab[video]'"
        ) from None
    hint = "install the video extra: pip install 'openrehab[video]'"
    try:
        import mediapipe as mp
    except ImportError as exc:
        raise MediaPipeUnavailableError(f"MediaPipe is not installed ({exc}); {hint}") from None
    version = getattr(mp, "__version__", "")
    if version and _version_tuple(version) >= TELEMETRY_FROM:
        raise MediaPipeUnavailableError(
            f"mediapipe {version} sends usage logs to Google over the network and OpenRehab "
            f"keeps video analysis offline: install mediapipe==0.10.32 ({hint})"
        )
    try:
        from mediapipe.tasks.python import vision  # noqa: F401
    except ImportError as exc:
        raise MediaPipeUnavailableError(
            f"MediaPipe Tasks cannot be imported ({exc}); {hint}"
        ) from None
    return cv2, mp


@contextlib.contextmanager
def native_stderr_silenced(enabled: bool = True) -> Iterator[None]:
    """Send file descriptor 2 to /dev/null while MediaPipe's C++ code runs (it logs
    INFO/WARNING lines that are not errors). Python exceptions are unaffected."""
    if not enabled:
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


# -------------------------------------------------------------------------------- video


def _plausible_fps(fps: float) -> bool:
    return math.isfinite(fps) and 1.0 <= fps <= 1000.0


def analyze_video(
    path: str | Path,
    *,
    model: PoseModel = "lite",
    max_frames: int | None = None,
    quiet: bool = True,
) -> tuple[Recording, VideoStats]:
    """Find one person's pose in every frame of a video file.

    Frames are decoded with OpenCV and passed to MediaPipe's PoseLandmarker in VIDEO mode
    (tracking between frames) with timestamps ``round(i * 1000 / fps)`` ms from the frame
    index ``i`` and the file's frame rate (30 fps if the file gives none). Returns the
    validated pose :class:`Recording` (``t_s = i / fps``) and :class:`VideoStats`.

    Raises :class:`VideoError` (missing file, not a video), :class:`MediaPipeUnavailableError`
    and :class:`~openrehab.motion.recordings.RecordingError` (e.g. fewer than 10 frames
    with a pose), each with a one-line message. ``quiet`` hides MediaPipe's native log
    lines on stderr.
    """
    p = Path(path)
    if model not in POSE_MODELS:
        raise ValueError(f"unknown model {model!r}: expected one of {', '.join(POSE_MODELS)}")
    if not p.exists():
        raise VideoError(f"{p}: file not found")
    if not p.is_file():
        raise VideoError(f"{p}: not a file")
    cv2, mp = load_backends()
    from mediapipe.tasks.python import BaseOptions, vision

    stats = VideoStats(model=model, mediapipe_version=getattr(mp, "__version__", ""))
    options = vision.PoseLandmarkerOptions(
        base_options=BaseOptions(model_asset_path=str(model_path(f"pose_{model}"))),
        running_mode=vision.RunningMode.VIDEO,
        num_poses=1,
        output_segmentation_masks=False,
    )
    warnings: list[str] = []
    t_start = time.perf_counter()
    # OpenCV's FFmpeg backend and MediaPipe log to fd 2 natively (e.g. "moov atom not
    # found" for a broken file): the one-line errors below say what went wrong.
    with native_stderr_silenced(quiet):
        cap = cv2.VideoCapture(str(p))
        try:
            if not cap.isOpened():
                raise VideoError(f"{p}: not a video file OpenCV can read")
            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            if not _plausible_fps(fps):
                warnings.append(
                    f"the video gives no plausible frame rate ({fps:g}); assuming "
                    f"{DEFAULT_FPS:g} fps"
                )
                fps = DEFAULT_FPS
            stats.fps = fps
            t0 = time.perf_counter()
            landmarker = vision.PoseLandmarker.create_from_options(options)
            stats.load_s = time.perf_counter() - t0
            try:
                rows = _run(cap, landmarker, mp, cv2, fps, stats, max_frames)
            finally:
                landmarker.close()
        finally:
            cap.release()
    if not rows:
        raise VideoError(f"{p}: no frame could be decoded (not a video, or an unsupported codec)")

    t0 = time.perf_counter()
    n = len(rows)
    data = np.full((n, _N_LM * 4), np.nan)
    for i, r in enumerate(rows):
        if r is not None:
            data[i] = r
    rec = Recording(
        t_s=np.arange(n, dtype=float) / fps,
        data=data,
        channels=_CHANNELS,
        kind="pose",
        path=p,
        warnings=warnings,
        aspect=stats.width / stats.height,
    )
    rec = validate(rec)
    stats.results_s += time.perf_counter() - t0
    stats.total_s = time.perf_counter() - t_start
    return rec, stats


_DONE = object()


def _decoded_frames(cap, mp, cv2, stats: VideoStats, max_frames: int | None, depth: int = 4):
    """Yield ``(frame shape, mp.Image)`` decoded and converted ahead in a thread (OpenCV
    and MediaPipe's image constructor release the GIL), at most ``depth`` frames ahead."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    srgb = mp.ImageFormat.SRGB
    bgr2rgb = cv2.COLOR_BGR2RGB
    perf = time.perf_counter

    def put(item) -> None:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def work() -> None:
        try:
            i = 0
            while not stop.is_set() and (max_frames is None or i < max_frames):
                t0 = perf()
                ok, frame = cap.read()
                t1 = perf()
                if not ok or frame is None:
                    break
                image = mp.Image(image_format=srgb, data=cv2.cvtColor(frame, bgr2rgb))
                stats.decode_s += t1 - t0
                stats.convert_s += perf() - t1
                put((frame.shape, image))
                i += 1
        except BaseException as exc:  # re-raised in the consumer
            put(exc)
        finally:
            put(_DONE)

    worker = threading.Thread(target=work, name="openrehab-video-decode", daemon=True)
    worker.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _run(cap, landmarker, mp, cv2, fps: float, stats: VideoStats, max_frames: int | None):
    """The frame loop; one landmark row (or None) per frame."""
    rows: list[np.ndarray | None] = []
    perf = time.perf_counter
    n_values = _N_LM * 4
    i = 0
    t_loop = t0 = perf()
    # closing(): the decoder thread stops (and leaves `cap` alone) before this returns,
    # even when inference raises.
    with contextlib.closing(_decoded_frames(cap, mp, cv2, stats, max_frames)) as frames:
        for shape, image in frames:
            t1 = perf()
            if i == 0:
                stats.height, stats.width = int(shape[0]), int(shape[1])
            result = landmarker.detect_for_video(image, round(i * 1000.0 / fps))
            t2 = perf()
            poses = result.pose_landmarks
            row = None
            if poses:
                row = np.array(
                    [
                        (lm.x, lm.y, lm.z, 1.0 if lm.visibility is None else lm.visibility)
                        for lm in poses[0]
                    ],
                    dtype=float,
                ).reshape(-1)
                if row.size != n_values:
                    row = None
            rows.append(row)
            stats.frames_with_pose += row is not None
            t3 = perf()
            stats.wait_s += t1 - t0
            stats.inference_s += t2 - t1
            stats.results_s += t3 - t2
            stats.frame_times.append((t1 - t0, t3 - t2, t2 - t1))
            t0 = t3
            i += 1
    stats.loop_s = perf() - t_loop
    stats.frames = i
    return rows


__all__ = [
    "POSE_MODELS",
    "TELEMETRY_FROM",
    "MediaPipeUnavailableError",
    "PoseModel",
    "RecordingError",
    "VideoError",
    "VideoStats",
    "analyze_video",
    "load_backends",
    "native_stderr_silenced",
]
