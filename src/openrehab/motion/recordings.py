"""Read, validate and write motion recordings.

Two on-disk formats (documented for users in ``docs/recordings.md``):

* **Recording CSV** (optionally ``.csv.gz``): header row, first column ``t`` (seconds,
  increasing), then numeric channels. IMU: ``ax, ay, az`` (m/s^2, gravity included) and
  optionally ``gx, gy, gz`` (rad/s); skeleton: ``<joint>_x, <joint>_y, <joint>_z`` (metres,
  camera frame, y up); goniometer: ``angle`` (degrees). Other numeric columns are allowed
  (kind ``"generic"``).
* **Landmark JSON Lines** (``.jsonl``, optionally ``.jsonl.gz``): one MediaPipe Pose frame per
  line, ``{"t": seconds, "landmarks": [[x, y, z, visibility] x 33]}`` in normalised image
  coordinates, or ``"landmarks": null`` when no pose was found. Optional
  ``"width"``/``"height"`` (pixels) or ``"aspect"`` (width / height) on a line give the
  image aspect ratio; without them 16:9 is assumed (with a warning). An optional
  ``"hands": {"left": [[x, y, z] x 21] | null, "right": ...}`` key carries MediaPipe Hand
  landmarks (the person's own left and right hand); a file in which any line has it is read
  with :data:`LANDMARK_CHANNELS` (pose then hands), otherwise with the 33 pose landmarks only.

Live sessions build the same rows frame by frame with :func:`landmark_row`.

Validation either *handles* a problem (and records a warning in :attr:`Recording.warnings`)
or raises :class:`RecordingError`, whose message is one line naming file, row and problem.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

RecordingKind = Literal["imu", "skeleton", "pose", "angle", "generic"]

#: MediaPipe Pose landmark names, in MediaPipe's order (33 landmarks).
MEDIAPIPE_LANDMARKS: tuple[str, ...] = (
    "nose",
    "left_eye_inner",
    "left_eye",
    "left_eye_outer",
    "right_eye_inner",
    "right_eye",
    "right_eye_outer",
    "left_ear",
    "right_ear",
    "mouth_left",
    "mouth_right",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_pinky",
    "right_pinky",
    "left_index",
    "right_index",
    "left_thumb",
    "right_thumb",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
    "left_heel",
    "right_heel",
    "left_foot_index",
    "right_foot_index",
)

#: Pose channels of a landmark recording, as :func:`read_landmarks_jsonl` produces them:
#: ``<landmark>_x, _y, _z, _v`` (``_v`` = visibility) for the 33 MediaPipe Pose landmarks.
POSE_CHANNELS: tuple[str, ...] = tuple(
    f"{n}_{a}" for n in MEDIAPIPE_LANDMARKS for a in ("x", "y", "z", "v")
)

#: MediaPipe Hand landmark names, in MediaPipe's order (21 per hand).
HAND_LANDMARKS: tuple[str, ...] = (
    "wrist",
    "thumb_cmc",
    "thumb_mcp",
    "thumb_ip",
    "thumb_tip",
    "index_mcp",
    "index_pip",
    "index_dip",
    "index_tip",
    "middle_mcp",
    "middle_pip",
    "middle_dip",
    "middle_tip",
    "ring_mcp",
    "ring_pip",
    "ring_dip",
    "ring_tip",
    "pinky_mcp",
    "pinky_pip",
    "pinky_dip",
    "pinky_tip",
)

#: The person's own hands (not the mirrored image's), in channel order.
HAND_SIDES: tuple[str, ...] = ("left", "right")


def hand_channel(side: str, landmark: str, axis: str) -> str:
    """Channel name of one hand coordinate, e.g. ``left_hand_index_tip_x``."""
    return f"{side}_hand_{landmark}_{axis}"


#: Hand channels: ``<side>_hand_<landmark>_x, _y, _z`` (no visibility: MediaPipe Hand finds
#: a hand or not), left hand then right hand.
HAND_CHANNELS: tuple[str, ...] = tuple(
    hand_channel(s, n, a) for s in HAND_SIDES for n in HAND_LANDMARKS for a in ("x", "y", "z")
)

#: Channels of a landmark recording or live stream with hands: the 33 pose landmarks
#: (:data:`POSE_CHANNELS`) followed by both hands (:data:`HAND_CHANNELS`), 258 in all.
LANDMARK_CHANNELS: tuple[str, ...] = POSE_CHANNELS + HAND_CHANNELS

_N_POSE = len(POSE_CHANNELS)  # 132
_N_HAND = 3 * len(HAND_LANDMARKS)  # 63
#: Slice of each hand's channels in a :data:`LANDMARK_CHANNELS` row.
HAND_SLICES: dict[str, slice] = {
    s: slice(_N_POSE + k * _N_HAND, _N_POSE + (k + 1) * _N_HAND) for k, s in enumerate(HAND_SIDES)
}

STANDARD_GRAVITY = 9.80665  # m/s^2
MIN_SAMPLES = 10
MIN_DURATION_S = 0.5
#: Runs of missing samples up to this long are linearly interpolated; longer ones are errors.
MAX_INTERPOLATED_GAP_S = 1.0
#: A time step this many times the median step is reported as a gap (warning).
GAP_FACTOR = 3.0
#: Image width / height assumed for landmark files that do not say (landscape 16:9).
DEFAULT_ASPECT = 16.0 / 9.0
#: Fastest plausible rate: a median step shorter than this is broken timestamps.
MAX_RATE_HZ = 2000.0
#: A 't' column read as milliseconds must give a rate within MIN_RATE_HZ..this.
MAX_MS_RATE_HZ = 500.0
#: Slowest sample rate repetitions can be counted at (a 1 s rep needs several samples).
MIN_RATE_HZ = 5.0


class RecordingError(ValueError):
    """A recording cannot be used. ``str(err)`` is one line: ``file: row N: problem``."""

    def __init__(self, path: str | Path | None, problem: str, row: int | None = None):
        self.path = str(path) if path is not None else "<stream>"
        self.row = row
        self.problem = problem
        where = f"{self.path}: " + (f"row {row}: " if row is not None else "")
        super().__init__(where + problem)


@dataclass
class Recording:
    """A validated recording held in memory.

    Attributes
    ----------
    t_s:
        Sample times in seconds, strictly increasing, shape ``(n,)``.
    data:
        Channel values, shape ``(n, c)``, float64. For ``kind == "pose"`` the channels are
        ``<landmark>_x, _y, _z, _v`` for the 33 MediaPipe landmarks (``_v`` = visibility) and
        rows without a pose are NaN.
    channels:
        Channel names (without ``t``).
    kind:
        ``"imu"``, ``"skeleton"`` (Kinect-style, metres), ``"pose"`` (MediaPipe, normalised
        image coordinates), ``"angle"`` (goniometer degrees) or ``"generic"``.
    path:
        Source file, if any.
    warnings:
        Problems that were handled (one line each).
    aspect:
        Image width / height for pose recordings (x is rescaled by it when computing angles).
    """

    t_s: np.ndarray
    data: np.ndarray
    channels: tuple[str, ...]
    kind: RecordingKind
    path: Path | None = None
    warnings: list[str] = field(default_factory=list)
    aspect: float = 1.0

    @property
    def n_samples(self) -> int:
        return int(self.t_s.shape[0])

    @property
    def duration_s(self) -> float:
        return float(self.t_s[-1] - self.t_s[0]) if self.n_samples else 0.0

    @property
    def sample_rate_hz(self) -> float:
        """Nominal sample rate: 1 / median time step."""
        if self.n_samples < 2:
            return float("nan")
        return float(1.0 / np.median(np.diff(self.t_s)))

    def channel(self, name: str) -> np.ndarray:
        """One channel as a 1-D array."""
        return self.data[:, self.channels.index(name)]

    def has(self, *names: str) -> bool:
        return all(n in self.channels for n in names)


# --------------------------------------------------------------------------------- reading


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_recording(path: str | Path, *, aspect: float | None = None) -> Recording:
    """Read a recording CSV (``.csv``/``.csv.gz``) or landmark JSONL (``.jsonl[.gz]``).

    Raises :class:`RecordingError` (one-line message) for unusable files.
    """
    p = Path(path)
    if not p.exists():
        raise RecordingError(p, "file not found")
    if not p.is_file():
        raise RecordingError(p, "not a file")
    name = p.name.lower()
    try:
        if name.endswith((".jsonl", ".jsonl.gz", ".ndjson")):
            return read_landmarks_jsonl(p, aspect=aspect)
        if name.endswith((".csv", ".csv.gz")):
            return read_csv(p)
    except (OSError, EOFError, UnicodeDecodeError, gzip.BadGzipFile) as exc:
        raise RecordingError(p, f"cannot read file ({type(exc).__name__}: {exc})") from None
    raise RecordingError(p, "unknown file type (expected .csv, .csv.gz or .jsonl)")


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return raw


def _fast_parse(raw: bytes, start: int, end: int, ncol: int) -> np.ndarray | None:
    """Parse the clean numeric CSV rows ``raw[start:end]`` with numpy's C parser (fastest on
    bytes; the slice is taken once, by ``BytesIO``); ``None`` if anything is off (the caller
    then parses row by row and reports the first bad row)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.loadtxt(
                io.BytesIO(memoryview(raw)[start:end]),
                delimiter=",",
                ndmin=2,
                dtype=float,
                comments=None,
            )
    except ValueError:
        return None
    n_rows = raw.count(b"\n", start, end) + 1  # a blank line would be skipped silently
    if arr.shape != (n_rows, ncol):
        return None
    return arr


def read_csv(path: str | Path) -> Recording:
    """Read and validate a recording CSV (see module docstring)."""
    p = Path(path)
    raw = _read_bytes(p)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    # Header and body bounds by index: the body (tens of MB for an hour) is not copied.
    nl = raw.find(b"\n")
    head = raw if nl < 0 else raw[:nl]
    start = len(raw) if nl < 0 else nl + 1
    try:
        head_txt = head.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise RecordingError(p, f"cannot read file (UnicodeDecodeError: {exc})") from None
    if not head_txt.strip():
        raise RecordingError(p, "empty file (expected a header row starting with 't')", row=1)
    header = [h.strip() for h in next(csv.reader([head_txt]))]
    if header[0].lower() not in ("t", "t_s", "time", "timestamp"):
        raise RecordingError(p, f"first column must be 't' (seconds), found {header[0]!r}", row=1)
    if len(header) < 2:
        raise RecordingError(p, "no data channels after 't'", row=1)
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise RecordingError(p, f"duplicate column names: {', '.join(dup)}", row=1)
    # Drop trailing blank lines only (a blank line in the middle is a bad row).
    end = len(raw)
    while end > start and raw[end - 1] in b" \t\r\n":
        end -= 1
    ncol = len(header)
    if end <= start:
        raise RecordingError(p, "no data rows after the header", row=2)
    # Fast path: numpy's C parser on clean numeric files.
    arr = _fast_parse(raw, start, end, ncol)
    if arr is None:
        try:
            text = raw[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise RecordingError(p, f"cannot read file (UnicodeDecodeError: {exc})") from None
        body = text.splitlines()
        arr = _parse_rows_slowly(p, body, ncol)
    if arr.shape[0] == 0:
        raise RecordingError(p, "no data rows after the header", row=2)
    t = arr[:, 0]
    data = arr[:, 1:]
    channels = tuple(header[1:])
    kind = _guess_kind(channels)
    rec = Recording(t_s=t, data=data, channels=channels, kind=kind, path=p)
    return validate(rec)


def _parse_rows_slowly(p: Path, body: list[str], ncol: int) -> np.ndarray:
    """Row-by-row parse that reports the first bad row (1-based file line numbers)."""
    out = np.empty((len(body), ncol))
    for i, row in enumerate(csv.reader(body)):
        line_no = i + 2
        if len(row) != ncol:
            raise RecordingError(p, f"expected {ncol} values, found {len(row)}", row=line_no)
        for j, cell in enumerate(row):
            c = cell.strip()
            if c == "" or c.lower() in ("nan", "na", "null", "none"):
                out[i, j] = np.nan
                continue
            try:
                out[i, j] = float(c)
            except ValueError:
                raise RecordingError(
                    p, f"column {j + 1}: {c[:30]!r} is not a number", row=line_no
                ) from None
    return out


def _guess_kind(channels: Iterable[str]) -> RecordingKind:
    ch = set(channels)
    if {"ax", "ay", "az"} <= ch:
        return "imu"
    if "angle" in ch:
        return "angle"
    if any(c.endswith("_x") for c in ch) and any(c.endswith("_y") for c in ch):
        if any(c.endswith("_v") for c in ch):
            return "pose"
        return "skeleton"
    return "generic"


def read_landmarks_jsonl(path: str | Path, *, aspect: float | None = None) -> Recording:
    """Read MediaPipe pose (and hand) landmarks, one JSON frame per line (see module docstring).

    Frames with ``"landmarks": null`` become NaN rows (the engine skips them). If any line has
    a ``"hands"`` key the channels are :data:`LANDMARK_CHANNELS` (pose, then the 21 landmarks
    of each hand; a hand not found is NaN), otherwise :data:`POSE_CHANNELS`. ``aspect`` is
    the image width / height; default: from ``width``/``height`` (pixels) or ``aspect`` keys
    if a frame has them, else 16:9 with a warning (MediaPipe's x and y are fractions of the
    image's width and height, so angles need the ratio; landscape 16:9 is what webcams and
    phones record by default).
    """
    p = Path(path)
    ts: list[float] = []
    frames: list[list[float] | None] = []
    hand_frames: list[dict[str, np.ndarray]] = []
    with_hands = False
    width = height = file_aspect = None
    n_lm = len(MEDIAPIPE_LANDMARKS)
    with _open_text(p) as fh:
        for i, line in enumerate(fh):
            row = i + 1
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise RecordingError(p, f"invalid JSON ({exc.msg})", row=row) from None
            if (
                not isinstance(obj, dict)
                or "t" not in obj
                or ("landmarks" not in obj and "hands" not in obj)
            ):
                raise RecordingError(p, "expected an object with 't' and 'landmarks'", row=row)
            try:
                t = float(obj["t"])
            except (TypeError, ValueError):
                raise RecordingError(p, f"'t' is not a number: {obj['t']!r}", row=row) from None
            lms = obj.get("landmarks")
            if "hands" in obj:
                with_hands = True
                try:
                    hand_frames.append(_hand_arrays(obj["hands"], objects_ok=True))
                except ValueError as exc:
                    raise RecordingError(p, str(exc), row=row) from None
            else:
                hand_frames.append({})
            if (
                isinstance(lms, list)
                and lms
                and isinstance(lms[0], list)
                and lms[0]
                and isinstance(lms[0][0], list | dict)
            ):
                lms = lms[0]  # MediaPipe Tasks' list of poses: the first person
            if isinstance(lms, list) and not lms:
                lms = None  # no pose found
            if lms is None:
                flat = None
            else:
                if not isinstance(lms, list) or len(lms) != n_lm:
                    got = len(lms) if isinstance(lms, list) else type(lms).__name__
                    raise RecordingError(p, f"expected {n_lm} landmarks, found {got}", row=row)
                flat = []
                for k, lm in enumerate(lms):
                    if isinstance(lm, dict):  # {"x", "y", "z", "visibility"} objects
                        lm = [lm.get(a) for a in ("x", "y", "z")] + [lm.get("visibility", 1.0)]
                    if not isinstance(lm, list | tuple) or len(lm) not in (3, 4):
                        raise RecordingError(
                            p, f"landmark {k}: expected [x, y, z, visibility]", row=row
                        )
                    try:
                        vals = [float(v) if v is not None else math.nan for v in lm]
                    except (TypeError, ValueError):
                        raise RecordingError(
                            p, f"landmark {k}: non-numeric value", row=row
                        ) from None
                    if len(vals) == 3:
                        vals.append(1.0)
                    flat.extend(vals)
            width = obj.get("width", width)
            height = obj.get("height", height)
            file_aspect = obj.get("aspect", file_aspect)
            ts.append(t)
            frames.append(flat)
    if not ts:
        raise RecordingError(p, "no frames", row=1)
    channels = LANDMARK_CHANNELS if with_hands else POSE_CHANNELS
    data = np.full((len(ts), len(channels)), np.nan)
    for i, f in enumerate(frames):
        if f is not None:
            data[i, :_N_POSE] = f
    for i, hands in enumerate(hand_frames):
        for side, arr in hands.items():
            data[i, HAND_SLICES[side]] = arr.ravel()
    warn = None
    if aspect is None:
        try:
            if width and height:
                aspect = float(width) / float(height)
            elif file_aspect:
                aspect = float(file_aspect)
        except (TypeError, ValueError):
            raise RecordingError(p, "'width'/'height'/'aspect' must be numbers") from None
        if aspect is None:
            aspect = DEFAULT_ASPECT
            warn = (
                "image size not in the file: assuming a 16:9 landscape image (give the size "
                "with --image-size WxH, or 'width' and 'height' in the file, for exact angles)"
            )
    if not (math.isfinite(aspect) and 0.1 <= aspect <= 10.0):
        raise RecordingError(p, f"image aspect ratio {aspect:.3g} is not plausible (width/height)")
    rec = Recording(
        t_s=np.asarray(ts, dtype=float),
        data=data,
        channels=channels,
        kind="pose",
        path=p,
        aspect=float(aspect),
    )
    if warn:
        rec.warnings.append(warn)
    return validate(rec)


#: One frame to write: ``(t_s, landmarks)`` or ``(t_s, landmarks, hands)``.
LandmarkFrame = (
    tuple[float, np.ndarray | None]
    | tuple[float, np.ndarray | None, Mapping[str, np.ndarray | None] | None]
)


def write_landmarks_jsonl(
    rec_or_frames: Recording | Iterable[LandmarkFrame],
    path: str | Path,
    *,
    digits: int = 5,
    aspect: float | None = None,
) -> Path:
    """Write pose (and hand) landmarks as JSON Lines (the format :func:`read_landmarks_jsonl`
    reads).

    Accepts a pose :class:`Recording` (channels :data:`POSE_CHANNELS` or
    :data:`LANDMARK_CHANNELS`) or an iterable of ``(t_s, landmarks)`` or ``(t_s, landmarks,
    hands)``: landmarks an array ``(33, 4)`` (or ``(33, 3)``) or ``None``, hands ``None`` or
    a mapping ``{"left"/"right": (21, 3) array or None}``. A frame with hands (a recording
    with hand channels: every frame) gets a ``"hands"`` key, so the file reads back with the
    same channels. ``.gz`` paths are gzip-compressed. The image aspect ratio (``aspect``, or
    the recording's) goes on the first line.
    """
    p = Path(path)
    frames: Iterable[LandmarkFrame]
    if isinstance(rec_or_frames, Recording):
        aspect = rec_or_frames.aspect if aspect is None else aspect
        frames = _recording_frames(rec_or_frames)
    else:
        frames = rec_or_frames
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "wt", encoding="utf-8") as fh:
        for i, frame in enumerate(frames):
            lm = frame[1]
            obj: dict[str, Any] = {
                "t": round(float(frame[0]), 6),
                "landmarks": None if lm is None else _rounded(lm, digits),
            }
            if len(frame) > 2:
                hands = frame[2]  # type: ignore[misc]
                obj["hands"] = (
                    None
                    if hands is None
                    else {
                        s: None if hands.get(s) is None else _rounded(hands[s], digits)
                        for s in HAND_SIDES
                    }
                )
            if i == 0 and aspect is not None:
                obj["aspect"] = round(float(aspect), 6)
            fh.write(json.dumps(obj) + "\n")
    return p


def _rounded(points: np.ndarray, digits: int) -> list[list[float]]:
    """Landmark rows as nested lists of floats rounded to ``digits`` decimals."""
    return [[round(float(v), digits) for v in r] for r in np.asarray(points, dtype=float)]


def _recording_frames(rec: Recording) -> Iterator[LandmarkFrame]:
    """The frames of a landmark recording: ``(t, pose or None)``, plus the hands (a side
    whose landmarks are missing is ``None``) when it has hand channels."""
    if rec.kind != "pose":
        raise ValueError("only pose recordings can be written as landmark JSONL")
    with_hands = rec.channels == LANDMARK_CHANNELS
    if not with_hands and rec.channels != POSE_CHANNELS:
        raise ValueError("landmark JSONL needs the channels POSE_CHANNELS or LANDMARK_CHANNELS")
    for t, row in zip(rec.t_s, rec.data, strict=True):
        body = row[:_N_POSE]
        pose = None if np.isnan(body).all() else body.reshape(-1, 4)
        if not with_hands:
            yield float(t), pose
            continue
        hands = {s: row[HAND_SLICES[s]].reshape(-1, 3) for s in HAND_SIDES}
        yield float(t), pose, {s: None if np.isnan(h).any() else h for s, h in hands.items()}


# ------------------------------------------------------------------------- live frame rows


#: Containers accepted as a list of landmarks (concrete types: checking them is fast).
_SEQUENCES = (list, tuple, np.ndarray)


def _points(value: object, n: int, widths: tuple[int, ...], what: str) -> np.ndarray:
    """``value`` (untrusted, e.g. from JSON) as a numeric array ``(n, w)``, ``w`` in
    ``widths``; :class:`ValueError` naming ``what`` otherwise (not a list of ``n`` points of
    ``w`` numbers, strings or other non-numbers, NaN or infinity)."""

    def bad(problem: str) -> ValueError:
        w = " or ".join(map(str, widths))
        return ValueError(f"{what}: expected a list of {n} points of {w} numbers, {problem}")

    if not isinstance(value, _SEQUENCES):
        raise bad(f"got {type(value).__name__}")
    try:
        a = np.asarray(value)
    except (ValueError, TypeError, OverflowError):  # ragged nesting and the like
        raise bad("got lists of different lengths") from None
    if a.dtype.kind not in "fiu":
        raise ValueError(f"{what}: coordinates must be numbers")
    if a.ndim != 2 or a.shape[0] != n or a.shape[1] not in widths:
        raise bad(f"got shape {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError(f"{what}: coordinates must be finite (found NaN or infinity)")
    return a


_SIDE_SET = frozenset(HAND_SIDES)


def _hand_arrays(hands: object, *, objects_ok: bool = False) -> dict[str, np.ndarray]:
    """The hands found in a frame, ``{side: (21, 3) array}`` (a side that is ``None`` or
    absent is left out). ``hands`` is ``None`` or a mapping ``{"left"/"right": 21 x [x, y,
    z]}``; with ``objects_ok`` a landmark may also be ``{"x", "y", "z"}`` (MediaPipe Tasks'
    JSON). :class:`ValueError` for anything else."""
    if hands is None:
        return {}
    if not isinstance(hands, dict | Mapping):
        raise ValueError(
            f"hands: expected an object with 'left' and/or 'right', got {type(hands).__name__}"
        )
    if not hands.keys() <= _SIDE_SET:
        key = next(k for k in hands if k not in _SIDE_SET)
        raise ValueError(f"hands: unknown key {str(key)[:20]!r} (expected 'left', 'right')")
    out = {}
    for side in HAND_SIDES:
        h = hands.get(side)
        if h is None:
            continue
        if objects_ok and isinstance(h, list):
            h = [[lm.get(a) for a in "xyz"] if isinstance(lm, dict) else lm for lm in h]
        out[side] = _points(h, len(HAND_LANDMARKS), (3,), f"{side} hand")
    return out


def landmark_row(pose: object, hands: object, out: np.ndarray | None = None) -> np.ndarray:
    """One camera frame as a row of :data:`LANDMARK_CHANNELS` (live sessions).

    ``pose``: ``None`` (no body found) or 33 MediaPipe Pose landmarks ``[x, y, z,
    visibility]`` (``[x, y, z]``: visibility 1) in normalised image coordinates. ``hands``:
    ``None`` or a mapping ``{"left"/"right": 21 x [x, y, z] or None}`` with the person's own
    left and right hand. Missing parts are NaN (the engine skips a frame whose signal needs
    them). ``out`` (float64, shape ``(len(LANDMARK_CHANNELS),)``) is filled and returned
    instead of a new array; do not reuse it while a consumer holds the previous row.

    Built for untrusted network input: wrong shapes, non-numbers (strings, ``None`` inside a
    landmark, booleans only), NaN and infinity raise :class:`ValueError` with a one-line
    message naming the part (``out`` may then be partly written). Cost (CPU time, 2-core
    machine): about 10 us for a pose or a hand alone, 17 us for a pose and a hand, 25 us for
    a pose and both hands, more than half of it numpy's conversion of the nested lists.
    """
    if out is None:
        row = np.empty(len(LANDMARK_CHANNELS))
    elif (
        not isinstance(out, np.ndarray)
        or out.dtype != np.float64
        or out.shape != (len(LANDMARK_CHANNELS),)
    ):
        raise ValueError(f"out: expected a float64 array of shape ({len(LANDMARK_CHANNELS)},)")
    else:
        row = out
    body = row[:_N_POSE].reshape(len(MEDIAPIPE_LANDMARKS), 4)
    if pose is None:
        body[:] = np.nan
    else:
        a = _points(pose, len(MEDIAPIPE_LANDMARKS), (4, 3), "pose")
        if a.shape[1] == 4:
            body[:] = a
        else:
            body[:, :3] = a
            body[:, 3] = 1.0
    found = _hand_arrays(hands)
    for side in HAND_SIDES:
        h = found.get(side)
        row[HAND_SLICES[side]] = np.nan if h is None else h.ravel()
    return row


# ------------------------------------------------------------------------------- validation


def validate(rec: Recording) -> Recording:
    """Check a recording; fix what can be fixed safely (with a warning), else raise.

    Rules (also in ``docs/recordings.md``):

    * fewer than 10 samples or shorter than 0.5 s: error;
    * NaN/empty ``t``: error; decreasing ``t``: error naming the row; duplicate ``t``: the
      later sample is dropped (warning);
    * missing channel values (empty/NaN cells): runs up to 1 s are linearly interpolated
      (warning); longer runs or a channel missing everywhere: error. Pose frames without a
      pose are kept as NaN (the engine skips them);
    * infinite values: treated as missing (warning);
    * median time step above 0.2 s (below 5 Hz): ``t`` is taken as milliseconds and
      converted to seconds (warning) when that gives 5-500 Hz and >= 0.5 s, else an error;
      a median step below 0.5 ms (above 2 kHz): error (bunched or mis-scaled timestamps);
    * gaps (time step > 3 x median): warning (the engine restarts detection after a gap
      longer than 1 s; IMU sets bridge gaps of 1-3 s inside a set);
    * constant channels: warning; all channels constant: error;
    * units: accelerometer magnitude near 1 (g) is converted to m/s^2, gyroscope values
      above 35 rad/s (i.e. deg/s) converted to rad/s, skeleton coordinates in millimetres
      converted to metres (each with a warning).
    """
    p = rec.path
    t = rec.t_s
    if rec.n_samples < MIN_SAMPLES:
        raise RecordingError(p, f"too short: {rec.n_samples} samples (need >= {MIN_SAMPLES})")
    bad_t = np.flatnonzero(~np.isfinite(t))
    if bad_t.size:
        raise RecordingError(p, "time 't' is missing or not finite", row=_row(rec, bad_t[0]))
    inf = np.isinf(rec.data)
    if inf.any():
        rec.data = np.where(inf, np.nan, rec.data)
        first = int(np.flatnonzero(inf.any(axis=1))[0])
        rec.warnings.append(
            f"{int(inf.sum())} infinite value(s) (first at row {_row(rec, first)}) are treated "
            "as missing"
        )
    dt = np.diff(t)
    dec = np.flatnonzero(dt < 0)
    if dec.size:
        i = int(dec[0]) + 1
        raise RecordingError(
            p,
            f"time goes backwards (t={t[i]:.6g} s after t={t[i - 1]:.6g} s); timestamps must "
            "increase",
            row=_row(rec, i),
        )
    dup = np.flatnonzero(dt == 0)
    if dup.size:
        keep = np.ones(rec.n_samples, dtype=bool)
        keep[dup + 1] = False
        rec.warnings.append(
            f"{dup.size} duplicate timestamp(s) (first at row {_row(rec, int(dup[0]) + 1)}); "
            "kept the first sample of each"
        )
        rec.t_s = t = t[keep]
        rec.data = rec.data[keep]
        dt = np.diff(t)
    if rec.n_samples < MIN_SAMPLES:
        raise RecordingError(p, f"too short: {rec.n_samples} samples (need >= {MIN_SAMPLES})")
    if rec.duration_s < MIN_DURATION_S:
        raise RecordingError(p, f"too short: {rec.duration_s:.3g} s (need >= {MIN_DURATION_S} s)")
    med_dt = float(np.median(dt))
    if (
        med_dt > 1.0 / MIN_RATE_HZ
        and MIN_RATE_HZ <= 1000.0 / med_dt <= MAX_MS_RATE_HZ
        and rec.duration_s / 1000.0 >= MIN_DURATION_S
    ):
        # Milliseconds, the other common export unit: 20 "seconds" per sample is 50 Hz.
        rec.warnings.append(
            f"'t' looks like milliseconds (median step {med_dt:.4g}, i.e. "
            f"{1000.0 / med_dt:.4g} Hz if in ms); converted to seconds"
        )
        rec.t_s = t = t / 1000.0
        dt = dt / 1000.0
        med_dt /= 1000.0
    if med_dt > 1.0 / MIN_RATE_HZ:
        raise RecordingError(
            p,
            f"sample rate {1.0 / med_dt:.3g} Hz is too low to count repetitions (need >= "
            f"{MIN_RATE_HZ:g} Hz); 't' must be in seconds",
        )
    if med_dt < 1.0 / MAX_RATE_HZ:
        raise RecordingError(
            p,
            f"sample rate {1.0 / med_dt:.3g} Hz is implausibly high (more than "
            f"{MAX_RATE_HZ:g} Hz): check that 't' is in seconds and that samples are not "
            "bunched at the same time",
        )
    gaps = np.flatnonzero(dt > GAP_FACTOR * med_dt)
    if gaps.size:
        i = int(gaps[0])
        rec.warnings.append(
            f"{gaps.size} gap(s) in time (largest {dt.max():.3g} s; first after row "
            f"{_row(rec, i)} at t={t[i]:.6g} s)"
        )
    if rec.kind == "pose":
        _validate_pose(rec)
    else:
        _fill_missing(rec, med_dt)
        _check_units(rec)
    _check_constant(rec)
    return rec


def _row(rec: Recording, i: int) -> int:
    """File row (1-based, header = row 1) of sample ``i`` for CSVs; line number for JSONL."""
    return i + (1 if rec.kind == "pose" else 2)


def _fill_missing(rec: Recording, med_dt: float) -> None:
    d = rec.data
    nan = np.isnan(d)
    if not nan.any():
        return
    t = rec.t_s
    for j in np.flatnonzero(nan.any(axis=0)):
        col = d[:, j]
        miss = np.isnan(col)
        if miss.all():
            raise RecordingError(rec.path, f"channel {rec.channels[j]!r} has no values")
        # Run lengths of missing values, in seconds.
        edges = np.diff(np.concatenate(([0], miss.view(np.int8), [0])))
        starts = np.flatnonzero(edges == 1)
        ends = np.flatnonzero(edges == -1)  # exclusive
        for s, e in zip(starts, ends, strict=True):
            t0 = t[s - 1] if s > 0 else t[s]
            t1 = t[e] if e < len(t) else t[e - 1]
            # Runs at the very start/end are extended from the nearest value (np.interp).
            if t1 - t0 > MAX_INTERPOLATED_GAP_S:
                raise RecordingError(
                    rec.path,
                    f"channel {rec.channels[j]!r} missing for {t1 - t0:.3g} s (rows "
                    f"{_row(rec, int(s))}-{_row(rec, int(e) - 1)}); at most "
                    f"{MAX_INTERPOLATED_GAP_S:g} s can be interpolated",
                    row=_row(rec, int(s)),
                )
        col[miss] = np.interp(t[miss], t[~miss], col[~miss])
    first = int(np.flatnonzero(nan.any(axis=1))[0])
    rec.warnings.append(
        f"{int(nan.sum())} missing value(s) (first at row {_row(rec, first)}) were "
        "linearly interpolated"
    )


def _check_units(rec: Recording) -> None:
    if rec.kind == "imu":
        acc = rec.data[:, [rec.channels.index(c) for c in ("ax", "ay", "az")]]
        mag = float(np.median(np.linalg.norm(acc, axis=1)))
        if 0.5 < mag < 2.0:
            rec.data[:, [rec.channels.index(c) for c in ("ax", "ay", "az")]] *= STANDARD_GRAVITY
            rec.warnings.append(
                f"accelerometer magnitude is {mag:.2f} (looks like g, expected ~9.81 m/s^2); "
                "converted to m/s^2"
            )
        elif mag < 0.5 or mag > 40:
            rec.warnings.append(
                f"accelerometer magnitude median is {mag:.3g} m/s^2 (expected ~9.81 with "
                "gravity); check units"
            )
        gyro = [c for c in ("gx", "gy", "gz") if c in rec.channels]
        if gyro:
            idx = [rec.channels.index(c) for c in gyro]
            g99 = float(np.percentile(np.abs(rec.data[:, idx]), 99))
            ratio = None
            if g99 <= 35.0 and len(idx) == 3:
                ratio = _gyro_tilt_ratio(rec.t_s, acc, rec.data[:, idx])
            if g99 > 35.0:  # > 2000 deg/s in rad/s is implausible for human motion
                rec.data[:, idx] = np.deg2rad(rec.data[:, idx])
                rec.warnings.append(
                    f"gyroscope values up to {g99:.0f} look like deg/s (expected rad/s); "
                    "converted to rad/s"
                )
            elif ratio is not None and ratio > GYRO_DEG_RATIO:
                # Slow movements in deg/s stay below any magnitude threshold; but the
                # sensor cannot turn 57x faster than gravity turns in its frame.
                rec.data[:, idx] = np.deg2rad(rec.data[:, idx])
                rec.warnings.append(
                    f"the gyroscope reads {ratio:.0f}x the rate at which gravity turns in the "
                    "sensor frame: its values look like deg/s (expected rad/s); converted to rad/s"
                )
    elif rec.kind == "skeleton":
        coord = [i for i, c in enumerate(rec.channels) if c.endswith(("_x", "_y", "_z"))]
        med = float(np.median(np.abs(rec.data[:, coord])))
        if med > 20.0:  # people are not 20 m from the camera: millimetres
            rec.data[:, coord] /= 1000.0
            rec.warnings.append(
                f"skeleton coordinates look like millimetres (median |value| {med:.0f}); "
                "converted to metres"
            )
    elif rec.kind == "angle":
        a = rec.channel("angle")
        if np.ptp(a) < 2 * math.pi and np.max(np.abs(a)) <= math.pi + 1e-9:
            rec.warnings.append(
                "column 'angle' stays within +-pi: if it is in radians, convert to degrees"
            )


GYRO_DEG_RATIO = 10.0  # |gyro| / tilt rate: about 1 in rad/s (0.7-1.7 measured), 57 in deg/s


def _gyro_tilt_ratio(t_s: np.ndarray, acc: np.ndarray, gyro: np.ndarray) -> float | None:
    """Median ratio of the gyroscope's magnitude to the rate (rad/s) at which gravity's
    direction turns in the sensor frame, over 0.25 s blocks where it turns faster than
    0.35 rad/s (20 deg/s: a real rotation, not noise). A rotation about the vertical adds
    to the first and not to the second, linear acceleration blurs the second, so the ratio
    is about 1 (0.7-1.7 on real wrist data) when the gyroscope is in rad/s, about 57 in
    deg/s. ``None`` when the sensor hardly tilts (fewer than 3 such blocks)."""
    n = t_s.size
    if n < 8 or not t_s[-1] > t_s[0]:
        return None
    k = max(1, round(0.25 * (n - 1) / (t_s[-1] - t_s[0])))
    nb = n // k
    if nb < 4:
        return None
    a = acc[: nb * k].reshape(nb, k, 3).mean(axis=1)
    norm = np.linalg.norm(a, axis=1)
    if not (norm > 0).all() or not np.isfinite(a).all():
        return None
    u = a / norm[:, None]
    g = np.linalg.norm(gyro[: nb * k], axis=1).reshape(nb, k).mean(axis=1)
    tb = t_s[: nb * k].reshape(nb, k).mean(axis=1)
    tilt = np.arccos(np.clip((u[1:] * u[:-1]).sum(axis=1), -1.0, 1.0)) / np.diff(tb)
    moving = tilt > 0.35
    if int(moving.sum()) < 3 or not np.isfinite(g).all():
        return None
    return float(np.median(0.5 * (g[1:] + g[:-1])[moving] / tilt[moving]))


def _landmark_groups(channels: tuple[str, ...]) -> list[np.ndarray]:
    """Column indices of the body pose and of each hand a landmark recording has: a frame
    is usable when one of these groups is complete (a pose, or a hand)."""
    hand = set(HAND_CHANNELS)
    side_of = {c: c.partition("_")[0] for c in channels if c in hand}
    groups = [
        np.array([i for i, c in enumerate(channels) if side_of.get(c) == s]) for s in HAND_SIDES
    ]
    body = np.array([i for i, c in enumerate(channels) if c not in side_of])
    return [g for g in (body, *groups) if g.size]


def _validate_pose(rec: Recording) -> None:
    groups = _landmark_groups(rec.channels)
    if len(groups) == 1:
        valid = ~np.isnan(rec.data).any(axis=1)
        what = "a pose"
    else:
        valid = np.zeros(rec.n_samples, dtype=bool)
        for g in groups:
            valid |= ~np.isnan(rec.data[:, g]).any(axis=1)
        what = "a pose or a hand"
    n_valid = int(valid.sum())
    if n_valid < MIN_SAMPLES:
        raise RecordingError(
            rec.path, f"only {n_valid} frame(s) with {what} (need >= {MIN_SAMPLES})"
        )
    if n_valid < rec.n_samples:
        rec.warnings.append(
            f"{rec.n_samples - n_valid} of {rec.n_samples} frame(s) without {what} are skipped"
        )


def _check_constant(rec: Recording) -> None:
    d = rec.data
    # Plain max/min (much faster than nanmax/nanmin on large files); NaN-aware only for
    # the channels that have missing values.
    mx = d.max(axis=0)
    mn = d.min(axis=0)
    bad = np.flatnonzero(np.isnan(mx) | np.isnan(mn))
    # A channel without any value (a landmark file's hand that never appears) stays NaN.
    bad = bad[~np.isnan(d[:, bad]).all(axis=0)]
    if bad.size:
        with np.errstate(invalid="ignore"):
            mx[bad] = np.nanmax(d[:, bad], axis=0)
            mn[bad] = np.nanmin(d[:, bad], axis=0)
    span = mx - mn
    const = [c for c, s in zip(rec.channels, span, strict=True) if s == 0]
    if rec.kind == "pose":
        const = [c for c in const if not c.endswith("_v")]
        coords = [
            c for c, s in zip(rec.channels, span, strict=True) if not c.endswith("_v") and s == s
        ]
    else:
        coords = list(rec.channels)
    if len(const) == len(coords):
        raise RecordingError(rec.path, "all channels are constant (sensor disconnected?)")
    if const:
        shown = ", ".join(const[:6]) + (" ..." if len(const) > 6 else "")
        rec.warnings.append(f"constant channel(s) ignored: {shown}")


def write_csv(rec: Recording, path: str | Path) -> Path:
    """Write a recording in the CSV convention (``.gz`` suffix compresses)."""
    p = Path(path)
    opener = gzip.open if p.suffix == ".gz" else open
    with opener(p, "wt", encoding="utf-8", newline="") as fh:
        fh.write(",".join(("t", *rec.channels)) + "\n")
        arr = np.column_stack([rec.t_s, rec.data])
        # t to the microsecond whatever its size (long or epoch-based recordings); channels
        # to 6 significant digits.
        np.savetxt(fh, arr, delimiter=",", fmt=["%.6f"] + ["%.6g"] * rec.data.shape[1])
    return p


__all__ = [
    "HAND_CHANNELS",
    "HAND_LANDMARKS",
    "HAND_SIDES",
    "HAND_SLICES",
    "LANDMARK_CHANNELS",
    "MEDIAPIPE_LANDMARKS",
    "POSE_CHANNELS",
    "Recording",
    "RecordingError",
    "hand_channel",
    "landmark_row",
    "read_csv",
    "read_landmarks_jsonl",
    "read_recording",
    "validate",
    "write_csv",
    "write_landmarks_jsonl",
]
