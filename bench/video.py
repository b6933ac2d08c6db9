"""Video benchmark: ``openrehab analyze-video`` speed and counts, per pose model.

Run with ``openrehab bench video [--data DIR] [--models lite,full] [--json]`` (or
``python bench/video.py``). Reads the clips of ``<data>/videos`` (default
``<repo>/../shared``, research-only: read in place, never copied) and OpenCV's sample
``vtest.avi`` (Debian package ``opencv-doc``) when present. Writes the latest results to
``bench/results/video.md`` (and ``video.json``).

Per model:

* **speed**: wall ms per frame of the frame loop (median over all frames, and mean), the
  model's own time (``detect_for_video``), and the share of wall time outside the model:
  waiting for a frame (decoding with OpenCV and BGR -> RGB run ahead in a background
  thread, so only the part not hidden behind inference counts), results (landmarks ->
  arrays, Recording) and the motion engine (``analyse_recording``). The background
  decode and convert work per frame is listed too. Medians are robust to other processes
  on a shared machine; means are what a user waits;
* **poses**: frames with a pose, per clip and overall;
* **counts** on the clips with inspected counts (``videos/manifest.csv``), with
  ``--exercise <category>`` as ``analyze-video`` resolves it: OBO (|pred - true| <= 1),
  exact rate, zero-rep clips (planks) counted 0.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openrehab.motion.commands import resolve_spec
from openrehab.motion.engine import analyse_recording
from openrehab.motion.recordings import RecordingError
from openrehab.pose.video import analyze_video

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")


def default_shared() -> Path:
    env = os.environ.get("OPENREHAB_SHARED_DIR")
    return Path(env) if env else (REPO / ".." / "shared").resolve()


@dataclass
class Clip:
    file: Path
    category: str | None  # None: no inspected count (speed and poses only)
    reps: int | None


def load_clips(shared: Path) -> list[Clip]:
    clips: list[Clip] = []
    manifest = shared / "videos" / "manifest.csv"
    if manifest.exists():
        with manifest.open(newline="") as fh:
            for r in csv.DictReader(fh):
                f = manifest.parent / r["file"]
                if f.exists():
                    clips.append(Clip(f, r["category"], int(r["reps"])))
    if VTEST.exists():
        clips.append(Clip(VTEST, None, None))
    return clips


def run_model(model: str, clips: Sequence[Clip], log: Callable[[str], None]) -> dict:
    rows = []
    times = []  # per frame, on the loop's thread: wait for frame, results, inference (s)
    engine_s = load_s = decode_s = convert_s = 0.0
    for clip in clips:
        row: dict = {"file": clip.file.name, "category": clip.category, "true": clip.reps}
        try:
            rec, st = analyze_video(clip.file, model=model)  # type: ignore[arg-type]
        except RecordingError as exc:  # too few frames with a pose
            row.update(error=str(exc).split(": ", 1)[-1], pred=None)
            rows.append(row)
            log(f"  {model} {clip.file.name}: {row['error']}")
            continue
        times.extend(st.frame_times)
        load_s += st.load_s
        decode_s += st.decode_s
        convert_s += st.convert_s
        row.update(frames=st.frames, frames_with_pose=st.frames_with_pose)
        if clip.category is not None:
            spec = resolve_spec(clip.category)
            t0 = time.perf_counter()
            res = analyse_recording(rec, spec)
            engine_s += time.perf_counter() - t0
            row.update(pred=res.count, signal=res.signal)
        rows.append(row)
        log(
            f"  {model} {clip.file.name}: {st.frames_with_pose}/{st.frames} poses, "
            f"{st.ms_per_frame:.1f} ms/frame, reps {row.get('pred')} (true {clip.reps})"
        )
    ft = np.array(times) * 1000.0 if times else np.zeros((0, 3))
    n = ft.shape[0]
    loop = ft.sum(axis=1)
    total_ms = float(loop.sum()) + 1000.0 * engine_s
    outside_ms = float(ft[:, 0].sum() + ft[:, 1].sum()) + 1000.0 * engine_s
    counted = [r for r in rows if r.get("true") is not None]
    scored = [r for r in counted if r.get("pred") is not None]
    err = np.array([r["pred"] - r["true"] for r in scored]) if scored else np.zeros(0)
    zero = [r for r in counted if r["true"] == 0]
    summary = {
        "model": model,
        "clips": len(rows),
        "frames": n,
        "frames_with_pose": int(sum(r.get("frames_with_pose", 0) for r in rows)),
        "ms_per_frame_median": float(np.median(loop)) if n else float("nan"),
        "ms_per_frame_mean": float(loop.mean()) if n else float("nan"),
        "ms_per_frame_p10": float(np.percentile(loop, 10)) if n else float("nan"),
        "inference_ms_median": float(np.median(ft[:, 2])) if n else float("nan"),
        "inference_ms_p10": float(np.percentile(ft[:, 2], 10)) if n else float("nan"),
        "inference_ms_mean": float(ft[:, 2].mean()) if n else float("nan"),
        "wait_ms_mean": float(ft[:, 0].mean()) if n else float("nan"),
        "results_ms_mean": float(ft[:, 1].mean()) if n else float("nan"),
        "decode_ms_mean": 1000.0 * decode_s / n if n else float("nan"),
        "convert_ms_mean": 1000.0 * convert_s / n if n else float("nan"),
        "engine_ms_per_frame": 1000.0 * engine_s / n if n else float("nan"),
        "outside_model_share": outside_ms / total_ms if total_ms else float("nan"),
        "outside_model_share_median": float(np.median(ft[:, :2].sum(axis=1)) / np.median(loop))
        if n
        else float("nan"),
        "model_load_ms_mean": 1000.0 * load_s / max(1, len(rows)),
        "count_clips": len(counted),
        "count_failed": len(counted) - len(scored),
        "obo": float(np.sum(np.abs(err) <= 1)) / len(counted) if counted else float("nan"),
        "exact": float(np.sum(err == 0)) / len(counted) if counted else float("nan"),
        "zero_ok": f"{sum(r.get('pred') == 0 for r in zero)}/{len(zero)}",
    }
    return {"summary": summary, "rows": rows}


def render_markdown(result: dict) -> str:
    lines = [
        "# Video benchmark (`openrehab analyze-video`)",
        "",
        f"Generated by `openrehab bench video` in {result['elapsed_s']:.0f} s "
        f"({time.strftime('%Y-%m-%d %H:%M')}) on {result['machine']}; "
        f"mediapipe {result['mediapipe']}, load average at start {result['load']}.",
        "",
        "ms/frame: wall time of the frame loop (median, mean and 10th percentile over all "
        "frames: on a busy machine the low percentile is closest to the unloaded speed); model: "
        "`detect_for_video`; wait: the loop waiting for the background decoder; decode / "
        "convert: that thread's work (overlaps inference); outside model: wait + results + "
        "motion engine as a share of all wall time (mean) and of the median frame. Counts: "
        "`--exercise <clip category>`, OBO = |pred - true| <= 1 over clips with an "
        "inspected count (a clip with too few poses counts as wrong).",
        "",
        "| model | frames | poses | ms/frame median | mean | p10 | model ms median | mean | p10 | "
        "wait ms | results ms | engine ms | outside model (mean) | (median) | decode ms | "
        "convert ms | load ms | OBO | exact | zero ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for m in result["models"].values():
        s = m["summary"]
        lines.append(
            f"| {s['model']} | {s['frames']} | {s['frames_with_pose']} | "
            f"{s['ms_per_frame_median']:.1f} | {s['ms_per_frame_mean']:.1f} | "
            f"{s['ms_per_frame_p10']:.1f} | {s['inference_ms_median']:.1f} | "
            f"{s['inference_ms_mean']:.1f} | {s['inference_ms_p10']:.1f} | "
            f"{s['wait_ms_mean']:.2f} | {s['results_ms_mean']:.2f} | "
            f"{s['engine_ms_per_frame']:.2f} | {100 * s['outside_model_share']:.1f} % | "
            f"{100 * s['outside_model_share_median']:.1f} % | {s['decode_ms_mean']:.2f} | "
            f"{s['convert_ms_mean']:.2f} | {s['model_load_ms_mean']:.0f} | "
            f"{s['obo']:.2f} | {s['exact']:.2f} | {s['zero_ok']} |"
        )
    lines += ["", "## Per clip", ""]
    names = list(result["models"])
    hdr = "| clip | true | " + " | ".join(f"{m} poses | {m} reps" for m in names) + " |"
    lines += [hdr, "|---|---|" + "---|---|" * len(names)]
    per = [m["rows"] for m in result["models"].values()]
    for i, r in enumerate(per[0]):
        cells = []
        for rows in per:
            x = rows[i]
            poses = f"{x.get('frames_with_pose', '-')}/{x.get('frames', '-')}"
            cells.append(f"{poses} | {x.get('pred', '-') if x.get('pred') is not None else '-'}")
        true = "-" if r["true"] is None else r["true"]
        lines.append(f"| {r['file']} | {true} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(
    data: Path | None = None,
    *,
    models: Sequence[str] = ("lite", "full"),
    as_json: bool = False,
    write: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Run the benchmark; return (and optionally save) the results."""
    import mediapipe

    log = log or (lambda m: print(m, file=sys.stderr))
    shared = Path(data) if data else default_shared()
    clips = load_clips(shared)
    if not clips:
        raise FileNotFoundError(f"no videos under {shared / 'videos'} and no {VTEST}")
    t0 = time.perf_counter()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    result: dict = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPU(s)",
        "mediapipe": getattr(mediapipe, "__version__", "?"),
        "load": load,
        "models": {m: run_model(m, clips, log) for m in models},
    }
    result["elapsed_s"] = time.perf_counter() - t0
    if write:
        out = BENCH_DIR / "results"
        out.mkdir(exist_ok=True)
        (out / "video.md").write_text(render_markdown(result))
        (out / "video.json").write_text(json.dumps(result, indent=1, default=float))
    if as_json:
        print(
            json.dumps(
                {k: v["summary"] for k, v in result["models"].items()}
                | {"elapsed_s": result["elapsed_s"]},
                default=float,
            )
        )
    else:
        print(render_markdown(result))
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
